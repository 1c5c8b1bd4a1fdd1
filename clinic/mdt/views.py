"""Clinician pages for the MDT pack: choose patients and the meeting date; the pack is
then made by a job (clinic.mdt.jobs), followed and downloaded on its progress page
(clinic.jobs.views)."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from clinic.access import roles
from clinic.audit.log import audited, record
from clinic.core.clock import clinic_today
from clinic.dashboard.queries import Filters
from clinic.jobs.kinds import MDT_PACK
from clinic.jobs.services import request_run
from clinic.mdt.forms import MdtPackForm
from clinic.mdt.jobs import make_mdt_pack
from clinic.mdt.queries import choosable_patients
from clinic.mdt.services import MAX_PATIENTS, MdtPackError, check_patients
from clinic.models import Patient, PatientStatus, Role
from clinic.models.types import enum_or_none
from clinic.queue import enqueue_after_commit
from clinic.schedule.daily import refresh_on_first_view

bp = Blueprint("mdt", __name__, url_prefix="/mdt")

clinicians_only = roles(Role.CLINICIAN)

# The most patients the page lists; filters narrow a bigger caseload.
MAX_LISTED = 100
ANY = "any"


@bp.get("/")
@clinicians_only
@audited("mdt.form")
def new() -> str:
    """Choose the patients and the meeting date for an MDT pack."""
    clinic = current_user.clinic
    # The list is sorted by the summaries: bring them up to today, as the dashboard does.
    refresh_on_first_view(clinic)  # committed with the request's unit of work
    today = clinic_today(clinic.timezone)
    form = MdtPackForm(today=today, data={"meeting_on": today})
    return _render(form, ticked=None)


@bp.post("/")
@clinicians_only
@audited(change="mdt.request", object_type="job_run")
def create() -> Response | tuple[str, int]:
    """Ask for the MDT pack of the ticked patients; it is made in the background, and the
    clinician follows it on its progress page (POST/redirect/GET)."""
    clinic = current_user.clinic
    today = clinic_today(clinic.timezone)
    form = MdtPackForm(today=today)
    if form.validate_on_submit():
        try:
            ids = check_patients(clinic, form.patient_ids.data)
        except MdtPackError as exc:
            form.patient_ids.errors.append(str(exc))
        else:
            run = request_run(
                MDT_PACK,
                {"patient_ids": ids, "meeting_on": form.meeting_on.data.isoformat()},
                total=len(ids),
                by=current_user._get_current_object(),
            )
            record(
                "mdt.request",
                object_type="job_run",
                object_id=run.id,
                detail={"patients": len(ids)},
            )
            enqueue_after_commit(make_mdt_pack, run.id)
            return redirect(url_for("jobs.progress", run_id=run.id))
    return _render(form, ticked=set(form.patient_ids.data or [])), 400


def _render(form: MdtPackForm, ticked: set[int] | None) -> str:
    """The page with the list for the filters in the query string; `ticked` is what the
    clinician sent, or None for the defaults (their own active patients with a program)."""
    filters = _filters()
    rows = choosable_patients(current_user.clinic_id, current_user.id, filters, MAX_LISTED)
    if ticked is None:
        ticked = {p.id for p in rows[:MAX_LISTED] if _ticked_by_default(p)}
    return render_template(
        "mdt/new.html",
        form=form,
        patients=rows[:MAX_LISTED],
        cut=len(rows) > MAX_LISTED,
        ticked=ticked,
        filters=filters,
        max_patients=MAX_PATIENTS,
        max_listed=MAX_LISTED,
        statuses=PatientStatus,
        ANY=ANY,
    )


def _ticked_by_default(patient: Patient) -> bool:
    """The clinician's own active patients whose program is running or paused."""
    summary = patient.summary
    return (
        patient.responsible_clinician_id == current_user.id
        and patient.status is PatientStatus.ACTIVE
        and summary is not None
        and summary.protocol_id is not None
    )


def _filters() -> Filters:
    """Whose patients, which status and what name the list shows, from the query string
    (the dashboard's words); anything unrecognised falls back to my active patients."""
    args = request.args
    status_arg = args.get("status", "")
    return Filters(
        mine_only=args.get("who", "mine") != "all",
        status=(
            None
            if status_arg == ANY
            else enum_or_none(PatientStatus, status_arg) or PatientStatus.ACTIVE
        ),
        search=args.get("q", "").strip()[:120],
    )

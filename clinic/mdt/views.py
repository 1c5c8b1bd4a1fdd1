"""Clinician pages for the MDT pack: choose patients and the meeting date, download the
PDF."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user
from werkzeug.wrappers import Response

from clinic.access import roles
from clinic.audit.log import audited, record_each
from clinic.core.clock import clinic_today
from clinic.core.downloads import pdf_attachment
from clinic.dashboard.queries import Filters
from clinic.mdt.forms import MdtPackForm
from clinic.mdt.queries import choosable_patients
from clinic.mdt.services import MAX_PATIENTS, MdtPackError, build_pack, pack_pdf
from clinic.models import Patient, PatientStatus, Role
from clinic.models.types import enum_or_none
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
@audited(change="mdt.export", object_type="mdt_pack")
def create() -> Response | tuple[str, int]:
    """Make the MDT pack for the ticked patients and send it as a PDF download."""
    clinic = current_user.clinic
    today = clinic_today(clinic.timezone)
    form = MdtPackForm(today=today)
    if form.validate_on_submit():
        try:
            pack = build_pack(
                clinic,
                form.patient_ids.data,
                form.meeting_on.data,
                author=current_user._get_current_object(),
                today=today,
            )
        except MdtPackError as exc:
            form.patient_ids.errors.append(str(exc))
        else:
            record_each("mdt.export", [p.patient.id for p in pack.pages], object_type="mdt_pack")
            return pdf_attachment(pack_pdf(pack), pack.file_name)
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

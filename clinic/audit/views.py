"""The audit trail's pages: the administrators' search with its CSV export, and a
patient's access history for the clinic's clinicians.

Both only ever read the signed-in user's clinic. Looking at the trail is itself recorded
("audit.search", "audit.export", "audit.patient_history"). The export is written by a job
(clinic.audit.jobs): the button asks for it (POST), and the administrator follows it and
downloads the file on the run's progress page (clinic.jobs.views).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from clinic.access import roles
from clinic.audit import queries
from clinic.audit.display import EventLine
from clinic.audit.forms import AuditExportForm, AuditSearchForm
from clinic.audit.jobs import make_audit_export
from clinic.audit.log import audited, record
from clinic.core.requests import database_id, page_number
from clinic.jobs.kinds import AUDIT_EXPORT
from clinic.jobs.services import request_run
from clinic.models import Patient, Role
from clinic.patients.queries import get_patient_or_404
from clinic.queue import enqueue_after_commit

bp = Blueprint("audit", __name__)

admins_only = roles(Role.ADMIN)


def _patient_id_asked() -> int | None:
    """The ?patient_id= the search is narrowed to; 404 for junk (links never make it)."""
    raw = request.args.get("patient_id", "").strip()
    if not raw:
        return None
    found = database_id(raw)
    if found is None:
        abort(404)
    return found


def _audited_patient(_arguments: Any) -> int | None:
    # Only reached after the view answered 2xx, so the id was checked against the clinic.
    return request.args.get("patient_id", type=int)


def _filters_used(*, with_page: bool = True) -> dict[str, Any]:
    """Which filters the search used, for its own audit event. The typed patient search
    is recorded as used or not, never as text: it may be a patient's name."""
    args = request.args
    used: dict[str, Any] = {
        "user": args.get("user", ""),
        "patient_id": args.get("patient_id", ""),
        "patient_search": bool(args.get("patient", "").strip()),
        "action": args.get("action", ""),
        "from": args.get("date_from", ""),
        "to": args.get("date_to", ""),
        "page": page_number() if with_page else None,
    }
    return {name: value for name, value in used.items() if value}


def _read_search() -> tuple[AuditSearchForm, queries.AuditFilters, queries.PatientRef | None]:
    """The search form from the query string, the filters it means, and the patient the
    search is narrowed to (404 for a patient this clinic never had)."""
    clinic = current_user.clinic
    patient = None
    patient_id = _patient_id_asked()
    if patient_id is not None:
        patient = queries.known_patient(clinic.id, patient_id)
        if patient is None:
            abort(404)
    form = AuditSearchForm(request.args, staff=queries.staff_accounts(clinic.id))
    form.validate()
    start, end = queries.day_bounds(form.date_from.data, form.date_to.data, clinic.timezone)
    filters = queries.AuditFilters(
        actor_id=form.actor_id if not form.user.errors else None,
        patient_id=patient_id,
        patient_search=form.patient.data or "",
        action=form.action.data or "",
        start=start,
        end=end,
    )
    return form, filters, patient


def _render_search(
    form: AuditSearchForm, patient: queries.PatientRef | None, page: queries.Page | None
) -> str:
    zone = current_user.clinic.timezone
    return render_template(
        "audit/search.html",
        form=form,
        export_form=AuditExportForm(formdata=None),
        # The export holds the events counted on this page, not the ones written since
        # (this search's own event among them): it stops at the newest event now.
        export_query=(
            {**_query_without("page"), "up_to": queries.last_event_id(current_user.clinic_id)}
            if page and page.items
            else {}
        ),
        patient=patient,
        page=page,
        lines=[EventLine.of(row, zone) for row in page.items] if page else [],
        query=_query_without("page"),
        any_patient_query=_query_without("page", "patient_id"),
    )


def _query_without(*names: str) -> dict[str, str]:
    """The search's non-empty query arguments but `names` (for links that keep it)."""
    return {k: v for k, v in request.args.items() if k not in names and v}


@bp.get("/admin/audit")
@admins_only
@audited("audit.search", patient=_audited_patient, detail=_filters_used)
def search() -> str | tuple[str, int]:
    """The clinic's audit trail, newest first, narrowed by who, patient, action, period."""
    form, filters, patient = _read_search()
    if form.errors:
        return _render_search(form, patient, None), 400
    page = queries.search_events(current_user.clinic_id, filters, page_number())
    return _render_search(form, patient, page)


@bp.post("/admin/audit/export")
@admins_only
@audited(change="audit.export", object_type="job_run")
def export() -> Response | tuple[str, int]:
    """Ask for the events the search shows, all of them, as a CSV file: it is written in
    the background, and the administrator follows it on its progress page
    (POST/redirect/GET)."""
    form, filters, patient = _read_search()
    export_form = AuditExportForm()
    if form.errors or not export_form.validate_on_submit():
        return _render_search(form, patient, None), 400
    clinic_id = current_user.clinic_id
    if filters.patient_search:
        # The job keeps the patients the typed text matched now, never the text.
        matching = queries.patients_matching(clinic_id, filters.patient_search)
        filters = replace(filters, patient_search="", patient_ids=matching)
    # The trail as the search page counted it (or as it stands now): what is written
    # meanwhile is not in this file.
    filters = replace(filters, up_to_id=_last_event_asked(clinic_id))
    run = request_run(
        AUDIT_EXPORT,
        filters.to_params(),
        total=queries.count_events(clinic_id, filters),
        by=current_user._get_current_object(),
    )
    # What the export asked for, as the search's own event says it (never typed text).
    record(
        "audit.export",
        patient_id=patient.id if patient else None,
        object_type="job_run",
        object_id=run.id,
        detail=_filters_used(with_page=False),
    )
    enqueue_after_commit(make_audit_export, run.id)
    return redirect(url_for("jobs.progress", run_id=run.id))


def _last_event_asked(clinic_id: int) -> int:
    """The newest event the export holds: the page's ?up_to= (the newest event when the
    search was shown), never past the newest event now; junk or nothing means now."""
    now = queries.last_event_id(clinic_id)
    raw = request.args.get("up_to", "").strip()
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 10):
        return now
    return min(int(raw), now)


@bp.get("/patients/<int:patient_id>/access")
@roles(Role.CLINICIAN)
@audited("audit.patient_history", patient="patient_id")
def patient_history(patient_id: int) -> str:
    """Everything the trail holds about one patient: who looked, who changed what, when."""
    patient = get_patient_or_404(patient_id, current_user.clinic_id)
    page = queries.patient_history(patient, page_number())
    zone = current_user.clinic.timezone
    return render_template(
        "audit/patient_history.html",
        patient=patient,
        page=page,
        lines=[EventLine.of(row, zone) for row in page.items],
    )


@bp.app_template_global()
def recent_patient_access(patient: Patient) -> list[EventLine]:
    """The latest events about `patient`, for the section on the patient's page (one
    query). A template global so that page's section is one self-contained include."""
    zone = current_user.clinic.timezone
    return [EventLine.of(row, zone) for row in queries.recent_patient_events(patient)]

"""Clinician pages for a patient's progress reports: generate one over a period, list
those kept with the record, download one exactly as it was generated."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from clinic.access import roles
from clinic.audit.log import audited
from clinic.core.clock import clinic_today
from clinic.core.downloads import pdf_attachment
from clinic.core.forms import show_refusal
from clinic.core.templating import short_date
from clinic.models import Patient, Protocol, Role
from clinic.patients.queries import get_patient_or_404
from clinic.reporting.forms import ProgressReportForm
from clinic.reporting.progress import (
    ReportError,
    create_progress_report,
    default_period,
    latest_protocol,
)
from clinic.reporting.queries import get_report_or_404, patient_reports

bp = Blueprint("reporting", __name__, url_prefix="/patients/<int:patient_id>/reports")

clinicians_only = roles(Role.CLINICIAN)


@bp.get("")
@clinicians_only
@audited("report.list", patient="patient_id")
def index(patient_id: int) -> str:
    """The patient's reports, newest first, each as it was generated."""
    patient = get_patient_or_404(patient_id, current_user.clinic_id)
    return render_template(
        "reporting/index.html",
        patient=patient,
        reports=patient_reports(patient.id, patient.clinic_id),
    )


@bp.route("/new", methods=["GET", "POST"])
@clinicians_only
@audited("report.form", change="report.create", patient="patient_id")
def new(patient_id: int) -> Response | str | tuple[str, int]:
    """Generate a progress report over a period, with an assessment and plan, and keep it."""
    patient = get_patient_or_404(patient_id, current_user.clinic_id)
    protocol = latest_protocol(patient)
    today = clinic_today(current_user.clinic.timezone)
    if protocol is None or _program_start(protocol) > today:
        # Nothing to report yet: say why instead of offering a form that cannot succeed.
        page = _render_new(patient, protocol, None)
        return page if request.method == "GET" else (page, 400)
    period_from, period_to = default_period(protocol, today)
    form = ProgressReportForm(
        today=today,
        program_start=_program_start(protocol),
        data=None
        if request.method == "POST"
        else {"period_from": period_from, "period_to": period_to},
    )
    if form.validate_on_submit():
        try:
            record = create_progress_report(
                patient,
                form.period_from.data,
                form.period_to.data,
                author=current_user._get_current_object(),
                assessment=form.assessment.data or "",
                plan=form.plan.data or "",
            )
        except ReportError as exc:
            show_refusal(form, exc)
        else:
            flash(
                _(
                    "The progress report for %(start)s to %(end)s was generated and kept with"
                    " the record.",
                    start=short_date(record.period_from),
                    end=short_date(record.period_to),
                ),
                "success",
            )
            return redirect(
                url_for("reporting.index", patient_id=patient.id, _anchor=f"report-{record.id}")
            )
    page = _render_new(patient, protocol, form)
    return (page, 400) if request.method == "POST" else page


@bp.get("/<int:report_id>/download")
@clinicians_only
@audited("report.download", patient="patient_id", object_type="report", object_id="report_id")
def download(patient_id: int, report_id: int) -> Response:
    """The report's PDF, byte for byte as it was generated, under its neutral file name."""
    report = get_report_or_404(report_id, patient_id, current_user.clinic_id)
    return pdf_attachment(report.pdf, report.file_name)


def _program_start(protocol: Protocol) -> date:
    return protocol.events[0].effective_on


def _render_new(
    patient: Patient, protocol: Protocol | None, form: ProgressReportForm | None
) -> str:
    return render_template(
        "reporting/new.html",
        patient=patient,
        protocol=protocol,
        program_start=_program_start(protocol) if protocol else None,
        form=form,
    )

"""Pages for patients' rights: the clinic downloads everything it holds about a patient,
a patient downloads their own from the portal, and an administrator erases a patient on a
documented request (or finds the patient and the erasures made so far)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from clinic.access import roles
from clinic.account.guards import reauthentication_needed
from clinic.audit.log import audited, record
from clinic.core.clock import clinic_today
from clinic.core.forms import flash_refusal
from clinic.domain.indications import Indication
from clinic.models import Patient, Role
from clinic.models.types import utcnow
from clinic.patients.queries import get_patient_or_404
from clinic.portal.views import own_record_or_404
from clinic.rights.erasure import ErasureRefused, erase_patient, what_erasure_removes
from clinic.rights.export import build_export, export_zip
from clinic.rights.forms import ErasureForm
from clinic.rights.queries import clinic_erasures, find_patients
from clinic.rights.summary import build_summary, content_security_policy, summary_html

bp = Blueprint("rights", __name__)

staff = roles(Role.CLINICIAN, Role.ADMIN)
admins_only = roles(Role.ADMIN)
patients_only = roles(Role.PATIENT)


def _export_response(patient: Patient, via: str) -> Response:
    """The patient's data as a ZIP download (with its readable page), recorded in the
    audit trail."""
    now = utcnow()
    today = clinic_today(current_user.clinic.timezone, now)
    export = build_export(patient, now, today)
    summary = build_summary(export, patient.clinic.timezone, patient.clinic_id, today)
    archive = export_zip(export, now, (summary.file_name, summary_html(summary)))
    record(
        "patient.export",
        patient_id=patient.id,
        object_type="patient",
        object_id=patient.id,
        detail={"via": via, "reports": len(export.reports)},
    )
    response = Response(archive, mimetype="application/zip")
    response.headers.set("Content-Disposition", "attachment", filename=export.file_name)
    # Health data: no browser or proxy may keep a copy.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/patients/<int:patient_id>/export")
@staff
def export(patient_id: int) -> Response:
    """Everything held about the patient: patient.json, the stored reports, a README."""
    patient = get_patient_or_404(patient_id, current_user.clinic_id)
    return _export_response(patient, via="clinic")


@bp.get("/diary/my-data")
@patients_only
def own_export() -> Response:
    """The signed-in patient's own data, the same bundle the clinic would give them."""
    return _export_response(own_record_or_404(), via="portal")


@bp.get("/diary/my-data/read")
@patients_only
def own_summary() -> Response:
    """The signed-in patient's own data as a page to read on screen: the readable page of
    their download, under a policy that allows its own style and nothing else."""
    patient = own_record_or_404()
    now = utcnow()
    today = clinic_today(current_user.clinic.timezone, now)
    export = build_export(patient, now, today)
    summary = build_summary(export, patient.clinic.timezone, patient.clinic_id, today)
    record(
        "patient.export",
        patient_id=patient.id,
        object_type="patient",
        object_id=patient.id,
        detail={"via": "portal-page", "reports": len(export.reports)},
    )
    response = Response(
        summary_html(summary, back_url=url_for("portal.home")), mimetype="text/html"
    )
    # Saved from the browser, it keeps the neutral name of the copy in the ZIP.
    response.headers.set("Content-Disposition", "inline", filename=summary.file_name)
    response.headers["Content-Security-Policy"] = content_security_policy()
    return response


@bp.route("/patients/<int:patient_id>/erasure", methods=["GET", "POST"])
@admins_only
# The service records a done erasure ("patient.erase" with the erasure's id); refused
# attempts (a wrong confirmation) are recorded by the decorator with their outcome.
@audited("patient.erase_form", change="patient.erase", patient="patient_id")
def erase(patient_id: int) -> Response | str | tuple[str, int]:
    """Erase the patient on their documented request, after a typed confirmation and with
    the administrator's password entered within the last five minutes (asked before the
    form is shown, so a screen left unlocked cannot erase anyone)."""
    patient = get_patient_or_404(patient_id, current_user.clinic_id)
    if (confirm_first := reauthentication_needed()) is not None:
        return confirm_first
    form = ErasureForm(identifier=patient.clinic_identifier, full_name=patient.full_name)
    if form.validate_on_submit():
        try:
            erasure = erase_patient(
                patient,
                by=current_user._get_current_object(),
                request_reference=form.request_reference.data,
                today=clinic_today(current_user.clinic.timezone),
            )
        except ErasureRefused as exc:
            # Erased meanwhile (another administrator): there is no record left to show.
            flash_refusal(exc)
            return redirect(url_for("rights.requests"))
        flash(
            f"The patient's record was erased (erasure record {erasure.id}). "
            "The de-identified figures and the audit trail are kept.",
            "success",
        )
        return redirect(url_for("rights.requests", _anchor=f"erasure-{erasure.id}"))
    page = render_template(
        "rights/erase.html",
        patient=patient,
        form=form,
        removed=what_erasure_removes(patient),
    )
    return (page, 400) if request.method == "POST" else page


@bp.get("/admin/patient-data")
@admins_only
@audited("patient.list")
def requests() -> str:
    """Patients' data requests: find a patient to export or erase; past erasures."""
    search = request.args.get("q", "").strip()[:120]
    return render_template(
        "rights/requests.html",
        search=search,
        patients=find_patients(current_user.clinic_id, search) if search else None,
        erasures=clinic_erasures(current_user.clinic_id),
        indication_labels={i.value: i.label for i in Indication},
    )

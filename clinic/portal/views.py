"""Patient portal pages. The patient always comes from the session, never from the URL."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user

from clinic.access import roles
from clinic.core.clock import clinic_today
from clinic.models import Patient, Role
from clinic.patients.queries import get_own_patient_record
from clinic.protocols.prescriptions import Prescription, prescription_on
from clinic.protocols.queries import open_protocol

bp = Blueprint("portal", __name__, url_prefix="/diary")

patients_only = roles(Role.PATIENT)


def own_record_or_404() -> Patient:
    """The signed-in patient's record; 404 if the login is not linked to one."""
    patient = get_own_patient_record(current_user)
    if patient is None:
        abort(404)
    return patient


def _prescription(patient: Patient) -> Prescription | None:
    protocol = open_protocol(patient.id, patient.clinic_id)
    if protocol is None:
        return None
    return prescription_on(protocol, clinic_today(patient.clinic.timezone))


@bp.get("/")
@patients_only
def home() -> str:
    """Today: what to do now (the current stage in plain words) and who to contact."""
    patient = own_record_or_404()
    return render_template("portal/home.html", patient=patient, prescription=_prescription(patient))


@bp.get("/plan")
@patients_only
def plan() -> str:
    """The whole plan, stage by stage, with the safety guidance (printable)."""
    patient = own_record_or_404()
    prescription = _prescription(patient)
    if prescription is None:
        abort(404)
    return render_template(
        "portal/plan.html", patient=patient, prescription=prescription, clinic=patient.clinic
    )


@bp.get("/safety")
@patients_only
def safety() -> str:
    """Staying safe: discomfort versus pain, bleeding, a device that will not come out."""
    patient = own_record_or_404()
    return render_template(
        "portal/safety.html", clinic=patient.clinic, prescription=_prescription(patient)
    )

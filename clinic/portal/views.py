"""Patient portal pages. The patient always comes from the session, never from the URL."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user

from clinic.access import roles
from clinic.models import Patient, Role
from clinic.patients.queries import get_own_patient_record

bp = Blueprint("portal", __name__, url_prefix="/diary")


def own_record_or_404() -> Patient:
    """The signed-in patient's record; 404 if the login is not linked to one."""
    patient = get_own_patient_record(current_user)
    if patient is None:
        abort(404)
    return patient


@bp.get("/")
@roles(Role.PATIENT)
def home() -> str:
    """The patient's start page: their care team and how to reach the clinic."""
    return render_template("portal/home.html", patient=own_record_or_404())

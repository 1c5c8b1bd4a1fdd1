"""Clinician pages for the dilator catalogue."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from clinic.access import roles
from clinic.models import Role
from clinic.protocols.plans import clinic_dilator_sets

bp = Blueprint("catalogue", __name__, url_prefix="/catalogue")


@bp.get("/")
@roles(Role.CLINICIAN)
def index() -> str:
    """The clinic's dilator sets and sizes."""
    return render_template(
        "catalogue/index.html", dilator_sets=clinic_dilator_sets(current_user.clinic_id)
    )

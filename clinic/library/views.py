"""Clinician pages for the clinic's protocol templates."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user
from sqlalchemy import select

from clinic.access import roles
from clinic.extensions import db
from clinic.models import ProtocolTemplate, Role

bp = Blueprint("library", __name__, url_prefix="/templates")


@bp.get("/")
@roles(Role.CLINICIAN)
def index() -> str:
    """The clinic's protocol templates."""
    templates = db.session.scalars(
        select(ProtocolTemplate)
        .where(ProtocolTemplate.clinic_id == current_user.clinic_id)
        .order_by(ProtocolTemplate.name)
    ).all()
    return render_template("library/index.html", templates=templates)

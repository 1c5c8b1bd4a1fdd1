"""Clinician pages for a patient's protocol."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("protocols", __name__, url_prefix="/patients/<int:patient_id>/protocol")

"""The clinician's dashboard: the caseload sorted by urgency, with filters."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from flask_login import current_user

from clinic.access import roles
from clinic.core.requests import page_number
from clinic.dashboard.queries import Filters, caseload, patients_with_red_flags
from clinic.domain.flags import FlagKind
from clinic.domain.indications import Indication
from clinic.extensions import db
from clinic.models import PatientStatus, Role
from clinic.models.types import enum_or_none
from clinic.monitoring.services import refresh_clinic_if_stale

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")

ANY = "any"


@bp.get("/")
@roles(Role.CLINICIAN)
def index() -> str:
    """Who needs attention today: the caseload, most urgent first."""
    clinic = current_user.clinic
    # Days passing move every adherence window; the first visit of the day brings the
    # clinic's summaries up to date (a scheduled `flask refresh-summaries` does it earlier).
    if refresh_clinic_if_stale(clinic):
        db.session.commit()
    filters = _filters()
    page = db.paginate(
        caseload(clinic.id, current_user.id, filters),
        page=page_number(),
        per_page=current_app.config["PATIENTS_PER_PAGE"],
        max_per_page=100,
        error_out=False,
    )
    return render_template(
        "dashboard/index.html",
        page=page,
        filters=filters,
        red_flag_patients=patients_with_red_flags(clinic.id),
        statuses=PatientStatus,
        indications=Indication,
        flag_kinds=FlagKind,
        ANY=ANY,
    )


def _filters() -> Filters:
    """The filters in the query string; anything unrecognised falls back to the default."""
    args = request.args
    status_arg = args.get("status", "")
    return Filters(
        mine_only=args.get("who", "mine") != "all",
        status=None if status_arg == ANY else enum_or_none(PatientStatus, status_arg or "active"),
        indication=enum_or_none(Indication, args.get("indication", "")),
        flag=enum_or_none(FlagKind, args.get("flag", "")),
        search=args.get("q", "").strip()[:120],
    )

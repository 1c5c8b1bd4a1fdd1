"""The clinician's dashboard: the caseload sorted by urgency, with filters.

The caseload table is rendered from the patients and their summaries, whose every
committed change moves the clinic's caseload version (see
`clinic.dashboard.queries.CaseloadState`). So the rendered table is cached under that
version with the day, filters and page: a cached table is either current or never asked
for again. The version is read from the summaries
themselves, so writes about different patients never wait for each other to keep it. The
red-flag banner is counted afresh on every visit, from the flags themselves.
"""

from __future__ import annotations

from functools import partial

from flask import Blueprint, current_app, render_template, request
from flask_login import current_user
from markupsafe import Markup

from clinic.access import roles
from clinic.audit.log import audited
from clinic.core.clock import clinic_today
from clinic.core.requests import page_number
from clinic.core.uow import after_commit
from clinic.dashboard.queries import (
    LOW_ADHERENCE_PCT,
    CaseloadState,
    Filters,
    caseload,
    caseload_key,
    caseload_state,
)
from clinic.domain.flags import FlagKind
from clinic.domain.indications import Indication
from clinic.extensions import cache, db
from clinic.models import Clinic, PatientStatus, Role
from clinic.models.types import enum_or_none
from clinic.schedule.daily import refresh_on_first_view

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")

ANY = "any"


@bp.get("/")
@roles(Role.CLINICIAN)
@audited("dashboard.view")
def index() -> str:
    """Who needs attention today: the caseload, most urgent first."""
    clinic = current_user.clinic
    # Days passing move every adherence window. The scheduled daily work brings the
    # clinic's summaries up to today at an early hour; if it has not, this visit does
    # (committed with the request's unit of work) and the page says why it was slow.
    first_view = refresh_on_first_view(clinic)
    filters = _filters()
    page = page_number()
    # Read before the table is rendered, so a table is never older than its key.
    state = caseload_state(clinic.id)
    key = _cache_key(clinic, state, filters, page)
    table = cache.get(key)
    if table is None:
        table = _caseload_table(clinic, filters, page)
        # Kept only once the request's changes (the day's refresh) are saved: a key read
        # from a refresh that is then rolled back must never hold a table.
        after_commit(partial(cache.set, key, table))
    return render_template(
        "dashboard/index.html",
        caseload=table,
        filters=filters,
        red_flag_patients=state.red_flag_patients,
        refresh_note=first_view.note,
        **_choices(),
    )


def _caseload_table(clinic: Clinic, filters: Filters, page: int) -> Markup:
    """The caseload table for these filters and page, rendered."""
    rows = db.paginate(
        caseload(clinic.id, current_user.id, filters),
        page=page,
        per_page=current_app.config["PATIENTS_PER_PAGE"],
        max_per_page=100,
        error_out=False,
    )
    html = render_template("dashboard/_caseload.html", page=rows, filters=filters, **_choices())
    # Safe: the output of an autoescaped template, marked so the page does not escape it again.
    return Markup(html)  # noqa: S704


def _cache_key(clinic: Clinic, state: CaseloadState, filters: Filters, page: int) -> str:
    # The clinician matters only for "my patients". No language: staff pages are always in
    # English (clinic.i18n).
    owner = current_user.id if filters.mine_only else "all"
    return caseload_key(
        "dashboard",
        clinic,
        state.version,
        clinic_today(clinic.timezone),
        owner,
        page,
        repr(filters),
    )


def _choices() -> dict[str, object]:
    return {
        "statuses": PatientStatus,
        "indications": Indication,
        "flag_kinds": FlagKind,
        "ANY": ANY,
        "low_adherence_pct": LOW_ADHERENCE_PCT,
    }


# `show=attention` (the link in alert emails) narrows the list to patients with an open
# red flag, in words that say nothing about health in a mail log or a browser history.
SHOW_ATTENTION = "attention"
# `reminders=off-low`: patients with no reminders and adherence under half.
NO_REMINDERS_LOW_ADHERENCE = "off-low"


def _filters() -> Filters:
    """The filters in the query string; anything unrecognised falls back to the default."""
    args = request.args
    status_arg = args.get("status", "")
    if args.get("show") == SHOW_ATTENTION and not args.get("flag"):
        flag: FlagKind | None = FlagKind.RED_FLAG
    else:
        flag = enum_or_none(FlagKind, args.get("flag", ""))
    return Filters(
        mine_only=args.get("who", "mine") != "all",
        status=None if status_arg == ANY else enum_or_none(PatientStatus, status_arg or "active"),
        indication=enum_or_none(Indication, args.get("indication", "")),
        flag=flag,
        search=args.get("q", "").strip()[:120],
        no_reminders_low_adherence=args.get("reminders") == NO_REMINDERS_LOW_ADHERENCE,
    )

"""The patient timeline: evidence, suggestion, flags, decisions and notes on one page."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from clinic.access import roles
from clinic.audit.log import audited
from clinic.core.clock import clinic_today
from clinic.core.forms import flash_refusal
from clinic.domain.depth import DepthWeek
from clinic.domain.protocols import EventKind, decision_for
from clinic.measures.results import series_for
from clinic.measures.summaries import summaries
from clinic.models import CareFlag, Patient, RedFlag, Role
from clinic.models.types import utcnow
from clinic.monitoring.progress import build_progress, depth_trend, first_week_shown, shows_depth
from clinic.monitoring.services import FlagAlreadyAcknowledged, acknowledge, assess_patient
from clinic.notes.queries import notes_for
from clinic.patients.queries import get_patient_or_404
from clinic.protocols.queries import open_protocol, version
from clinic.protocols.services import allowed_on
from clinic.timeline.forms import AcknowledgeForm
from clinic.timeline.queries import (
    as_sessions,
    get_care_flag_or_404,
    get_red_flag_or_404,
    patient_flags,
    period_entries,
    skip_summary,
)

bp = Blueprint("timeline", __name__, url_prefix="/patients/<int:patient_id>/timeline")

clinicians_only = roles(Role.CLINICIAN)

PERIODS = (4, 12, 26, 52)  # weeks
DEFAULT_PERIOD = 12
NOTES_SHOWN = 3


@bp.get("")
@clinicians_only
@audited("timeline.view", patient="patient_id")
def show(patient_id: int) -> str:
    """One patient's course: flags, the suggested next step, charts, entries, history."""
    patient = get_patient_or_404(patient_id, current_user.clinic_id)
    return _render(patient)


@bp.post("/flags/<any(red, rule):source>/<int:flag_id>/acknowledge")
@clinicians_only
@audited(change="flag.acknowledge", patient="patient_id", object_type="flag", object_id="flag_id")
def acknowledge_flag(patient_id: int, source: str, flag_id: int) -> Response | tuple[str, int]:
    """Acknowledge a flag with a note on what was done about it."""
    patient = get_patient_or_404(patient_id, current_user.clinic_id)
    flag: RedFlag | CareFlag = (
        get_red_flag_or_404(flag_id, patient)
        if source == "red"
        else get_care_flag_or_404(flag_id, patient)
    )
    form = AcknowledgeForm(prefix=_form_prefix(source, flag_id))
    if flag.acknowledged_at is not None:
        # Its form is gone from the page, so a complaint about the note would show nowhere.
        flash(str(FlagAlreadyAcknowledged()), "info")
        return redirect(url_for("timeline.show", patient_id=patient.id) + "#flags-heading")
    if form.validate_on_submit():
        try:
            acknowledge(flag, current_user, form.note.data)
        except FlagAlreadyAcknowledged as exc:
            flash_refusal(exc, "info")
        else:
            flash("The flag was acknowledged; your note is kept with it.", "success")
        return redirect(url_for("timeline.show", patient_id=patient.id) + "#flags-heading")
    return _render(patient, {(source, flag_id): form}), 400


def _form_prefix(source: str, flag_id: int) -> str:
    # Each flag's form has its own field ids, so labels and errors stay unambiguous.
    return f"ack-{source}-{flag_id}"


def _period() -> int:
    """The period asked for, in weeks (the default for anything else)."""
    weeks = request.args.get("weeks", type=int)
    return weeks if weeks in PERIODS else DEFAULT_PERIOD


def _render(patient: Patient, failed: dict[tuple[str, int], AcknowledgeForm] | None = None) -> str:
    clinic = current_user.clinic
    today = clinic_today(clinic.timezone)
    protocol = open_protocol(patient.id, patient.clinic_id)
    weeks = _period()
    progress = entries = skips = None
    depth_weeks: list[DepthWeek] = []
    if protocol is not None:
        first = first_week_shown(protocol, today, weeks)
        entries = period_entries(patient, first, today)
        skips = skip_summary(entries)
        sessions = as_sessions(entries)
        progress = build_progress(protocol, sessions, first, today, clinic.completion_pct)
        depth_weeks = depth_trend(sessions)
    assessment = assess_patient(patient, protocol, today)
    flags = patient_flags(patient)
    forms = {
        (source, flag.id): (failed or {}).get((source, flag.id))
        or AcknowledgeForm(prefix=_form_prefix(source, flag.id), formdata=None)
        for source, group in (("red", flags.open_red), ("rule", flags.open_care))
        for flag in group
    }
    # Next to a suggestion: the decision that carries it out, and what else may be recorded.
    decision: EventKind | None = None
    allowed: frozenset[EventKind] = frozenset()
    state = assessment.in_force
    if assessment.advice and state is not None and protocol is not None:
        decision = decision_for(assessment.advice.suggestion)
        allowed = allowed_on(protocol, today)
    return render_template(
        "timeline/show.html",
        patient=patient,
        protocol=protocol,
        stages=version(protocol, protocol.events[-1].version_number).stages if protocol else [],
        today=today,
        weeks=weeks,
        periods=PERIODS,
        progress=progress,
        entries=entries,
        skips=skips,
        depth_weeks=depth_weeks,
        depth_shown=shows_depth(protocol, depth_weeks),
        assessment=assessment,
        decision=decision,
        allowed=allowed,
        flags=flags,
        forms=forms,
        notes=notes_for(patient.id, patient.clinic_id, limit=NOTES_SHOWN),
        # Every answer on record: questionnaires are months apart, the page's period is not.
        measures=summaries(
            series_for(patient.clinic_id, [patient.id], zone=clinic.timezone)[patient.id],
            charts=True,
        ),
        now=utcnow(),
    )

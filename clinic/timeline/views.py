"""The patient timeline: evidence, suggestion, flags, decisions and notes on one page."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from clinic.access import roles
from clinic.audit.log import audited
from clinic.core.clock import clinic_today
from clinic.core.uow import discard
from clinic.domain.protocols import EventKind, decision_for
from clinic.measures.results import series_for
from clinic.measures.summaries import summaries
from clinic.models import CareFlag, Patient, RedFlag, Role
from clinic.models.types import utcnow
from clinic.monitoring.kept import summary_version
from clinic.monitoring.progress import build_progress, depth_trend, first_week_shown, shows_depth
from clinic.monitoring.services import (
    FlagAlreadyAcknowledged,
    acknowledge_together,
    assess_patient,
)
from clinic.notes.queries import notes_for
from clinic.patients.queries import get_patient_and_version_or_404, get_patient_or_404
from clinic.patients.returns import ReturnPage, return_to
from clinic.protocols.queries import History, open_protocol, with_patient
from clinic.protocols.services import allowed_on
from clinic.reminders.services import reminder_status
from clinic.timeline.course import kept_course, kept_measures
from clinic.timeline.forms import AcknowledgeForm, AcknowledgeSessionForm
from clinic.timeline.queries import (
    PatientFlags,
    as_sessions,
    get_care_flag_or_404,
    patient_flags,
    period_entries,
    session_red_flags_or_404,
    skip_summary,
)

bp = Blueprint("timeline", __name__, url_prefix="/patients/<int:patient_id>/timeline")

clinicians_only = roles(Role.CLINICIAN)

PERIODS = (4, 12, 26, 52)  # weeks
DEFAULT_PERIOD = 12
NOTES_SHOWN = 3


@dataclass(frozen=True)
class Failed:
    """An acknowledgement form sent back with what was typed: its errors, and the flags a
    colleague acknowledged meanwhile."""

    form: AcknowledgeForm | AcknowledgeSessionForm
    taken: Sequence[RedFlag | CareFlag] = ()


@dataclass(frozen=True)
class FlagCard:
    """One acknowledgement form of the page: the open red flags of one session, or one
    rule flag (rule flags are not grouped: each comes from a rule of its own, on a day of
    its own, and asks for a look of its own)."""

    key: str  # "session-12" (the diary entry) or "rule-3" (the flag): ids and prefixes
    source: str  # "red" or "rule", as the acknowledgement URL says
    flags: Sequence[RedFlag | CareFlag]  # the open ones, most severe first
    form: AcknowledgeForm | AcknowledgeSessionForm
    taken: Sequence[RedFlag | CareFlag] = ()  # acknowledged meanwhile by someone else

    @property
    def anchor(self) -> RedFlag | CareFlag:
        """The flag the form's URL names (for a session, any of its flags would do)."""
        return (self.flags or self.taken)[0]

    @property
    def urgent(self) -> bool:
        return any(isinstance(f, RedFlag) and f.reason.urgent for f in self.flags)


@bp.get("")
@clinicians_only
@audited("timeline.view", patient="patient_id")
def show(patient_id: int) -> str:
    """One patient's course: flags, the suggested next step, charts, entries, history."""
    patient, version = get_patient_and_version_or_404(patient_id, current_user.clinic_id)
    return _render(patient, summary=version)


@bp.post("/flags/<any(red, rule):source>/<int:flag_id>/acknowledge")
@clinicians_only
@audited(change="flag.acknowledge", patient="patient_id", object_type="flag", object_id="flag_id")
def acknowledge_flag(patient_id: int, source: str, flag_id: int) -> Response | tuple[str, int]:
    """Acknowledge with one note a rule flag, or the ticked red flags of the session that
    raised this one (all of them or none)."""
    patient = get_patient_or_404(patient_id, current_user.clinic_id)
    form: AcknowledgeForm | AcknowledgeSessionForm
    flags: Sequence[RedFlag | CareFlag]
    if source == "red":
        flags = session_red_flags_or_404(flag_id, patient)
        key = _card_key("red", flags[0])
        form = AcknowledgeSessionForm(prefix=f"ack-{key}")
        # Every flag of the session is a valid tick: one acknowledged meanwhile is then
        # said in words, not refused as a value the page never offered.
        form.flags.choices = [(str(f.id), f.reason.label) for f in flags]
    else:
        flags = [get_care_flag_or_404(flag_id, patient)]
        key = _card_key("rule", flags[0])
        form = AcknowledgeForm(prefix=f"ack-{key}")
    back = return_to(
        form.next.data, patient, ReturnPage(_flags_section(patient), _("the timeline"))
    )
    if all(f.acknowledged_at is not None for f in flags):
        taken = _by_others(flags)
        if not taken:
            # Sent twice, or closed by the system: its form is gone from the page, so a
            # complaint about the note would show nowhere.
            flash(str(FlagAlreadyAcknowledged()), "info")
            return redirect(back.url)
        return _refuse(patient, key, form, taken)
    if not form.validate_on_submit():
        return _render(patient, {key: Failed(form)}), 400
    chosen = (
        [f for f in flags if str(f.id) in form.flags.data]
        if isinstance(form, AcknowledgeSessionForm)
        else list(flags)
    )
    try:
        acknowledge_together(chosen, current_user, form.note.data)
    except FlagAlreadyAcknowledged as exc:
        discard()  # all or none: the flags acknowledged before the refusal are not kept
        taken_ids = {f.id for f in exc.flags}
        fresh = (
            session_red_flags_or_404(flag_id, patient)
            if source == "red"
            else [get_care_flag_or_404(flag_id, patient)]
        )
        return _refuse(patient, key, form, [f for f in fresh if f.id in taken_ids])
    flash(_acknowledged_message(len(chosen)), "success")
    return redirect(back.url)


def _card_key(source: str, flag: RedFlag | CareFlag) -> str:
    # A session's card is named after its diary entry, whichever of its flags is open.
    return f"session-{flag.entry_id}" if isinstance(flag, RedFlag) else f"{source}-{flag.id}"


def _by_others(flags: Sequence[RedFlag | CareFlag]) -> list[RedFlag | CareFlag]:
    """The flags a clinician other than the signed-in one has acknowledged."""
    return [
        f
        for f in flags
        if f.acknowledged_by_id is not None and f.acknowledged_by_id != current_user.id
    ]


def _refuse(
    patient: Patient,
    key: str,
    form: AcknowledgeForm | AcknowledgeSessionForm,
    taken: Sequence[RedFlag | CareFlag],
) -> tuple[str, int]:
    """Nothing is saved: the page again, the note as typed, saying who acknowledged what
    meanwhile."""
    discard()
    form.form_errors.append(_taken_message(taken, patient))
    return _render(patient, {key: Failed(form, taken)}), 409


def _taken_message(taken: Sequence[RedFlag | CareFlag], patient: Patient) -> str:
    who = [
        _("you, in another window")
        if f.acknowledged_by_id == current_user.id
        else (f.acknowledged_by.full_name if f.acknowledged_by else _("the system"))
        for f in taken
    ]
    done = "; ".join(
        _("%(flag)s (by %(name)s)", flag=_flag_label(f), name=name)
        for f, name in zip(taken, who, strict=True)
    )
    if len(taken) == 1:
        return _(
            "While you were writing, this flag was acknowledged: %(done)s. Nothing was saved"
            " and your note is kept below: check the flags still open and send it again, or"
            " keep it as a clinical note.",
            done=done,
        )
    return _(
        "While you were writing, these flags were acknowledged: %(done)s. Nothing was saved"
        " and your note is kept below: check the flags still open and send it again, or keep"
        " it as a clinical note.",
        done=done,
    )


def _flag_label(flag: RedFlag | CareFlag) -> str:
    """A flag in a few words: "High pain (8/10)", "Pain rising"."""
    if isinstance(flag, CareFlag):
        return _(flag.kind.label)
    if flag.reason.is_high_pain:
        return f"{_(flag.reason.label)} ({flag.pain}/10)"
    return _(flag.reason.label)


def _acknowledged_message(count: int) -> str:
    if count == 1:
        return _("The flag was acknowledged; your note is kept with it.")
    return _("%(count)d flags were acknowledged; your note is kept with each.", count=count)


def _flags_section(patient: Patient) -> str:
    """The timeline's flags, at the period shown (where acknowledgements return to)."""
    weeks = _period()
    return (
        url_for(
            "timeline.show",
            patient_id=patient.id,
            weeks=weeks if weeks != DEFAULT_PERIOD else None,
        )
        + "#flags-heading"
    )


def _period() -> int:
    """The period asked for, in weeks (the default for anything else)."""
    weeks = request.args.get("weeks", type=int)
    return weeks if weeks in PERIODS else DEFAULT_PERIOD


def _render(
    patient: Patient, failed: dict[str, Failed] | None = None, *, summary: int | None = None
) -> str:
    """The timeline of `patient`; `summary`: their summary's version, read with the
    record (else read here)."""
    clinic = current_user.clinic
    today = clinic_today(clinic.timezone)
    # The summary's version before anything it covers (the protocol too): what is kept
    # under it is then at least as new as the key (clinic.timeline.course).
    if summary is None:
        summary = summary_version(patient.clinic_id, patient.id)
    weeks = _period()
    return render_template(
        "timeline/show.html",
        patient=patient,
        course=kept_course(
            # A form sent back keeps what was typed: drawn for this request only.
            None if failed else summary,
            patient,
            weeks,
            today,
            reminder_status(patient).label,
            lambda: _course(patient, failed or {}, weeks, today),
        ),
        notes=notes_for(patient.id, patient.clinic_id, limit=NOTES_SHOWN),
        # Every answer on record: questionnaires are months apart, the page's period is not.
        measures=kept_measures(
            summary,
            patient,
            lambda: summaries(
                series_for(patient.clinic_id, [patient.id], zone=clinic.timezone)[patient.id],
                charts=True,
            ),
        ),
        now=utcnow(),
    )


def _course(
    patient: Patient, failed: dict[str, Failed], weeks: int, today: date
) -> dict[str, object]:
    """What the timeline's course of care is drawn from (`timeline/_course.html`): the
    flags with their acknowledgement forms (those in `failed` as sent back), the open
    protocol with its history, the rules' assessment, and the period's entries with the
    progress, skips and depths made of them."""
    flags = patient_flags(patient)
    protocol = with_patient(
        open_protocol(patient.id, patient.clinic_id, load=History.EVENT_AUTHORS), patient
    )
    first = first_week_shown(protocol, today, weeks) if protocol is not None else None
    entries = None
    progress = None
    depth_weeks = []
    if protocol is not None and first is not None:
        # The 28 days' figure needs 28 days of sessions (ending yesterday until today is
        # logged), more than a 4-week period holds before its last Sunday (it read "100%
        # (22 of 28 sessions)" on a Monday): read from the earlier of the two; the page
        # shows the period's own.
        read = period_entries(patient, min(first, today - timedelta(days=28)), today)
        entries = [e for e in read if e.occurred_on >= first]
        read_sessions = as_sessions(read)
        sessions = [s for s in read_sessions if s.on >= first]
        progress = build_progress(
            protocol,
            read_sessions,
            first,
            today,
            patient.clinic.completion_pct,
            keeps_diary=patient.keeps_diary,
            diary_since=patient.diary_since,
        )
        depth_weeks = depth_trend(sessions)
    assessment = assess_patient(patient, protocol, today)
    # Next to a suggestion: the decision that carries it out, and what else may be recorded.
    decision: EventKind | None = None
    allowed: frozenset[EventKind] = frozenset()
    if assessment.advice and assessment.in_force is not None and protocol is not None:
        decision = decision_for(assessment.advice.suggestion)
        allowed = allowed_on(protocol, today)
    return {
        "patient": patient,
        "protocol": protocol,
        "today": today,
        "weeks": weeks,
        "periods": PERIODS,
        "progress": progress,
        "entries": entries,
        "skips": skip_summary(entries) if entries is not None else None,
        "depth_weeks": depth_weeks,
        "depth_shown": shows_depth(protocol, depth_weeks),
        "assessment": assessment,
        "decision": decision,
        "allowed": allowed,
        "flags": flags,
        "cards": _flag_cards(flags, failed, _flags_section(patient)),
        # Where a decision started from the suggestion comes back to.
        "here": url_for(
            "timeline.show",
            patient_id=patient.id,
            weeks=weeks if weeks != DEFAULT_PERIOD else None,
        )
        + "#suggestion-heading",
    }


def _flag_cards(flags: PatientFlags, failed: dict[str, Failed], here: str) -> list[FlagCard]:
    """The page's acknowledgement forms: one per session with open red flags, each flag
    ticked, then one per open rule flag; a form sent back keeps what was typed. A form
    whose flags were all acknowledged meanwhile comes first, to say so and keep its note."""
    cards: list[FlagCard] = []
    for group in flags.open_sessions:
        key = _card_key("red", group.anchor)
        sent = failed.pop(key, None)
        form = (
            sent.form
            if sent
            else AcknowledgeSessionForm(
                prefix=f"ack-{key}",
                formdata=None,
                data={"flags": [str(f.id) for f in group.flags], "next": here},
            )
        )
        cards.append(FlagCard(key, "red", group.flags, form, sent.taken if sent else ()))
    for flag in flags.open_care:
        key = _card_key("rule", flag)
        sent = failed.pop(key, None)
        form = (
            sent.form
            if sent
            else AcknowledgeForm(prefix=f"ack-{key}", formdata=None, data={"next": here})
        )
        cards.append(FlagCard(key, "rule", [flag], form, sent.taken if sent else ()))
    gone = [
        FlagCard(key, "red" if key.startswith("session-") else "rule", [], sent.form, sent.taken)
        for key, sent in failed.items()
        if sent.taken
    ]
    return gone + cards

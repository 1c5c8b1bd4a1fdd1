"""Changes to patients' protocols. Every change is recorded; nothing is edited in place.

Functions flush; the unit of work commits once. A `ProtocolChangeError` carries a message for the
clinician; `ConcurrentChangeError` means someone else changed the protocol first.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select

from clinic.audit.log import record
from clinic.core.refusals import Refusal
from clinic.domain.flags import FlagKind
from clinic.domain.indications import Indications
from clinic.domain.progression import GoingBack, Suggestion, default_going_back
from clinic.domain.protocols import (
    STAGE_DECISIONS,
    STATUS_AFTER,
    EventKind,
    ProtocolStatus,
    Route,
    StagePrescription,
    allowed_now,
    flared_base_message,
    in_force_on,
    lacks_flared_base,
    missing_reason,
    reason_required,
    recorded_reason,
    refusal,
    review_on_problem,
)
from clinic.domain.starting import StartProblem, is_under_18_on, start_problems
from clinic.extensions import db
from clinic.models import (
    DilatorSet,
    DilatorSize,
    Patient,
    Protocol,
    ProtocolEvent,
    ProtocolStage,
    ProtocolTemplate,
    ProtocolVersion,
    User,
)
from clinic.models.types import utcnow
from clinic.monitoring.services import acknowledge_ready_flags
from clinic.protocols import integrity
from clinic.protocols.queries import open_protocol, timeline, version

# How far ahead a change may be dated: planned pauses and start dates, not far-off plans.
MAX_DAYS_AHEAD = 90
# How far back a protocol may be entered (an existing program put on record late).
MAX_DAYS_BACK = 365


class ProtocolChangeError(Refusal):
    """The change cannot be made; the message says why in plain words."""


class ConcurrentChangeError(ProtocolChangeError):
    """The protocol changed since the clinician loaded the page."""

    def __init__(self) -> None:
        super().__init__(
            _(
                "Someone else changed this protocol while you were working on it. Nothing was "
                "saved: reload the page to see the current version, then make your change again."
            )
        )


def start_indications(patient: Patient, template: ProtocolTemplate | None) -> Indications:
    """The indications whose start conditions and safety rules apply: the patient's and
    the template's (a started plan keeps them: `Protocol.safety_indications`)."""
    return Indications.of(patient.indication, template.indication if template else None)


def needs_surgeon_direction(patient: Patient, template: ProtocolTemplate | None) -> bool:
    """Surgeon-directed programs (anal fissure, after haemorrhoidectomy / anal stenosis,
    after vaginoplasty) need the treating surgeon's direction and the procedure date."""
    return any(i.is_surgeon_directed for i in start_indications(patient, template))


def needs_specialist_direction(patient: Patient, start_on: date) -> bool:
    """A patient under 18 on the start date: a specialist service for children and young
    people leads the program (clinic.domain.starting)."""
    return is_under_18_on(patient.date_of_birth, start_on)


def needs_radiotherapy_date(patient: Patient, template: ProtocolTemplate | None) -> bool:
    """Programs after pelvic radiotherapy start only after the clinic's interval."""
    return any(i.follows_radiotherapy for i in start_indications(patient, template))


def start_refusals(
    patient: Patient,
    template: ProtocolTemplate | None,
    *,
    start_on: date,
    surgeon_direction: str,
    procedure_on: date | None,
    radiotherapy_ended_on: date | None,
    specialist_direction: str,
) -> list[StartProblem]:
    """Why a protocol for this patient (from this template) cannot start on `start_on`:
    the start conditions of `clinic.domain.starting`, with the clinic's interval; each
    message in English (`_(problem.message)` translates it)."""
    return start_problems(
        start_indications(patient, template),
        start_on=start_on,
        radiotherapy_ended_on=radiotherapy_ended_on or patient.radiotherapy_ended_on,
        radiotherapy_weeks=patient.clinic.radiotherapy_weeks,
        surgeon_direction=surgeon_direction,
        procedure_on=procedure_on,
        date_of_birth=patient.date_of_birth,
        specialist_direction=specialist_direction,
    )


def check_start_date(patient: Patient, start_on: date, *, today: date, replacing: bool) -> None:
    """Refuse (next to the start date) a day a new protocol cannot start on: before
    anything already recorded for the patient or more than a year back, and after today
    when it replaces an open protocol (else more than 90 days ahead). Checked before the
    start conditions, which a day that cannot be recorded makes moot (a mistyped year
    would otherwise read as a child's start)."""
    _check_start_date(start_on, today, _recorded_days(patient), replacing=replacing)


def start_protocol(
    patient: Patient,
    by: User,
    *,
    name: str,
    route: Route,
    stages: Sequence[StagePrescription],
    start_stage: int,
    start_on: date,
    today: date,
    template: ProtocolTemplate | None = None,
    going_back: GoingBack | None = None,
    surgeon_direction: str = "",
    procedure_on: date | None = None,
    radiotherapy_ended_on: date | None = None,
    specialist_direction: str = "",
) -> Protocol:
    """Start a protocol (replacing the open one, whose history stays) at `start_stage`.

    Protocols follow each other: a new one cannot start before anything already recorded
    for the patient, and one that replaces an open protocol starts today at the latest, so
    two protocols are never in force on the same day.

    Some indications set conditions (`clinic.domain.starting`): after radiotherapy, the
    date it ended (kept on the patient's record) and the clinic's interval since; for a
    surgeon-directed program, the surgeon's direction and the procedure date; for a
    patient under 18 on `start_on`, the specialist service that leads the program (kept
    only then).
    `going_back` (what pain that says go back suggests) defaults to the template's, or to
    the indication's default (`default_going_back`) from scratch; review with the surgical
    team whenever the patient's or the template's indication is after vaginoplasty.
    """
    current = open_protocol(patient.id, patient.clinic_id)
    check_start_date(patient, start_on, today=today, replacing=current is not None)
    if not 1 <= start_stage <= len(stages):
        raise _stage_out_of_range(len(stages), "start_stage")
    _check_flared_base(route, stages)
    if not needs_surgeon_direction(patient, template):
        surgeon_direction, procedure_on = "", None
    if not needs_specialist_direction(patient, start_on):
        specialist_direction = ""
    after_radiotherapy = needs_radiotherapy_date(patient, template)
    ended_on = radiotherapy_ended_on or patient.radiotherapy_ended_on
    problems = start_refusals(
        patient,
        template,
        start_on=start_on,
        surgeon_direction=surgeon_direction,
        procedure_on=procedure_on,
        radiotherapy_ended_on=ended_on,
        specialist_direction=specialist_direction,
    )
    if problems:
        raise ProtocolChangeError(_(problems[0].message), problems[0].field)
    if after_radiotherapy and ended_on != patient.radiotherapy_ended_on:
        # Entered on the start page: it belongs to the record, where every later program
        # (and the clinician reading the record) finds it.
        patient.radiotherapy_ended_on = ended_on
        _record_updated(patient, by, "radiotherapy_ended_on")
    if current is not None:
        _record(
            current,
            EventKind.REPLACED,
            start_on,
            today,
            by,
            "Replaced by a new protocol.",
            date_field="start_on",
        )
        db.session.flush()  # the old one must close before the new one opens (one open rule)
    indication = template.indication if template else patient.indication
    if going_back is None:
        # The template's setting, unless the patient's indication calls for review with
        # the surgical team (after vaginoplasty a smaller size risks narrowing).
        rules = start_indications(patient, template)
        going_back = (
            template.going_back
            if template and not rules.is_neovagina
            else default_going_back(rules)
        )
    protocol = Protocol(
        clinic_id=patient.clinic_id,
        patient=patient,
        name=name,
        indication=indication,
        going_back=going_back,
        route=route,
        source_template_id=template.id if template else None,
        surgeon_direction=surgeon_direction,
        procedure_on=procedure_on,
        specialist_direction=specialist_direction,
        status=ProtocolStatus.ACTIVE,
        created_by=by,
        created_at=utcnow(),
    )
    db.session.add(protocol)
    reason = f"Started from the template “{template.name}”." if template else "Started."
    _add_version(protocol, stages, by, reason)
    _record(
        protocol, EventKind.START, start_on, today, by, reason, stage=start_stage, version_number=1
    )
    db.session.flush()
    record(
        "protocol.start",
        patient_id=patient.id,
        object_type="protocol",
        object_id=protocol.id,
        actor=by,
    )
    return protocol


def revise_protocol(
    protocol: Protocol,
    by: User,
    *,
    expected_lock: str,
    stages: Sequence[StagePrescription],
    current_stage: int,
    effective_on: date,
    today: date,
    reason: str,
    confirm_device_change: bool = False,
) -> ProtocolVersion:
    """Make a new version of an open protocol's plan, in force from `effective_on`."""
    _check_lock(protocol, expected_lock)
    _check_allowed(protocol, EventKind.EDIT, effective_on)
    if not 1 <= current_stage <= len(stages):
        raise _stage_out_of_range(len(stages), "current_stage")
    _check_flared_base(protocol.route, stages)
    last = protocol.events[-1]
    before = version(protocol, last.version_number).stages[last.stage - 1].dilator_size
    after_id = stages[current_stage - 1].dilator_size_id
    if after_id != before.id and not confirm_device_change:
        # Moving between sizes is a stage decision (move up, step back) with its own
        # record; a revision that changes the device in use must say so explicitly.
        raise ProtocolChangeError(
            _(
                "This new plan changes the dilator the patient uses now (from %(dilator)s). "
                "Tick the confirmation if that is intended, or keep the current stage on the "
                "same dilator and use Move up or Step back.",
                dilator=before.display,
            ),
            "confirm_device_change",
        )
    new = _add_version(protocol, stages, by, reason)
    _record(
        protocol,
        EventKind.EDIT,
        effective_on,
        today,
        by,
        reason,
        stage=current_stage,
        version_number=new.number,
    )
    db.session.flush()
    record(
        "protocol.revise",
        patient_id=protocol.patient_id,
        object_type="protocol",
        object_id=protocol.id,
        actor=by,
        detail={"version": new.number},
    )
    return new


def record_event(
    protocol: Protocol,
    kind: EventKind,
    by: User,
    *,
    expected_lock: str,
    effective_on: date,
    today: date,
    reason: str,
    resume_on: date | None = None,
    suggested: Suggestion | None = None,
    evidence: str = "",
    review_on: date | None = None,
) -> ProtocolEvent:
    """Record a stage decision (advance, hold, step back) or a pause, resume or completion.

    `suggested` is what the system suggested when the clinician decided, kept with the
    decision, and `evidence` its reasons on one line: a decision that carries the
    suggestion out and gives no reason of its own is kept with those (any other needs a
    reason, see clinic.domain.protocols.reason_required). A hold may set the patient's next
    review date (`review_on`). A stage decision also answers an open "ready to advance"
    flag, and a resume an open "review before resuming".
    """
    _check_lock(protocol, expected_lock)
    _check_allowed(protocol, kind, effective_on)
    reason = reason.strip()
    if not reason and reason_required(kind, suggested):
        raise ProtocolChangeError(_(missing_reason(kind, suggested)), "reason")
    reason = recorded_reason(reason, kind, suggested, evidence)
    stage = protocol.events[-1].stage + kind.stage_step
    if kind is EventKind.PAUSE and resume_on is not None and resume_on <= effective_on:
        raise ProtocolChangeError(_("The resume date must be after the pause starts."), "resume_on")
    event = _record(
        protocol,
        kind,
        effective_on,
        today,
        by,
        reason,
        stage=stage,
        resume_on=resume_on if kind is EventKind.PAUSE else None,
    )
    if kind is EventKind.HOLD and review_on is not None:
        _set_review(protocol.patient, review_on, today, by)
    if kind in STAGE_DECISIONS:
        event.suggested = suggested
        acknowledge_ready_flags(protocol.patient, by, f"{kind.label}: {reason}")
    if kind is EventKind.RESUME:
        acknowledge_ready_flags(
            protocol.patient, by, f"{kind.label}: {reason}", FlagKind.RESUME_REVIEW
        )
    db.session.flush()
    record(
        "protocol.change",
        patient_id=protocol.patient_id,
        object_type="protocol",
        object_id=protocol.id,
        actor=by,
        detail={"kind": kind.value},
    )
    return event


def _set_review(patient: Patient, review_on: date, today: date, by: User) -> None:
    """Make `review_on` the patient's next review date (a "review due" flag is raised on
    that day), audited as a change to the record."""
    problem = review_on_problem(review_on, today)
    if problem:
        raise ProtocolChangeError(_(problem), "review_on")
    if patient.review_on == review_on:
        return
    patient.review_on = review_on
    _record_updated(patient, by, "review_on")


def _stage_out_of_range(count: int, field: str) -> ProtocolChangeError:
    return ProtocolChangeError(
        _("Choose a stage from 1 to %(count)d (the plan has %(count)d).", count=count), field
    )


def _check_flared_base(route: Route, stages: Sequence[StagePrescription]) -> None:
    """Refuse an anal plan with a dilator from a set not recorded as having a flared base,
    whoever calls (the plan forms check it first, with the problem by its stage)."""
    if route is not Route.ANAL:
        return
    ids = {s.dilator_size_id for s in stages}
    rows = db.session.execute(
        select(DilatorSize.id, DilatorSet.flared_base)
        .join(DilatorSet)
        .where(DilatorSize.id.in_(ids))
    )
    flared = {size_id: has_base for size_id, has_base in rows}
    for number, stage in enumerate(stages, start=1):
        if lacks_flared_base(route, flared.get(stage.dilator_size_id, False)):
            raise ProtocolChangeError(flared_base_message(number), "dilator_size_id")


def _check_lock(protocol: Protocol, expected: str) -> None:
    if str(protocol.lock_version) != str(expected).strip():
        raise ConcurrentChangeError()


def allowed_on(protocol: Protocol, day: date) -> frozenset[EventKind]:
    """What a clinician may record for `protocol` on `day`: what the pages offer, and
    exactly what `record_event` accepts for that day."""
    return allowed_now(*_decision_state(protocol, day))


def _decision_state(protocol: Protocol, day: date) -> tuple[ProtocolStatus, int, int]:
    """The status in force on `day` (a pause lasts until a clinician resumes it, whatever
    its planned date), the patient's stage and the plan's stage count."""
    state = in_force_on(timeline(protocol), day)
    status = state.status if state else protocol.status
    last = protocol.events[-1]
    return status, last.stage, len(version(protocol, last.version_number).stages)


def _check_allowed(protocol: Protocol, kind: EventKind, day: date) -> None:
    reason = refusal(kind, *_decision_state(protocol, day))
    if reason is not None:
        raise ProtocolChangeError(reason)


def _recorded_days(patient: Patient) -> list[date]:
    """The latest recorded day of each of the patient's protocols."""
    return list(
        db.session.scalars(
            select(func.max(ProtocolEvent.effective_on))
            .join(Protocol)
            .where(Protocol.patient_id == patient.id, Protocol.clinic_id == patient.clinic_id)
            .group_by(Protocol.id)
        )
    )


def _check_start_date(start_on: date, today: date, recorded: list[date], replacing: bool) -> None:
    """Refuse a start date outside what a protocol may start on, saying which limit it
    crossed: a year back for a program put on record late, the last day recorded for an
    earlier protocol (protocols follow each other), today for one that replaces the open
    protocol, and MAX_DAYS_AHEAD days ahead for a planned start. (Not `_check_date`: its
    words are about a change following the one before, and a first protocol has none.)"""
    year_back = today - timedelta(days=MAX_DAYS_BACK)
    earlier = max(recorded, default=None)
    if replacing and earlier is not None and earlier > today:
        # The open protocol is planned ahead: no day is both on or after its days and on
        # or before today, so say when it can be replaced instead of naming either limit
        # (each alone would send the clinician to a day the other refuses).
        raise ProtocolChangeError(
            _(
                "The open protocol has days planned up to %(date)s, after today, and a"
                " protocol replacing it starts on the day it is entered at the latest: it"
                " can be replaced from %(date)s.",
                date=earlier.strftime("%d %b %Y"),
            ),
            "start_on",
        )
    if earlier is not None and earlier >= year_back and start_on < earlier:
        raise ProtocolChangeError(
            _(
                "The patient's earlier protocol has changes recorded up to %(date)s: start"
                " the new one on that day or later.",
                date=earlier.strftime("%d %b %Y"),
            ),
            "start_on",
        )
    if start_on < year_back:
        raise ProtocolChangeError(
            _(
                "A program can be put on record up to a year back: start it on %(date)s or later.",
                date=year_back.strftime("%d %b %Y"),
            ),
            "start_on",
        )
    if replacing and start_on > today:
        raise ProtocolChangeError(
            _(
                "This protocol replaces the open one, so it cannot start after today"
                " (%(date)s): two protocols are never in force on the same day.",
                date=today.strftime("%d %b %Y"),
            ),
            "start_on",
        )
    latest = today + timedelta(days=MAX_DAYS_AHEAD)
    if start_on > latest:
        raise ProtocolChangeError(
            _(
                "A start can be planned up to %(days)d days ahead: start it on %(date)s or"
                " earlier.",
                days=MAX_DAYS_AHEAD,
                date=latest.strftime("%d %b %Y"),
            ),
            "start_on",
        )


def _check_date(day: date, earliest: date, latest: date, field: str = "effective_on") -> None:
    if day < earliest:
        raise ProtocolChangeError(
            _(
                "The date cannot be before %(date)s: changes are recorded in order.",
                date=earliest.strftime("%d %b %Y"),
            ),
            field,
        )
    if day > latest:
        raise ProtocolChangeError(
            _(
                "The date cannot be after %(date)s: record changes on or before the day they"
                " take effect.",
                date=latest.strftime("%d %b %Y"),
            ),
            field,
        )


def _add_version(
    protocol: Protocol, stages: Sequence[StagePrescription], by: User, reason: str
) -> ProtocolVersion:
    number = len(protocol.versions) + 1
    rows = [ProtocolStage(position=n, **stage.as_dict()) for n, stage in enumerate(stages, start=1)]
    new = ProtocolVersion(
        number=number,
        reason=reason,
        created_by=by,
        created_by_id=by.id,
        created_at=utcnow(),
        stages=rows,
    )
    new.content_hash = integrity.version_hash(new)
    protocol.versions.append(new)
    return new


def _record(
    protocol: Protocol,
    kind: EventKind,
    effective_on: date,
    today: date,
    by: User,
    reason: str,
    *,
    stage: int | None = None,
    version_number: int | None = None,
    resume_on: date | None = None,
    date_field: str = "effective_on",
) -> ProtocolEvent:
    previous = protocol.events[-1] if protocol.events else None
    if previous is not None:
        # Changes take effect on or before today, after the last recorded one: the
        # protocol's status then always describes the present.
        _check_date(effective_on, previous.effective_on, today, date_field)
    if previous is not None:
        version_number = version_number or previous.version_number
        stage = stage or previous.stage
    if version_number is None or stage is None:
        raise ValueError("the first event of a protocol names its version and stage")
    event = ProtocolEvent(
        kind=kind,
        effective_on=effective_on,
        version_number=version_number,
        stage=stage,
        reason=reason,
        resume_on=resume_on,
        created_by=by,
        created_by_id=by.id,
        created_at=utcnow(),
    )
    event.chain_hash = integrity.event_hash(
        event,
        version(protocol, event.version_number).content_hash,
        previous.chain_hash if previous else integrity.genesis(protocol),
    )
    protocol.events.append(event)
    protocol.head_hash = event.chain_hash
    protocol.status = STATUS_AFTER[kind] or protocol.status
    protocol.updated_at = utcnow()  # every change bumps the lock version, even a "hold"
    return event


def _record_updated(patient: Patient, by: User, field: str) -> None:
    """Audit a change to one field of the patient's record made from a protocol page."""
    record(
        "patient.update",
        patient_id=patient.id,
        object_type="patient",
        object_id=patient.id,
        actor=by,
        detail={"fields": [field]},
    )

"""The occasions each patient's measures ask for today, from the database.

The rules (when an occasion opens, is due, is overdue) are the pure functions of
clinic.domain.measure_schedule; this module gathers their inputs for many patients in a
constant number of queries: the assignments, the answers given, and each patient's programs.

A program runs from a protocol's start to the day a protocol is completed (the discharge);
a protocol that replaces another continues its program, and one started after a discharge
begins a new program. A repeating assignment follows one program, the one running when it
was assigned (or discharged in the grace period before, whose discharge it still asks
for; else the next to start): after that program's discharge it asks nothing more, even
when the patient starts again, so the weeks between are never asked for after the fact.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import BindParameter, bindparam, select
from sqlalchemy.orm import joinedload

from clinic.core.templating import short_date
from clinic.domain.measure_schedule import (
    DEFAULT_GRACE_DAYS,
    Assignment,
    Cadence,
    OccasionState,
    occasions,
    states,
)
from clinic.domain.protocols import EventKind
from clinic.domain.text import N_
from clinic.extensions import db
from clinic.measures.instruments import available
from clinic.models import MeasureAssignment, MeasureResponse, Patient, Protocol, ProtocolEvent


@dataclass(frozen=True)
class ProgramDates:
    """When the patient's program started and, if it has ended, when they were discharged."""

    started_on: date | None
    discharged_on: date | None


@dataclass(frozen=True)
class OccasionStatus:
    """One occasion of one assignment today, with the answers given for it (a draft while
    it is being answered, a submitted response once answered)."""

    assignment: MeasureAssignment
    state: OccasionState
    response: MeasureResponse | None

    @property
    def in_progress(self) -> bool:
        """Started and saved, not yet submitted."""
        return self.response is not None and not self.response.submitted

    @property
    def label(self) -> str:
        """The occasion as people read it: "At the start", "Week 4", "At discharge"."""
        return occasion_label(self.state.occasion.key)


NO_PROGRAM = ProgramDates(None, None)


# The statements below run on every write's summary refresh (and on the pages that show
# occasions): built once, since building one costs more CPU than running it. Parameters:
# `clinic_id`, and `patient_ids` or `assignment_ids`.
_CLINIC: BindParameter[int] = bindparam("clinic_id")
_PATIENTS: BindParameter[list[int]] = bindparam("patient_ids", expanding=True)
# The starts and completions of the patients' protocols, in order: protocols follow each
# other (one open at a time), each starting before it ends.
_PROGRAM_EVENTS = (
    select(Protocol.patient_id, ProtocolEvent.kind, ProtocolEvent.effective_on)
    .join(ProtocolEvent, ProtocolEvent.protocol_id == Protocol.id)
    .where(
        Protocol.clinic_id == _CLINIC,
        Protocol.patient_id.in_(_PATIENTS),
        ProtocolEvent.kind.in_([EventKind.START, EventKind.COMPLETE]),
    )
    .order_by(Protocol.patient_id, Protocol.id, ProtocolEvent.id)
)
_ASSIGNMENTS = (
    select(MeasureAssignment)
    .where(MeasureAssignment.clinic_id == _CLINIC, MeasureAssignment.patient_id.in_(_PATIENTS))
    .order_by(MeasureAssignment.id)
)
_ASSIGNMENTS_NOT_ENDED = _ASSIGNMENTS.where(MeasureAssignment.ended_at.is_(None))
_RESPONSES = select(MeasureResponse).where(
    MeasureResponse.clinic_id == _CLINIC,
    MeasureResponse.assignment_id.in_(bindparam("assignment_ids", expanding=True)),
)


def programs(clinic_id: int, patient_ids: Collection[int]) -> dict[int, list[ProgramDates]]:
    """Each patient's programs, oldest first (one query whatever the number of patients):
    from a protocol's start to the completion of the protocol that ends the program (a
    replacement continues it), the last one still running when nothing completed it."""
    found: dict[int, list[ProgramDates]] = {pid: [] for pid in patient_ids}
    if not patient_ids:
        return found
    rows = db.session.execute(
        _PROGRAM_EVENTS, {"clinic_id": clinic_id, "patient_ids": list(patient_ids)}
    ).all()
    running: dict[int, date] = {}  # the start of each patient's program not yet completed
    for pid, kind, day in rows:
        if kind == EventKind.START:
            running.setdefault(pid, day)
        elif pid in running:
            found[pid].append(ProgramDates(running.pop(pid), day))
    for pid, day in running.items():
        found[pid].append(ProgramDates(day, None))
    return found


def program_dates(clinic_id: int, patient_ids: Collection[int]) -> dict[int, ProgramDates]:
    """Each patient's latest program: running, or discharged when nothing started since
    (NO_PROGRAM for a patient who never had a protocol). One query."""
    return {
        pid: found[-1] if found else NO_PROGRAM
        for pid, found in programs(clinic_id, patient_ids).items()
    }


def program_for(
    assignment: MeasureAssignment,
    found: Sequence[ProgramDates],
    grace_days: int = DEFAULT_GRACE_DAYS,
) -> ProgramDates:
    """The program a repeating assignment follows, among the patient's programs (oldest
    first): the first not discharged before the grace period ahead of the assignment (so
    the one running then, or one whose discharge it may still ask for), else none yet."""
    earliest = assignment.assigned_on - timedelta(days=grace_days)
    return next(
        (p for p in found if p.discharged_on is None or p.discharged_on >= earliest), NO_PROGRAM
    )


def as_rule(assignment: MeasureAssignment) -> Assignment:
    """The stored assignment as the pure schedule rules take it."""
    return Assignment(
        cadence=assignment.cadence,
        assigned_on=assignment.assigned_on,
        on=assignment.on if assignment.cadence is Cadence.ONCE else None,
        every_weeks=assignment.every_weeks,
        at_discharge=assignment.at_discharge,
    )


def occasion_statuses(
    clinic_id: int,
    patient_ids: Collection[int],
    today: date,
    *,
    include_ended: bool = False,
    grace_days: int = DEFAULT_GRACE_DAYS,
) -> dict[int, list[OccasionStatus]]:
    """For each patient, every occasion their assignments have asked for up to today,
    oldest first, answered or not. Ended assignments ask for nothing more: they are left
    out unless `include_ended` (their answered occasions still show on the record).
    Three queries whatever the number of patients."""
    result: dict[int, list[OccasionStatus]] = {pid: [] for pid in patient_ids}
    if not patient_ids:
        return result
    assignments = list(
        db.session.scalars(
            _ASSIGNMENTS if include_ended else _ASSIGNMENTS_NOT_ENDED,
            {"clinic_id": clinic_id, "patient_ids": list(patient_ids)},
        )
    )
    if not assignments:
        return result
    responses: dict[int, dict[str, MeasureResponse]] = defaultdict(dict)
    for response in db.session.scalars(
        _RESPONSES, {"clinic_id": clinic_id, "assignment_ids": [a.id for a in assignments]}
    ):
        responses[response.assignment_id][response.occasion_key] = response
    found = programs(clinic_id, {a.patient_id for a in assignments})
    for assignment in assignments:
        program = program_for(assignment, found[assignment.patient_id], grace_days)
        result[assignment.patient_id] += _statuses_of(
            assignment, responses[assignment.id], program, today, grace_days
        )
    for statuses in result.values():
        statuses.sort(key=lambda s: (s.state.occasion.on, s.assignment.id))
    return result


def _statuses_of(
    assignment: MeasureAssignment,
    given: dict[str, MeasureResponse],
    program: ProgramDates,
    today: date,
    grace_days: int,
) -> list[OccasionStatus]:
    """The occasions one assignment has asked for up to today, with the answers given."""
    found = occasions(
        as_rule(assignment),
        protocol_start=program.started_on,
        discharged_on=program.discharged_on,
        until=today,
        grace_days=grace_days,
    )
    answered = [key for key, r in given.items() if r.submitted]
    return [
        OccasionStatus(assignment, state, given.get(state.occasion.key))
        for state in states(found, answered, today, grace_days)
    ]


def due_now(statuses: list[OccasionStatus]) -> list[OccasionStatus]:
    """The occasions waiting for the patient's answers today (due or overdue)."""
    return [s for s in statuses if s.state.due]


def overdue(statuses: list[OccasionStatus]) -> list[OccasionStatus]:
    """The occasions past their grace period without an answer."""
    return [s for s in statuses if s.state.overdue]


# ---------------------------------------------------------------------------------------
# In words, for the clinician's pages


_OCCASION_LABELS = {
    "once": N_("Once"),
    "baseline": N_("At the start"),
    "discharge": N_("At discharge"),
}


def occasion_label(key: str, *, translated: bool = True) -> str:
    """An occasion's key as people read it: "At the start", "Week 4", "At discharge"; in
    the request's language, or in English (`translated` False) for words that are stored."""
    if key.startswith("week-") and key.removeprefix("week-").isdigit():
        week = key.removeprefix("week-")
        return _("Week %(week)s", week=week) if translated else f"Week {week}"
    label = _OCCASION_LABELS.get(key, key)
    return _(label) if translated and key in _OCCASION_LABELS else label


def schedule_in_words(assignment: MeasureAssignment) -> str:
    """When the assignment asks, e.g. "At the start, every 4 weeks, and at discharge" or
    "Once, on 3 Jun 2026"."""
    if assignment.cadence is Cadence.ONCE:
        return _("Once, on %(date)s", date=short_date(assignment.on))
    weeks = assignment.every_weeks
    every = (
        "" if not weeks else _("every week") if weeks == 1 else _("every %(num)d weeks", num=weeks)
    )
    if every and assignment.at_discharge:
        return _("At the start, %(every)s, and at discharge", every=every)
    if every:
        return _("At the start and %(every)s", every=every)
    if assignment.at_discharge:
        return _("At the start and at discharge")
    return _("At the start only")


@dataclass(frozen=True)
class NextOccasion:
    """The next time an assignment asks, after today: a day and its label, or (when the day
    is not known yet) words saying what it waits for."""

    on: date | None
    label: str


def next_occasion(
    assignment: MeasureAssignment, program: ProgramDates, today: date
) -> NextOccasion | None:
    """The next occasion after today, or None when the assignment asks nothing more (a
    one-off whose day has come, a repeating one after the discharge of its program (see
    `program_for`), or an ended one)."""
    if assignment.ended_at is not None:
        return None
    if assignment.cadence is Cadence.ONCE:
        day = assignment.on  # a one-off always has its day (see clinic.domain.measure_schedule)
        return NextOccasion(day, _("Once")) if day is not None and day > today else None
    if program.discharged_on is not None:
        return None
    if program.started_on is None:
        return NextOccasion(None, _("At the start, once a protocol starts"))
    rule = as_rule(assignment)
    horizon = today + timedelta(weeks=(assignment.every_weeks or 0) + 1)
    ahead = [
        occasion
        for occasion in occasions(
            rule, protocol_start=program.started_on, discharged_on=None, until=horizon
        )
        if occasion.on > today
    ]
    if ahead:
        return NextOccasion(ahead[0].on, occasion_label(ahead[0].key))
    if assignment.at_discharge:
        return NextOccasion(None, _("At discharge"))
    return None


@dataclass(frozen=True)
class AssignmentOverview:
    """One of a patient's assignments as the clinician's pages show it."""

    assignment: MeasureAssignment
    title: str
    schedule: str
    next: NextOccasion | None
    waiting: list[OccasionStatus]  # due now and not answered, oldest first
    answered: int  # occasions answered

    @property
    def ended(self) -> bool:
        return self.assignment.ended_at is not None

    @property
    def finished(self) -> bool:
        """A one-off that was answered: it asks for nothing more."""
        return self.assignment.cadence is Cadence.ONCE and self.answered > 0

    @property
    def active(self) -> bool:
        """Still asks for answers (now or later)."""
        return not self.ended and not self.finished

    @property
    def overdue(self) -> list[OccasionStatus]:
        return [s for s in self.waiting if s.state.overdue]


def overview(
    patient: Patient, today: date, *, grace_days: int = DEFAULT_GRACE_DAYS
) -> list[AssignmentOverview]:
    """All of the patient's assignments, ended ones too, oldest first: each with its
    instrument's title, schedule in words, next occasion, the occasions waiting now and
    how many were answered. Four queries whatever the number of assignments."""
    assignments = list(
        db.session.scalars(
            select(MeasureAssignment)
            .where(
                MeasureAssignment.clinic_id == patient.clinic_id,
                MeasureAssignment.patient_id == patient.id,
            )
            .options(joinedload(MeasureAssignment.assigned_by))
            .order_by(MeasureAssignment.id)
        )
    )
    if not assignments:
        return []
    responses: dict[int, dict[str, MeasureResponse]] = defaultdict(dict)
    for response in db.session.scalars(
        select(MeasureResponse).where(
            MeasureResponse.clinic_id == patient.clinic_id,
            MeasureResponse.patient_id == patient.id,
        )
    ):
        responses[response.assignment_id][response.occasion_key] = response
    found = programs(patient.clinic_id, [patient.id])[patient.id]
    instruments = available(patient.clinic_id)
    rows = []
    for assignment in assignments:
        given = responses[assignment.id]
        program = program_for(assignment, found, grace_days)
        statuses = _statuses_of(assignment, given, program, today, grace_days)
        instrument = instruments.get(assignment.instrument_key)
        rows.append(
            AssignmentOverview(
                assignment=assignment,
                title=instrument.title if instrument else assignment.instrument_key,
                schedule=schedule_in_words(assignment),
                next=next_occasion(assignment, program, today),
                waiting=[]
                if assignment.ended_at is not None
                else [s for s in statuses if s.state.due],
                answered=sum(1 for r in given.values() if r.submitted),
            )
        )
    return rows

"""The occasions each patient's measures ask for today, from the database.

The rules (when an occasion opens, is due, is overdue) are the pure functions of
clinic.domain.measure_schedule; this module gathers their inputs for many patients in a
constant number of queries: the assignments, the answers given, and each patient's program
dates (the first protocol start, and the discharge when the latest protocol was completed).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from clinic.domain.measure_schedule import (
    DEFAULT_GRACE_DAYS,
    Assignment,
    Cadence,
    OccasionState,
    occasions,
    states,
)
from clinic.domain.protocols import EventKind, ProtocolStatus
from clinic.extensions import db
from clinic.models import MeasureAssignment, MeasureResponse, Protocol, ProtocolEvent


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


def program_dates(clinic_id: int, patient_ids: Collection[int]) -> dict[int, ProgramDates]:
    """Each patient's program dates (two queries whatever the number of patients)."""
    if not patient_ids:
        return {}
    starts = dict(
        db.session.execute(
            select(Protocol.patient_id, func.min(ProtocolEvent.effective_on))
            .join(ProtocolEvent, ProtocolEvent.protocol_id == Protocol.id)
            .where(
                Protocol.clinic_id == clinic_id,
                Protocol.patient_id.in_(patient_ids),
                ProtocolEvent.kind == EventKind.START,
            )
            .group_by(Protocol.patient_id)
        ).all()
    )
    # The latest protocol of each patient; discharged when it was completed.
    latest = (
        select(Protocol.patient_id, func.max(Protocol.id).label("protocol_id"))
        .where(Protocol.clinic_id == clinic_id, Protocol.patient_id.in_(patient_ids))
        .group_by(Protocol.patient_id)
        .subquery()
    )
    ends = dict(
        db.session.execute(
            select(Protocol.patient_id, func.max(ProtocolEvent.effective_on))
            .join(latest, latest.c.protocol_id == Protocol.id)
            .join(ProtocolEvent, ProtocolEvent.protocol_id == Protocol.id)
            .where(
                Protocol.status == ProtocolStatus.COMPLETED,
                ProtocolEvent.kind == EventKind.COMPLETE,
            )
            .group_by(Protocol.patient_id)
        ).all()
    )
    return {pid: ProgramDates(starts.get(pid), ends.get(pid)) for pid in patient_ids}


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
    Four queries whatever the number of patients."""
    result: dict[int, list[OccasionStatus]] = {pid: [] for pid in patient_ids}
    if not patient_ids:
        return result
    query = select(MeasureAssignment).where(
        MeasureAssignment.clinic_id == clinic_id,
        MeasureAssignment.patient_id.in_(patient_ids),
    )
    if not include_ended:
        query = query.where(MeasureAssignment.ended_at.is_(None))
    assignments = list(db.session.scalars(query.order_by(MeasureAssignment.id)))
    if not assignments:
        return result
    responses: dict[int, dict[str, MeasureResponse]] = defaultdict(dict)
    for response in db.session.scalars(
        select(MeasureResponse).where(
            MeasureResponse.clinic_id == clinic_id,
            MeasureResponse.assignment_id.in_([a.id for a in assignments]),
        )
    ):
        responses[response.assignment_id][response.occasion_key] = response
    dates = program_dates(clinic_id, {a.patient_id for a in assignments})
    for assignment in assignments:
        given = responses[assignment.id]
        program = dates[assignment.patient_id]
        found = occasions(
            as_rule(assignment),
            protocol_start=program.started_on,
            discharged_on=program.discharged_on,
            until=today,
            grace_days=grace_days,
        )
        answered = [key for key, r in given.items() if r.submitted]
        for state in states(found, answered, today, grace_days):
            result[assignment.patient_id].append(
                OccasionStatus(assignment, state, given.get(state.occasion.key))
            )
    for statuses in result.values():
        statuses.sort(key=lambda s: (s.state.occasion.on, s.assignment.id))
    return result


def due_now(statuses: list[OccasionStatus]) -> list[OccasionStatus]:
    """The occasions waiting for the patient's answers today (due or overdue)."""
    return [s for s in statuses if s.state.due]


def overdue(statuses: list[OccasionStatus]) -> list[OccasionStatus]:
    """The occasions past their grace period without an answer."""
    return [s for s in statuses if s.state.overdue]

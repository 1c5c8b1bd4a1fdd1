"""Scoped loaders for the MDT pack: every query filters by clinic, and each loads what the
pack shows for all its patients at once (a fixed number of queries, whatever their number).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from clinic.dashboard.queries import Filters, caseload
from clinic.domain.protocols import EventKind
from clinic.extensions import db
from clinic.models import CareFlag, DiaryEntry, Patient, Protocol, ProtocolEvent, RedFlag
from clinic.protocols.queries import FULL_HISTORY, OPEN_STATUSES

# What the pack calls a decision: everything a clinician records about a program, except
# the "replaced" note left on an old program when a new one starts (the new one's start
# is the decision).
DECISIONS = tuple(kind for kind in EventKind if kind is not EventKind.REPLACED)


def choosable_patients(
    clinic_id: int, clinician_id: int, filters: Filters, limit: int
) -> list[Patient]:
    """Up to `limit` + 1 of the clinic's patients matching `filters`, most urgent first as
    on the dashboard, each with its summary (one more than asked: the caller can tell the
    list was cut)."""
    return list(db.session.scalars(caseload(clinic_id, clinician_id, filters).limit(limit + 1)))


def chosen_patients(clinic_id: int, patient_ids: Sequence[int]) -> list[Patient]:
    """The patients of this clinic among `patient_ids`, most urgent first, with their
    summary, portal login and responsible clinician. Ids of other clinics' patients (or of
    no one) are simply not found."""
    # Whoever is responsible (so no clinician id matters) and whatever the status.
    stmt = (
        caseload(clinic_id, 0, Filters(mine_only=False, status=None))
        .where(Patient.id.in_(patient_ids))
        .options(joinedload(Patient.user), joinedload(Patient.responsible_clinician))
    )
    return list(db.session.scalars(stmt))


def count_of_patients(clinic_id: int, patient_ids: Sequence[int]) -> int:
    """How many of `patient_ids` are patients of this clinic."""
    return (
        db.session.scalar(
            select(func.count())
            .select_from(Patient)
            .where(Patient.clinic_id == clinic_id, Patient.id.in_(patient_ids))
        )
        or 0
    )


def open_protocols(clinic_id: int, patient_ids: Sequence[int]) -> dict[int, Protocol]:
    """Each patient's active or paused protocol (a patient has at most one), with its
    history and its patient (whose indication picks the safety rules shown), by patient
    id."""
    protocols = db.session.scalars(
        select(Protocol)
        .where(
            Protocol.clinic_id == clinic_id,
            Protocol.patient_id.in_(patient_ids),
            Protocol.status.in_(OPEN_STATUSES),
        )
        .options(*FULL_HISTORY, selectinload(Protocol.patient))
    )
    return {p.patient_id: p for p in protocols}


def recent_red_flags(
    clinic_id: int, patient_ids: Sequence[int], first_day: date, since: datetime
) -> dict[int, list[RedFlag]]:
    """The red flags of the period, by patient id, oldest first: those from sessions on or
    after `first_day`, those raised since `since` (a session logged late), and any still
    open, however old. Each with the entry that raised it and whoever acknowledged it."""
    flags = db.session.scalars(
        select(RedFlag)
        .join(DiaryEntry, DiaryEntry.id == RedFlag.entry_id)
        .where(
            RedFlag.clinic_id == clinic_id,
            RedFlag.patient_id.in_(patient_ids),
            or_(
                RedFlag.acknowledged_at.is_(None),
                DiaryEntry.occurred_on >= first_day,
                RedFlag.raised_at >= since,
            ),
        )
        .options(contains_eager(RedFlag.entry), joinedload(RedFlag.acknowledged_by))
        .order_by(DiaryEntry.occurred_at, RedFlag.id)
    )
    by_patient: dict[int, list[RedFlag]] = defaultdict(list)
    for flag in flags:
        by_patient[flag.patient_id].append(flag)
    return by_patient


def recent_care_flags(
    clinic_id: int, patient_ids: Sequence[int], since: datetime
) -> dict[int, list[CareFlag]]:
    """The rule flags raised since `since`, and any still open however old, by patient
    id, oldest first, with whoever acknowledged each."""
    flags = db.session.scalars(
        select(CareFlag)
        .where(
            CareFlag.clinic_id == clinic_id,
            CareFlag.patient_id.in_(patient_ids),
            or_(CareFlag.acknowledged_at.is_(None), CareFlag.raised_at >= since),
        )
        .options(joinedload(CareFlag.acknowledged_by))
        .order_by(CareFlag.raised_at, CareFlag.id)
    )
    by_patient: dict[int, list[CareFlag]] = defaultdict(list)
    for flag in flags:
        by_patient[flag.patient_id].append(flag)
    return by_patient


@dataclass(frozen=True)
class LatestDecision:
    """A patient's most recently recorded decision about their program, and which program
    it was (a patient with no running program may have a completed one)."""

    event: ProtocolEvent
    program: str
    program_open: bool


def latest_decisions(clinic_id: int, patient_ids: Sequence[int]) -> dict[int, LatestDecision]:
    """Each patient's most recently recorded decision (start, stage decision, pause,
    resume, plan change or completion: `DECISIONS`) across all their programs, with who
    recorded it, by patient id; two queries, whatever the number of patients."""
    latest = (
        select(func.max(ProtocolEvent.id))
        .join(Protocol, Protocol.id == ProtocolEvent.protocol_id)
        .where(
            Protocol.clinic_id == clinic_id,
            Protocol.patient_id.in_(patient_ids),
            ProtocolEvent.kind.in_(DECISIONS),
        )
        # Ids follow the recorded order, which is the order the rules read events in.
        .group_by(Protocol.patient_id)
    )
    rows = db.session.execute(
        select(ProtocolEvent, Protocol.patient_id, Protocol.name, Protocol.status)
        .join(Protocol, Protocol.id == ProtocolEvent.protocol_id)
        .where(Protocol.clinic_id == clinic_id, ProtocolEvent.id.in_(latest))
        .options(joinedload(ProtocolEvent.created_by))
        .order_by(ProtocolEvent.id)
    )
    return {
        patient_id: LatestDecision(event, name, status in OPEN_STATUSES)
        for event, patient_id, name, status in rows
    }

"""Scoped loaders for the MDT pack: every query filters by clinic, and each loads what the
pack shows for all its patients at once (a fixed number of queries, whatever their number).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from clinic.dashboard.queries import Filters, caseload
from clinic.extensions import db
from clinic.models import CareFlag, Patient, Protocol, RedFlag
from clinic.protocols.queries import FULL_HISTORY, OPEN_STATUSES


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


def open_red_flags(clinic_id: int, patient_ids: Sequence[int]) -> dict[int, list[RedFlag]]:
    """The red flags no clinician has acknowledged yet, oldest first, with the entry that
    raised each, by patient id."""
    flags = db.session.scalars(
        select(RedFlag)
        .where(
            RedFlag.clinic_id == clinic_id,
            RedFlag.patient_id.in_(patient_ids),
            RedFlag.acknowledged_at.is_(None),
        )
        .options(joinedload(RedFlag.entry))
        .order_by(RedFlag.raised_at, RedFlag.id)
    )
    by_patient: dict[int, list[RedFlag]] = defaultdict(list)
    for flag in flags:
        by_patient[flag.patient_id].append(flag)
    return by_patient


def open_care_flags(clinic_id: int, patient_ids: Sequence[int]) -> dict[int, list[CareFlag]]:
    """The rule flags no clinician has acknowledged yet, most severe first, by patient id."""
    flags = db.session.scalars(
        select(CareFlag)
        .where(
            CareFlag.clinic_id == clinic_id,
            CareFlag.patient_id.in_(patient_ids),
            CareFlag.acknowledged_at.is_(None),
        )
        .order_by(CareFlag.raised_at, CareFlag.id)
    )
    by_patient: dict[int, list[CareFlag]] = defaultdict(list)
    for flag in sorted(flags, key=lambda f: -f.kind.severity):  # stable: oldest first within
        by_patient[flag.patient_id].append(flag)
    return by_patient

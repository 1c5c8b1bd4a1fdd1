"""Scoped reads for the data-requests page: patients of the administrator's clinic found
by name or identifier, and the clinic's erasure records with who made them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, select

from clinic.core.search import name_or_identifier_matches
from clinic.extensions import db
from clinic.models import Patient, PatientErasure, User

FOUND_AT_MOST = 50


def find_patients(clinic_id: int, search: str) -> list[Patient]:
    """Patients of the clinic whose name or identifier contains `search` (at most 50)."""
    return list(
        db.session.scalars(
            select(Patient)
            .where(Patient.clinic_id == clinic_id, name_or_identifier_matches(search))
            .order_by(Patient.full_name, Patient.id)
            .limit(FOUND_AT_MOST)
        )
    )


@dataclass(frozen=True)
class ErasureRow:
    """An erasure as the requests page lists it."""

    id: int
    erased_at: datetime
    request_reference: str
    erased_by: str
    aggregates: dict[str, Any]


def clinic_erasures(clinic_id: int) -> list[ErasureRow]:
    """The clinic's erasures, newest first, with the name of who made each (one query)."""
    rows = db.session.execute(
        select(PatientErasure, User.full_name)
        .outerjoin(
            User,
            and_(User.id == PatientErasure.erased_by_id, User.clinic_id == clinic_id),
        )
        .where(PatientErasure.clinic_id == clinic_id)
        .order_by(PatientErasure.erased_at.desc(), PatientErasure.id.desc())
    )
    return [
        ErasureRow(
            id=erasure.id,
            erased_at=erasure.erased_at,
            request_reference=erasure.request_reference,
            erased_by=name or "An account since removed",
            aggregates=_aggregates(erasure.aggregates),
        )
        for erasure, name in rows
    ]


def _aggregates(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}

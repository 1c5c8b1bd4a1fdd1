"""The dashboard's caseload query: patients with their summaries, most urgent first.

Everything a row shows comes from the patient and their `PatientSummary` (kept current by
`clinic.monitoring`) in one query; open red flags are counted live in the same query, so
a red flag reported a moment ago is never hidden behind a summary.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import contains_eager

from clinic.core.search import name_or_identifier_matches
from clinic.domain.flags import FlagKind, Severity
from clinic.domain.indications import Indication
from clinic.extensions import db
from clinic.models import Patient, PatientStatus, PatientSummary, RedFlag


@dataclass(frozen=True)
class Filters:
    """What the clinician asked to see."""

    mine_only: bool = True
    status: PatientStatus | None = PatientStatus.ACTIVE
    indication: Indication | None = None
    flag: FlagKind | None = None
    search: str = ""

    @property
    def narrowed(self) -> bool:
        """Whether anything beyond the defaults is filtering the list."""
        return self != Filters(mine_only=self.mine_only)


def caseload(clinic_id: int, clinician_id: int, filters: Filters) -> Select:
    """The clinic's patients, each with its summary loaded, most urgent first:
    open red flags, then the most severe open flag, the number of open flags, the
    longest silence, then name."""
    urgency = case(
        (Patient.open_red_flags > 0, int(Severity.URGENT)),
        else_=func.coalesce(PatientSummary.top_severity, 0),
    )
    stmt = (
        select(Patient)
        .outerjoin(Patient.summary)
        .options(contains_eager(Patient.summary))
        .where(Patient.clinic_id == clinic_id)
        .order_by(
            urgency.desc(),
            Patient.open_red_flags.desc(),
            func.coalesce(PatientSummary.open_flags, 0).desc(),
            PatientSummary.last_entry_on.asc().nulls_last(),
            Patient.full_name,
            Patient.id,
        )
    )
    if filters.mine_only:
        stmt = stmt.where(Patient.responsible_clinician_id == clinician_id)
    if filters.status is not None:
        stmt = stmt.where(Patient.status == filters.status)
    if filters.indication is not None:
        stmt = stmt.where(Patient.indication == filters.indication)
    if filters.flag is FlagKind.RED_FLAG:
        stmt = stmt.where(Patient.open_red_flags > 0)
    elif filters.flag is not None:
        # Kinds are stored space-separated; each value is a distinct word.
        stmt = stmt.where(
            (" " + PatientSummary.open_flag_kinds + " ").contains(f" {filters.flag.value} ")
        )
    if filters.search:
        stmt = stmt.where(name_or_identifier_matches(filters.search))
    return stmt


def patients_with_red_flags(clinic_id: int) -> int:
    """How many of the clinic's patients have an open red flag (shown whatever the filters)."""
    return db.session.scalar(
        select(func.count(func.distinct(RedFlag.patient_id))).where(
            RedFlag.clinic_id == clinic_id, RedFlag.acknowledged_at.is_(None)
        )
    )

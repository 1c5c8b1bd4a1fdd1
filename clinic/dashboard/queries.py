"""The dashboard's caseload query: patients with their summaries, most urgent first.

Everything a row shows comes from the patient and their `PatientSummary` in one query. The
summary changes in the same transaction as anything it counts (see `clinic.monitoring`),
so a red flag reported a moment ago already sorts its patient to the top; the banner's
count of red-flagged patients is read from the flags themselves on every visit.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import contains_eager

from clinic.core.search import name_or_identifier_matches
from clinic.domain.flags import FlagKind
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
    """The clinic's patients, each with its summary loaded, most urgent first: the most
    severe open flag (red flags are urgent), the number of red flags, then of other flags,
    the longest silence, then name."""
    stmt = (
        select(Patient)
        .outerjoin(Patient.summary)
        .options(contains_eager(Patient.summary))
        .where(Patient.clinic_id == clinic_id)
        .order_by(
            func.coalesce(PatientSummary.top_severity, 0).desc(),
            func.coalesce(PatientSummary.red_flags, 0).desc(),
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
        stmt = stmt.where(PatientSummary.red_flags > 0)
    elif filters.flag is not None:
        # Kinds are stored space-separated; each value is a distinct word.
        stmt = stmt.where(
            (" " + PatientSummary.open_flag_kinds + " ").contains(f" {filters.flag.value} ")
        )
    if filters.search:
        stmt = stmt.where(name_or_identifier_matches(filters.search))
    return stmt


def patients_with_red_flags(clinic_id: int) -> int:
    """How many of the clinic's patients have an open red flag (shown whatever the filters),
    counted from the flags themselves."""
    return db.session.execute(
        select(func.count(func.distinct(RedFlag.patient_id))).where(
            RedFlag.clinic_id == clinic_id, RedFlag.acknowledged_at.is_(None)
        )
    ).scalar_one()

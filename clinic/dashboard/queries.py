"""The dashboard's caseload query: patients with their summaries, most urgent first.

Everything a row shows comes from the patient and their `PatientSummary` in one query. The
summary changes in the same transaction as anything it counts, and as the patient's own
row (see `clinic.monitoring.upkeep`), so a red flag reported a moment ago already sorts its
patient to the top; the banner's count of red-flagged patients is read from the flags
themselves on every visit. `caseload_state` says when a rendered table may be reused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import BindParameter, Select, bindparam, func, select
from sqlalchemy.orm import contains_eager

from clinic.core.search import name_or_identifier_matches
from clinic.domain.diary import URGENT_REASONS
from clinic.domain.flags import FlagKind
from clinic.domain.indications import Indication
from clinic.extensions import db
from clinic.models import (
    Clinic,
    Patient,
    PatientErasure,
    PatientStatus,
    PatientSummary,
    RedFlag,
    ReminderPlan,
)
from clinic.monitoring.kept import served_under

# "Low adherence" for the dashboard's reminders filter: under half of the prescribed
# sessions done over the last 28 days.
LOW_ADHERENCE_PCT = 50


@dataclass(frozen=True)
class Filters:
    """What the clinician asked to see."""

    mine_only: bool = True
    status: PatientStatus | None = PatientStatus.ACTIVE
    indication: Indication | None = None
    flag: FlagKind | None = None
    search: str = ""
    # Patients with reminders off and adherence under LOW_ADHERENCE_PCT over 28 days.
    no_reminders_low_adherence: bool = False

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
    if filters.no_reminders_low_adherence:
        reminders_on = (
            select(ReminderPlan.id)
            .where(
                ReminderPlan.patient_id == Patient.id,
                ReminderPlan.clinic_id == Patient.clinic_id,
                ReminderPlan.enabled.is_(True),
            )
            .exists()
        )
        stmt = stmt.where(~reminders_on, PatientSummary.adherence_28 < LOW_ADHERENCE_PCT)
    return stmt


@dataclass(frozen=True)
class CaseloadState:
    """What every visit reads afresh: the version of what the caseload tables are rendered
    from, and how many patients have an open red flag (shown whatever the filters,
    counted from the flags themselves).

    `version` is four numbers that differ after any committed change to the clinic's
    patients or their summaries: how many summaries, the sum of their versions, how many
    patients were erased. Why that is enough, whatever order concurrent transactions
    commit in: a transaction that changes a patient's row or anything their summary is
    made of refreshes the summary before it commits (clinic.monitoring.upkeep), and a
    refresh either inserts the summary with version 1 or adds 1 to its version in the
    database (never a value read earlier, so no increment is lost). Summaries are deleted
    only with their patient, by an erasure, which adds a `PatientErasure` row in the same
    transaction; nothing deletes those. So from one committed state to any later one,
    either an erasure happened (the third number grew) or no summary went away and every
    change added at least 1 to the sum: equal numbers mean the same rows. The numbers come
    from one statement, so from one snapshot. (A maximum of versions or timestamps would
    not do: a transaction that commits after a later-numbered one leaves it unchanged.)
    The fourth is the sum of the clinic's reminder plans' revisions (the reminders
    filter), kept the same way: each save adds 1 in the database, and a plan goes only
    with its patient's erasure."""

    version: tuple[int, int, int, int]
    red_flag_patients: int


def _caseload_state_statement() -> Select[Any]:
    clinic_id: BindParameter[int] = bindparam("clinic_id")
    erased = (
        select(func.count(PatientErasure.id))
        .where(PatientErasure.clinic_id == clinic_id)
        .scalar_subquery()
    )
    red_flagged = (
        select(func.count(func.distinct(RedFlag.patient_id)))
        .where(
            RedFlag.clinic_id == clinic_id,
            RedFlag.acknowledged_at.is_(None),
            # The banner is for urgent flags; a distress check-in shows in its row.
            RedFlag.reason.in_(URGENT_REASONS),
        )
        .scalar_subquery()
    )
    reminders = (
        select(func.coalesce(func.sum(ReminderPlan.revision), 0))
        .where(ReminderPlan.clinic_id == clinic_id)
        .scalar_subquery()
    )
    return (
        select(
            func.count(),
            func.coalesce(func.sum(PatientSummary.version), 0),
            erased,
            red_flagged,
            reminders,
        )
        .select_from(PatientSummary)
        .where(PatientSummary.clinic_id == clinic_id)
    )


# Sent on every dashboard and caseload list visit: built once, not per visit.
_CASELOAD_STATE = _caseload_state_statement()


def caseload_key(
    page: str, clinic: Clinic, version: tuple[int, int, int, int], *parts: object
) -> str:
    """The cache key of a table of the clinic's caseload kept under its `version`
    (`CaseloadState.version`, read before the table is made), with what else the table is
    made of (`parts`). The clinic's creation time tells apart clinics that share an id
    across databases (a restored backup, the test suite), whose versions would collide;
    the address prefix, because the table's links start with it."""
    fixed = (page, clinic.id, clinic.created_at.timestamp(), *version, served_under())
    return ":".join(str(part) for part in (*fixed, *parts))


def caseload_state(clinic_id: int) -> CaseloadState:
    """The clinic's caseload version and count of red-flagged patients, in one query."""
    summaries, versions, erasures, red_flag_patients, reminder_revisions = db.session.execute(
        _CASELOAD_STATE, {"clinic_id": clinic_id}
    ).one()
    return CaseloadState(
        (summaries, int(versions), erasures, int(reminder_revisions)), red_flag_patients
    )

"""Scoped loaders for the timeline: a patient's entries in a period and their flags."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload, selectinload

from clinic.domain.diary import SkipReason
from clinic.extensions import db
from clinic.models import CareFlag, DiaryEntry, Patient, Protocol, RedFlag
from clinic.monitoring.evidence import ScoredSession
from clinic.protocols.queries import OPEN_STATUSES

# Acknowledged flags shown under the open ones (the newest; older ones stay in the record).
ACKNOWLEDGED_SHOWN = 20


def period_entries(patient: Patient, first: date, last: date) -> list[DiaryEntry]:
    """The patient's entries of their open protocol from `first` to `last`, newest first,
    with the dilator and the red flags each raised."""
    return list(
        db.session.scalars(
            select(DiaryEntry)
            .join(Protocol, Protocol.id == DiaryEntry.protocol_id)
            .where(
                DiaryEntry.patient_id == patient.id,
                DiaryEntry.clinic_id == patient.clinic_id,
                DiaryEntry.occurred_on.between(first, last),
                Protocol.status.in_(OPEN_STATUSES),
            )
            .options(joinedload(DiaryEntry.dilator_size), selectinload(DiaryEntry.flags))
            .order_by(DiaryEntry.occurred_at.desc(), DiaryEntry.id.desc())
        )
    )


def as_sessions(entries: list[DiaryEntry]) -> list[ScoredSession]:
    """Entries (newest first) as the rules read them, oldest first."""
    return [ScoredSession.of(e) for e in reversed(entries)]


def skip_summary(entries: list[DiaryEntry]) -> list[tuple[SkipReason, int]]:
    """Why sessions were skipped in the period, most frequent reason first."""
    counts = Counter(
        e.skip_reason
        for e in entries
        if e.skip_reason is not None and e.skipped and not e.withdrawn
    )
    return sorted(counts.items(), key=lambda item: (-item[1], item[0].label))


@dataclass(frozen=True)
class SessionFlags:
    """The open red flags one diary entry raised: one report from the patient, acknowledged
    together with one note. (Rule flags are not grouped: each comes from its own rule, on
    its own day, and asks for its own look.)"""

    flags: list[RedFlag]  # most severe first, never empty

    @property
    def anchor(self) -> RedFlag:
        """The flag whose URL names the session's form (any of its flags would do)."""
        return self.flags[0]


def by_session(flags: list[RedFlag]) -> list[SessionFlags]:
    """Open red flags grouped by the entry that raised them, in the order of their first
    (most severe) flag; within a session, the order given."""
    groups: dict[int, list[RedFlag]] = {}
    for flag in flags:
        groups.setdefault(flag.entry_id, []).append(flag)
    return [SessionFlags(group) for group in groups.values()]


@dataclass(frozen=True)
class PatientFlags:
    """A patient's flags: the open ones (red flags first) and the latest acknowledged."""

    open_red: list[RedFlag]
    open_care: list[CareFlag]
    acknowledged: list[RedFlag | CareFlag]

    @property
    def open_count(self) -> int:
        return len(self.open_red) + len(self.open_care)

    @property
    def open_urgent(self) -> int:
        """How many of the open red flags are urgent (all but a distress check-in), as the
        dashboard counts them."""
        return sum(1 for f in self.open_red if f.reason.urgent)

    @property
    def open_sessions(self) -> list[SessionFlags]:
        """The open red flags, one group per session that raised them."""
        return by_session(self.open_red)


def patient_flags(patient: Patient) -> PatientFlags:
    """Every flag of the patient worth showing, in two queries."""
    whose = {"patient_id": patient.id, "clinic_id": patient.clinic_id}
    red = list(db.session.scalars(_RED_FLAGS, whose))
    care = list(db.session.scalars(_CARE_FLAGS, whose))
    flags: list[RedFlag | CareFlag] = [*red, *care]
    acknowledged = [
        flag
        for _, flag in sorted(
            ((f.acknowledged_at, f) for f in flags if f.acknowledged_at is not None),
            key=lambda pair: pair[0],
            reverse=True,
        )
    ]
    return PatientFlags(
        # Urgent ones first (newest first within a severity): a distress check-in waits
        # below them.
        open_red=sorted(
            (f for f in red if f.acknowledged_at is None), key=lambda f: -f.reason.severity
        ),
        open_care=sorted(
            (f for f in care if f.acknowledged_at is None),
            key=lambda f: (-f.kind.severity, f.raised_at),
        ),
        acknowledged=acknowledged[:ACKNOWLEDGED_SHOWN],
    )


# The timeline's statements for its flags, built once: building a statement with its
# loader options costs more than running it.
_RED_FLAGS = (
    select(RedFlag)
    .where(
        RedFlag.patient_id == bindparam("patient_id"), RedFlag.clinic_id == bindparam("clinic_id")
    )
    .options(joinedload(RedFlag.entry), joinedload(RedFlag.acknowledged_by))
    .order_by(RedFlag.raised_at.desc(), RedFlag.id.desc())
)
_CARE_FLAGS = (
    select(CareFlag)
    .where(
        CareFlag.patient_id == bindparam("patient_id"), CareFlag.clinic_id == bindparam("clinic_id")
    )
    .options(joinedload(CareFlag.acknowledged_by))
    .order_by(CareFlag.raised_at.desc(), CareFlag.id.desc())
)


def get_red_flag_or_404(flag_id: int, patient: Patient) -> RedFlag:
    """The patient's red flag with this id; 404 if it is another patient's or clinic's."""
    return db.first_or_404(
        select(RedFlag).where(
            RedFlag.id == flag_id,
            RedFlag.patient_id == patient.id,
            RedFlag.clinic_id == patient.clinic_id,
        )
    )


def get_care_flag_or_404(flag_id: int, patient: Patient) -> CareFlag:
    """The patient's flag with this id; 404 if it is another patient's or clinic's."""
    return db.first_or_404(
        select(CareFlag).where(
            CareFlag.id == flag_id,
            CareFlag.patient_id == patient.id,
            CareFlag.clinic_id == patient.clinic_id,
        )
    )


def session_red_flags_or_404(flag_id: int, patient: Patient) -> list[RedFlag]:
    """Every red flag (open or acknowledged) of the session that raised the patient's red
    flag `flag_id`, with who acknowledged them, in the timeline's order; 404 if that flag
    is another patient's or clinic's."""
    flag = get_red_flag_or_404(flag_id, patient)
    return sorted(
        db.session.scalars(
            select(RedFlag)
            .where(
                RedFlag.entry_id == flag.entry_id,
                RedFlag.patient_id == patient.id,
                RedFlag.clinic_id == patient.clinic_id,
            )
            .options(joinedload(RedFlag.entry), joinedload(RedFlag.acknowledged_by))
            .order_by(RedFlag.raised_at.desc(), RedFlag.id.desc())
            .execution_options(populate_existing=True)
        ),
        key=lambda f: -f.reason.severity,
    )

"""Reading the audit trail, always within one clinic.

Every query filters by the clinic inside the query, so another clinic's events never come
back. A list page costs a fixed number of queries: the events of a page come with their
actor's name and their patient's name and identifier from one query (outer joins: the
trail outlives erased patients, which show by number only), and the total from one count.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import ColumnElement, Row, Select, and_, func, literal_column, not_, select
from sqlalchemy.orm import InstrumentedAttribute, aliased

from clinic.core.search import name_or_identifier_matches
from clinic.extensions import db
from clinic.models import AuditEvent, Patient, PatientErasure, Role, User

PER_PAGE = 50
RECENT_SHOWN = 10


@dataclass(frozen=True)
class AuditFilters:
    """What the trail is narrowed to; empty values do not narrow."""

    actor_id: int | None = None
    patient_id: int | None = None
    patient_search: str = ""  # a name or identifier, matched as the patient lists do
    # The patients such a search matched when an export was asked for (the job keeps ids,
    # never the typed text, which may be a name).
    patient_ids: tuple[int, ...] | None = None
    action: str = ""
    start: datetime | None = None  # UTC, inclusive
    end: datetime | None = None  # UTC, exclusive
    # The last event an export holds: the trail as it was when it was asked for, not
    # the events written while it is made (its own progress page views among them).
    up_to_id: int | None = None

    def to_params(self) -> dict[str, object]:
        """The filters as JSON-ready values, for a background export's parameters. The
        typed patient search must have been resolved to `patient_ids` first."""
        if self.patient_search:
            raise ValueError("resolve the patient search to patient_ids first")
        return {
            "actor_id": self.actor_id,
            "patient_id": self.patient_id,
            "matching_patient_ids": None if self.patient_ids is None else list(self.patient_ids),
            "action": self.action,
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "up_to_id": self.up_to_id,
        }

    @classmethod
    def from_params(cls, params: dict[str, object]) -> AuditFilters:
        """The filters `to_params` wrote."""

        def moment(value: object) -> datetime | None:
            return datetime.fromisoformat(str(value)) if value else None

        def number(value: object) -> int | None:
            return None if value is None else int(str(value))

        matching = params.get("matching_patient_ids")
        return cls(
            actor_id=number(params.get("actor_id")),
            patient_id=number(params.get("patient_id")),
            patient_ids=(
                None if not isinstance(matching, list) else tuple(int(i) for i in matching)
            ),
            action=str(params.get("action") or ""),
            start=moment(params.get("start")),
            end=moment(params.get("end")),
            up_to_id=number(params.get("up_to_id")),
        )


def day_bounds(first: date | None, last: date | None, zone: str) -> tuple[datetime | None, ...]:
    """The UTC moments between which the clinic's calendar days `first` to `last` fall
    (midnight at the start of `first`, midnight after `last`).

    A bound past the first or last moment Python can hold is no bound at all (None):
    every event lies inside it. So 31/12/9999 as the last day (there is no day after it)
    or 1/1/0001 as the first in a zone ahead of UTC (its midnight is in year 0 in UTC)
    narrow nothing rather than overflow."""
    try:
        tz: tzinfo = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        tz = UTC

    def midnight(day: date | None) -> datetime | None:
        if day is None:
            return None
        try:
            return datetime.combine(day, time.min, tzinfo=tz).astimezone(UTC)
        except OverflowError:
            return None

    return (
        midnight(first),
        midnight(last + timedelta(days=1)) if last and last < date.max else None,
    )


def _conditions(clinic_id: int, filters: AuditFilters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [AuditEvent.clinic_id == clinic_id]
    if filters.actor_id is not None:
        conditions.append(AuditEvent.actor_id == filters.actor_id)
    if filters.patient_id is not None:
        conditions.append(AuditEvent.patient_id == filters.patient_id)
        conditions.append(_about_the_current_record())
    if filters.patient_search:
        conditions.append(
            AuditEvent.patient_id.in_(
                select(Patient.id).where(
                    Patient.clinic_id == clinic_id,
                    name_or_identifier_matches(filters.patient_search),
                )
            )
        )
        conditions.append(_about_the_current_record())
    if filters.patient_ids is not None:
        conditions.append(AuditEvent.patient_id.in_(filters.patient_ids))
        conditions.append(_about_the_current_record())
    if filters.action:
        conditions.append(AuditEvent.action == filters.action)
    if filters.start is not None:
        conditions.append(AuditEvent.at >= filters.start)
    if filters.end is not None:
        conditions.append(AuditEvent.at < filters.end)
    if filters.up_to_id is not None:
        conditions.append(AuditEvent.id <= filters.up_to_id)
    return conditions


def _last_erasure_of(patient_id: InstrumentedAttribute[int | None]) -> ColumnElement[int]:
    # SQLite (tables without AUTOINCREMENT) gives a new row the id of an erased one when
    # that was the highest. Events up to the erasure's own event were about the erased
    # patient, never the record that holds the id now: compare audit ids, which only grow.
    erasure = aliased(AuditEvent)
    return func.coalesce(
        select(func.max(erasure.id))
        .where(
            # In the statement's text, not a parameter: PostgreSQL then uses the index of
            # erasures (ix_audit_events_erasures) even in a generic plan of a statement
            # prepared by psycopg.
            erasure.action == literal_column("'patient.erase'"),
            erasure.clinic_id == AuditEvent.clinic_id,
            erasure.patient_id == patient_id,
        )
        .correlate(AuditEvent)
        .scalar_subquery(),
        0,
    )


def _about_the_current_record() -> ColumnElement[bool]:
    """Only events about the patient record that holds the id now (see _last_erasure_of)."""
    return AuditEvent.id > _last_erasure_of(AuditEvent.patient_id)


def _with_names(conditions: list[ColumnElement[bool]]) -> Select:
    """Events newest first, each with who did it and which patient it was about (an
    erased patient's events show as erased even when a new record has its id since)."""
    return (
        select(
            AuditEvent,
            User.full_name.label("actor_name"),
            Patient.id.label("patient_found"),
            Patient.full_name.label("patient_name"),
            Patient.clinic_identifier.label("patient_identifier"),
        )
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .outerjoin(
            Patient,
            and_(
                Patient.id == AuditEvent.patient_id,
                Patient.clinic_id == AuditEvent.clinic_id,
                AuditEvent.id > _last_erasure_of(AuditEvent.patient_id),
            ),
        )
        .where(*conditions)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    )


@dataclass(frozen=True)
class Page:
    """One page of events, with what the pager macro needs."""

    items: list[Row]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


def search_events(clinic_id: int, filters: AuditFilters, page: int) -> Page:
    """One page of the clinic's events matching `filters`, newest first (two queries)."""
    conditions = _conditions(clinic_id, filters)
    total = count_events(clinic_id, filters)
    rows = db.session.execute(
        _with_names(conditions).limit(PER_PAGE).offset((page - 1) * PER_PAGE)
    ).all()
    return Page(items=list(rows), page=page, per_page=PER_PAGE, total=total)


# Rows fetched from the database at a time by an export (one query, read in batches).
EXPORT_BATCH = 500


def stream_events(clinic_id: int, filters: AuditFilters) -> Generator[Row, None, None]:
    """Every matching event, newest first, from one query read in batches (a server-side
    cursor where the database has them): memory and query count do not grow with the
    number of events."""
    stmt = _with_names(_conditions(clinic_id, filters)).execution_options(yield_per=EXPORT_BATCH)
    result = db.session.execute(stmt)
    try:
        yield from result
    finally:
        # A reader that stops early (a file grown too large) closes the generator: the
        # server-side cursor goes with it, inside the transaction that opened it.
        result.close()


def count_events(clinic_id: int, filters: AuditFilters) -> int:
    """How many events match `filters` (one query)."""
    conditions = _conditions(clinic_id, filters)
    return db.session.scalar(select(func.count()).select_from(AuditEvent).where(*conditions)) or 0


def last_event_id(clinic_id: int) -> int:
    """The newest event of the clinic's trail (0 for none): where an export stops."""
    return (
        db.session.scalar(select(func.max(AuditEvent.id)).where(AuditEvent.clinic_id == clinic_id))
        or 0
    )


def patients_matching(clinic_id: int, text: str) -> tuple[int, ...]:
    """The clinic's patients whose name or identifier matches `text` (as the search does)."""
    return tuple(
        db.session.scalars(
            select(Patient.id)
            .where(Patient.clinic_id == clinic_id, name_or_identifier_matches(text))
            .order_by(Patient.id)
        )
    )


def recent_patient_events(patient: Patient, limit: int = RECENT_SHOWN) -> list[Row]:
    """The latest events about the patient, in one query. The patient's own visits to
    their diary pages are left out here (the full history has them): the point is who
    else looked at or changed the record."""
    own_page_view = and_(
        AuditEvent.actor_role == Role.PATIENT.value, AuditEvent.action.startswith("portal.")
    )
    conditions = [
        AuditEvent.clinic_id == patient.clinic_id,
        AuditEvent.patient_id == patient.id,
        _about_the_current_record(),
        not_(own_page_view),
    ]
    return list(db.session.execute(_with_names(conditions).limit(limit)))


def staff_accounts(clinic_id: int) -> list[User]:
    """The clinic's administrators and clinicians, deactivated ones too, by name."""
    return list(
        db.session.scalars(
            select(User)
            .where(User.clinic_id == clinic_id, User.role.in_((Role.ADMIN, Role.CLINICIAN)))
            .order_by(User.full_name, User.id)
        )
    )


@dataclass(frozen=True)
class PatientRef:
    """A patient the trail may be narrowed to: on record, or erased (a number only)."""

    id: int
    name: str = ""
    identifier: str = ""

    @property
    def erased(self) -> bool:
        return not self.name


def known_patient(clinic_id: int, patient_id: int) -> PatientRef | None:
    """The clinic's patient with this id, or the record of its erasure; None for any
    other id (another clinic's patient, or no patient at all)."""
    found = db.session.execute(
        select(Patient.full_name, Patient.clinic_identifier).where(
            Patient.id == patient_id, Patient.clinic_id == clinic_id
        )
    ).first()
    if found is not None:
        return PatientRef(patient_id, found.full_name, found.clinic_identifier)
    erased = db.session.scalar(
        select(PatientErasure.id).where(
            PatientErasure.clinic_id == clinic_id, PatientErasure.erased_patient_id == patient_id
        )
    )
    return PatientRef(patient_id) if erased is not None else None


def patient_history(patient: Patient, page: int) -> Page:
    """Every event about the patient, newest first, a page at a time (two queries)."""
    return search_events(patient.clinic_id, AuditFilters(patient_id=patient.id), page)

"""Dashboard summaries kept current by the session, not by hand.

A patient's `PatientSummary` (their row on the dashboard: stage, adherence, pain, flags) is
derived from their diary, protocol, flags, questionnaires and details. No write path calls
anything to keep it current; this module listens to the sessions of `db` instead:

1. While a transaction runs, it notes whose data changed:
   - after each flush (`after_flush`), the objects added or changed, and before it
     (`before_flush`) those deleted, of the models in `INPUTS`;
   - before each bulk `update()` or `delete()` of such a model (`do_orm_execute`), the
     patients of the rows its WHERE clause matches (one SELECT; a row is never missed,
     at worst a patient is refreshed for nothing); for a bulk `insert()` with a list of
     rows, the patients named in the rows.
2. Just before the transaction commits (`before_commit`), it flushes, then refreshes those
   patients' summaries with `clinic.monitoring.services.refresh_patients`; what the refresh
   writes (summaries, flags raised or closed) is flushed in the same transaction, and is
   not itself noted as a change. A change to the diary alone (entries, their revisions,
   the red flags they raise) cannot move the questionnaires' evidence, so its refresh
   reads that only if the summary was not computed yet today (`Input.measures`). A
   change to a clinic's rules (completion percentage, days before "not logging", time
   zone) refreshes the whole clinic. A patient refreshed on purpose after their last
   change (the daily refresh, a test's refresh as of another day) is not refreshed again.
3. A rollback forgets what was noted.

So whoever commits (a request's unit of work, a CLI command, a test) and however often the
session flushes, no change is committed without the summaries it alters. Patients erased
meanwhile are passed over: the refresh does not find them.

A new model a summary is computed from (or that the dashboard row shows) goes into
`INPUTS`, with the query that finds the patients of its rows and, if only some of its
columns matter, which. That is all: no service calls anything. A test fails for a model
with a `patient_id` column that is in neither `INPUTS` nor `NOT_INPUTS`.

Loading history in bulk (demo data, the benchmark's year of entries) is done inside
`deferred()`: the patients are refreshed once when the block ends, even across commits, so
the flags describe today and not each replayed day.

Not seen, on purpose: table-level statements (`delete(Model.__table__)`), which the erasure
uses for rows whose patient is going away, and the legacy `bulk_*_mappings` methods.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Delete, Select, Update, inspect, select, union_all
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, UOWTransaction
from sqlalchemy.orm.scoping import scoped_session

from clinic.core.session_events import listen_once
from clinic.extensions import db
from clinic.models import (
    AuditEvent,
    CareFlag,
    Clinic,
    ClinicalNote,
    DiaryEntry,
    DilatorSize,
    EntryRevision,
    Letter,
    MeasureAssignment,
    MeasureResponse,
    Patient,
    PatientSummary,
    PendingReferral,
    Protocol,
    ProtocolEvent,
    ProtocolStage,
    ProtocolVersion,
    RedFlag,
    ReminderPlan,
    Report,
    User,
)
from clinic.monitoring.services import (
    forget_current,
    is_refreshing,
    refresh_clinic,
    refresh_patients,
)
from clinic.protocols.queries import OPEN_STATUSES

_S = TypeVar("_S", bound=Session)


@dataclass(frozen=True)
class Input:
    """How a change to rows of one model reaches the summaries.

    `rows` selects (clinic id, patient id) of the patients whose summaries the model's rows
    feed, with the model in its FROM (so a bulk statement's WHERE clause can narrow it), or
    (clinic id,) when `whole_clinic`. `own` names the attributes that hold those ids on an
    object, when it has them (no query needed). `columns`: only changes to these matter
    (None: any column). `measures`: whether a change can move the questionnaires' evidence
    (a diary's rows cannot: the refresh after them reads it only on the summary's first
    refresh of the day);
    True where unsure, which costs only a read."""

    rows: Select[*tuple[Any, ...]]
    own: tuple[str, ...] = ()
    columns: frozenset[str] | None = None
    whole_clinic: bool = False
    measures: bool = True


# Who names each size: the patients whose open plan prescribes it, and those whose diary
# entries say they used it.
_SIZE_USERS = union_all(
    select(
        ProtocolStage.dilator_size_id.label("size_id"),
        Protocol.clinic_id.label("clinic_id"),
        Protocol.patient_id.label("patient_id"),
    )
    .join(ProtocolVersion, ProtocolVersion.id == ProtocolStage.version_id)
    .join(Protocol, Protocol.id == ProtocolVersion.protocol_id)
    .where(Protocol.status.in_(OPEN_STATUSES)),
    select(DiaryEntry.dilator_size_id, DiaryEntry.clinic_id, DiaryEntry.patient_id).where(
        DiaryEntry.dilator_size_id.is_not(None)
    ),
).subquery("size_users")


def _of_patient(model: Any, *, measures: bool = True) -> Input:
    """A model whose rows carry their patient and clinic."""
    return Input(
        select(model.clinic_id, model.patient_id).distinct(),
        own=("clinic_id", "patient_id"),
        measures=measures,
    )


def _through_protocol(model: Any, *joins: Any) -> Input:
    """A model that reaches its patient through the protocol (`joins`: the way there)."""
    rows = select(Protocol.clinic_id, Protocol.patient_id).select_from(model)
    for target, on in joins:
        rows = rows.join(target, on)
    return Input(rows.distinct())


INPUTS: dict[type[Any], Input] = {
    Patient: Input(select(Patient.clinic_id, Patient.id).distinct(), own=("clinic_id", "id")),
    # The diary and the red flags its entries raise: no questionnaire is read again for them.
    DiaryEntry: _of_patient(DiaryEntry, measures=False),
    EntryRevision: Input(
        select(DiaryEntry.clinic_id, DiaryEntry.patient_id)
        .select_from(EntryRevision)
        .join(DiaryEntry, DiaryEntry.id == EntryRevision.entry_id)
        .distinct(),
        measures=False,
    ),
    RedFlag: _of_patient(RedFlag, measures=False),
    CareFlag: _of_patient(CareFlag),
    MeasureAssignment: _of_patient(MeasureAssignment),
    MeasureResponse: _of_patient(MeasureResponse),
    Protocol: _of_patient(Protocol),
    ProtocolEvent: _through_protocol(
        ProtocolEvent, (Protocol, Protocol.id == ProtocolEvent.protocol_id)
    ),
    ProtocolVersion: _through_protocol(
        ProtocolVersion, (Protocol, Protocol.id == ProtocolVersion.protocol_id)
    ),
    ProtocolStage: _through_protocol(
        ProtocolStage,
        (ProtocolVersion, ProtocolVersion.id == ProtocolStage.version_id),
        (Protocol, Protocol.id == ProtocolVersion.protocol_id),
    ),
    # The portal in use (a password chosen) decides whether the rules expect a diary, and
    # the day it was claimed where adherence starts.
    User: Input(
        select(Patient.clinic_id, Patient.id)
        .select_from(User)
        .join(Patient, Patient.user_id == User.id)
        .distinct(),
        columns=frozenset({"password_hash", "claimed_at"}),
    ),
    # Summaries name the size a patient is on, with its diameter; the pages kept under the
    # summary's version name sizes too: the protocol page's plan (and whether a size is
    # retired), the timeline's entries (any size of the clinic's sets, not only the plan's).
    DilatorSize: Input(
        select(_SIZE_USERS.c.clinic_id, _SIZE_USERS.c.patient_id)
        .select_from(DilatorSize)
        .join(_SIZE_USERS, _SIZE_USERS.c.size_id == DilatorSize.id)
        .distinct(),
        columns=frozenset({"label", "diameter_mm", "retired_at"}),
    ),
    # The rules' thresholds, and the zone that says which day it is, for every patient.
    Clinic: Input(
        select(Clinic.id),
        own=("id",),
        columns=frozenset({"completion_pct", "not_logging_days", "timezone"}),
        whole_clinic=True,
    ),
}

# Models with a patient column that no summary is made of (a test checks the two lists
# cover every such model): notes, reports, letters and accepted referrals are read on their
# own pages, the audit trail and the summaries themselves are outputs; reminder settings are
# read beside the summaries by the dashboard's reminders filter (its cached pages follow
# their `revision`).
NOT_INPUTS: frozenset[type[Any]] = frozenset(
    {AuditEvent, ClinicalNote, Report, Letter, PatientSummary, ReminderPlan, PendingReferral}
)

# What `clinic.monitoring.services.note_current` may vouch for: a transaction that changes
# any of these (the patient, the account, the protocol, a size, the clinic) reads them again.
NOTED_SHAPES: frozenset[type[Any]] = frozenset(
    {Patient, User, Protocol, ProtocolEvent, ProtocolVersion, ProtocolStage, DilatorSize, Clinic}
)

_CHANGES = "summary_upkeep_changes"
_DEFERRED = "summary_upkeep_deferred"


class UnnoticedWrite(TypeError):
    """A bulk INSERT whose rows do not say which patients they are about."""


@dataclass
class _Changes:
    """What a transaction changed so far: patients by clinic (and among them, those whose
    change can move the questionnaires' evidence), whole clinics, and rows of models that
    reach their patient through other rows (resolved before commit)."""

    patients: defaultdict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    measures_moved: defaultdict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    clinics: set[int] = field(default_factory=set)
    rows: defaultdict[type[Any], set[int]] = field(default_factory=lambda: defaultdict(set))

    def __bool__(self) -> bool:
        return bool(self.patients or self.clinics or self.rows)

    def note(self, found: Input, ids: Iterable[Any]) -> None:
        """Note the ids `found.rows` (or an object's `own` attributes) gave."""
        values = tuple(ids)
        if found.whole_clinic:
            self.clinics.add(values[0])
        elif values[1] is not None:
            self.patients[values[0]].add(values[1])
            if found.measures:
                self.measures_moved[values[0]].add(values[1])

    def refreshed(self, clinic_id: int, patient_id: int) -> None:
        """Forget a patient whose summary a refresh has just written."""
        for noted in (self.patients, self.measures_moved):
            noted[clinic_id].discard(patient_id)
            if not noted[clinic_id]:
                del noted[clinic_id]


def install(session: scoped_session[_S]) -> None:
    """Listen to the sessions `session` makes (once, however often the app is created)."""
    listen_once(
        session,
        (
            ("before_flush", _before_flush),
            ("after_flush", _after_flush),
            ("do_orm_execute", _on_execute),
            ("before_commit", _before_commit),
            ("after_transaction_end", _after_transaction_end),
        ),
    )


@contextmanager
def deferred() -> Iterator[None]:
    """Hold the refreshes until the block ends, even across commits, then refresh every
    patient changed in it once (the caller commits): for loading history in bulk, where
    flags must describe today and not each moment of the history as it is replayed."""
    session = db.session()
    session.info[_DEFERRED] = session.info.get(_DEFERRED, 0) + 1
    try:
        yield
    finally:
        session.info[_DEFERRED] -= 1
    if not session.info[_DEFERRED]:
        refresh_changed(session)


def loading_history(session: Session) -> bool:
    """Whether the session is inside `deferred()`: history loaded in bulk, whose red flags
    are not news (clinic.alerts announces none of them)."""
    return bool(session.info.get(_DEFERRED))


def refresh_changed(session: Session) -> None:
    """Flush, then refresh the summaries of the patients changed so far in this session's
    transaction (before a commit; also when deferred refreshes are due)."""
    while True:
        session.flush()
        changes: _Changes | None = session.info.pop(_CHANGES, None)
        if not changes:
            return
        if session is not db.session():
            raise RuntimeError("Summaries are refreshed through db.session only.")
        whole, patients = _resolve(session, changes)
        for clinic_id in sorted(whole | patients.keys()):
            clinic = session.get(Clinic, clinic_id)
            if clinic is None:
                continue
            if clinic_id in whole:
                refresh_clinic(clinic)
            else:
                refresh_patients(
                    clinic,
                    sorted(patients[clinic_id]),
                    measures_moved=changes.measures_moved.get(clinic_id, set()),
                )


def _resolve(session: Session, changes: _Changes) -> tuple[set[int], dict[int, set[int]]]:
    """The whole clinics and the patients by clinic that `changes` stand for (one query per
    model noted by row)."""
    for model, ids in changes.rows.items():
        found = INPUTS[model]
        for row in session.execute(found.rows.where(model.id.in_(sorted(ids)))):
            changes.note(found, row)
    return changes.clinics, changes.patients


def _changes(session: Session) -> _Changes:
    changes: _Changes | None = session.info.get(_CHANGES)
    if changes is None:
        changes = session.info[_CHANGES] = _Changes()
    return changes


def _note_object(session: Session, obj: object, *, deleted: bool = False) -> None:
    """Note an object added, changed or (with `deleted`, before its row goes) deleted."""
    found = INPUTS.get(type(obj))
    if found is None:
        return
    if type(obj) in NOTED_SHAPES:
        forget_current(session)
    changes = _changes(session)
    if found.own:
        changes.note(found, (getattr(obj, name) for name in found.own))
    else:
        # Every model in INPUTS has an integer `id`, which `object` cannot say.
        entity: Any = obj
        if deleted:
            model: Any = type(obj)
            for row in session.execute(found.rows.where(model.id == entity.id)):
                changes.note(found, row)
        else:
            changes.rows[type(obj)].add(entity.id)


def _changed(session: Session, obj: object) -> bool:
    """Whether a flushed object's columns that feed a summary changed."""
    found = INPUTS.get(type(obj))
    if found is None:
        return False
    if found.columns is None:
        return session.is_modified(obj, include_collections=False)
    attrs = inspect(obj).attrs
    return any(attrs[name].history.has_changes() for name in found.columns)


def _before_flush(session: Session, _context: UOWTransaction, _instances: object) -> None:
    # Deleted rows are looked up now, while they still exist.
    if is_refreshing(session):
        return
    for obj in session.deleted:
        _note_object(session, obj, deleted=True)


def _after_flush(session: Session, _context: UOWTransaction) -> None:
    # New rows have their ids now; the history of changed ones is still there.
    if is_refreshing(session):
        _note_refreshed(session)
        return
    for obj in session.new:
        _note_object(session, obj)
    for obj in session.dirty:
        if _changed(session, obj):
            _note_object(session, obj)


def _note_refreshed(session: Session) -> None:
    # A refresh writes every summary it recomputes, after flushing what came before: the
    # patients it wrote need no other refresh unless they change again (a caller that
    # refreshes on purpose, e.g. as of another day, is not overridden at commit).
    changes: _Changes | None = session.info.get(_CHANGES)
    if changes is None:
        return
    for obj in (*session.new, *session.dirty):
        if isinstance(obj, PatientSummary) and obj.clinic_id in changes.patients:
            changes.refreshed(obj.clinic_id, obj.patient_id)


def _on_execute(state: ORMExecuteState) -> None:
    """Note the patients of a bulk statement's rows, before it runs."""
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    mapper = state.bind_mapper
    found = INPUTS.get(mapper.class_) if mapper is not None else None
    if mapper is None or found is None or is_refreshing(state.session):
        return
    session, model = state.session, mapper.class_
    if model in NOTED_SHAPES:
        forget_current(session)  # a bulk statement leaves the objects as they were
    changes = _changes(session)
    given = state.parameters
    # One set of values (a dict), or a list of them for an executemany.
    rows = ([given] if given else []) if isinstance(given, Mapping) else list(given or ())
    if state.is_insert:
        if not found.own or not rows or any(name not in r for r in rows for name in found.own):
            raise UnnoticedWrite(
                f"A bulk INSERT into {model.__tablename__} must give {found.own or 'ids'} in"
                " each row, or add objects to the session: the summaries must know whose"
                " data changed (see clinic.monitoring.upkeep)."
            )
        for r in rows:
            changes.note(found, (r[name] for name in found.own))
        return
    if state.is_update and found.columns is not None:
        sets = columns_set(state.statement, rows)
        if sets is not None and not sets & found.columns:
            return  # e.g. a failed sign-in counted on a patient's account: no summary input
    if rows:  # an UPDATE by primary key, one set of values per row
        matched = found.rows.where(model.id.in_([r["id"] for r in rows]))
    else:
        statement = state.statement
        where = statement.whereclause if isinstance(statement, Update | Delete) else None
        matched = found.rows if where is None else found.rows.where(where)
    for row in session.execute(matched):
        changes.note(found, row)


def columns_set(statement: object, rows: Sequence[Mapping[str, object]]) -> set[str] | None:
    """The names of the columns a bulk UPDATE sets, or None when they cannot be told (then
    the statement counts as changing every column). SQLAlchemy keeps `.values(...)` in
    `_values` (or `_ordered_values`) and has no public reader for it; pyproject bounds the
    version, and without either attribute this answers None, which is only slower."""
    pairs = getattr(statement, "_values", None) or dict(
        getattr(statement, "_ordered_values", None) or ()
    )
    names = {key if isinstance(key, str) else getattr(key, "key", None) for key in pairs}
    names |= {name for r in rows for name in r if name != "id"}
    if not names or None in names:
        return None
    return {name for name in names if name is not None}


def _before_commit(session: Session) -> None:
    if session.in_nested_transaction() or session.info.get(_DEFERRED):
        return
    refresh_changed(session)


def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    # Committed, rolled back or closed: what was noted is done with, unless refreshes are
    # deferred (a bulk load commits as it goes and refreshes once at the end).
    if transaction.parent is None:
        forget_current(session)
        if not session.info.get(_DEFERRED):
            session.info.pop(_CHANGES, None)

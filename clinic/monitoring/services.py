"""Keeping each patient's dashboard summary and flags up to date.

`refresh_patients` recomputes the summaries of some or all patients of a clinic and raises
the flags the rules call for (and closes those the system answers itself: a stale "ready",
a questionnaire since answered), in a fixed number of queries whatever the caseload. Each
refresh of a summary adds one to its `version`, which the dashboard's cache key is made of.

Nobody calls it after a change: `clinic.monitoring.upkeep` notices the patients a
transaction changed and refreshes them just before it commits. It also runs once a day
for the whole clinic, because days passing move the windows: the scheduler's daily work
(clinic.schedule.daily), or the day's first dashboard visit when the scheduler has not run
(`refresh_clinic_if_stale`); `flask refresh-summaries` for a run at once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from typing import Any, NamedTuple

from flask_babel import gettext as _
from sqlalchemy import (
    BindParameter,
    Date,
    Integer,
    Select,
    String,
    Update,
    bindparam,
    case,
    func,
    literal,
    null,
    select,
    union_all,
    update,
)
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.types import TypeEngine

from clinic.audit.log import record
from clinic.core.clock import clinic_today
from clinic.core.statements import affected_rows, insert_or_leave
from clinic.core.templating import long_date
from clinic.domain.diary import FlagReason, SkipReason
from clinic.domain.flags import (
    PGIC_KEY,
    FlagKind,
    Signal,
    pain_skips,
    pgic_very_much_worse,
)
from clinic.domain.measure_schedule import DEFAULT_GRACE_DAYS
from clinic.domain.progression import Suggestion
from clinic.extensions import db
from clinic.measures.instruments import available
from clinic.measures.schedule import occasion_statuses
from clinic.models import (
    CareFlag,
    Clinic,
    DiaryEntry,
    DilatorSize,
    MeasureResponse,
    Patient,
    PatientStatus,
    PatientSummary,
    Protocol,
    RedFlag,
    User,
)
from clinic.models.catalogue import size_display
from clinic.models.types import utcnow
from clinic.monitoring.evidence import (
    LOOKBACK_DAYS,
    Assessment,
    MeasureEvidence,
    ScoredSession,
    assess,
    measure_evidence,
)
from clinic.protocols.queries import FOR_RULES, OPEN_STATUSES, with_patient

# Set in `Session.info` while a refresh writes: what it writes (summaries, flags it raises
# or closes) is its own output, not a change `clinic.monitoring.upkeep` must answer.
_REFRESHING = "summaries_refreshing"


def is_refreshing(session: Session) -> bool:
    """Whether a summary refresh is writing in this session now."""
    return bool(session.info.get(_REFRESHING))


@contextmanager
def _refreshing() -> Iterator[None]:
    """Mark the writes of the block as a refresh's own. What the session holds unflushed
    before it is flushed first, so that those changes are still noticed as changes."""
    db.session.flush()
    info = db.session.info
    outer = info.get(_REFRESHING, False)
    info[_REFRESHING] = True
    try:
        yield
    finally:
        info[_REFRESHING] = outer


def assess_patient(patient: Patient, protocol: Protocol | None, today: date) -> Assessment:
    """What the rules say about one patient today (`protocol` is their open one, loaded
    with its history, or None)."""
    protocols = {patient.id: protocol} if protocol is not None else {}
    return assess_patients(patient.clinic, [patient], protocols, today)[patient.id]


def assess_patients(
    clinic: Clinic,
    patients: Sequence[Patient],
    protocols: Mapping[int, Protocol],
    today: date,
) -> dict[int, Assessment]:
    """What the rules say about each of these patients of `clinic` today, by patient id, in
    two queries whatever their number (`protocols` holds each one's open protocol, loaded
    with its history; patients without one are absent)."""
    facts = _read_facts(clinic.id, [p.id for p in patients], today)
    return _assess(clinic, patients, protocols, today, facts)


def _assess(
    clinic: Clinic,
    patients: Sequence[Patient],
    protocols: Mapping[int, Protocol],
    today: date,
    facts: _Facts,
) -> dict[int, Assessment]:
    """`assess_patients`, with the patients' `facts` read already."""
    ids = [p.id for p in patients]
    sessions = load_sessions(clinic.id, ids, today - timedelta(days=LOOKBACK_DAYS - 1), today)
    return {
        p.id: assess(
            protocols.get(p.id),
            sessions.get(p.id, []),
            today=today,
            last_entry_on=facts.last_entry_on.get(p.id),
            open_red_flags=facts.open_red_flags.get(p.id, 0),
            review_on=_review_on(p),
            completion_pct=clinic.completion_pct,
            not_logging_days=clinic.not_logging_days,
            keeps_diary=p.keeps_diary,
            diary_since=p.diary_since,
        )
        for p in patients
    }


def refresh_clinic(clinic: Clinic) -> None:
    """Recompute every summary and flag of the clinic for its today."""
    today = clinic_today(clinic.timezone)
    # The clinic's row first, then its summaries: the order `refresh_clinic_if_stale`
    # takes them in. A scheduled refresh and the day's first dashboard visit at the same
    # moment then queue one behind the other instead of deadlocking (each holding what the
    # other waits for). The UPDATE is unconditional so that it always takes the row.
    with _refreshing():
        db.session.execute(
            update(Clinic)
            .where(Clinic.id == clinic.id)
            .values(summaries_on=today)
            .execution_options(synchronize_session=False)
        )
    db.session.expire(clinic, ["summaries_on"])
    refresh_patients(clinic, None, today)


def refresh_clinic_if_stale(clinic: Clinic) -> bool:
    """Recompute every summary of the clinic once per clinic-local day; True if it ran."""
    today = clinic_today(clinic.timezone)
    if clinic.summaries_on == today:
        return False
    # Claim the day with one conditional UPDATE: of two first visits at once, the second
    # waits for the first to commit, then finds the day taken and does not repeat the work.
    with _refreshing():
        claimed = affected_rows(
            update(Clinic)
            .where(
                Clinic.id == clinic.id,
                (Clinic.summaries_on.is_(None)) | (Clinic.summaries_on != today),
            )
            .values(summaries_on=today)
            .execution_options(synchronize_session=False)
        )
    db.session.expire(clinic, ["summaries_on"])
    if claimed != 1:
        return False
    refresh_patients(clinic, None, today)
    return True


def refresh_patients(
    clinic: Clinic,
    patient_ids: Sequence[int] | None,
    today: date | None = None,
    *,
    measures_moved: Collection[int] | None = None,
) -> None:
    """Recompute the summaries and raise the flags of these patients of `clinic` (all of
    them when `patient_ids` is None; ids of patients erased meanwhile are passed over).

    `measures_moved`: the patients among them whose questionnaires' evidence (overdue and
    answered occasions, PGIC answers) the change may have moved; None for all. A diary
    entry moves none of it, so the refresh after one reads it only if the summary was not
    computed yet today (days passing make a questionnaire overdue; every refresh reads it
    or finds the summary computed today, so one computed today read it today): otherwise
    it would find what it found then, and those flags stay as they are.

    Everything is read after the summaries' rows are taken, so that a change another
    transaction committed before (whose own refresh could not see this one's changes) is
    in the result: the clinic, the patients and their protocols are read again even when
    the session holds them already (loaded earlier in the request, they may be older),
    except those `note_current` vouches for."""
    with _refreshing():
        taken = _take_summaries(clinic.id, patient_ids)
        current = _still_current(taken) if patient_ids is not None else {}
        others = None if patient_ids is None else [i for i in patient_ids if i not in current]
        if others is None or others:
            # The clinic's rules and zone as committed (a refresh of a whole clinic because
            # they changed may have committed since the session loaded the clinic). The
            # row is fetched: an ORM result overwrites the session's object only as its
            # rows are read.
            db.session.scalars(
                select(Clinic)
                .where(Clinic.id == clinic.id)
                .execution_options(populate_existing=True)
            ).one()
        today = today or clinic_today(clinic.timezone)
        patients = [patient for patient, _ in current.values()]
        if others is None or others:
            patients += _patients(clinic.id, others)
        missing = [patient.id for patient in patients if patient.id not in taken]
        if missing:
            taken = {**taken, **_first_summaries(clinic.id, missing, today)}
            # A first summary reads everything (its row says "today" before it is computed).
            if measures_moved is not None:
                measures_moved = {*measures_moved, *missing}
        if patients:
            known = {patient.id: protocol for patient, protocol in current.values()}
            _refresh(
                clinic, sorted(patients, key=lambda p: p.id), today, taken, known, measures_moved
            )
        db.session.flush()


# Set in `Session.info` by `note_current`: patient id -> (summary version read, patient,
# open protocol), for this transaction's refresh.
_CURRENT = "summary_inputs_current"


def note_current(patient: Patient, protocol: Protocol | None, version: int | None) -> None:
    """Vouch to the refresh before this transaction commits that `patient` (with its
    clinic and account) and `protocol` (its open protocol with `History.RULES`, or None) were
    loaded with `populate_existing` after its summary's `version` was read (in the same
    statement as the patient, or before it). When the refresh then takes the summary at
    the next version, no change about the patient was committed in between (each moves the
    version, in its own transaction): they are current, and it uses them instead of
    reading them again. Any other version, or a change this transaction makes to a
    patient, account, protocol, size or clinic (`forget_current`), and they are read again.
    For a write that changes none of those (a diary entry)."""
    if version is not None:
        db.session.info.setdefault(_CURRENT, {})[patient.id] = (version, patient, protocol)


def forget_current(session: Session) -> None:
    """Drop what `note_current` vouched for (the transaction ended, or changed it)."""
    session.info.pop(_CURRENT, None)


def _still_current(
    taken: Mapping[int, PatientSummary],
) -> dict[int, tuple[Patient, Protocol | None]]:
    """The patients (and open protocols) `note_current` vouched for whose summary was
    taken at the version after the one read: nothing about them was committed since."""
    noted: dict[int, tuple[int, Patient, Protocol | None]] = db.session.info.pop(_CURRENT, {})
    return {
        pid: (patient, protocol)
        for pid, (version, patient, protocol) in noted.items()
        if pid in taken and taken[pid].version == version + 1
    }


def _take_summaries(clinic_id: int, patient_ids: Sequence[int] | None) -> dict[int, PatientSummary]:
    """Add one to the version of the patients' summaries, taking their rows first; returns
    the summaries as taken (their new versions), by patient id.

    Taken before anything is read: another refresh of the same patients waits until this
    transaction ends (row locks on PostgreSQL, in patient order so that two refreshes of
    overlapping sets cannot deadlock; the write lock on SQLite), then reads what this one
    wrote. Refreshes of other patients of the clinic do not wait. The version goes up in
    the database (`version + 1`), never from a value read earlier, so no refresh is lost
    from the sum the dashboard's cache key is made of."""
    # Named apart from the columns: an UPDATE keeps their names for its SET clause.
    params: dict[str, object] = {"taken_clinic": clinic_id}
    if patient_ids is not None:
        params["taken_patients"] = list(patient_ids)
    rows = db.session.scalars(_TAKE[patient_ids is not None], params)
    return {summary.patient_id: summary for summary in rows}


def _take_statement(some: bool) -> Update:
    """`_take_summaries`' statement, for some patients of the clinic or for all."""
    taken = select(PatientSummary.patient_id).where(
        PatientSummary.clinic_id == bindparam("taken_clinic")
    )
    if some:
        taken = taken.where(
            PatientSummary.patient_id.in_(bindparam("taken_patients", expanding=True))
        )
    return (
        update(PatientSummary)
        .where(
            PatientSummary.patient_id.in_(
                taken.order_by(PatientSummary.patient_id).with_for_update(key_share=True)
            )
        )
        .values(version=PatientSummary.version + 1)
        .returning(PatientSummary)
        .execution_options(synchronize_session=False, populate_existing=True)
    )


def _first_summaries(
    clinic_id: int, patient_ids: Sequence[int], today: date
) -> dict[int, PatientSummary]:
    """The summaries of patients read without one (new, or whose first refresh committed
    after this one took the clinic's rows): written unless another transaction wrote one
    meanwhile (which then stands, and this waits for it), then taken as
    `_take_summaries` takes them, and the patients read again now that their rows are
    held. Without it, a whole clinic's refresh that read a patient created a moment
    after its take wrote a second summary for them, and failed on the key."""
    table = PatientSummary.__table__
    db.session.execute(
        insert_or_leave(table)
        .values(
            [
                {"patient_id": pid, "clinic_id": clinic_id, "computed_on": today, "version": 0}
                for pid in patient_ids
            ]
        )
        .on_conflict_do_nothing(index_elements=["patient_id"])
    )
    taken = _take_summaries(clinic_id, patient_ids)
    _patients(clinic_id, patient_ids)  # as committed now (the results overwrite the objects)
    return taken


def _refresh(
    clinic: Clinic,
    patients: Sequence[Patient],
    today: date,
    summaries: Mapping[int, PatientSummary],
    known: Mapping[int, Protocol | None] | None = None,
    measures_moved: Collection[int] | None = None,
) -> None:
    """Recompute the summaries and flags of `patients` (of `clinic`, read since their
    `summaries` were taken; `known`: the open protocols, or None, of those whose
    protocols are read; `measures_moved`: see `refresh_patients`)."""
    ids = [p.id for p in patients]
    measured = [i for i in ids if _measures_due(i, summaries.get(i), today, measures_moved)]
    known = known or {}
    protocols = {pid: p for pid, p in known.items() if p is not None}
    unknown = [pid for pid in ids if pid not in known]
    if unknown:
        protocols |= {p.patient_id: p for p in _open_protocols(clinic.id, unknown)}
    for patient in patients:
        # Read again, a protocol's `patient` is unloaded: its safety rules read the patient.
        with_patient(protocols.get(patient.id), patient)
    facts = _read_facts(clinic.id, ids, today)
    assessments = _assess(clinic, patients, protocols, today, facts)
    # The open flags are read first (with the facts), so that the stale "ready" ones are
    # closed only where there are some (most refreshes have none: no statement then).
    open_rows = facts.open_care_flags
    not_ready = {
        pid
        for pid, a in assessments.items()
        if a.advice is None or a.advice.suggestion is not Suggestion.ADVANCE
    }

    def stale_ready(row: OpenCareFlag) -> bool:
        return row.kind == FlagKind.READY and row.patient_id in not_ready

    _close_stale_ready_flags(clinic.id, sorted({r.patient_id for r in open_rows if stale_ready(r)}))
    open_rows = [r for r in open_rows if not stale_ready(r)]
    extra = {
        pid: [signal]
        for pid, days in facts.pain_skip_days.items()
        if (signal := pain_skips(days, today)) is not None
    }
    measures = MeasureEvidence({}, set(), set())
    if measured:
        measures = _measure_evidence(clinic.id, measured, today)
        for pid, found in _pgic_signals(clinic.id, measured, today).items():
            extra.setdefault(pid, []).extend(found)
    # Only the overdue flags of patients whose questionnaires were read can be settled.
    read = set(measured)
    settled = _close_settled_overdue_flags([r for r in open_rows if r.patient_id in read], measures)
    closed = settled | _close_replaced_review_flags(
        open_rows, {p.id: _review_on(p) for p in patients}
    )
    open_flags: dict[int, list[FlagKind]] = defaultdict(list)
    open_episodes: set[tuple[int, str]] = set()
    for row in open_rows:
        if row.id not in closed:
            open_flags[row.patient_id].append(row.kind)
            open_episodes.add((row.patient_id, row.key))
    # Episodes with an open flag already need no look-up: an overdue questionnaire stays
    # overdue, day after day, until it is answered.
    signals = {
        pid: [
            s
            for s in [*a.signals, *measures.signals.get(pid, []), *extra.get(pid, [])]
            if (pid, s.key) not in open_episodes
        ]
        for pid, a in assessments.items()
    }
    for flag in _raise(clinic.id, signals, open_flags):
        open_flags[flag.patient_id].append(flag.kind)
    for patient in patients:
        summary = summaries[patient.id]  # every patient's is taken (`_first_summaries`)
        _fill(
            summary,
            assessments[patient.id],
            protocols.get(patient.id),
            open_flags[patient.id],
            assessments[patient.id].open_red_flags,
            facts.open_distress_flags.get(patient.id, 0),
        )


def _measures_due(
    patient_id: int,
    summary: PatientSummary | None,
    today: date,
    measures_moved: Collection[int] | None,
) -> bool:
    """Whether the refresh reads the patient's questionnaires' evidence: when the change
    may have moved it (`measures_moved`: see `refresh_patients`), or when the summary was
    not computed yet on `today` (days passing make a questionnaire overdue). Otherwise it
    says today what it said when the summary was computed earlier today."""
    if measures_moved is None or patient_id in measures_moved:
        return True
    return summary is None or summary.computed_on != today


# The statements every refresh runs, built once: a refresh runs before every write's
# commit, and building a statement (and working out its cache key) costs more CPU than
# running it. Each takes the clinic and the patients as parameters (`clinic_id`,
# `patient_ids`) and, where a window is read, its days (`first`, `last`).
_CLINIC: BindParameter[int] = bindparam("clinic_id")
_PATIENTS: BindParameter[list[int]] = bindparam("patient_ids", expanding=True)
_FIRST: BindParameter[date] = bindparam("first")
_LAST: BindParameter[date] = bindparam("last")

# Built once too: every refresh takes its summaries first (`_take_summaries`).
_TAKE = {some: _take_statement(some) for some in (False, True)}

_SESSIONS = (
    select(
        DiaryEntry.patient_id,
        DiaryEntry.occurred_on,
        DiaryEntry.version_number,
        DiaryEntry.stage,
        DiaryEntry.minutes,
        DiaryEntry.skipped,
        DiaryEntry.withdrawn_at,
        DiaryEntry.pain_during,
        DiaryEntry.pain_after,
        DiaryEntry.depth_cm,
        DiaryEntry.dilator_size_id,
        DilatorSize.label.label("size_label"),
        DilatorSize.diameter_mm.label("size_mm"),
        select(RedFlag.id).where(RedFlag.entry_id == DiaryEntry.id).exists().label("red_flag"),
    )
    .join(Protocol, Protocol.id == DiaryEntry.protocol_id)
    .outerjoin(DilatorSize, DilatorSize.id == DiaryEntry.dilator_size_id)
    .where(
        DiaryEntry.clinic_id == _CLINIC,
        DiaryEntry.patient_id.in_(_PATIENTS),
        DiaryEntry.occurred_on.between(_FIRST, _LAST),
        Protocol.status.in_(OPEN_STATUSES),
    )
    .order_by(DiaryEntry.patient_id, DiaryEntry.occurred_at, DiaryEntry.id)
)
# What the refresh reads about the patients beside their sessions, in one statement (on
# this path a statement's round trip and overhead cost more than its rows): one row per
# fact, `fact` naming it, in the columns it uses (the others NULL).
#   last_entry: the day of the latest entry, a session or a skip (withdrawn ones aside);
#   red_flags:  the open red flags (`n`), and those of a lower severity than urgent
#               (distress, `m`);
#   care_flag:  an open rule flag (its id `n`, `kind`, episode `key`);
#   pain_skip:  the day of a session skipped for pain or worry about pain in the
#               look-back window (withdrawn ones aside).
_FACT_COLUMNS = ("fact", "patient_id", "day", "n", "m", "kind", "key")


def _fact(name: str, patient_id: Any, **values: Any) -> Select[Any]:
    """One branch of `_FACTS`: the fact's columns, typed NULLs for the rest."""
    types: dict[str, TypeEngine[Any]] = {
        "day": Date(),
        "n": Integer(),
        "m": Integer(),
        "kind": String(),
        "key": String(),
    }
    columns = [literal(name, String()).label("fact"), patient_id.label("patient_id")]
    columns += [
        (values[c] if c in values else null().cast(types[c])).label(c) for c in _FACT_COLUMNS[2:]
    ]
    return select(*columns)


_FACTS = union_all(
    _fact("last_entry", DiaryEntry.patient_id, day=func.max(DiaryEntry.occurred_on))
    .where(
        DiaryEntry.clinic_id == _CLINIC,
        DiaryEntry.patient_id.in_(_PATIENTS),
        DiaryEntry.withdrawn_at.is_(None),
    )
    .group_by(DiaryEntry.patient_id),
    _fact(
        "red_flags",
        RedFlag.patient_id,
        n=func.count(RedFlag.id),
        m=func.count(
            case((RedFlag.reason.in_([r for r in FlagReason if not r.urgent]), RedFlag.id))
        ),
    )
    .where(
        RedFlag.clinic_id == _CLINIC,
        RedFlag.patient_id.in_(_PATIENTS),
        RedFlag.acknowledged_at.is_(None),
    )
    .group_by(RedFlag.patient_id),
    _fact(
        "care_flag",
        CareFlag.patient_id,
        n=CareFlag.id,
        kind=CareFlag.kind.cast(String()),
        key=CareFlag.key,
    ).where(
        CareFlag.clinic_id == _CLINIC,
        CareFlag.patient_id.in_(_PATIENTS),
        CareFlag.acknowledged_at.is_(None),
    ),
    _fact("pain_skip", DiaryEntry.patient_id, day=DiaryEntry.occurred_on).where(
        DiaryEntry.clinic_id == _CLINIC,
        DiaryEntry.patient_id.in_(_PATIENTS),
        DiaryEntry.skipped.is_(True),
        DiaryEntry.skip_reason == SkipReason.PAIN_OR_FEAR,
        DiaryEntry.withdrawn_at.is_(None),
        DiaryEntry.occurred_on.between(_FIRST, _LAST),
    ),
)


class OpenCareFlag(NamedTuple):
    """An open rule flag, as the refresh reads it."""

    id: int
    patient_id: int
    kind: FlagKind
    key: str


@dataclass
class _Facts:
    """`_FACTS`, by patient id (patients with none of a fact are absent from its dict)."""

    last_entry_on: dict[int, date] = field(default_factory=dict)
    open_red_flags: dict[int, int] = field(default_factory=dict)
    open_distress_flags: dict[int, int] = field(default_factory=dict)
    open_care_flags: list[OpenCareFlag] = field(default_factory=list)
    pain_skip_days: defaultdict[int, list[date]] = field(default_factory=lambda: defaultdict(list))


# SQLite numbers every id of an IN list apart, and `_FACTS` names the list four times:
# read in chunks, so that a whole clinic's refresh meets SQLite's default limit of 32,766
# variables here no sooner than in its statements that name the list once (one
# statement for any clinic of up to this many patients).
_FACTS_CHUNK = 8000


def _read_facts(clinic_id: int, patient_ids: Sequence[int], today: date) -> _Facts:
    """The patients' facts (see `_FACTS`) as of `today`, in one query (a clinic of more
    than `_FACTS_CHUNK` patients: one per chunk)."""
    facts = _Facts()
    ids = list(patient_ids)
    for start in range(0, len(ids), _FACTS_CHUNK):
        _add_facts(facts, clinic_id, ids[start : start + _FACTS_CHUNK], today)
    return facts


def _add_facts(facts: _Facts, clinic_id: int, patient_ids: list[int], today: date) -> None:
    rows = db.session.execute(
        _FACTS,
        {
            "clinic_id": clinic_id,
            "patient_ids": patient_ids,
            "first": today - timedelta(days=LOOKBACK_DAYS - 1),
            "last": today,
        },
    )
    for fact, pid, day, n, m, kind, key in rows:
        if fact == "last_entry":
            facts.last_entry_on[pid] = day
        elif fact == "red_flags":
            facts.open_red_flags[pid], facts.open_distress_flags[pid] = n, m
        elif fact == "care_flag":
            facts.open_care_flags.append(OpenCareFlag(n, pid, FlagKind(kind), key))
        else:
            facts.pain_skip_days[pid].append(day)


_PGIC_ANSWERS = select(
    MeasureResponse.id,
    MeasureResponse.patient_id,
    MeasureResponse.total,
    MeasureResponse.occasion_on,
).where(
    MeasureResponse.clinic_id == _CLINIC,
    MeasureResponse.patient_id.in_(_PATIENTS),
    MeasureResponse.instrument_key == PGIC_KEY,
    MeasureResponse.submitted_at.is_not(None),
    MeasureResponse.occasion_on >= _FIRST,
)


@lru_cache(maxsize=256)
def _size_display(label: str, diameter_mm: float) -> str:
    """`size_display`, remembered: a quarter's sessions name the same few sizes."""
    return size_display(label, diameter_mm)


def load_sessions(
    clinic_id: int, patient_ids: Sequence[int], first: date, last: date
) -> dict[int, list[ScoredSession]]:
    """The entries of these patients' open protocols from `first` to `last`, per patient,
    oldest first, in one query: each with the dilator used and whether it raised a red
    flag (acknowledged or not: an acknowledged flag is not a painless session)."""
    rows = db.session.execute(
        _SESSIONS,
        {"clinic_id": clinic_id, "patient_ids": list(patient_ids), "first": first, "last": last},
    )
    by_patient: dict[int, list[ScoredSession]] = defaultdict(list)
    # Unpacked by position, in the statement's order: a quarter's rows per patient, and
    # reading a row's fields by name costs more than the rest of the loop.
    for (
        patient_id,
        on,
        version_number,
        stage,
        minutes,
        skipped,
        withdrawn_at,
        pain_during,
        pain_after,
        depth_cm,
        size_id,
        size_label,
        size_mm,
        red_flag,
    ) in rows:
        by_patient[patient_id].append(
            ScoredSession(
                on=on,
                version=version_number,
                stage=stage,
                minutes=minutes,
                skipped=skipped,
                withdrawn=withdrawn_at is not None,
                size_id=size_id,
                size_mm=size_mm,
                pain_during=pain_during,
                pain_after=pain_after,
                red_flag=bool(red_flag),
                size_label=_size_display(size_label, size_mm) if size_label else "",
                depth_cm=depth_cm,
            )
        )
    return by_patient


def acknowledge(flag: CareFlag | RedFlag, by: User, note: str) -> None:
    """Record that a clinician has seen a flag and what they did about it. Two clinicians
    acknowledging at once: the first note stands, the second is told (never overwrites)."""
    model = type(flag)
    done = affected_rows(
        update(model)
        .where(model.id == flag.id, model.acknowledged_at.is_(None))
        .values(acknowledged_at=utcnow(), acknowledged_by_id=by.id, acknowledgement=note)
        .execution_options(synchronize_session=False)
    )
    if done != 1:
        raise FlagAlreadyAcknowledged()
    db.session.expire(flag)
    record(
        "flag.acknowledge",
        patient_id=flag.patient_id,
        object_type="red_flag" if isinstance(flag, RedFlag) else "care_flag",
        object_id=flag.id,
        actor=by,
    )


def acknowledge_together(flags: Sequence[CareFlag | RedFlag], by: User, note: str) -> None:
    """Acknowledge several flags with one note (the red flags of one session), each as
    `acknowledge` does: audited one by one, and a report's waiting alerts withdrawn once
    all its flags are acknowledged. All or none: when any was acknowledged meanwhile,
    `FlagAlreadyAcknowledged` names every such flag, and the caller's unit of work discards
    the others."""
    taken: list[CareFlag | RedFlag] = []
    for flag in flags:
        try:
            acknowledge(flag, by, note)
        except FlagAlreadyAcknowledged:
            taken.append(flag)
    if taken:
        raise FlagAlreadyAcknowledged(taken)


def acknowledge_ready_flags(
    patient: Patient, by: User, note: str, kind: FlagKind = FlagKind.READY
) -> None:
    """A stage decision answers an open "ready to advance" flag, and resuming a paused
    plan its "review before resuming" (`kind`): acknowledge it with the decision's reason
    (the flag stays in the record, acknowledged)."""
    for flag in db.session.scalars(
        select(CareFlag).where(
            CareFlag.patient_id == patient.id,
            CareFlag.clinic_id == patient.clinic_id,
            CareFlag.kind == kind,
            CareFlag.acknowledged_at.is_(None),
        )
    ):
        flag.acknowledged_at = utcnow()
        flag.acknowledged_by_id = by.id
        flag.acknowledgement = note
    db.session.flush()


# The note on a "ready to advance" flag the evidence has overtaken (no clinician signs it).
NO_LONGER_READY = "Closed by the system: the evidence no longer suggests moving up."


def _close_stale_ready_flags(clinic_id: int, patient_ids: Sequence[int]) -> None:
    """Close the open "ready to advance" flags of patients the rules no longer suggest
    advancing (a red flag came in, pain rose, the stage changed): a stale "ready" next to a
    red flag would mislead. Other kinds wait for a clinician, whatever happens."""
    if patient_ids:
        db.session.execute(
            update(CareFlag)
            .where(
                CareFlag.clinic_id == clinic_id,
                CareFlag.patient_id.in_(patient_ids),
                CareFlag.kind == FlagKind.READY,
                CareFlag.acknowledged_at.is_(None),
            )
            .values(acknowledged_at=utcnow(), acknowledgement=NO_LONGER_READY)
            .execution_options(synchronize_session=False)
        )


# The notes on a "questionnaire overdue" flag the system closes (no clinician signs them).
MEASURE_ANSWERED = "Closed by the system: the questionnaire was answered."
MEASURE_NOT_ASKED = (
    "Closed by the system: the questionnaire is no longer asked for (the measure was stopped"
    " or its schedule changed)."
)


def _measure_evidence(clinic_id: int, patient_ids: Sequence[int], today: date) -> MeasureEvidence:
    """The patients' overdue questionnaires and answered occasions today: the occasions
    of every assignment, ended ones too (three queries, or one without any assignment),
    and the instruments' titles when something is overdue (one more)."""
    statuses = occasion_statuses(
        clinic_id, patient_ids, today, include_ended=True, grace_days=DEFAULT_GRACE_DAYS
    )
    titles: dict[str, str] = {}
    if any(s.state.overdue for found in statuses.values() for s in found):
        titles = {key: instrument.title for key, instrument in available(clinic_id).items()}
    return measure_evidence(statuses, titles, DEFAULT_GRACE_DAYS)


def _close_settled_overdue_flags(
    open_flags: Sequence[OpenCareFlag], measures: MeasureEvidence
) -> set[int]:
    """Close the open "questionnaire overdue" flags among `open_flags` whose occasion is no
    longer overdue: answered (late, but answered), or no longer asked for (the measure was
    stopped). Nothing is left for a clinician to do about them, so the system says so and
    signs nothing. Returns the ids closed."""
    settled = [
        (row.id, row.key)
        for row in open_flags
        if row.kind is FlagKind.MEASURE_OVERDUE and row.key not in measures.overdue_keys
    ]
    for note, flag_ids in (
        (MEASURE_ANSWERED, [fid for fid, key in settled if key in measures.answered_keys]),
        (MEASURE_NOT_ASKED, [fid for fid, key in settled if key not in measures.answered_keys]),
    ):
        if flag_ids:
            db.session.execute(
                update(CareFlag)
                .where(CareFlag.id.in_(flag_ids), CareFlag.acknowledged_at.is_(None))
                .values(acknowledged_at=utcnow(), acknowledgement=note)
                .execution_options(synchronize_session=False)
            )
    return {fid for fid, _ in settled}


def review_flag_closing_note(review_on: date | None) -> str:
    """The system's note on a "review due" flag whose review date was replaced."""
    if review_on is None:
        return "Closed by the system: no review is planned any more."
    return f"Closed by the system: the review was moved to {long_date(review_on)}."


def _close_replaced_review_flags(
    open_flags: Sequence[OpenCareFlag], review_on: Mapping[int, date | None]
) -> set[int]:
    """Close the open "review due" flags whose date is no longer the patient's planned
    review: a decision (a hold) or the record set another date, or none is planned
    (discharged). The review they asked for was taken up, so the system says so and signs
    nothing; the new date raises its own flag when it comes. Returns the ids closed."""
    closed: set[int] = set()
    for row in open_flags:
        if row.kind is not FlagKind.REVIEW_DUE or row.patient_id not in review_on:
            continue
        planned = review_on[row.patient_id]
        if row.key == f"review:{planned.isoformat() if planned else ''}":
            continue
        db.session.execute(
            update(CareFlag)
            .where(CareFlag.id == row.id, CareFlag.acknowledged_at.is_(None))
            .values(acknowledged_at=utcnow(), acknowledgement=review_flag_closing_note(planned))
            .execution_options(synchronize_session=False)
        )
        closed.add(row.id)
    return closed


class FlagAlreadyAcknowledged(ValueError):
    """The flag was acknowledged already (by someone else, or a form sent twice);
    `flags` names the flags, when several were asked for."""

    def __init__(self, flags: Sequence[CareFlag | RedFlag] = ()) -> None:
        super().__init__()
        self.flags = list(flags)

    def __str__(self) -> str:
        return _("This flag has already been acknowledged.")


def _review_on(patient: Patient) -> date | None:
    """The planned review that can fall due (none once the patient is discharged)."""
    return patient.review_on if patient.status is not PatientStatus.DISCHARGED else None


# The refresh's reads overwrite what the session holds (`populate_existing`): an object
# the request loaded before the summaries' rows were taken may be older than the rows.


def _patients(clinic_id: int, patient_ids: Sequence[int] | None) -> list[Patient]:
    stmt = select(Patient).where(Patient.clinic_id == clinic_id).options(joinedload(Patient.user))
    if patient_ids is not None:
        stmt = stmt.where(Patient.id.in_(patient_ids))
    stmt = stmt.order_by(Patient.id).execution_options(populate_existing=True)
    return list(db.session.scalars(stmt))


def _open_protocols(clinic_id: int, patient_ids: Sequence[int]) -> Iterable[Protocol]:
    return db.session.scalars(
        select(Protocol)
        .where(
            Protocol.clinic_id == clinic_id,
            Protocol.patient_id.in_(patient_ids),
            Protocol.status.in_(OPEN_STATUSES),
        )
        .options(*FOR_RULES)
        .execution_options(populate_existing=True)
    )


def _pgic_signals(
    clinic_id: int, patient_ids: Sequence[int], today: date
) -> dict[int, list[Signal]]:
    """A "feels very much worse" signal per PGIC answered so in the look-back window
    (their episodes are the responses: one answered long ago and acknowledged is not
    raised again)."""
    rows = db.session.execute(
        _PGIC_ANSWERS,
        {
            "clinic_id": clinic_id,
            "patient_ids": list(patient_ids),
            "first": today - timedelta(days=LOOKBACK_DAYS - 1),
        },
    )
    signals: dict[int, list[Signal]] = defaultdict(list)
    for response_id, pid, total, on in rows:
        signal = pgic_very_much_worse(response_id, total, on)
        if signal is not None:
            signals[pid].append(signal)
    return signals


def _raise(
    clinic_id: int, signals: dict[int, list[Signal]], open_kinds: dict[int, list[FlagKind]]
) -> list[CareFlag]:
    """Add a flag for each signal whose episode has none yet (open or acknowledged), unless
    the patient has an open flag of that kind already: one is enough to ask for a look
    (except for kinds where each episode is its own flag, see FlagKind.one_open_at_a_time)."""
    wanted = {
        (pid, s.key): s
        for pid, sigs in signals.items()
        for s in sigs
        if not (s.kind.one_open_at_a_time and s.kind in open_kinds.get(pid, ()))
    }
    if not wanted:
        return []
    existing = {
        tuple(row)
        for row in db.session.execute(
            select(CareFlag.patient_id, CareFlag.key).where(
                CareFlag.clinic_id == clinic_id,
                CareFlag.patient_id.in_({pid for pid, _key in wanted}),
                CareFlag.key.in_({key for _pid, key in wanted}),
            )
        )
    }
    raised = [
        CareFlag(
            clinic_id=clinic_id,
            patient_id=pid,
            kind=signal.kind,
            key=key,
            detail=signal.detail,
            raised_at=utcnow(),
        )
        for (pid, key), signal in wanted.items()
        if (pid, key) not in existing
    ]
    db.session.add_all(raised)
    db.session.flush()
    return raised


def _fill(
    summary: PatientSummary,
    assessment: Assessment,
    protocol: Protocol | None,
    open_kinds: list[FlagKind],
    red_flags: int,
    distress: int = 0,
) -> None:
    summary.computed_on = assessment.today
    summary.computed_at = utcnow()
    summary.protocol_id = protocol.id if protocol else None
    summary.paused = assessment.paused
    stage = assessment.stage
    summary.stage = assessment.in_force.stage if assessment.in_force and stage else None
    summary.stage_count = assessment.stage_count or None
    summary.size_label = stage.dilator_size.display if stage else ""
    summary.size_mm = stage.dilator_size.diameter_mm if stage else None
    summary.adherence_7 = assessment.adherence_7
    summary.adherence_28 = assessment.adherence_28
    summary.pain_7 = assessment.pain_7
    summary.pain_prev_7 = assessment.pain_prev_7
    summary.last_entry_on = assessment.last_entry_on
    advice = assessment.advice
    summary.suggestion = advice.suggestion if advice else None
    summary.suggestion_reasons = advice.summary if advice else ""
    summary.keeps_diary = assessment.keeps_diary
    # Red flags on the dashboard are the urgent ones; open lower-severity ones (distress)
    # show as a kind of their own, with its severity in words.
    summary.red_flags = red_flags - distress
    shown = [*open_kinds, *([FlagKind.DISTRESS] if distress else [])]
    summary.open_flags = len(shown)
    kinds = [*shown, *([FlagKind.RED_FLAG] if summary.red_flags else [])]
    summary.top_severity = max((k.severity for k in kinds), default=0)
    summary.open_flag_kinds = " ".join(sorted({k.value for k in shown}))

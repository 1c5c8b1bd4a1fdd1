"""Recording diary entries. Functions flush; the unit of work commits once.

Every entry is stored with the protocol version and stage in force on its day, and raises
the red flags its stage's thresholds call for. Corrections keep the earlier values in the
audit trail; flags once raised are never removed.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext
from sqlalchemy import BindParameter, bindparam, select

from clinic.audit import log as audit
from clinic.core.refusals import Refusal
from clinic.domain.depth import DEPTH_LOOKBACK_SESSIONS, DepthReading, depth_lost
from clinic.domain.diary import (
    CORRECTION_WINDOW_HOURS,
    MAX_BACKDATE_DAYS,
    RADIOTHERAPY_QUIET_SESSIONS,
    REPEAT_WINDOW_MINUTES,
    Bleeding,
    Concern,
    FlagReason,
    SkipReason,
    bleeding_may_return,
    bleeding_returned,
    encode_concerns,
    red_flags,
)
from clinic.domain.protocols import ProtocolStatus, in_force_on
from clinic.extensions import db
from clinic.models import (
    DiaryEntry,
    DilatorSize,
    EntryRevision,
    Patient,
    Protocol,
    RedFlag,
    User,
)
from clinic.models.types import utcnow
from clinic.protocols.queries import timeline, version


class DiaryError(Refusal):
    """The entry cannot be saved as given; the message says why, next to `field`."""


@dataclass(frozen=True)
class SessionDetails:
    """A session as the patient reported it."""

    occurred_at: datetime
    dilator_size_id: int
    minutes: int
    pain_during: int
    pain_after: int
    bleeding: Bleeding
    sharp_pain: bool
    depth_cm: float | None
    note: str
    concerns: frozenset[Concern] = frozenset()


@dataclass(frozen=True)
class SkipDetails:
    """A skipped session and why."""

    occurred_at: datetime
    skip_reason: SkipReason
    skip_other: str


def local_day(moment: datetime, zone: str) -> date:
    """The clinic-local calendar day of a UTC moment."""
    return moment.astimezone(ZoneInfo(zone)).date()


def find_by_key(patient: Patient, key: str) -> DiaryEntry | None:
    """The patient's entry already saved from the form with this key (exactly-once)."""
    return db.session.scalar(
        select(DiaryEntry).where(
            DiaryEntry.patient_id == patient.id, DiaryEntry.submission_key == key
        )
    )


@dataclass(frozen=True)
class SavedEntry:
    """An entry the patient saved a moment ago, as the diary's forms speak of it."""

    id: int
    created_at: datetime
    submission_key: str


# An entry repeats a new one when it is the same patient's, under the same plan, for the
# same clinic-local day, saved (created) within REPEAT_WINDOW_MINUTES and not withdrawn,
# of the same kind, with every answer the same: for a session the dilator, minutes, both
# pains, bleeding, sharp pain, depth, the concerns ticked and the note; for a skip the
# reason and its words. The time of day is left out: the Back button reloads the form
# with the time it is now, so a form sent again rarely carries the first one's time. The
# day is kept: catching up on several days with the same answers is not a repeat. Two
# real sessions of one day with every answer the same, logged within half an hour, are
# rare, and the patient says so with one tick. Withdrawn entries are left out: the
# patient said they were wrong. The entry saved from this very form (its key) comes
# first, so a form sent again still leads to the entry it saved.
# One row at most, found through ix_diary_entries_clinic_patient_day (all three columns
# compared for equality); built once, as the flag rules' statements are.
_REPEAT_OF = (
    DiaryEntry.clinic_id == bindparam("clinic_id"),
    DiaryEntry.patient_id == bindparam("patient_id"),
    DiaryEntry.occurred_on == bindparam("day"),
    DiaryEntry.protocol_id == bindparam("protocol_id"),
    DiaryEntry.created_at >= bindparam("since"),
    DiaryEntry.withdrawn_at.is_(None),
)
_REPEATED_FIRST = (
    (DiaryEntry.submission_key == bindparam("key")).desc(),
    DiaryEntry.created_at.desc(),
    DiaryEntry.id.desc(),
)
_SAVED = (DiaryEntry.id, DiaryEntry.created_at, DiaryEntry.submission_key)
_REPEATED_SESSION = (
    select(*_SAVED)
    .where(
        *_REPEAT_OF,
        DiaryEntry.skipped.is_(False),
        DiaryEntry.dilator_size_id == bindparam("dilator_size_id"),
        DiaryEntry.minutes == bindparam("minutes"),
        DiaryEntry.pain_during == bindparam("pain_during"),
        DiaryEntry.pain_after == bindparam("pain_after"),
        DiaryEntry.bleeding == bindparam("bleeding"),
        DiaryEntry.sharp_pain == bindparam("sharp_pain"),
        DiaryEntry.depth_cm.is_not_distinct_from(bindparam("depth_cm")),
        DiaryEntry.concerns == bindparam("concerns"),
        DiaryEntry.note == bindparam("note"),
    )
    .order_by(*_REPEATED_FIRST)
    .limit(1)
)
_REPEATED_SKIP = (
    select(*_SAVED)
    .where(
        *_REPEAT_OF,
        DiaryEntry.skipped.is_(True),
        DiaryEntry.skip_reason == bindparam("skip_reason"),
        DiaryEntry.skip_other == bindparam("skip_other"),
    )
    .order_by(*_REPEATED_FIRST)
    .limit(1)
)


def find_repeat(
    patient: Patient,
    protocol: Protocol,
    key: str,
    details: SessionDetails | SkipDetails,
    now: datetime | None = None,
) -> SavedEntry | None:
    """The entry the patient saved a moment ago whose answers `details` repeat (see
    `_REPEAT_OF` for what counts as the same), the one saved from the form with `key`
    first; None when there is none. One indexed statement."""
    now = now or utcnow()
    params: dict[str, object] = {
        "clinic_id": patient.clinic_id,
        "patient_id": patient.id,
        "day": local_day(details.occurred_at, patient.clinic.timezone),
        "protocol_id": protocol.id,
        "since": now - timedelta(minutes=REPEAT_WINDOW_MINUTES),
        "key": key,
    }
    fields = asdict(details)
    del fields["occurred_at"]
    statement = _REPEATED_SKIP if isinstance(details, SkipDetails) else _REPEATED_SESSION
    row = db.session.execute(statement, params | fields).first()
    return SavedEntry(*row) if row is not None else None


def last_saved(
    patient: Patient, *, skipped: bool, now: datetime | None = None
) -> SavedEntry | None:
    """The patient's latest entry of the kind (a skip or a session) saved within
    REPEAT_WINDOW_MINUTES and not withdrawn, for the forms to mention: pressing Back after
    saving shows the form again, and a line saying it was saved tells the patient so."""
    now = now or utcnow()
    # An entry saved within the window is for a day at most MAX_BACKDATE_DAYS before the
    # day it was saved: the bound reads the patient's last days through the day index.
    first_day = local_day(now, patient.clinic.timezone) - timedelta(days=MAX_BACKDATE_DAYS + 1)
    row = db.session.execute(
        _LAST_SAVED,
        {
            "clinic_id": patient.clinic_id,
            "patient_id": patient.id,
            "first_day": first_day,
            "since": now - timedelta(minutes=REPEAT_WINDOW_MINUTES),
            "skipped": skipped,
        },
    ).first()
    return SavedEntry(*row) if row is not None else None


_LAST_SAVED = (
    select(*_SAVED)
    .where(
        DiaryEntry.clinic_id == bindparam("clinic_id"),
        DiaryEntry.patient_id == bindparam("patient_id"),
        DiaryEntry.occurred_on >= bindparam("first_day"),
        DiaryEntry.created_at >= bindparam("since"),
        DiaryEntry.withdrawn_at.is_(None),
        DiaryEntry.skipped == bindparam("skipped"),
    )
    .order_by(DiaryEntry.created_at.desc(), DiaryEntry.id.desc())
    .limit(1)
)


def record(
    patient: Patient,
    protocol: Protocol,
    by: User,
    key: str,
    details: SessionDetails | SkipDetails,
    now: datetime | None = None,
) -> DiaryEntry:
    """Save a session or a skip against the prescription in force on its day."""
    now = now or utcnow()
    day, version_number, stage = _in_force(patient, protocol, details.occurred_at, now)
    entry = DiaryEntry(
        clinic_id=patient.clinic_id,
        patient_id=patient.id,
        protocol_id=protocol.id,
        version_number=version_number,
        stage=stage,
        occurred_on=day,
        submission_key=key,
        created_by_id=by.id,
        created_at=now,
        skipped=isinstance(details, SkipDetails),
        # A new entry has no red flags yet: said, so that the flag rules do not look.
        flags=[],
        **asdict(details),
    )
    db.session.add(entry)
    db.session.flush()
    _raise_flags(entry, protocol, now=now)
    audit.record(
        "diary.skip" if entry.skipped else "diary.log",
        patient_id=patient.id,
        object_type="diary_entry",
        object_id=entry.id,
        actor=by,
    )
    return entry


def correct(
    entry: DiaryEntry,
    protocol: Protocol,
    by: User,
    details: SessionDetails | SkipDetails,
    now: datetime | None = None,
) -> None:
    """Change an entry within the correction window; the earlier values are kept."""
    now = now or utcnow()
    _check_window(entry, now)
    patient = db.session.get_one(Patient, entry.patient_id)
    day, version_number, stage = _in_force(patient, protocol, details.occurred_at, now)
    _keep_revision(entry, "corrected", by, now)
    earlier = min(entry.occurred_at, details.occurred_at)
    for name, value in asdict(details).items():
        setattr(entry, name, value)
    entry.occurred_on, entry.version_number, entry.stage = day, version_number, stage
    entry.updated_at = now
    db.session.flush()
    _raise_flags(entry, protocol, since=earlier, now=now)
    audit.record(
        "diary.correct",
        patient_id=patient.id,
        object_type="diary_entry",
        object_id=entry.id,
        actor=by,
    )


def withdraw(entry: DiaryEntry, by: User, now: datetime | None = None) -> None:
    """Withdraw an entry within the correction window (kept in the audit trail, and any
    red flag it raised stays for the clinician)."""
    now = now or utcnow()
    _check_window(entry, now)
    _keep_revision(entry, "withdrawn", by, now)
    entry.withdrawn_at = now
    db.session.flush()
    audit.record(
        "diary.withdraw",
        patient_id=entry.patient_id,
        object_type="diary_entry",
        object_id=entry.id,
        actor=by,
    )


def can_change(entry: DiaryEntry, now: datetime | None = None) -> bool:
    """Whether the patient may still correct or withdraw the entry."""
    now = now or utcnow()
    return entry.withdrawn_at is None and now < entry.created_at + timedelta(
        hours=CORRECTION_WINDOW_HOURS
    )


def _check_window(entry: DiaryEntry, now: datetime) -> None:
    if not can_change(entry, now):
        raise DiaryError(
            gettext(
                "Entries can be changed for %(hours)s hours after saving. This one can no "
                "longer be changed; tell your clinic if something is wrong.",
                hours=CORRECTION_WINDOW_HOURS,
            )
        )


def _in_force(
    patient: Patient, protocol: Protocol, moment: datetime, now: datetime
) -> tuple[date, int, int]:
    zone = patient.clinic.timezone
    day, today = local_day(moment, zone), local_day(now, zone)
    if moment > now + timedelta(minutes=5):
        raise DiaryError(
            gettext("The time is in the future. Enter when the session happened."), "when"
        )
    if day < today - timedelta(days=MAX_BACKDATE_DAYS):
        raise DiaryError(
            gettext(
                "Entries can be added for the last %(days)s days only.", days=MAX_BACKDATE_DAYS
            ),
            "when",
        )
    state = in_force_on(timeline(protocol), day)
    if state is None or state.status in (ProtocolStatus.COMPLETED, ProtocolStatus.REPLACED):
        raise DiaryError(gettext("That day is outside your current plan. Check the date."), "when")
    return day, state.version, state.stage


def _raise_flags(
    entry: DiaryEntry, protocol: Protocol, since: datetime | None = None, *, now: datetime
) -> None:
    """Raise the red flags `entry` calls for, then those its later sessions now call for.

    Loss of depth and bleeding back after radiotherapy compare a session with the ones
    before it, so an entry added for an earlier day (or corrected, or moved) changes what
    the later sessions follow: they are checked again from `since` (the entry's earlier
    time, when a correction moved it) or the entry's own. Flags are only ever added: the
    `already` set keeps one per entry per reason, and none is removed. They are raised at
    `now`, the moment the entry was saved (or corrected)."""
    if not entry.skipped:
        threshold = version(protocol, entry.version_number).stages[entry.stage - 1].red_flag_pain
        report = entry.report
        returned = _bleeding_returned(entry, protocol)
        found = red_flags(report, threshold, returned, _depth_lost(entry, protocol))
        _add_flags(entry, found, now)
    for later in _later_sessions(entry, protocol, since or entry.occurred_at):
        reasons = [
            reason
            for reason, found in (
                (FlagReason.BLEEDING_RETURNED, _bleeding_returned(later, protocol)),
                (FlagReason.DEPTH_LOSS, _depth_lost(later, protocol)),
            )
            if found
        ]
        _add_flags(later, reasons, now)
    db.session.flush()


def _add_flags(entry: DiaryEntry, reasons: list[FlagReason], now: datetime) -> None:
    already = {flag.reason for flag in entry.flags}
    for reason in reasons:
        if reason not in already:
            report = entry.report
            db.session.add(
                RedFlag(
                    clinic_id=entry.clinic_id,
                    patient_id=entry.patient_id,
                    entry=entry,
                    reason=reason,
                    pain=max(report.pain_during, report.pain_after),
                    raised_at=now,
                )
            )
            already.add(reason)


def _later_sessions(entry: DiaryEntry, protocol: Protocol, since: datetime) -> list[DiaryEntry]:
    """The sessions of the same protocol after `since` whose checks `entry` can change:
    the next `RADIOTHERAPY_QUIET_SESSIONS` after radiotherapy, the next
    `DEPTH_LOOKBACK_SESSIONS` that say a depth after vaginoplasty (each check looks back
    that far), in time order."""
    rules = protocol.safety_indications
    found: dict[int, DiaryEntry] = {}
    params = _params(entry) | {"since": since}
    if rules.follows_radiotherapy:
        found |= {later.id: later for later in db.session.scalars(_LATER, params)}
    if rules.is_neovagina:
        found |= {later.id: later for later in db.session.scalars(_LATER_WITH_DEPTH, params)}
    return sorted(found.values(), key=lambda later: (later.occurred_at, later.id))


# The statements the flag rules run for every entry saved, built once (building one costs
# more CPU than running it). Each reads the other sessions done (not skipped, not
# withdrawn) under the entry's protocol: parameters `_params(entry)`, and `since` for
# those after a moment.
_SAME_SESSIONS = (
    DiaryEntry.clinic_id == bindparam("clinic_id"),
    DiaryEntry.patient_id == bindparam("patient_id"),
    DiaryEntry.protocol_id == bindparam("protocol_id"),
    DiaryEntry.skipped.is_(False),
    DiaryEntry.withdrawn_at.is_(None),
    DiaryEntry.id != bindparam("entry_id"),
)
_ENTRY_AT: BindParameter[datetime] = bindparam("occurred_at")
_BEFORE = (DiaryEntry.occurred_at < _ENTRY_AT) | (
    (DiaryEntry.occurred_at == _ENTRY_AT) & (DiaryEntry.id < bindparam("entry_id"))
)
_SINCE: BindParameter[datetime] = bindparam("since")
_AFTER_SINCE = (DiaryEntry.occurred_at > _SINCE) | (
    (DiaryEntry.occurred_at == _SINCE) & (DiaryEntry.id > bindparam("entry_id"))
)
_FORWARD = (DiaryEntry.occurred_at, DiaryEntry.id)
_BACKWARD = (DiaryEntry.occurred_at.desc(), DiaryEntry.id.desc())
# The next sessions whose "bleeding back" check looks back at the entry, and the next ones
# with a depth whose "depth lost" check does.
_LATER = (
    select(DiaryEntry)
    .where(*_SAME_SESSIONS, _AFTER_SINCE)
    .order_by(*_FORWARD)
    .limit(RADIOTHERAPY_QUIET_SESSIONS)
)
_LATER_WITH_DEPTH = (
    select(DiaryEntry)
    .where(*_SAME_SESSIONS, _AFTER_SINCE, DiaryEntry.depth_cm.is_not(None))
    .order_by(*_FORWARD)
    .limit(DEPTH_LOOKBACK_SESSIONS)
)
# The depths (with the dilator's width) and the bleeding answers of the sessions before.
_DEPTHS_BEFORE = (
    select(DiaryEntry.depth_cm, DilatorSize.diameter_mm)
    .join(DilatorSize, DilatorSize.id == DiaryEntry.dilator_size_id)
    .where(*_SAME_SESSIONS, DiaryEntry.depth_cm.is_not(None), _BEFORE)
    .order_by(*_BACKWARD)
    .limit(DEPTH_LOOKBACK_SESSIONS)
)
_BLEEDING_BEFORE = (
    select(DiaryEntry.bleeding)
    .where(*_SAME_SESSIONS, _BEFORE)
    .order_by(*_BACKWARD)
    .limit(RADIOTHERAPY_QUIET_SESSIONS)
)


def _params(entry: DiaryEntry) -> dict[str, object]:
    """The parameters of the statements above for `entry`."""
    return {
        "clinic_id": entry.clinic_id,
        "patient_id": entry.patient_id,
        "protocol_id": entry.protocol_id,
        "entry_id": entry.id,
        "occurred_at": entry.occurred_at,
    }


def _bleeding_returned(entry: DiaryEntry, protocol: Protocol) -> bool:
    """After radiotherapy (the patient's indication or the plan's): whether this session
    brings bleeding back after the quiet sessions before it (read only when it can)."""
    rules, now = protocol.safety_indications, entry.report.bleeding
    if not bleeding_may_return(rules, now):
        return False
    return bleeding_returned(rules, now, _bleeding_before(entry))


def _depth_lost(entry: DiaryEntry, protocol: Protocol) -> bool:
    """After vaginoplasty (the patient's indication or the plan's): whether this session's
    depth is more than the clinic's set amount below the best of the recent sessions with
    a dilator at least as wide."""
    if (
        not protocol.safety_indications.is_neovagina
        or entry.depth_cm is None
        or entry.dilator_size_id is None
    ):
        return False
    size = db.session.get(DilatorSize, entry.dilator_size_id)
    if size is None:
        return False
    rows = db.session.execute(_DEPTHS_BEFORE, _params(entry)).all()
    before = [DepthReading(depth, mm) for depth, mm in reversed(rows) if depth is not None]
    drop_cm = protocol.patient.clinic.depth_drop_cm
    return depth_lost(DepthReading(entry.depth_cm, size.diameter_mm), before, drop_cm)


def _bleeding_before(entry: DiaryEntry) -> list[Bleeding]:
    """The bleeding answers of the `RADIOTHERAPY_QUIET_SESSIONS` sessions of the same
    protocol before `entry`, oldest first (withdrawn ones left out: the patient said they
    were wrong)."""
    rows = db.session.scalars(_BLEEDING_BEFORE, _params(entry)).all()
    return [b for b in reversed(rows) if b is not None]


_AUDITED = (
    "occurred_at",
    "dilator_size_id",
    "minutes",
    "pain_during",
    "pain_after",
    "bleeding",
    "sharp_pain",
    "depth_cm",
    "note",
    "concerns",
    "skip_reason",
    "skip_other",
    "skipped",
)


def _keep_revision(entry: DiaryEntry, action: str, by: User, now: datetime) -> None:
    previous = {name: getattr(entry, name) for name in _AUDITED}
    previous["concerns"] = encode_concerns(entry.concerns or ())
    db.session.add(
        EntryRevision(
            entry=entry,
            action=action,
            previous=json.dumps(previous, default=str, sort_keys=True),
            changed_by_id=by.id,
            changed_at=now,
        )
    )

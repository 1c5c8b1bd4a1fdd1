"""Reminder rules: when a patient's reminders fall due, and which ones are sent.

A patient who turns reminders on chooses slots: a weekday and a local time ("Monday
07:30"), several a day if they like, in their own time zone, with optional quiet hours.
Everything here is pure (no Flask, no database): the minute's job (clinic.reminders.jobs)
gives these rules what it read and posts what they return.

The rules, as a clinician would state them:

- **One reminder per slot occurrence.** Each occurrence (the k-th slot of one local date)
  has an occasion name ("slot:2026-11-03-1") that the outbox keeps unique, so a job run
  twice, late, or by two workers sends it once, and a slot moved later the same day after
  its reminder went does not bring a second one (a time added to the day does). An
  occurrence is sent when the job runs at or after its time, up to `GRACE` later (a
  worker back after a long stop does not send a morning's reminders in the afternoon).
- **Not after a logged session.** The k-th slot of a day (in time order) gets no reminder
  when that local day already has at least k entries (a session, or a skipped session
  noted), dated at or before the moment the reminder would go. "Twice a day" with slots
  08:00 and 19:00: a session noted at 07:50 covers the morning; one noted at 12:00 only
  makes one for the day, so the evening still gets its reminder for the second session;
  two noted by 19:00 cover both.
- **None while the plan is paused, none once it is completed** (or when no plan is open).
- **Local time stays local.** A 07:30 slot is 07:30 on the patient's clock in winter and
  in summer. On the night clocks change, a slot in the skipped hour (02:30 when 02:00
  jumps to 03:00) goes at the same distance after the jump (03:30), and a slot in the
  repeated hour (01:30 twice) goes once, at the first; this is how calendars treat
  recurring events (RFC 5545) and what Python's `fold=0` gives. Lord Howe Island's
  30-minute change follows the same rule.
- **Quiet hours are never broken.** The form refuses a slot inside quiet hours; should one
  land there anyway (a slot moved by a clock change), it is not sent, not sent later.
- **A gentle nudge, once.** When nothing has been noted for `nudge_after_days` days
  (counted from the latest entry or the moment one was last noted, from when reminders
  were turned on, or from when the plan last started or resumed or that was recorded,
  whichever is latest) and at least one slot has gone by in that time, the next slot
  brings one nudge instead of the usual reminder, and then nothing more until the
  patient notes something again (which starts the count afresh). Each later slot offers
  the same nudge occasion again, which the outbox keeps to one message: a nudge whose
  slot the job missed comes at the next slot, never twice. So a patient with weekly
  slots and a shorter nudge setting gets their reminder, and the nudge only at the slot
  after one that went unanswered.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from clinic.domain.text import N_

DAY_NAMES = (
    N_("Monday"),
    N_("Tuesday"),
    N_("Wednesday"),
    N_("Thursday"),
    N_("Friday"),
    N_("Saturday"),
    N_("Sunday"),
)
# How late the job may still send a slot's reminder.
GRACE = timedelta(hours=1)
# How far ahead to look for the next slot: a week of slots, plus a clock change.
_DAYS_AHEAD = 9
NUDGE_DAYS_DEFAULT = 4
NUDGE_DAYS_RANGE = (2, 14)
MAX_TIMES_A_DAY = 3
# Proposed times of day for "N times a day" (N = 1, 2, 3), and for weekly plans.
_DAY_TIMES = {
    1: (time(19, 0),),
    2: (time(8, 0), time(19, 0)),
    3: (time(8, 0), time(13, 0), time(19, 0)),
}
_WEEKLY_TIME = time(19, 0)


class PlanState(StrEnum):
    """The patient's programme as far as reminders care."""

    ACTIVE = "active"
    PAUSED = "paused"
    NONE = "none"  # completed, or no programme open


class Kind(StrEnum):
    """What is sent for a due occurrence."""

    REMINDER = "reminder"
    NUDGE = "nudge"


@dataclass(frozen=True, order=True)
class Slot:
    """A weekday (0 Monday to 6 Sunday) and a local time."""

    weekday: int
    at: time

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ValueError(f"weekday {self.weekday} is not 0 to 6")

    @property
    def label(self) -> str:
        return f"{DAY_NAMES[self.weekday]} {self.at:%H:%M}"


@dataclass(frozen=True)
class QuietHours:
    """Local times between which nothing is sent: from `start` up to `end`, across
    midnight when `end` is earlier (22:00 to 07:00). Equal times mean none."""

    start: time
    end: time

    def covers(self, local: time) -> bool:
        """Whether the local time of day falls inside the quiet hours."""
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    @property
    def label(self) -> str:
        return f"{self.start:%H:%M} to {self.end:%H:%M}"


@dataclass(frozen=True)
class Settings:
    """A patient's reminders as they chose them, and the clinic's nudge setting."""

    slots: tuple[Slot, ...]
    zone: str
    since: datetime  # when reminders were last turned on (aware)
    quiet: QuietHours | None = None
    nudge_after_days: int = NUDGE_DAYS_DEFAULT


@dataclass(frozen=True)
class Occurrence:
    """One slot on one local date: its moment (UTC) and its place among the day's slots."""

    day: date
    slot: Slot
    at: datetime
    ordinal: int  # 1 for the day's first slot

    @property
    def name(self) -> str:
        """The day and the slot's place in it ("2026-11-03-1"), not its time: a slot moved
        later the same day is the same occurrence, already reminded of."""
        return f"{self.day.isoformat()}-{self.ordinal}"


@dataclass(frozen=True)
class Due:
    """Something to send now: a reminder for an occurrence, or the nudge in its place."""

    kind: Kind
    occurrence: Occurrence
    occasion: str  # unique per patient: the outbox key's occasion


def zone_of(name: str) -> ZoneInfo:
    """The IANA zone (UTC if the name is unknown)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def moment(day: date, at: time, zone: str) -> datetime:
    """The moment (UTC) of a local date and time: in a skipped hour, as far after the jump
    as the time is after its start; in a repeated hour, the first (RFC 5545, `fold=0`)."""
    return datetime.combine(day, at, tzinfo=zone_of(zone)).astimezone(UTC)


def occurrences(
    slots: Iterable[Slot], zone: str, after: datetime, until: datetime
) -> list[Occurrence]:
    """The occurrences whose moment is after `after` and at or before `until`, in order."""
    tz = zone_of(zone)
    by_day: dict[int, list[Slot]] = {}
    for slot in sorted(set(slots)):
        by_day.setdefault(slot.weekday, []).append(slot)
    if not by_day:
        return []
    first = after.astimezone(tz).date() - timedelta(days=1)
    last = until.astimezone(tz).date() + timedelta(days=1)
    found: list[Occurrence] = []
    day = first
    while day <= last:
        for ordinal, slot in enumerate(by_day.get(day.weekday(), ()), start=1):
            at = moment(day, slot.at, zone)
            if after < at <= until:
                found.append(Occurrence(day, slot, at, ordinal))
        day += timedelta(days=1)
    return sorted(found, key=lambda o: (o.at, o.slot))


def quiet_at(quiet: QuietHours | None, at: datetime, zone: str) -> bool:
    """Whether a moment falls inside quiet hours on the patient's clock."""
    return quiet is not None and quiet.covers(at.astimezone(zone_of(zone)).time())


def _sendable(settings: Settings, after: datetime, until: datetime) -> list[Occurrence]:
    return [
        o
        for o in occurrences(settings.slots, settings.zone, after, until)
        if not quiet_at(settings.quiet, o.at, settings.zone)
    ]


def next_due_at(settings: Settings, after: datetime) -> datetime | None:
    """The moment of the first sendable occurrence after `after` (None without slots):
    when the job should next look at this patient. Every rule is applied at an
    occurrence (the nudge too), so nothing can fall due in between."""
    start = max(after, settings.since)
    found = _sendable(settings, start, start + timedelta(days=_DAYS_AHEAD))
    return found[0].at if found else None


def covered(occurrence: Occurrence, entries: Sequence[datetime], zone: str, now: datetime) -> bool:
    """Whether the slot's day already has, by `now`, as many entries as the slot's place
    among the day's slots."""
    tz = zone_of(zone)
    done = sum(1 for e in entries if e <= now and e.astimezone(tz).date() == occurrence.day)
    return done >= occurrence.ordinal


def silence_since(
    settings: Settings,
    entries: Sequence[datetime],
    running_since: datetime | None,
    now: datetime,
    last_noted: datetime | None = None,
) -> datetime:
    """Where the count of days without an entry starts: the latest entry, the moment one
    was last noted (an entry for an earlier day, noted today, ends the silence too), the
    moment reminders were turned on, or the plan's latest start or resumption."""
    known = [e for e in entries if e <= now]
    if last_noted is not None and last_noted <= now:
        known.append(last_noted)
    return max([settings.since, *known, *([running_since] if running_since else [])])


def nudge_occurrence(settings: Settings, reference: datetime) -> Occurrence | None:
    """The occurrence that brings the nudge for a silence starting at `reference`: the
    first at least `nudge_after_days` later that is not the silence's first slot (so
    slots further apart than the nudge days bring their reminder first)."""
    threshold = reference + timedelta(days=settings.nudge_after_days)
    found = _sendable(settings, reference, threshold + timedelta(days=_DAYS_AHEAD))
    for index, occurrence in enumerate(found):
        if index > 0 and occurrence.at >= threshold:
            return occurrence
    return None


def due(
    settings: Settings,
    state: PlanState,
    entries: Sequence[datetime],
    now: datetime,
    running_since: datetime | None = None,
    last_noted: datetime | None = None,
) -> list[Due]:
    """What to send at `now`: every occurrence in the last `GRACE` (and since reminders
    were turned on) that the rules allow. `entries` are the moments of the patient's
    entries (sessions and skipped sessions noted), at least those of the last
    `nudge_after_days` days and the latest one; `last_noted` when the latest entry was
    noted (it may be dated days earlier)."""
    if state is not PlanState.ACTIVE:
        return []
    window = _sendable(settings, max(settings.since, now - GRACE), now)
    if not window:
        return []
    reference = silence_since(settings, entries, running_since, now, last_noted)
    nudge = nudge_occurrence(settings, reference)
    found: list[Due] = []
    nudged = False
    for occurrence in window:
        if nudge is not None and occurrence.at >= nudge.at:
            # The nudge's occasion again at every later slot, once a run: the outbox keeps
            # it to one message, and a nudge missed (a worker stopped over its slot) still
            # comes once instead of leaving silence with no nudge at all.
            if not nudged:
                occasion = f"nudge:{reference.astimezone(UTC):%Y%m%dT%H%M%S}"
                found.append(Due(Kind.NUDGE, occurrence, occasion))
                nudged = True
            continue  # after the nudge, silence until the next entry
        if covered(occurrence, entries, settings.zone, now):
            continue
        found.append(Due(Kind.REMINDER, occurrence, f"slot:{occurrence.name}"))
    return found


def proposed_slots(sessions: int, per_week: bool) -> tuple[Slot, ...]:
    """Slots proposed from a prescription: "N times a week" spreads N days over the week
    (three: Monday, Wednesday, Friday) at 19:00; "N times a day" proposes N times every
    day (twice: 08:00 and 19:00); at most `MAX_TIMES_A_DAY` a day."""
    if per_week:
        count = max(1, min(sessions, 7))
        days = sorted({i * 7 // count for i in range(count)})
        return tuple(Slot(d, _WEEKLY_TIME) for d in days)
    times = _DAY_TIMES[max(1, min(sessions, MAX_TIMES_A_DAY))]
    return tuple(Slot(d, t) for d in range(7) for t in times)


def slots_text(slots: Iterable[Slot]) -> str:
    """Slots as stored: "1@07:30 1@19:00 3@07:30" (ISO weekday, 1 Monday)."""
    return " ".join(f"{s.weekday + 1}@{s.at:%H:%M}" for s in sorted(set(slots)))


def parse_slots(text: str) -> tuple[Slot, ...]:
    """The slots of `slots_text`; anything malformed is left out."""
    found: list[Slot] = []
    for part in text.split():
        day, _, at = part.partition("@")
        try:
            hours, minutes = (int(n) for n in at.split(":"))
            found.append(Slot(int(day) - 1, time(hours, minutes)))
        except ValueError:
            continue
    return tuple(sorted(set(found)))

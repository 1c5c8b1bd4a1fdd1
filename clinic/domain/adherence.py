"""Adherence: sessions completed against sessions prescribed, over a window of days.

The clinical rule (issue 5), in plain terms:

- Each day prescribes what the stage in force that day asks for. A stage of "N a day"
  prescribes N sessions on each day; a stage of "N a week" prescribes N/7 of a session on
  each day, so any seven days add up to N. Stage changes mid-week mix the two frequencies
  day by day.
- A paused day prescribes nothing, nor does any day before the start or after the protocol
  was completed or replaced.
- A session counts as completed when it was done with the size prescribed for the stage in
  force for that entry (issue 16: a smaller or a larger size is not what was prescribed)
  and lasted at least a share (80% by default, a clinic setting) of that stage's minutes.
  Skipped and withdrawn entries never count. A session done with a larger size than
  prescribed is also noticed for a clinician's review (`larger_than_prescribed`).
- Adherence is completed / prescribed, never above 100% (extra sessions do not make up for
  another week), and there is no adherence at all (None, not 0%) for a window that
  prescribed nothing.

Pure functions over plain values: no Flask, no database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction

from clinic.domain.protocols import Event, Period, ProtocolStatus, in_force_on

DEFAULT_COMPLETION_PCT = 80


@dataclass(frozen=True)
class StageDose:
    """What one stage prescribes: `sessions` per `period`, each of `minutes`."""

    sessions: int
    period: Period
    minutes: int
    # The prescribed dilator (catalogue id and diameter), when known.
    size_id: int | None = None
    size_mm: float | None = None

    @property
    def per_day(self) -> Fraction:
        """Sessions prescribed on one day of this stage (exact, so weeks sum correctly)."""
        if self.period is Period.DAY:
            return Fraction(self.sessions)
        return Fraction(self.sessions, 7)


@dataclass(frozen=True)
class Schedule:
    """A protocol's prescription day by day: its timeline of events and, for each
    (version number, stage number), the dose that stage prescribes."""

    events: tuple[Event, ...]
    doses: Mapping[tuple[int, int], StageDose]

    def dose_on(self, day: date) -> StageDose | None:
        """The dose in force on `day`; None when the day prescribes nothing (before the
        start, paused, completed or replaced)."""
        state = in_force_on(self.events, day)
        if state is None or state.status is not ProtocolStatus.ACTIVE:
            return None
        return self.doses.get((state.version, state.stage))

    def prescribed_on(self, day: date) -> Fraction:
        """Sessions prescribed on `day` (a fraction for a weekly stage)."""
        dose = self.dose_on(day)
        return dose.per_day if dose else Fraction(0)

    def prescribed_between(self, first: date, last: date) -> Fraction:
        """Sessions prescribed from `first` to `last`, both included."""
        return sum((self.prescribed_on(day) for day in days_between(first, last)), Fraction(0))


@dataclass(frozen=True)
class Session:
    """A diary entry as adherence sees it: its clinic-local day, the prescription it was
    logged against, how long it lasted, and whether it was skipped or withdrawn."""

    on: date
    version: int
    stage: int
    minutes: int | None
    skipped: bool = False
    withdrawn: bool = False
    # The dilator used (catalogue id and diameter), when known.
    size_id: int | None = None
    size_mm: float | None = None


@dataclass(frozen=True)
class Adherence:
    """Adherence over the days `first` to `last` (both included)."""

    first: date
    last: date
    prescribed: float
    completed: int

    @property
    def percent(self) -> float | None:
        """Completed as a share of prescribed, 0-100; None when nothing was prescribed."""
        if self.prescribed <= 0:
            return None
        return min(100.0, 100.0 * self.completed / self.prescribed)

    @property
    def week_start(self) -> date:
        """The Monday of the calendar week `first` falls in."""
        return week_start(self.first)


def days_between(first: date, last: date) -> list[date]:
    """Every day from `first` to `last`, both included (empty if `last` is earlier)."""
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def week_start(day: date) -> date:
    """The Monday of `day`'s calendar week."""
    return day - timedelta(days=day.weekday())


# Half a tenth of a millimetre: diameters are kept to one decimal place.
_EPSILON_MM = 0.05


def with_prescribed_size(session: Session, dose: StageDose) -> bool:
    """Whether the session was done with the prescribed dilator (True when either is not
    known: nothing says otherwise)."""
    if session.size_id is None or dose.size_id is None:
        return True
    return session.size_id == dose.size_id


def larger_than_prescribed(session: Session, schedule: Schedule) -> bool:
    """Whether a session done (not skipped or withdrawn) used a dilator of a larger
    diameter than the stage it was logged against prescribes: a patient moving up on their
    own, which a clinician should review."""
    if session.skipped or session.withdrawn or session.size_mm is None:
        return False
    dose = schedule.doses.get((session.version, session.stage))
    if dose is None or dose.size_mm is None:
        return False
    return session.size_mm > dose.size_mm + _EPSILON_MM


def counts_as_completed(
    session: Session, schedule: Schedule, completion_pct: int = DEFAULT_COMPLETION_PCT
) -> bool:
    """Whether a session counts as done: not skipped or withdrawn, done with the size
    prescribed for the stage it was logged against, and at least `completion_pct`% of
    that stage's minutes."""
    if session.skipped or session.withdrawn or session.minutes is None:
        return False
    dose = schedule.doses.get((session.version, session.stage))
    if dose is None or not with_prescribed_size(session, dose):
        return False
    # Whole numbers: 8 of 10 minutes is exactly 80%, with no float rounding at the edge.
    return session.minutes * 100 >= completion_pct * dose.minutes


def adherence_between(
    schedule: Schedule,
    sessions: Iterable[Session],
    first: date,
    last: date,
    completion_pct: int = DEFAULT_COMPLETION_PCT,
) -> Adherence:
    """Adherence from `first` to `last`, both included."""
    completed = sum(
        1
        for s in sessions
        if first <= s.on <= last and counts_as_completed(s, schedule, completion_pct)
    )
    return Adherence(
        first=first,
        last=last,
        prescribed=float(schedule.prescribed_between(first, last)),
        completed=completed,
    )


def recent_adherence(
    schedule: Schedule,
    sessions: Iterable[Session],
    today: date,
    days: int,
    completion_pct: int = DEFAULT_COMPLETION_PCT,
) -> Adherence:
    """Adherence over the last `days` days ending with `today` (7 and 28 are reported)."""
    if days < 1:
        raise ValueError("days must be at least 1")
    return adherence_between(
        schedule, sessions, today - timedelta(days=days - 1), today, completion_pct
    )


def weekly_adherence(
    schedule: Schedule,
    sessions: Sequence[Session],
    first: date,
    last: date,
    completion_pct: int = DEFAULT_COMPLETION_PCT,
) -> list[Adherence]:
    """Adherence per calendar week (Monday to Sunday), oldest first, for every week from
    the one holding `first` to the one holding `last`. The first week starts at `first`
    and the last stops at `last`: days outside the window count nothing (a report's period
    may start mid-week, and its sessions before `first` were never read)."""
    weeks: list[Adherence] = []
    monday = week_start(first)
    while monday <= last:
        sunday = min(monday + timedelta(days=6), last)
        start = max(monday, first)
        weeks.append(adherence_between(schedule, sessions, start, sunday, completion_pct))
        monday += timedelta(days=7)
    return weeks

"""Adherence: sessions completed against sessions prescribed, over a window of days.

The clinical rule (issue 5), in plain terms:

- Each day prescribes what the stage in force that day asks for, in whole sessions (issue
  16: nobody reads "12.6 prescribed"). A stage of "N a day" prescribes N sessions on each
  day. A stage of "N a week" prescribes N whole sessions in each calendar week (Monday to
  Sunday), each falling due at the end of its share of the week: the k-th of N (k = 1..N)
  on weekday ceil(7k/N) (1 = Monday). Once a week falls due on Sunday, twice a week on
  Thursday and Sunday, three times on Wednesday, Friday and Sunday; exactly N fall due in
  any seven days in a row. Stage changes mid-week mix the two frequencies day by day.
- Today counts only once it has been logged (a session or a skip) or has ended: until
  then the windows end yesterday, so a patient who logged every day never reads 86% for
  the 7 days before today's entry (`last_counted_day`). "The last N days" are always N
  whole days ending on that day (`last_days`): the window moves back a day, it is never
  cut to N - 1 days. Every figure named "last N days" (adherence, mean pain, the
  suggestion's adherence at a stage, on every page and document) takes its days from
  `last_days`, so one patient reads the same figure everywhere on the same day.
- A paused day prescribes nothing, nor does any day before the start or after the protocol
  was completed or replaced.
- A session counts as completed when it was done with the size prescribed for the stage in
  force on its day (issue 16: a smaller or a larger size is not what was prescribed)
  and lasted at least a share (80% by default, a clinic setting) of that stage's minutes.
  Skipped and withdrawn entries never count. A session done with a larger size than
  prescribed is also noticed for a clinician's review (`larger_than_prescribed`).
- A session is judged by the stage in force on its day, never by the version and stage
  it was saved under (review 16): a move up recorded late, dated back to the appointment,
  makes the sessions logged in between (against the old stage, with its size) sessions of
  the new stage done with another size. They do not count for the new stage, and a
  patient who switched to the new size after the appointment is not "larger than
  prescribed".
- Sessions count within their calendar week (the part of it inside the window), never
  more than that week asks: extra sessions do not make up for another week, and no figure
  ever reads "2 of 1". Sessions done early count toward the week's occasions that are not
  due yet (after the window's last day; a weekly stage's only: a daily stage's tomorrow
  is not done today), and those occasions then count as prescribed too
  (`credit_for_week`): three a week, two done by Monday evening reads "2 of 2", not
  "2 of 0". A whole week therefore prescribes exactly its N, whatever was logged.
- Adherence is completed / prescribed, never above 100%, and there is no adherence at all
  (None, not 0%) for a window that prescribed nothing (sessions on days that prescribed
  nothing, before the start or while paused, do not count either).
- Adherence counts from the day the patient began the diary (`diary_since`: the day they
  joined the portal), when that is later than the window's first day. A plan often starts
  at the appointment and the invitation is accepted days later: nothing could be logged
  before, so those days are neither prescribed nor missed (a patient who joined today
  never reads 0% for the weeks before). Sessions logged afterwards for those days (the
  diary takes entries a week back) stay in the diary but are not counted either. A window
  wholly before it has no figure, and says so (`Adherence.before_diary`), rather than
  "nothing prescribed".

Pure functions over plain values: no Flask, no database.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from clinic.domain.protocols import Event, InForce, Period, ProtocolStatus, in_force_on

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

    def on(self, day: date) -> int:
        """Whole sessions this stage prescribes on `day`: all of a daily stage's, or the
        sessions of a weekly stage that fall due that weekday (see the module docstring)."""
        if self.period is Period.DAY:
            return self.sessions
        return weekly_due_on(self.sessions, day.isoweekday())


@dataclass(frozen=True)
class Schedule:
    """A protocol's prescription day by day: its timeline of events and, for each
    (version number, stage number), the dose that stage prescribes."""

    events: tuple[Event, ...]
    doses: Mapping[tuple[int, int], StageDose]
    # What is in force on each day asked about, worked out once: the rules ask about the
    # same days again and again (every session of a day, every window holding it). The
    # events never change once the schedule is made.
    _in_force: dict[date, InForce | None] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )

    def in_force_on(self, day: date) -> InForce | None:
        """`clinic.domain.protocols.in_force_on` for this schedule's events, remembered."""
        try:
            return self._in_force[day]
        except KeyError:
            state = self._in_force[day] = in_force_on(self.events, day)
            return state

    def dose_on(self, day: date) -> StageDose | None:
        """The dose in force on `day`; None when the day prescribes nothing (before the
        start, paused, completed or replaced)."""
        state = self.in_force_on(day)
        if state is None or state.status is not ProtocolStatus.ACTIVE:
            return None
        return self.doses.get((state.version, state.stage))

    def stage_on(self, day: date) -> tuple[int, int] | None:
        """The (version number, stage number) in force on `day`, whatever the status
        (a paused plan still has a stage and a size); None before the start."""
        state = self.in_force_on(day)
        return (state.version, state.stage) if state is not None else None

    def prescribed_on(self, day: date) -> int:
        """Whole sessions prescribed on `day`."""
        dose = self.dose_on(day)
        return dose.on(day) if dose else 0

    def prescribed_between(self, first: date, last: date) -> int:
        """Whole sessions prescribed from `first` to `last`, both included."""
        return sum(self.prescribed_on(day) for day in days_between(first, last))


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
    """Adherence over the days `first` to `last` (both included): the sessions prescribed
    (due in the window, plus the later occasions of its last week that sessions done early
    already cover) and those completed toward them, never more than prescribed."""

    first: date
    last: date
    prescribed: int
    completed: int
    # The whole window lies before the patient began the diary: nothing is known of it.
    before_diary: bool = False

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


def weekly_due_on(sessions: int, weekday: int) -> int:
    """How many of a weekly stage's `sessions` fall due on ISO `weekday` (1 = Monday ...
    7 = Sunday): the k-th on weekday ceil(7k / sessions). Every week adds up to `sessions`
    and any seven days in a row do too."""
    return sum(1 for k in range(1, sessions + 1) if -(-7 * k // sessions) == weekday)


def last_counted_day(sessions: Iterable[Session], today: date) -> date:
    """The last day adherence counts: today once something was logged today (a session
    or a skip, not withdrawn), otherwise yesterday, the last day that has ended."""
    logged = any(s.on == today and not s.withdrawn for s in sessions)
    return today if logged else today - timedelta(days=1)


def last_days(days: int, sessions: Iterable[Session], today: date) -> tuple[date, date]:
    """The first and last day of "the last `days` days" on `today`: `days` whole days
    ending on the last day that counts (`last_counted_day`), so yesterday and the days
    before it until something is logged today."""
    if days < 1:
        raise ValueError("days must be at least 1")
    last = last_counted_day(sessions, today)
    return last - timedelta(days=days - 1), last


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


def judged_stage(session: Session, schedule: Schedule) -> tuple[int, int]:
    """The (version number, stage number) a session is judged against: the one in force
    on its day, not the one it was saved under (see the module docstring); the latter only
    for a day before the start, where nothing else says what was prescribed."""
    return schedule.stage_on(session.on) or (session.version, session.stage)


def larger_than_prescribed(session: Session, schedule: Schedule) -> bool:
    """Whether a session done (not skipped or withdrawn) used a dilator of a larger
    diameter than the stage in force on its day prescribes (paused or not): a patient
    moving up on their own, which a clinician should review."""
    if session.skipped or session.withdrawn or session.size_mm is None:
        return False
    dose = schedule.doses.get(judged_stage(session, schedule))
    if dose is None or dose.size_mm is None:
        return False
    return session.size_mm > dose.size_mm + _EPSILON_MM


def counts_as_completed(
    session: Session, schedule: Schedule, completion_pct: int = DEFAULT_COMPLETION_PCT
) -> bool:
    """Whether a session counts as done: not skipped or withdrawn, on a day that
    prescribes (running, not paused), done with the size prescribed by the stage in force
    on its day, and at least `completion_pct`% of that stage's minutes. The version and
    stage the session was saved under play no part (see the module docstring)."""
    if session.skipped or session.withdrawn or session.minutes is None:
        return False
    dose = schedule.dose_on(session.on)
    if dose is None or not with_prescribed_size(session, dose):
        return False
    # Whole numbers: 8 of 10 minutes is exactly 80%, with no float rounding at the edge.
    return session.minutes * 100 >= completion_pct * dose.minutes


def credit_for_week(due: int, done: int, still_to_come: int) -> tuple[int, int]:
    """(prescribed, completed) for the part of one calendar week inside a window: `due`
    occasions fell due in it, `done` sessions were completed in it, and `still_to_come`
    occasions of the same week fall due after the window (a weekly stage's). Sessions
    beyond those due count toward the occasions still to come, which then count as
    prescribed; beyond those too they count for nothing. So completed is never more than
    prescribed, and prescribed never more than the week's occasions."""
    if min(due, done, still_to_come) < 0:
        raise ValueError("occasions and sessions are never negative")
    prescribed = due + min(max(done - due, 0), still_to_come)
    return prescribed, min(done, prescribed)


def _still_to_come(schedule: Schedule, after: date) -> int:
    """Occasions of weekly stages due after `after` in the same calendar week."""
    sunday = week_start(after) + timedelta(days=6)
    total = 0
    for day in days_between(after + timedelta(days=1), sunday):
        dose = schedule.dose_on(day)
        if dose is not None and dose.period is Period.WEEK:
            total += dose.on(day)
    return total


def adherence_between(
    schedule: Schedule,
    sessions: Iterable[Session],
    first: date,
    last: date,
    completion_pct: int = DEFAULT_COMPLETION_PCT,
    *,
    today: date | None = None,
    diary_since: date | None = None,
) -> Adherence:
    """Adherence from `first` to `last`, both included, counted calendar week by calendar
    week (`credit_for_week`); given `today`, no later than the last day that counts
    (`last_counted_day`); given `diary_since`, from that day at the earliest (a window
    ending before it: no figure, `before_diary`)."""
    sessions = list(sessions)
    if today is not None:
        last = min(last, last_counted_day(sessions, today))
    if diary_since is not None and diary_since > first:
        if diary_since > last:
            return Adherence(first=first, last=last, prescribed=0, completed=0, before_diary=True)
        first = diary_since
    done_on = Counter(
        s.on
        for s in sessions
        if first <= s.on <= last and counts_as_completed(s, schedule, completion_pct)
    )
    prescribed = completed = 0
    monday = week_start(first)
    while first <= last and monday <= last:
        start, end = max(monday, first), min(monday + timedelta(days=6), last)
        week_prescribed, week_completed = credit_for_week(
            due=schedule.prescribed_between(start, end),
            done=sum(done_on[day] for day in days_between(start, end)),
            still_to_come=_still_to_come(schedule, end),
        )
        prescribed += week_prescribed
        completed += week_completed
        monday += timedelta(days=7)
    return Adherence(first=first, last=last, prescribed=prescribed, completed=completed)


@dataclass(frozen=True)
class Tally:
    """What a patient reads about their own sessions from `first` to `last`: the
    adherence figures (`completed` of `prescribed`, whole and capped by
    `adherence_between`), the sessions done as prescribed beyond those (`extra`, said
    apart so no figure reads "2 of 1"), and the sessions done that count for nothing
    (`not_counted`: another size, or shorter than the share of the minutes that counts)."""

    prescribed: int
    completed: int
    extra: int
    not_counted: int


def tally_between(
    schedule: Schedule,
    sessions: Iterable[Session],
    first: date,
    last: date,
    completion_pct: int = DEFAULT_COMPLETION_PCT,
    *,
    diary_since: date | None = None,
) -> Tally:
    """The patient's own figures from `first` to `last`, both included: the whole days'
    prescription (days still to come in the window included, so a week reads "2 of 7" on
    Tuesday) and what was done toward it, by the adherence rules, from `diary_since` at
    the earliest."""
    sessions = list(sessions)
    adherence = adherence_between(
        schedule, sessions, first, last, completion_pct, diary_since=diary_since
    )
    if adherence.before_diary:
        return Tally(prescribed=0, completed=0, extra=0, not_counted=0)
    first = adherence.first  # from the day the diary began, when that is later
    done = [s for s in sessions if first <= s.on <= last and not s.skipped and not s.withdrawn]
    as_prescribed = sum(1 for s in done if counts_as_completed(s, schedule, completion_pct))
    return Tally(
        prescribed=adherence.prescribed,
        completed=adherence.completed,
        extra=as_prescribed - adherence.completed,
        not_counted=len(done) - as_prescribed,
    )


def recent_adherence(
    schedule: Schedule,
    sessions: Iterable[Session],
    last: date,
    days: int,
    completion_pct: int = DEFAULT_COMPLETION_PCT,
    *,
    today: date | None = None,
    diary_since: date | None = None,
) -> Adherence:
    """Adherence over the `days` days ending with `last` (7 and 28 are reported). Given
    `today`, they are the last `days` days that count (`last_days`): the last 7 days of a
    patient who has not logged today are the 7 days ending yesterday. Given
    `diary_since`, they start no earlier than that day."""
    if days < 1:
        raise ValueError("days must be at least 1")
    sessions = list(sessions)
    first = last - timedelta(days=days - 1)
    if today is not None:
        counted_first, counted_last = last_days(days, sessions, today)
        if counted_last < last:
            first, last = counted_first, counted_last
    return adherence_between(
        schedule, sessions, first, last, completion_pct, diary_since=diary_since
    )


def weekly_adherence(
    schedule: Schedule,
    sessions: Sequence[Session],
    first: date,
    last: date,
    completion_pct: int = DEFAULT_COMPLETION_PCT,
    *,
    today: date | None = None,
    diary_since: date | None = None,
) -> list[Adherence]:
    """Adherence per calendar week (Monday to Sunday), oldest first, for every week from
    the one holding `first` to the one holding `last`. The first week starts at `first`
    and the last stops at `last`: days outside the window count nothing (a report's period
    may start mid-week, and its sessions before `first` were never read). Given `today`,
    the weeks stop at the last day that counts (`last_counted_day`); given `diary_since`,
    the weeks before it have no figure and the week holding it counts from it."""
    if today is not None:
        last = min(last, last_counted_day(sessions, today))
    weeks: list[Adherence] = []
    monday = week_start(first)
    while monday <= last:
        sunday = min(monday + timedelta(days=6), last)
        start = max(monday, first)
        weeks.append(
            adherence_between(
                schedule, sessions, start, sunday, completion_pct, diary_since=diary_since
            )
        )
        monday += timedelta(days=7)
    return weeks

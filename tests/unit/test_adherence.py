"""Adherence rules: what a day prescribes, what counts as a completed session, and how
weeks and recent windows add up (examples and hypothesis properties)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clinic.domain.adherence import (
    Schedule,
    Session,
    StageDose,
    Tally,
    adherence_between,
    counts_as_completed,
    larger_than_prescribed,
    last_days,
    recent_adherence,
    tally_between,
    week_start,
    weekly_adherence,
    weekly_due_on,
)
from clinic.domain.protocols import Event, EventKind, Period, in_force_on

MONDAY = date(2026, 3, 2)
DAILY = StageDose(sessions=1, period=Period.DAY, minutes=10)
TWICE_DAILY = StageDose(sessions=2, period=Period.DAY, minutes=15)
THREE_A_WEEK = StageDose(sessions=3, period=Period.WEEK, minutes=20)


def schedule(*events: Event, doses=None) -> Schedule:
    """A schedule with stage 1 once a day, stage 2 three times a week, stage 3 twice a day."""
    return Schedule(
        events=events, doses=doses or {(1, 1): DAILY, (1, 2): THREE_A_WEEK, (1, 3): TWICE_DAILY}
    )


def start(on: date = MONDAY, stage: int = 1) -> Event:
    """A start event at `stage` of version 1."""
    return Event(EventKind.START, on, 1, stage)


def done(on: date, minutes: int = 10, stage: int = 1, **kw) -> Session:
    """A session logged against version 1, `stage`."""
    return Session(on=on, version=1, stage=stage, minutes=minutes, **kw)


def test_daily_stage_prescribes_its_sessions_each_day() -> None:
    """Once a day for a week prescribes 7; twice a day prescribes 14."""
    once = schedule(start())
    twice = schedule(start(stage=3))
    assert once.prescribed_between(MONDAY, MONDAY + timedelta(days=6)) == 7
    assert twice.prescribed_between(MONDAY, MONDAY + timedelta(days=6)) == 14


def test_weekly_stage_spreads_over_the_days_and_sums_to_the_week() -> None:
    """Three a week prescribes exactly 3 over any seven days, as whole sessions falling
    due on Wednesday, Friday and Sunday (never 3/7 of a session on a day)."""
    plan = schedule(start(stage=2))
    assert plan.prescribed_between(MONDAY, MONDAY + timedelta(days=6)) == 3
    assert plan.prescribed_between(MONDAY + timedelta(days=3), MONDAY + timedelta(days=9)) == 3
    week = [plan.prescribed_on(MONDAY + timedelta(days=n)) for n in range(7)]
    assert week == [0, 0, 1, 0, 1, 0, 1]


def test_nothing_is_prescribed_before_the_start() -> None:
    """Days before the start prescribe nothing, so their week has no adherence."""
    plan = schedule(start(MONDAY + timedelta(days=7)))
    week = adherence_between(plan, [], MONDAY, MONDAY + timedelta(days=6))
    assert week.prescribed == 0
    assert week.percent is None


def test_a_pause_prescribes_nothing_until_it_is_resumed() -> None:
    """Paused on Wednesday with a planned resume on Saturday: the plan stays paused past
    that date (issue 16: it was 4, counting Saturday and Sunday), so only Monday and
    Tuesday prescribe; resumed on Sunday, Sunday prescribes too."""
    pause = Event(
        EventKind.PAUSE, MONDAY + timedelta(days=2), 1, 1, resume_on=MONDAY + timedelta(days=5)
    )
    plan = schedule(start(), pause)
    assert plan.prescribed_between(MONDAY, MONDAY + timedelta(days=6)) == 2
    resumed = schedule(start(), pause, Event(EventKind.RESUME, MONDAY + timedelta(days=6), 1, 1))
    assert resumed.prescribed_between(MONDAY, MONDAY + timedelta(days=6)) == 3


def test_completed_and_replaced_protocols_prescribe_nothing_afterwards() -> None:
    """After completion or replacement, no day prescribes anything."""
    for kind in (EventKind.COMPLETE, EventKind.REPLACED):
        plan = schedule(start(), Event(kind, MONDAY + timedelta(days=3), 1, 1))
        assert plan.prescribed_between(MONDAY, MONDAY + timedelta(days=6)) == 3


def test_stage_change_mid_week_mixes_the_frequencies() -> None:
    """Once a day Mon-Wed, then three a week Thu-Sun: 3, plus the weekly sessions that fall
    due Thu-Sun (Friday's and Sunday's): 5 whole sessions (it was 3 + 4 x 3/7 = 4.7)."""
    plan = schedule(start(), Event(EventKind.ADVANCE, MONDAY + timedelta(days=3), 1, 2))
    week = adherence_between(plan, [], MONDAY, MONDAY + timedelta(days=6))
    assert week.prescribed == 5


def test_completion_threshold_is_a_share_of_the_stage_minutes() -> None:
    """8 of 10 minutes counts at 80%, 7 does not; a clinic setting of 70% accepts 7."""
    plan = schedule(start())
    assert counts_as_completed(done(MONDAY, 8), plan)
    assert not counts_as_completed(done(MONDAY, 7), plan)
    assert counts_as_completed(done(MONDAY, 7), plan, completion_pct=70)


def test_threshold_follows_the_stage_in_force_on_the_sessions_day() -> None:
    """12 minutes counts on a day of the 15-minute stage (80%) but not on a day of the
    20-minute one, whatever stage the entry was saved under (review 16: a move up dated
    back leaves entries saved against the old stage)."""
    plan = schedule(start(stage=3), Event(EventKind.ADVANCE, MONDAY + timedelta(days=1), 1, 2))
    for saved in (1, 2, 3):
        assert counts_as_completed(done(MONDAY, 12, stage=saved), plan)
        assert not counts_as_completed(done(MONDAY + timedelta(days=1), 12, stage=saved), plan)


def test_skipped_and_withdrawn_entries_never_count() -> None:
    """A skip or a withdrawn session is not a completed session."""
    plan = schedule(start())
    assert not counts_as_completed(done(MONDAY, None, skipped=True), plan)
    assert not counts_as_completed(done(MONDAY, 10, withdrawn=True), plan)


def test_week_percent_is_capped_at_100() -> None:
    """Ten sessions in a week of seven prescribed is 100%, not 143%, and reads "7 of 7":
    the three extra count for nothing (never "10 of 7")."""
    plan = schedule(start())
    sessions = [done(MONDAY + timedelta(days=i % 7)) for i in range(10)]
    week = adherence_between(plan, sessions, MONDAY, MONDAY + timedelta(days=6))
    assert (week.completed, week.prescribed) == (7, 7)
    assert week.percent == 100


def test_weekly_adherence_uses_monday_weeks_within_the_window() -> None:
    """From a Thursday to the Wednesday after next: three Monday-start weeks, the first
    counting Thursday to Sunday (the window's days) and the last Monday to Wednesday; a
    session before the window counts nowhere, as it would never have been read."""
    plan = schedule(start(MONDAY - timedelta(days=14)))
    first, last = MONDAY + timedelta(days=3), MONDAY + timedelta(days=16)
    sessions = [done(MONDAY), done(MONDAY + timedelta(days=4)), done(MONDAY + timedelta(days=14))]
    weeks = weekly_adherence(plan, sessions, first, last)
    assert [w.week_start for w in weeks] == [
        MONDAY,
        MONDAY + timedelta(days=7),
        MONDAY + timedelta(14),
    ]
    assert [w.first for w in weeks] == [first, MONDAY + timedelta(days=7), MONDAY + timedelta(14)]
    assert [w.prescribed for w in weeks] == [4, 7, 3]
    assert [w.completed for w in weeks] == [1, 0, 1]
    assert weeks[0].percent == 25
    assert weeks[2].percent == pytest.approx(100 / 3)


def test_recent_windows_end_on_the_given_day() -> None:
    """Last 7 days and last 28 days, today included."""
    today = MONDAY + timedelta(days=40)
    plan = schedule(start())
    sessions = [done(today - timedelta(days=i)) for i in range(7)]
    seven = recent_adherence(plan, sessions, today, 7)
    twenty_eight = recent_adherence(plan, sessions, today, 28)
    assert (seven.first, seven.last, seven.percent) == (today - timedelta(days=6), today, 100)
    assert twenty_eight.prescribed == 28 and twenty_eight.percent == 25


def test_week_start_is_monday() -> None:
    """Any day of a week maps to its Monday."""
    assert {week_start(MONDAY + timedelta(days=i)) for i in range(7)} == {MONDAY}


# ---------------------------------------------------------------------------------------
# Properties

DAY_OFFSETS = st.integers(min_value=0, max_value=55)
STAGES = st.sampled_from([1, 2, 3])


@st.composite
def timelines(draw) -> tuple[Event, ...]:
    """A start, then stage changes, pauses (with or without a planned resume) and resumes
    on increasing days; maybe a completion at the end."""
    day = draw(DAY_OFFSETS.map(lambda n: MONDAY + timedelta(days=n % 10)))
    stage = draw(STAGES)
    events = [Event(EventKind.START, day, 1, stage)]
    paused = False
    for _ in range(draw(st.integers(0, 6))):
        day += timedelta(days=draw(st.integers(1, 10)))
        if paused:
            events.append(Event(EventKind.RESUME, day, 1, stage))
            paused = False
        elif draw(st.booleans()):
            resume = draw(st.none() | st.integers(1, 8).map(lambda n, d=day: d + timedelta(n)))
            events.append(Event(EventKind.PAUSE, day, 1, stage, resume_on=resume))
            paused = True
        else:
            stage = draw(STAGES)
            events.append(Event(EventKind.ADVANCE, day, 1, stage))
    if draw(st.booleans()):
        events.append(
            Event(EventKind.COMPLETE, day + timedelta(days=draw(st.integers(1, 9))), 1, 1)
        )
    return tuple(events)


@st.composite
def session_lists(draw) -> list[Session]:
    """Entries of any kind on days around the schedule."""
    return draw(
        st.lists(
            st.builds(
                Session,
                on=DAY_OFFSETS.map(lambda n: MONDAY + timedelta(days=n)),
                version=st.just(1),
                stage=STAGES,
                minutes=st.none() | st.integers(1, 60),
                skipped=st.booleans(),
                withdrawn=st.booleans(),
            ),
            max_size=40,
        )
    )


WINDOWS = st.tuples(DAY_OFFSETS, st.integers(0, 40)).map(
    lambda t: (MONDAY + timedelta(days=t[0]), MONDAY + timedelta(days=t[0] + t[1]))
)


@given(timelines(), session_lists(), WINDOWS)
def test_percent_is_within_0_and_100_or_none(events, sessions, window) -> None:
    """Whatever the plan and the diary, adherence is 0-100, or None with nothing prescribed."""
    result = adherence_between(schedule(*events), sessions, *window)
    if result.prescribed == 0:
        assert result.percent is None
    else:
        assert 0 <= result.percent <= 100
    for week in weekly_adherence(schedule(*events), sessions, *window):
        assert week.percent is None or 0 <= week.percent <= 100


@given(session_lists(), WINDOWS)
def test_a_window_with_no_prescription_has_no_adherence(sessions, window) -> None:
    """Before the start nothing is prescribed: adherence is None, never 0%, even with
    sessions logged."""
    later = window[1] + timedelta(days=1)
    result = adherence_between(schedule(start(later)), sessions, *window)
    assert result.prescribed == 0
    assert result.percent is None


@given(timelines(), session_lists(), WINDOWS, DAY_OFFSETS, STAGES)
def test_adding_a_completed_session_never_lowers_adherence(
    events, sessions, window, offset, stage
) -> None:
    """One more full-length session can only keep or raise adherence. A window that
    prescribed nothing yet gains a figure only from a session done early toward an
    occasion still to come that week, and then reads 100%."""
    plan = schedule(*events)
    before = adherence_between(plan, sessions, *window)
    extra = done(MONDAY + timedelta(days=offset), minutes=60, stage=stage)
    after = adherence_between(plan, [*sessions, extra], *window)
    if before.percent is None:
        assert after.percent in (None, 100.0)
    else:
        assert after.percent >= before.percent


@given(WINDOWS, DAY_OFFSETS, st.integers(1, 20))
def test_pauses_reduce_prescribed_days(window, offset, length) -> None:
    """Pausing an active protocol for some days (then resuming it) never adds to what is
    prescribed, and takes away every day it covers inside the window."""
    active = schedule(start(MONDAY))
    pause_on = MONDAY + timedelta(days=offset)
    resume_on = pause_on + timedelta(days=length)
    paused = schedule(
        start(MONDAY),
        Event(EventKind.PAUSE, pause_on, 1, 1, resume_on=resume_on),
        Event(EventKind.RESUME, resume_on, 1, 1),
    )
    first, last = window
    covered = sum(1 for i in range(length) if first <= pause_on + timedelta(days=i) <= last)
    assert (
        paused.prescribed_between(first, last) == active.prescribed_between(first, last) - covered
    )


# ---------------------------------------------------------------------------------------
# Issue 16: only the prescribed size counts; a larger one is noticed

SIZED = StageDose(sessions=1, period=Period.DAY, minutes=10, size_id=3, size_mm=21.0)


def sized_schedule() -> Schedule:
    return Schedule(events=(start(),), doses={(1, 1): SIZED})


@pytest.mark.parametrize(
    ("size_id", "size_mm", "counts", "larger"),
    [
        (3, 21.0, True, False),  # the prescribed size
        (2, 18.0, False, False),  # a smaller size: not what was prescribed
        (4, 24.0, False, True),  # a larger size: not counted, and noticed
        (None, None, True, False),  # size not known: nothing says otherwise
    ],
)
def test_only_the_prescribed_size_counts_and_a_larger_one_is_noticed(
    size_id: int | None, size_mm: float | None, counts: bool, larger: bool
) -> None:
    """A session of the prescribed minutes counts only with the prescribed size; a larger
    diameter than prescribed is noticed for review."""
    s = done(MONDAY, size_id=size_id, size_mm=size_mm)
    assert counts_as_completed(s, sized_schedule()) is counts
    assert larger_than_prescribed(s, sized_schedule()) is larger


def test_a_skipped_or_withdrawn_larger_size_is_not_noticed() -> None:
    """Only sessions done are noticed: a withdrawn entry with a larger size is not."""
    s = done(MONDAY, size_id=4, size_mm=24.0, withdrawn=True)
    assert not larger_than_prescribed(s, sized_schedule())


@given(st.integers(1, 6), st.integers(1, 60))
def test_a_counted_session_is_never_a_larger_size(size_id: int, minutes: int) -> None:
    """Property: over a set whose sizes grow 3 mm apart (size 3 is 21 mm), a session that
    counts was done with the prescribed size, so it is never noticed for a larger one; and
    a session noticed never counts."""
    s = done(MONDAY, minutes=minutes, size_id=size_id, size_mm=12.0 + 3 * size_id)
    counted = counts_as_completed(s, sized_schedule())
    larger = larger_than_prescribed(s, sized_schedule())
    assert not (counted and larger)
    assert larger == (size_id > 3)
    if counted:
        assert s.size_id == SIZED.size_id


# ---------------------------------------------------------------------------------------
# Issue 16: whole sessions, and today counts once logged


@pytest.mark.parametrize(
    ("per_week", "due"),
    [
        (1, [0, 0, 0, 0, 0, 0, 1]),
        (2, [0, 0, 0, 1, 0, 0, 1]),
        (3, [0, 0, 1, 0, 1, 0, 1]),
        (7, [1, 1, 1, 1, 1, 1, 1]),
        (10, [1, 1, 2, 1, 2, 1, 2]),
    ],
)
def test_a_weekly_stage_falls_due_at_the_end_of_each_share_of_the_week(
    per_week: int, due: list[int]
) -> None:
    """The k-th of N weekly sessions falls due on weekday ceil(7k/N): whole sessions."""
    assert [weekly_due_on(per_week, d) for d in range(1, 8)] == due


def test_today_counts_once_logged() -> None:
    """A patient who logged every day of the last week reads 100% before logging today
    (the 7 days end yesterday), and 100% again once today is logged (not 86%)."""
    plan = schedule(start(MONDAY))
    today = MONDAY + timedelta(days=13)
    before = [done(MONDAY + timedelta(days=n)) for n in range(13)]
    waiting = recent_adherence(plan, before, today, 7, today=today)
    assert (waiting.completed, waiting.prescribed, waiting.last) == (7, 7, today - timedelta(1))
    logged = recent_adherence(plan, [*before, done(today)], today, 7, today=today)
    assert (logged.completed, logged.prescribed, logged.last) == (7, 7, today)


def test_the_last_n_days_move_back_a_day_until_today_is_logged() -> None:
    """The last 28 days are always 28 whole days: ending yesterday until something is
    logged today (a withdrawn entry is not), then ending today; never cut to 27."""
    today = MONDAY + timedelta(days=40)
    yesterday = today - timedelta(days=1)
    assert last_days(28, [], today) == (today - timedelta(days=28), yesterday)
    withdrawn = done(today, withdrawn=True)
    assert last_days(28, [withdrawn], today) == (today - timedelta(days=28), yesterday)
    skip = done(today, minutes=None, skipped=True)
    assert last_days(28, [skip], today) == (today - timedelta(days=27), today)
    assert last_days(1, [], today) == (yesterday, yesterday)
    with pytest.raises(ValueError):
        last_days(0, [], today)


def test_a_window_of_the_last_28_days_counts_28_days_before_today_is_logged() -> None:
    """Daily for 40 days, done on the 13 days before today, nothing yet today: the last
    28 days read 13 of 28 (the window moves back a day), not 13 of 27."""
    plan = schedule(start(MONDAY))
    today = MONDAY + timedelta(days=40)
    sessions = [done(today - timedelta(days=n)) for n in range(1, 14)]
    result = recent_adherence(plan, sessions, today, 28, today=today)
    assert (result.completed, result.prescribed) == (13, 28)
    assert (result.first, result.last) == last_days(28, sessions, today)


def test_a_skip_logged_today_counts_today_too() -> None:
    """A skip logged today is an entry for today: today's session is prescribed, not done."""
    plan = schedule(start(MONDAY))
    today = MONDAY + timedelta(days=6)
    entries = [done(MONDAY + timedelta(days=n)) for n in range(6)]
    entries.append(done(today, minutes=None, skipped=True))
    result = adherence_between(plan, entries, MONDAY, today, today=today)
    assert (result.completed, result.prescribed) == (6, 7)


def test_a_window_in_the_past_is_not_shortened() -> None:
    """Days before today have ended: a report's period ending last week keeps its end."""
    plan = schedule(start(MONDAY))
    result = adherence_between(
        plan, [], MONDAY, MONDAY + timedelta(days=6), today=MONDAY + timedelta(days=20)
    )
    assert result.prescribed == 7


def test_weekly_rows_stop_at_the_last_day_that_counts() -> None:
    """On a Wednesday with nothing logged yet, this week's row covers Monday and Tuesday."""
    plan = schedule(start(MONDAY))
    today = MONDAY + timedelta(days=9)
    weeks = weekly_adherence(plan, [], MONDAY, today, today=today)
    assert [(w.first, w.last, w.prescribed) for w in weeks] == [
        (MONDAY, MONDAY + timedelta(days=6), 7),
        (MONDAY + timedelta(days=7), MONDAY + timedelta(days=8), 2),
    ]


# ---------------------------------------------------------------------------------------
# Issue 16: the patient's own figures (the portal home) never read "2 of 1"


def test_the_patients_tally_keeps_extra_and_uncounted_sessions_apart() -> None:
    """Once a day, started on Wednesday: the week prescribes Wednesday to Sunday (5).
    Two sessions with the prescribed size on Wednesday read 1 of 1 that day plus 1 extra;
    one with another size counts for nothing and is said as such."""
    plan = Schedule(events=(start(MONDAY + timedelta(days=2)),), doses={(1, 1): SIZED})
    wednesday, sunday = MONDAY + timedelta(days=2), MONDAY + timedelta(days=6)
    sessions = [
        done(wednesday, size_id=3),
        done(wednesday, size_id=3),
        done(wednesday, size_id=4, size_mm=24.0),
        done(wednesday, size_id=3, skipped=True),
    ]
    assert tally_between(plan, sessions, wednesday, wednesday) == Tally(1, 1, 1, 1)
    assert tally_between(plan, sessions, MONDAY, sunday) == Tally(5, 2, 0, 1)


@given(timelines(), session_lists(), WINDOWS)
def test_the_patients_tally_never_reads_more_done_than_prescribed(events, sessions, window) -> None:
    """Property: completed never exceeds prescribed, agrees with `adherence_between`, and
    completed + extra + not counted is every session done (not skipped or withdrawn) in
    the window."""
    plan = schedule(*events)
    tally = tally_between(plan, sessions, *window)
    adherence = adherence_between(plan, sessions, *window)
    assert tally.completed <= tally.prescribed
    assert (tally.prescribed, tally.completed) == (adherence.prescribed, adherence.completed)
    first, last = window
    done_in = [s for s in sessions if first <= s.on <= last and not s.skipped and not s.withdrawn]
    assert tally.completed + tally.extra + tally.not_counted == len(done_in)
    assert min(tally.extra, tally.not_counted) >= 0


@given(timelines(), st.lists(DAY_OFFSETS, max_size=30))
def test_a_schedule_remembers_each_day_exactly_as_worked_out(events, offsets) -> None:
    """A schedule works out what is in force on a day once and remembers it: asked about
    days in any order and more than once, it answers what `in_force_on` works out afresh
    from the events, day by day (dose and stage alike)."""
    kept = schedule(*events)
    for n in offsets + offsets[::-1]:
        day = MONDAY + timedelta(days=n)
        fresh = schedule(*events)
        assert kept.in_force_on(day) == in_force_on(events, day)
        assert kept.dose_on(day) == fresh.dose_on(day)
        assert kept.stage_on(day) == fresh.stage_on(day)


# ---------------------------------------------------------------------------------------
# The day the diary began (the portal's invitation accepted)


def test_days_before_the_diary_began_are_neither_prescribed_nor_missed() -> None:
    """A daily plan started on Monday, the diary begun on Thursday, one session a day
    since: 4 of 4 (100%), not 4 of 7; the three days before could not be logged."""
    thursday = MONDAY + timedelta(days=3)
    sessions = [done(thursday + timedelta(days=n)) for n in range(4)]
    sunday = MONDAY + timedelta(days=6)
    plan = schedule(start())
    assert adherence_between(plan, sessions, MONDAY, sunday).percent == pytest.approx(400 / 7)
    since = adherence_between(plan, sessions, MONDAY, sunday, diary_since=thursday)
    assert (since.first, since.prescribed, since.completed) == (thursday, 4, 4)
    assert not since.before_diary


def test_a_window_wholly_before_the_diary_has_no_figure_and_says_why() -> None:
    """Last week, for a patient who began the diary today: no figure (not 0%), marked
    as before the diary rather than as a week that prescribed nothing; its days stay
    the window's own, so the week keeps its label."""
    today = MONDAY + timedelta(days=7)
    week = adherence_between(
        schedule(start()), [], MONDAY, MONDAY + timedelta(days=6), diary_since=today
    )
    assert week.before_diary and week.percent is None and week.prescribed == 0
    assert (week.first, week.week_start) == (MONDAY, MONDAY)
    assert recent_adherence(
        schedule(start()), [], today, 7, today=today, diary_since=today
    ).before_diary  # nothing logged today: the last 7 days end yesterday


def test_weekly_rows_before_the_diary_have_no_figure_and_the_first_counts_from_it() -> None:
    """Three weeks of a daily plan, the diary begun on the second week's Wednesday and
    kept every day since: the first week before the diary, the second 5 of 5, the third
    7 of 7."""
    wednesday = MONDAY + timedelta(days=9)
    last = MONDAY + timedelta(days=20)
    sessions = [done(wednesday + timedelta(days=n)) for n in range((last - wednesday).days + 1)]
    weeks = weekly_adherence(schedule(start()), sessions, MONDAY, last, diary_since=wednesday)
    assert [(w.before_diary, w.prescribed, w.completed) for w in weeks] == [
        (True, 0, 0),
        (False, 5, 5),
        (False, 7, 7),
    ]


def test_the_patients_tally_counts_from_the_day_the_diary_began() -> None:
    """The week the patient joined on Wednesday reads "2 of 5" by Thursday, not "2 of 7";
    sessions logged back for days before it are not counted either."""
    wednesday = MONDAY + timedelta(days=2)
    sessions = [done(MONDAY), done(wednesday), done(wednesday + timedelta(days=1))]
    tally = tally_between(
        schedule(start()), sessions, MONDAY, MONDAY + timedelta(days=6), diary_since=wednesday
    )
    assert tally == Tally(prescribed=5, completed=2, extra=0, not_counted=0)
    assert tally_between(
        schedule(start()), sessions, MONDAY, MONDAY + timedelta(days=1), diary_since=wednesday
    ) == Tally(prescribed=0, completed=0, extra=0, not_counted=0)


@given(timelines(), session_lists(), WINDOWS, DAY_OFFSETS)
def test_the_diary_start_is_the_same_as_a_window_starting_that_day(
    events, sessions, window, offset
) -> None:
    """Whatever the plan, the diary and the window: counting from the day the diary began
    is exactly counting a window that starts that day (when it falls inside), the whole
    window when it began earlier, and no figure when it began after."""
    plan = schedule(*events)
    first, last = window
    since = MONDAY + timedelta(days=offset)
    got = adherence_between(plan, sessions, first, last, diary_since=since)
    if since > last:
        assert got.before_diary and got.prescribed == got.completed == 0
        assert got.percent is None
    else:
        assert got == adherence_between(plan, sessions, max(first, since), last)

"""Adherence properties over generated plans and diaries: always 0-100, None (never 0%)
when nothing was prescribed, weekly figures capped at 100% however many extra sessions
were logged, never more completed than prescribed in any figure shown (sessions done early
count toward the week's occasions still to come), a whole week prescribing exactly its N,
and the weeks adding up to the whole (hypothesis)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from fractions import Fraction
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clinic.domain.adherence import (
    DEFAULT_COMPLETION_PCT,
    Schedule,
    Session,
    StageDose,
    adherence_between,
    counts_as_completed,
    credit_for_week,
    days_between,
    larger_than_prescribed,
    recent_adherence,
    week_start,
    weekly_adherence,
)
from clinic.domain.protocols import Event, EventKind, Period, in_force_on

MONDAY = date(2026, 3, 2)
DOSE = StageDose(sessions=1, period=Period.DAY, minutes=10)

# Within the stage editor's limits: 1-4 a day or 1-21 a week, 1-60 minutes.
DOSES = st.builds(
    StageDose, sessions=st.integers(1, 4), period=st.just(Period.DAY), minutes=st.integers(1, 60)
) | st.builds(
    StageDose, sessions=st.integers(1, 21), period=st.just(Period.WEEK), minutes=st.integers(1, 60)
)


def on(offset: int) -> date:
    """The day `offset` days after MONDAY."""
    return MONDAY + timedelta(days=offset)


@st.composite
def schedules(draw) -> Schedule:
    """A plan of 1-4 stages of any dose (daily or weekly) and a timeline of a start, then
    stage changes, pauses with or without a planned resume, resumes, and perhaps an end."""
    stage_count = draw(st.integers(1, 4))
    doses = {(1, n): draw(DOSES) for n in range(1, stage_count + 1)}
    stages = st.integers(1, stage_count)
    day = on(draw(st.integers(0, 20)))
    stage = draw(stages)
    events = [Event(EventKind.START, day, 1, stage)]
    paused = False
    for _ in range(draw(st.integers(0, 6))):
        day += timedelta(days=draw(st.integers(1, 12)))
        if paused:
            events.append(Event(EventKind.RESUME, day, 1, stage))
            paused = False
        elif draw(st.booleans()):
            resume = draw(st.none() | st.integers(1, 9).map(lambda n, d=day: d + timedelta(n)))
            events.append(Event(EventKind.PAUSE, day, 1, stage, resume_on=resume))
            paused = True
        else:
            stage = draw(stages)
            events.append(Event(EventKind.ADVANCE, day, 1, stage))
    if draw(st.booleans()):
        end = draw(st.sampled_from([EventKind.COMPLETE, EventKind.REPLACED]))
        events.append(Event(end, day + timedelta(days=draw(st.integers(1, 9))), 1, stage))
    return Schedule(events=tuple(events), doses=doses)


def entries(stage_count: int = 4) -> st.SearchStrategy[list[Session]]:
    """Diary entries of any kind (done, short, skipped, withdrawn, unknown stage) on days
    around the plan, several a day at times."""
    return st.lists(
        st.builds(
            Session,
            on=st.integers(-5, 70).map(on),
            version=st.just(1) | st.integers(1, 2),
            stage=st.integers(1, stage_count + 1),
            minutes=st.none() | st.integers(0, 90),
            skipped=st.booleans(),
            withdrawn=st.booleans(),
        ),
        max_size=25,
    )


WINDOWS = st.tuples(st.integers(-5, 60), st.integers(0, 45)).map(
    lambda t: (on(t[0]), on(t[0] + t[1]))
)


def full_sessions(schedule: Schedule, first: date, last: date, per_day: int) -> list[Session]:
    """`per_day` full-length sessions on every day from `first` to `last`, each logged
    against the stage in force that day (stage 1 when none is)."""
    sessions = []
    for day in days_between(first, last):
        state = in_force_on(schedule.events, day)
        version, stage = (state.version, state.stage) if state else (1, 1)
        sessions += [Session(day, version, stage, minutes=60)] * per_day
    return sessions


# ---------------------------------------------------------------------------------------
# 0-100, or None


@given(schedules(), entries(), WINDOWS)
def test_adherence_is_between_0_and_100_or_none(schedule, sessions, window) -> None:
    """Property: any plan, any diary, any window: a percentage within 0-100, or None."""
    result = adherence_between(schedule, sessions, *window)
    assert result.percent is None or 0 <= result.percent <= 100


@given(schedules(), entries(), WINDOWS)
def test_none_exactly_when_nothing_was_prescribed(schedule, sessions, window) -> None:
    """Property: adherence is None exactly when the window prescribed nothing, so "no
    prescription" is never shown as 0%."""
    result = adherence_between(schedule, sessions, *window)
    assert (result.percent is None) == (result.prescribed == 0)


@given(schedules(), entries(), WINDOWS)
def test_percent_is_completed_over_prescribed_capped_at_100(schedule, sessions, window) -> None:
    """Property: the percentage is exactly 100 x completed / prescribed, capped at 100."""
    result = adherence_between(schedule, sessions, *window)
    if result.prescribed:
        expected = min(100.0, 100.0 * result.completed / result.prescribed)
        assert result.percent == pytest.approx(expected)
        assert (result.percent == 100) == (result.completed >= result.prescribed)


@given(entries(), WINDOWS, st.integers(1, 30))
def test_a_window_before_the_start_has_no_adherence(sessions, window, gap) -> None:
    """Property: before the start of a daily plan nothing is prescribed: None, even with
    sessions logged in the window, which count for nothing (never "1 of 0")."""
    first, last = window
    plan = Schedule((Event(EventKind.START, last + timedelta(days=gap), 1, 1),), {(1, 1): DOSE})
    logged = [*sessions, Session(first, 1, 1, 60)]
    result = adherence_between(plan, logged, first, last)
    assert (result.prescribed, result.completed) == (0, 0)
    assert result.percent is None


@given(entries(), st.integers(0, 20), st.integers(1, 30))
def test_a_window_inside_an_open_pause_has_no_adherence(sessions, start, length) -> None:
    """Property: days paused with no planned resume prescribe nothing: None, not 0%."""
    pause_on = on(start + 3)
    plan = Schedule(
        (Event(EventKind.START, on(start), 1, 1), Event(EventKind.PAUSE, pause_on, 1, 1)),
        {(1, 1): DOSE},
    )
    result = adherence_between(plan, sessions, pause_on, pause_on + timedelta(days=length))
    assert result.percent is None


@given(entries(), st.sampled_from([EventKind.COMPLETE, EventKind.REPLACED]), st.integers(0, 30))
def test_a_window_after_the_end_has_no_adherence(sessions, end, length) -> None:
    """Property: after completion or replacement nothing is prescribed: None, not 0%."""
    plan = Schedule(
        (Event(EventKind.START, MONDAY, 1, 1), Event(end, on(10), 1, 1)), {(1, 1): DOSE}
    )
    assert adherence_between(plan, sessions, on(10), on(10 + length)).percent is None


@given(schedules(), entries(), st.integers(-5, 60), st.integers(1, 10))
def test_an_empty_window_has_no_adherence(schedule, sessions, start, back) -> None:
    """Property: a window that ends before it begins prescribes nothing: None."""
    first = on(start)
    result = adherence_between(schedule, sessions, first, first - timedelta(days=back))
    assert (result.prescribed, result.completed, result.percent) == (0, 0, None)


# ---------------------------------------------------------------------------------------
# Weeks


@given(schedules(), WINDOWS, st.integers(1, 3))
def test_weekly_adherence_never_exceeds_100_with_extra_sessions(schedule, window, extra) -> None:
    """Property: five or more full sessions logged every day, more than any stage asks,
    give exactly 100% in every week that prescribed something, never more."""
    first, last = window
    sessions = full_sessions(schedule, week_start(first), last, 4 + extra)
    for week in weekly_adherence(schedule, sessions, first, last):
        if week.prescribed == 0:
            assert week.percent is None
        else:
            assert week.completed >= week.prescribed
            assert week.percent == 100


@given(schedules(), entries(), WINDOWS, st.lists(st.integers(0, 70), max_size=30))
def test_extra_sessions_never_push_a_week_over_100(schedule, sessions, window, extra_days):
    """Property: adding any number of completed sessions keeps every week within 0-100."""
    first, last = window
    more = [*sessions, *(Session(on(d), 1, 1, 60) for d in extra_days for _ in range(3))]
    for week in weekly_adherence(schedule, more, first, last):
        assert week.percent is None or 0 <= week.percent <= 100


@given(schedules(), entries(), WINDOWS)
def test_weeks_are_consecutive_mondays_covering_the_window(schedule, sessions, window) -> None:
    """Property: weeks are the calendar weeks from the week of `first` to the week of
    `last`, on consecutive Mondays; each covers its days inside the window: the first
    starts on `first`, the last ends on `last`, the others run Monday to Sunday."""
    first, last = window
    weeks = weekly_adherence(schedule, sessions, first, last)
    assert weeks[0].first == first and weeks[0].week_start == week_start(first)
    assert weeks[-1].last == last
    for week in weeks:
        assert week.week_start.weekday() == 0
        assert week.first == max(week.week_start, first)
    for earlier, later in pairwise(weeks):
        assert later.week_start == earlier.week_start + timedelta(days=7)
        assert earlier.last == earlier.week_start + timedelta(days=6)


@given(schedules(), entries(), WINDOWS)
def test_weeks_add_up_to_the_whole(schedule, sessions, window) -> None:
    """Property: prescribed and completed over the weeks sum to those of the window."""
    first, last = window
    weeks = weekly_adherence(schedule, sessions, first, last)
    whole = adherence_between(schedule, sessions, first, last)
    assert sum(w.completed for w in weeks) == whole.completed
    assert sum(w.prescribed for w in weeks) == pytest.approx(whole.prescribed)


@given(st.integers(1, 21), st.integers(0, 60))
def test_any_seven_days_of_a_weekly_stage_prescribe_the_weekly_count(count, start) -> None:
    """Property: N a week prescribes exactly N over any seven consecutive active days."""
    dose = StageDose(sessions=count, period=Period.WEEK, minutes=10)
    plan = Schedule((Event(EventKind.START, MONDAY, 1, 1),), {(1, 1): dose})
    assert plan.prescribed_between(on(start), on(start + 6)) == count


# ---------------------------------------------------------------------------------------
# What counts, and which sessions are looked at


@given(DOSES, st.integers(0, 120), st.integers(1, 100))
def test_a_session_counts_exactly_at_its_share_of_the_minutes(dose, minutes, pct) -> None:
    """Property: a session counts exactly when its minutes reach `pct`% of the stage's
    minutes (exact arithmetic, no rounding at the boundary)."""
    plan = Schedule((Event(EventKind.START, MONDAY, 1, 1),), {(1, 1): dose})
    session = Session(MONDAY, 1, 1, minutes)
    expected = Fraction(minutes) >= Fraction(pct * dose.minutes, 100)
    assert counts_as_completed(session, plan, pct) == expected


@given(schedules(), st.integers(1, 4), st.integers(0, 90), st.booleans(), st.booleans())
def test_skipped_withdrawn_or_unknown_entries_never_count(
    schedule, stage, minutes, skipped, withdrawn
) -> None:
    """Property: a skip, a withdrawn entry, or one on a day that prescribes nothing
    (before the start, paused, ended) never counts as completed, however long."""
    session = Session(MONDAY, 1, stage, minutes, skipped=skipped, withdrawn=withdrawn)
    if skipped or withdrawn or schedule.dose_on(MONDAY) is None:
        assert not counts_as_completed(session, schedule)


# Sizes 1-6 of a set 3 mm apart (size 1 is 13 mm), as the catalogue's.
SIZES = st.integers(1, 6)


@st.composite
def sized_schedules(draw) -> Schedule:
    """A generated plan (`schedules`) whose stages each prescribe a dilator size."""
    plan = draw(schedules())
    doses = {
        key: replace(dose, size_id=(size := draw(SIZES)), size_mm=10.0 + 3 * size)
        for key, dose in plan.doses.items()
    }
    return Schedule(plan.events, doses)


@given(
    sized_schedules(),
    st.integers(-5, 80),
    st.integers(1, 3),
    st.integers(1, 6),
    st.none() | SIZES,
    st.integers(0, 60),
    st.booleans(),
    st.booleans(),
)
def test_a_session_is_judged_by_the_dose_in_force_on_its_day(
    schedule, offset, version, stage, size, minutes, skipped, withdrawn
) -> None:
    """Property (review 16): whether a session counts, and whether it was a larger size
    than prescribed, depend on the dose in force on its day only, never on the version and
    stage it was saved under (a move up dated back leaves entries saved against the old
    stage). It counts exactly when done on a day that prescribes, with that day's size (or
    a size not known) and at least 80% of that day's minutes; it is larger exactly when
    done with a wider dilator than the stage in force that day prescribes (paused too)."""
    day = on(offset)
    session = Session(
        day,
        version,
        stage,
        None if skipped else minutes,
        skipped=skipped,
        withdrawn=withdrawn,
        size_id=size,
        size_mm=None if size is None else 10.0 + 3 * size,
    )
    dose = schedule.dose_on(day)
    state = in_force_on(schedule.events, day)
    expected = (
        dose is not None
        and not skipped
        and not withdrawn
        and (size is None or size == dose.size_id)
        and minutes * 100 >= DEFAULT_COMPLETION_PCT * dose.minutes
    )
    assert counts_as_completed(session, schedule) is expected
    if state is not None:
        in_force = schedule.doses[(state.version, state.stage)]
        larger = not skipped and not withdrawn and size is not None and size > in_force.size_id
        assert larger_than_prescribed(session, schedule) is larger
        # The same entry saved under the stage in force judges the same.
        saved_right = replace(session, version=state.version, stage=state.stage)
        assert counts_as_completed(saved_right, schedule) is expected
        assert larger_than_prescribed(saved_right, schedule) is larger


@given(schedules(), entries(), WINDOWS, st.randoms(use_true_random=False))
def test_adherence_ignores_the_order_of_entries(schedule, sessions, window, rnd) -> None:
    """Property: shuffling the diary changes nothing."""
    shuffled = list(sessions)
    rnd.shuffle(shuffled)
    assert adherence_between(schedule, shuffled, *window) == adherence_between(
        schedule, sessions, *window
    )


@given(schedules(), entries(), WINDOWS)
def test_entries_outside_the_window_are_ignored(schedule, sessions, window) -> None:
    """Property: only entries dated inside the window count."""
    first, last = window
    inside = [s for s in sessions if first <= s.on <= last]
    assert adherence_between(schedule, sessions, first, last) == adherence_between(
        schedule, inside, first, last
    )


@given(schedules(), entries(), st.integers(0, 60).map(on), st.integers(1, 40))
def test_recent_adherence_covers_exactly_the_last_days(schedule, sessions, today, days) -> None:
    """Property: the last N days end today and hold exactly N days."""
    result = recent_adherence(schedule, sessions, today, days, DEFAULT_COMPLETION_PCT)
    assert result.last == today
    assert len(days_between(result.first, result.last)) == days
    assert result == adherence_between(schedule, sessions, result.first, today)


@pytest.mark.parametrize("days", [0, -1])
def test_recent_adherence_needs_at_least_one_day(days: int) -> None:
    """A window of zero or fewer days is a programming error, not "no adherence"."""
    plan = Schedule((Event(EventKind.START, MONDAY, 1, 1),), {(1, 1): DOSE})
    with pytest.raises(ValueError, match="at least 1"):
        recent_adherence(plan, [], MONDAY, days)


# ---------------------------------------------------------------------------------------
# Issue 16: whole sessions; today counts once logged


@given(schedules(), entries(), WINDOWS, st.integers(-5, 70).map(on) | st.none())
def test_prescribed_is_always_a_whole_number_of_sessions(schedule, sessions, window, today):
    """Property: any plan, diary and window (clipped at today or not), every day and every
    week prescribes whole sessions: no fraction of a session can ever be shown."""
    result = adherence_between(schedule, sessions, *window, today=today)
    assert isinstance(result.prescribed, int)
    for week in weekly_adherence(schedule, sessions, *window, today=today):
        assert isinstance(week.prescribed, int)


@given(schedules(), st.integers(7, 60), st.sampled_from([7, 28]), st.booleans())
def test_a_patient_who_logs_every_prescribed_session_reads_100_before_and_after_today(
    schedule, today_offset, days, logged_today
) -> None:
    """Property: full-length sessions for everything prescribed on every day up to
    yesterday (and today too, or not yet): the recent window reads 100% or nothing was
    prescribed, never less because today is not over."""
    today = on(today_offset)
    last = today if logged_today else today - timedelta(days=1)
    sessions = []
    for day in days_between(on(-5), last):
        state = in_force_on(schedule.events, day)
        version, stage = (state.version, state.stage) if state else (1, 1)
        sessions += [Session(day, version, stage, minutes=60)] * schedule.prescribed_on(day)
    result = recent_adherence(schedule, sessions, today, days, today=today)
    assert result.percent in (None, 100.0)
    # The window ends today exactly when something was logged today.
    assert (result.last == today) == any(s.on == today for s in sessions)


# ---------------------------------------------------------------------------------------
# Never more completed than prescribed (a part-week read "2 of 1 (100%)")


@given(st.integers(0, 21), st.integers(0, 40), st.integers(0, 21))
def test_a_weeks_credit_never_shows_more_done_than_prescribed(due, done, still_to_come) -> None:
    """Property: for any part of a week, completed <= prescribed; prescribed is at least
    what fell due and at most that plus what is still to come; every session up to that
    counts."""
    prescribed, completed = credit_for_week(due, done, still_to_come)
    assert completed <= prescribed
    assert due <= prescribed <= due + still_to_come
    assert completed == min(done, due + still_to_come)


@given(schedules(), entries(), WINDOWS, st.integers(-5, 70).map(on) | st.none())
def test_no_figure_shows_more_completed_than_prescribed(schedule, sessions, window, today):
    """Property: any plan, diary and window (clipped at today or not): the window, each of
    its weeks and the last 7 and 28 days never show more sessions completed than
    prescribed, and their percentage is exactly completed over prescribed (so never above
    100 with no cap needed)."""
    figures = [
        adherence_between(schedule, sessions, *window, today=today),
        *weekly_adherence(schedule, sessions, *window, today=today),
    ]
    if today is not None:
        figures += [recent_adherence(schedule, sessions, today, n, today=today) for n in (7, 28)]
    for figure in figures:
        assert 0 <= figure.completed <= figure.prescribed
        if figure.prescribed:
            assert figure.percent == pytest.approx(100 * figure.completed / figure.prescribed)
            assert figure.percent <= 100


@given(DOSES, entries(1), st.integers(0, 8), st.integers(1, 3))
def test_a_whole_week_prescribes_exactly_its_count(dose, sessions, week, extra) -> None:
    """Property: Monday to Sunday of an active single-stage plan prescribes exactly N a
    week (7N for N a day), whatever was logged: sessions done early never add to a week
    that is over, and extra sessions fill it at most."""
    plan = Schedule((Event(EventKind.START, MONDAY, 1, 1),), {(1, 1): dose})
    monday = on(7 * week)
    per_week = dose.sessions * (7 if dose.period is Period.DAY else 1)
    many = [*sessions, *(Session(monday, 1, 1, 60) for _ in range(per_week + extra))]
    for diary in (sessions, many):
        result = adherence_between(plan, diary, monday, monday + timedelta(days=6))
        assert result.prescribed == per_week
    assert adherence_between(plan, many, monday, monday + timedelta(days=6)).percent == 100


@given(st.integers(1, 21), st.integers(0, 6), st.integers(0, 25))
def test_sessions_done_early_count_toward_the_rest_of_the_week(count, weekday, done) -> None:
    """Property: N a week, the window ending on any day of the week with `done` full
    sessions logged on its Monday: the week reads what fell due plus as many of the
    occasions still to come as were done early (never more than N), all of them
    completed up to that."""
    dose = StageDose(sessions=count, period=Period.WEEK, minutes=10)
    plan = Schedule((Event(EventKind.START, MONDAY, 1, 1),), {(1, 1): dose})
    last = on(weekday)
    result = adherence_between(plan, [Session(MONDAY, 1, 1, 10)] * done, MONDAY, last)
    due = plan.prescribed_between(MONDAY, last)
    assert result.prescribed == max(due, min(done, count))
    assert result.completed == min(done, result.prescribed)


def test_two_sessions_early_in_the_week_read_2_of_2_not_2_of_1() -> None:
    """The case found in review: three a week (due Wednesday, Friday and Sunday), two
    sessions on Monday, the week so far up to Wednesday: "2 of 2 (100%)", not "2 of 1";
    a daily stage's extra session does not stand for tomorrow's: "1 of 1"."""
    weekly = Schedule(
        (Event(EventKind.START, MONDAY, 1, 1),),
        {(1, 1): StageDose(sessions=3, period=Period.WEEK, minutes=10)},
    )
    twice = [Session(MONDAY, 1, 1, 10), Session(MONDAY, 1, 1, 10)]
    wednesday = adherence_between(weekly, twice, MONDAY, on(2))
    assert (wednesday.completed, wednesday.prescribed, wednesday.percent) == (2, 2, 100.0)
    monday = adherence_between(weekly, twice, MONDAY, MONDAY)
    assert (monday.completed, monday.prescribed) == (2, 2)
    daily = Schedule((Event(EventKind.START, MONDAY, 1, 1),), {(1, 1): DOSE})
    assert adherence_between(daily, twice, MONDAY, MONDAY).completed == 1
    assert adherence_between(daily, twice, MONDAY, MONDAY).prescribed == 1

"""Flag rules: not logging, pain rising, ready to advance and review due, with their
boundaries, their episode keys and their severities (examples and hypothesis properties)."""

from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clinic.domain.flags import (
    DEFAULT_NOT_LOGGING_DAYS,
    FlagKind,
    ScoredDay,
    Severity,
    larger_size,
    not_logging,
    pain_means,
    pain_rising,
    ready_to_advance,
    review_due,
)

TODAY = date(2026, 3, 18)
DAYS = st.integers(-400, 400).map(lambda n: TODAY + timedelta(days=n))


def ago(n: int) -> date:
    """The day `n` days before TODAY."""
    return TODAY - timedelta(days=n)


def scored(*pairs: tuple[int, int]) -> list[ScoredDay]:
    """Sessions as (days ago, pain during) pairs."""
    return [ScoredDay(ago(n), pain) for n, pain in pairs]


# ---------------------------------------------------------------------------------------
# Kinds and severities


@pytest.mark.parametrize(
    ("kind", "severity", "label"),
    [
        (FlagKind.RED_FLAG, Severity.URGENT, "Urgent red flag"),
        (FlagKind.PAIN_RISING, Severity.ATTENTION, "Pain rising"),
        (FlagKind.NOT_LOGGING, Severity.ATTENTION, "Not logging"),
        (FlagKind.REVIEW_DUE, Severity.ATTENTION, "Review due"),
        (FlagKind.READY, Severity.INFO, "Ready to advance"),
    ],
)
def test_each_kind_has_its_severity_and_label(
    kind: FlagKind, severity: Severity, label: str
) -> None:
    """A red flag is urgent, ready-to-advance is information, the rest need attention."""
    assert kind.severity is severity
    assert kind.label == label


def test_severities_are_ordered_and_worded() -> None:
    """INFO < ATTENTION < URGENT, each with words (never colour alone)."""
    assert Severity.INFO < Severity.ATTENTION < Severity.URGENT
    assert [s.label for s in Severity] == ["For information", "Needs attention", "Urgent"]


def test_only_a_red_flag_is_urgent() -> None:
    """Of the five kinds, exactly one is urgent: the patient's own red flag."""
    assert [k for k in FlagKind if k.severity is Severity.URGENT] == [FlagKind.RED_FLAG]


# ---------------------------------------------------------------------------------------
# Not logging


def test_silence_of_exactly_n_days_raises() -> None:
    """Last entry 5 days ago with the default of 5: a not-logging signal."""
    signal = not_logging(ago(5), ago(60), TODAY)
    assert DEFAULT_NOT_LOGGING_DAYS == 5
    assert signal is not None
    assert signal.kind is FlagKind.NOT_LOGGING
    assert signal.key == f"not_logging:{ago(5).isoformat()}"
    assert signal.detail == "No diary entry for 5 days (last on 13 Mar 2026)"


def test_silence_of_n_minus_one_days_does_not_raise() -> None:
    """Last entry 4 days ago with the default of 5: nothing."""
    assert not_logging(ago(4), ago(60), TODAY) is None


def test_an_entry_today_never_raises() -> None:
    """Logged today: not silent at all."""
    assert not_logging(TODAY, ago(60), TODAY) is None


@pytest.mark.parametrize("days", [2, 7, 60])
def test_the_clinic_setting_sets_the_boundary(days: int) -> None:
    """With a clinic setting of N days: N days silent raises, N - 1 does not."""
    assert not_logging(ago(days), ago(100), TODAY, days) is not None
    assert not_logging(ago(days - 1), ago(100), TODAY, days) is None


def test_silence_counts_from_a_later_resume() -> None:
    """Last entry 20 days ago but resumed 3 days ago: only 3 days of silence, nothing."""
    assert not_logging(ago(20), ago(3), TODAY) is None


def test_silence_since_a_resume_names_the_resume() -> None:
    """Resumed 6 days ago, nothing logged since: counted and keyed from the resume."""
    signal = not_logging(ago(20), ago(6), TODAY)
    assert signal is not None
    assert signal.key == f"not_logging:{ago(6).isoformat()}"
    assert signal.detail == "No diary entry in the 6 days since 12 Mar 2026"


def test_never_logged_counts_from_the_start() -> None:
    """No entry ever: silence counts from the day the protocol started."""
    assert not_logging(None, ago(4), TODAY) is None
    signal = not_logging(None, ago(5), TODAY)
    assert signal is not None
    assert signal.key == f"not_logging:{ago(5).isoformat()}"
    assert signal.detail == "No diary entry in the 5 days since 13 Mar 2026"


def test_an_entry_on_the_start_day_is_the_last_entry() -> None:
    """An entry on the day the protocol started reads as the last entry."""
    signal = not_logging(ago(7), ago(7), TODAY)
    assert signal is not None
    assert signal.detail == "No diary entry for 7 days (last on 11 Mar 2026)"


def test_the_same_silence_keeps_its_key() -> None:
    """Day after day of the same silence: one episode, one key (raised once)."""
    keys = {not_logging(ago(30), ago(60), TODAY + timedelta(days=i)).key for i in range(10)}
    assert keys == {f"not_logging:{ago(30).isoformat()}"}


def test_a_new_entry_starts_a_new_episode() -> None:
    """Logging again, then falling silent again, raises under a new key."""
    first = not_logging(ago(30), ago(60), ago(20))
    second = not_logging(ago(10), ago(60), TODAY)
    assert first is not None and second is not None
    assert first.key != second.key


@given(st.one_of(st.none(), DAYS), DAYS, DAYS, st.integers(2, 60))
def test_not_logging_raises_exactly_after_n_silent_days(
    last_entry: date | None, running_since: date, today: date, days: int
) -> None:
    """Property: raised exactly when today is at least N days after the later of the last
    entry and the running-since day, keyed by that day."""
    since = running_since if last_entry is None else max(last_entry, running_since)
    signal = not_logging(last_entry, running_since, today, days)
    if (today - since).days >= days:
        assert signal is not None
        assert signal.kind is FlagKind.NOT_LOGGING
        assert signal.key == f"not_logging:{since.isoformat()}"
        assert str((today - since).days) in signal.detail
    else:
        assert signal is None


@given(st.one_of(st.none(), DAYS), DAYS, DAYS, st.integers(0, 30))
def test_a_silence_keeps_its_key_as_days_pass(
    last_entry: date | None, running_since: date, today: date, later: int
) -> None:
    """Property: once raised, the same silence gives the same key on every later day."""
    signal = not_logging(last_entry, running_since, today)
    if signal is not None:
        again = not_logging(last_entry, running_since, today + timedelta(days=later))
        assert again is not None
        assert again.key == signal.key


# ---------------------------------------------------------------------------------------
# Pain means and pain rising


def test_pain_means_split_into_this_week_and_the_week_before() -> None:
    """Days 0-6 ago are this week, 7-13 ago the week before; older and future days are out."""
    sessions = scored((0, 6), (6, 4), (7, 2), (13, 0), (14, 10), (-1, 10))
    assert pain_means(sessions, TODAY) == (5.0, 1.0)


def test_pain_means_are_none_for_an_empty_window() -> None:
    """A window without sessions has no mean (None, not 0)."""
    assert pain_means([], TODAY) == (None, None)
    assert pain_means(scored((1, 3)), TODAY) == (3.0, None)
    assert pain_means(scored((8, 3)), TODAY) == (None, 3.0)


def test_pain_windows_end_where_the_last_7_days_end() -> None:
    """Given the last day of "the last 7 days" (yesterday while today is not logged),
    pain means and pain rising count the 7 days ending on it, as adherence does: the
    session of 7 days ago (pain 0) is in, and the week before starts 14 days ago."""
    yesterday = ago(1)
    sessions = scored(*[(n, 5) for n in range(1, 7)], (7, 0), (14, 1))
    assert pain_means(sessions, yesterday) == (pytest.approx(30 / 7), 1.0)
    assert pain_means(sessions, TODAY) == (5.0, 0.0)
    signal = pain_rising(sessions, TODAY, yesterday)
    assert signal is not None
    assert signal.detail == (
        "Mean pain during 4.3 in the last 7 days, up from 1.0 in the 7 days before"
    )
    assert signal.key == f"pain_rising:{TODAY.toordinal() // 7}"


def test_a_rise_of_exactly_two_points_raises() -> None:
    """Mean 4.0 this week against 2.0 the week before: pain rising, with both means."""
    signal = pain_rising(scored((1, 4), (3, 4), (8, 2), (9, 2)), TODAY)
    assert signal is not None
    assert signal.kind is FlagKind.PAIN_RISING
    assert signal.detail == (
        "Mean pain during 4.0 in the last 7 days, up from 2.0 in the 7 days before"
    )


def test_a_rise_of_one_point_nine_does_not_raise() -> None:
    """Mean 3.9 against 2.0: short of two points, nothing."""
    this_week = [(i % 7, 4) for i in range(9)] + [(0, 3)]  # 39 / 10 = 3.9
    assert pain_means(scored(*this_week, (8, 2)), TODAY) == (3.9, 2.0)
    assert pain_rising(scored(*this_week, (8, 2)), TODAY) is None


def test_a_rise_of_exactly_two_between_thirds_raises() -> None:
    """Means 11/3 and 5/3 differ by exactly 2: raised, although floats put it a hair below."""
    sessions = scored((0, 4), (1, 4), (2, 3), (8, 2), (9, 2), (10, 1))
    assert pain_rising(sessions, TODAY) is not None


def test_a_falling_or_steady_pain_does_not_raise() -> None:
    """Pain going down, or staying the same, raises nothing."""
    assert pain_rising(scored((1, 1), (8, 6)), TODAY) is None
    assert pain_rising(scored((1, 5), (8, 5)), TODAY) is None


def test_a_rise_needs_sessions_in_both_weeks() -> None:
    """High pain this week with nothing the week before (or the reverse) raises nothing."""
    assert pain_rising(scored((1, 9), (2, 9)), TODAY) is None
    assert pain_rising(scored((8, 0), (15, 0)), TODAY) is None
    assert pain_rising([], TODAY) is None


def test_a_rise_keeps_its_key_within_a_seven_day_block() -> None:
    """The same rise seen on every day of a 7-day block has one key; the next block a new one."""
    block_start = date.fromordinal(TODAY.toordinal() // 7 * 7)
    keys = []
    for i in range(8):
        day = block_start + timedelta(days=i)
        signal = pain_rising([ScoredDay(day, 6), ScoredDay(day - timedelta(days=7), 1)], day)
        assert signal is not None
        keys.append(signal.key)
    assert len(set(keys[:7])) == 1
    assert keys[7] != keys[0]


PAIN_SESSIONS = st.lists(
    st.builds(ScoredDay, on=st.integers(-2, 20).map(ago), pain_during=st.integers(0, 10)),
    max_size=30,
)


@given(PAIN_SESSIONS)
def test_pain_rising_follows_the_exact_means(sessions: list[ScoredDay]) -> None:
    """Property: raised exactly when both weeks have sessions and this week's mean is at
    least 2 points above last week's, in exact arithmetic."""
    this_week = [s.pain_during for s in sessions if 0 <= (TODAY - s.on).days <= 6]
    week_before = [s.pain_during for s in sessions if 7 <= (TODAY - s.on).days <= 13]
    signal = pain_rising(sessions, TODAY)
    if this_week and week_before:
        rise = Fraction(sum(this_week), len(this_week)) - Fraction(
            sum(week_before), len(week_before)
        )
        assert (signal is not None) == (rise >= 2)
    else:
        assert signal is None


@st.composite
def exact_rises(draw) -> tuple[list[int], list[int]]:
    """Two weeks of whole pain scores whose means differ by exactly two points."""
    week_before = draw(st.lists(st.integers(0, 8), min_size=1, max_size=7))
    size = draw(st.integers(1, 7))
    # This week's total must be size * (mean before + 2), a whole number of points.
    total = Fraction(sum(week_before), len(week_before)) * size + 2 * size
    if total.denominator != 1 or total > 10 * size:
        return week_before, [p + 2 for p in week_before]
    total = int(total)
    this_week = [total // size] * size
    for i in range(total - sum(this_week)):
        this_week[i] += 1
    return week_before, this_week


@given(exact_rises())
def test_a_rise_of_exactly_two_always_raises(weeks: tuple[list[int], list[int]]) -> None:
    """Property: whenever the means differ by exactly 2.0, the rise is raised."""
    week_before, this_week = weeks
    sessions = [ScoredDay(ago(8 + i % 6), p) for i, p in enumerate(week_before)] + [
        ScoredDay(ago(i % 7), p) for i, p in enumerate(this_week)
    ]
    assert pain_rising(sessions, TODAY) is not None


@given(PAIN_SESSIONS, st.integers(-14, 14))
def test_a_rise_is_keyed_by_its_seven_day_block(sessions: list[ScoredDay], shift: int) -> None:
    """Property: the same diary moved by some days raises the same way, and under the same
    key exactly when the day it is seen on falls in the same 7-day block."""
    moved = [ScoredDay(s.on + timedelta(days=shift), s.pain_during) for s in sessions]
    later = TODAY + timedelta(days=shift)
    signal, moved_signal = pain_rising(sessions, TODAY), pain_rising(moved, later)
    assert (signal is None) == (moved_signal is None)
    if signal is not None:
        assert signal.key == f"pain_rising:{TODAY.toordinal() // 7}"
        same_block = TODAY.toordinal() // 7 == later.toordinal() // 7
        assert (moved_signal.key == signal.key) == same_block


# ---------------------------------------------------------------------------------------
# Ready to advance


def test_ready_to_advance_is_keyed_by_the_stage_reached() -> None:
    """The key names protocol, version, stage and the day the stage began; the detail the
    stage and the reasons."""
    signal = ready_to_advance(
        12, 2, 3, date(2026, 3, 1), "pain during and after ≤ 3 in 6 of the last 6"
    )
    assert signal.kind is FlagKind.READY
    assert signal.key == "ready:12:2:3:2026-03-01"
    assert signal.detail == "Stage 3: pain during and after ≤ 3 in 6 of the last 6"


def test_ready_to_advance_is_raised_once_per_stage() -> None:
    """Different reasons at the same stage keep the key; a new stage or version changes it."""
    first = ready_to_advance(12, 2, 3, date(2026, 3, 1), "one")
    assert ready_to_advance(12, 2, 3, date(2026, 3, 1), "two").key == first.key
    assert ready_to_advance(12, 2, 4, date(2026, 3, 20), "one").key != first.key
    assert ready_to_advance(12, 3, 3, date(2026, 3, 1), "one").key != first.key
    assert ready_to_advance(13, 2, 3, date(2026, 3, 1), "one").key != first.key


# ---------------------------------------------------------------------------------------
# Review due


def test_review_due_on_the_day() -> None:
    """On the review date: a review-due signal naming the date."""
    signal = review_due(TODAY, TODAY)
    assert signal is not None
    assert signal.kind is FlagKind.REVIEW_DUE
    assert signal.key == "review:2026-03-18"
    assert signal.detail == "Review planned for 18 Mar 2026"


def test_review_not_due_the_day_before() -> None:
    """The day before the review date: nothing."""
    assert review_due(TODAY + timedelta(days=1), TODAY) is None


def test_no_review_date_means_no_review_due() -> None:
    """No review date set: nothing, ever."""
    assert review_due(None, TODAY) is None


def test_day_names_have_no_leading_zero() -> None:
    """Early days of the month read "5 Mar 2026", not "05 Mar 2026"."""
    assert review_due(date(2026, 3, 5), TODAY).detail == "Review planned for 5 Mar 2026"


@given(DAYS, DAYS)
def test_review_due_on_and_after_the_date_only(review_on: date, today: date) -> None:
    """Property: due exactly when today is on or after the review date, keyed by that date
    (the same key every day after it)."""
    signal = review_due(review_on, today)
    if today >= review_on:
        assert signal is not None
        assert signal.key == f"review:{review_on.isoformat()}"
    else:
        assert signal is None


# ---------------------------------------------------------------------------------------
# Issue 16: pain after rises too; a larger size than prescribed


def test_pain_after_rising_alone_raises_pain_rising() -> None:
    """Pain during flat at 2, pain after from 1 to 4: "pain rising", naming pain after."""
    sessions = [ScoredDay(ago(n), 2, 1) for n in (10, 9, 8)]
    sessions += [ScoredDay(ago(n), 2, 4) for n in (2, 1, 0)]
    signal = pain_rising(sessions, TODAY)
    assert signal is not None and signal.kind is FlagKind.PAIN_RISING
    assert signal.detail == (
        "Mean pain after 4.0 in the last 7 days, up from 1.0 in the 7 days before"
    )


def test_pain_after_rising_less_than_two_points_raises_nothing() -> None:
    """Pain after from 2 to 3.9 (and pain during flat): nothing."""
    sessions = [ScoredDay(ago(n), 2, 2) for n in (10, 9)]
    sessions += [ScoredDay(ago(2), 2, 4), ScoredDay(ago(1), 2, 4), ScoredDay(ago(0), 2, 3)]
    assert pain_rising(sessions, TODAY) is None


@given(
    st.lists(
        st.builds(
            ScoredDay,
            on=st.integers(-2, 20).map(ago),
            pain_during=st.integers(0, 10),
            pain_after=st.integers(0, 10) | st.none(),
        ),
        max_size=12,
    )
)
def test_pain_rising_follows_either_mean(sessions: list[ScoredDay]) -> None:
    """Property: raised exactly when the mean pain during, or the mean pain after, of the
    last 7 days is at least 2 points above that of the 7 days before."""

    def rose(scores: list[tuple[date, int]]) -> bool:
        recent = [p for d, p in scores if ago(6) <= d <= TODAY]
        before = [p for d, p in scores if ago(13) <= d < ago(6)]
        return bool(recent and before) and (
            Fraction(sum(recent), len(recent)) - Fraction(sum(before), len(before)) >= 2
        )

    during = rose([(s.on, s.pain_during) for s in sessions])
    after = rose([(s.on, s.pain_after) for s in sessions if s.pain_after is not None])
    assert (pain_rising(sessions, TODAY) is not None) == (during or after)


def test_a_larger_size_is_its_own_kind_needing_attention() -> None:
    """ "Larger size than prescribed" needs attention, keyed by stage and size used."""
    signal = larger_size(7, 1, 2, 42, "Size 4 (24 mm)", "Size 3 (21 mm)", ago(1))
    assert signal.kind is FlagKind.LARGER_SIZE
    assert signal.kind.label == "Larger size than prescribed"
    assert signal.kind.severity is Severity.ATTENTION
    assert signal.key == "larger_size:7:1:2:42"
    assert signal.detail == (
        "Used a larger size than prescribed: Size 4 (24 mm) on 17 Mar 2026, where stage 2"
        " prescribes Size 3 (21 mm). Not counted towards moving up."
    )

"""Time counted in a clinic's working hours: examples a receptionist would check by hand
(a Friday afternoon, a weekend, a clock change), then properties over generated clinics
and moments (hypothesis): the answer never goes backwards, never lands outside opening
hours, and adding a then b equals adding a + b."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clinic.domain.working_hours import (
    OpeningHours,
    OpeningHoursError,
    add_working_hours,
    describe,
    describe_days,
    format_days,
    is_open,
    minute_of_day,
    next_opening,
    parse_days,
)

LONDON = "Europe/London"
WEEKDAYS = frozenset({1, 2, 3, 4, 5})
OFFICE = OpeningHours(LONDON, WEEKDAYS, time(8), time(18))


def london(*args: int) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(LONDON))  # type: ignore[misc]


def test_four_hours_from_friday_afternoon_end_on_monday_morning() -> None:
    """Friday 16:00 + 4 working hours: two on Friday, two from Monday 08:00."""
    assert add_working_hours(london(2026, 6, 5, 16), timedelta(hours=4), OFFICE) == london(
        2026, 6, 8, 10
    )


def test_counting_starts_at_the_next_opening_outside_hours() -> None:
    """A report on Saturday night counts from Monday 08:00; one at 06:00 from 08:00."""
    assert add_working_hours(london(2026, 6, 6, 23), timedelta(hours=1), OFFICE) == london(
        2026, 6, 8, 9
    )
    assert add_working_hours(london(2026, 6, 9, 6), timedelta(hours=3), OFFICE) == london(
        2026, 6, 9, 11
    )


def test_reaching_closing_time_exactly_stays_on_that_day() -> None:
    """The last working hour of a day ends at closing time, not the next morning."""
    assert add_working_hours(london(2026, 6, 9, 14), timedelta(hours=4), OFFICE) == london(
        2026, 6, 9, 18
    )


def test_hours_follow_the_clinic_clock_across_a_clock_change() -> None:
    """Over the spring clock change (29 March 2026 in London) Monday still opens at 08:00
    local time, which is 07:00 UTC."""
    friday = london(2026, 3, 27, 17)
    assert add_working_hours(friday, timedelta(hours=2), OFFICE) == datetime(
        2026, 3, 30, 8, tzinfo=UTC
    )
    assert next_opening(friday, OFFICE) == london(2026, 3, 30, 8)


def test_a_window_spanning_the_autumn_change_is_an_hour_longer() -> None:
    """A clinic open 00:00 to 06:00 on the night clocks go back works 7 real hours."""
    night = OpeningHours(LONDON, frozenset(range(1, 8)), time(0), time(6))
    start = london(2026, 10, 25, 0)
    assert add_working_hours(start, timedelta(hours=7), night) == london(2026, 10, 25, 6)


def test_is_open_from_opening_until_closing() -> None:
    """Open from 08:00, closed from 18:00, closed at weekends."""
    assert is_open(london(2026, 6, 9, 8), OFFICE)
    assert not is_open(london(2026, 6, 9, 18), OFFICE)
    assert not is_open(london(2026, 6, 13, 12), OFFICE)


def test_opening_hours_must_describe_some_time() -> None:
    """No working day, or closing before opening, is refused."""
    with pytest.raises(OpeningHoursError):
        OpeningHours(LONDON, frozenset(), time(8), time(18))
    with pytest.raises(OpeningHoursError):
        OpeningHours(LONDON, WEEKDAYS, time(18), time(8))


def test_days_and_hours_in_words() -> None:
    """What a patient reads about when the clinic works."""
    assert describe(OFFICE) == "Monday to Friday, 08:00 to 18:00"
    assert describe_days(frozenset({1, 3, 5})) == "Monday, Wednesday and Friday"
    assert describe_days(frozenset({6})) == "Saturday"
    assert describe_days(frozenset(range(1, 8))) == "every day"
    assert parse_days(format_days(WEEKDAYS)) == WEEKDAYS
    assert minute_of_day(8 * 60 + 30) == time(8, 30)


zones = st.sampled_from([LONDON, "America/New_York", "Australia/Sydney", "Asia/Kolkata", "UTC"])
clinics = st.builds(
    lambda zone, days, opens, length: OpeningHours(
        zone, frozenset(days), time(opens), time(min(opens + length, 23), 30)
    ),
    zones,
    st.sets(st.integers(1, 7), min_size=1),
    st.integers(5, 12),
    st.integers(1, 10),
)
moments = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
)
durations = st.integers(0, 60 * 60).map(lambda minutes: timedelta(minutes=minutes))


def _within(moment: datetime, hours: OpeningHours) -> bool:
    """Inside a window, closing time included."""
    window = hours.window(moment.astimezone(hours.tz).date())
    return window is not None and window[0] <= moment <= window[1]


@given(clinics, moments, durations, durations)
def test_working_hours_properties(
    hours: OpeningHours, start: datetime, a: timedelta, b: timedelta
) -> None:
    """Never before the start nor sooner than the hours themselves; monotonic in the
    duration; never outside opening hours; a then b is a + b."""
    after_a = add_working_hours(start, a, hours)
    after_ab = add_working_hours(start, a + b, hours)
    assert after_a >= start + a
    assert after_ab >= after_a
    assert _within(after_ab, hours)
    if a:
        assert add_working_hours(after_a, b, hours) == after_ab

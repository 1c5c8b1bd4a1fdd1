"""The per-account back-off rule: five free failures, then pauses of 1, 2, 4, 8 and at most
15 minutes; never a lock-out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clinic.domain.backoff import (
    FREE_FAILURES,
    LONGEST_PAUSE,
    is_paused,
    pause_after,
    paused_until,
)

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
failure_counts = st.integers(min_value=0, max_value=10**9)


@pytest.mark.parametrize(
    ("failures", "minutes"),
    [(0, 0), (1, 0), (5, 0), (6, 1), (7, 2), (8, 4), (9, 8), (10, 15), (11, 15), (500, 15)],
)
def test_pauses_grow_from_the_sixth_failure_and_stop_at_15_minutes(
    failures: int, minutes: int
) -> None:
    """Mistyping five times costs nothing; then 1, 2, 4, 8 minutes, then 15 at most."""
    assert pause_after(failures) == timedelta(minutes=minutes)


def test_no_pause_means_no_time() -> None:
    """Below the threshold there is no pause to wait for."""
    assert paused_until(FREE_FAILURES, NOW) is None
    assert paused_until(FREE_FAILURES + 1, NOW) == NOW + timedelta(minutes=1)


def test_a_pause_ends_when_it_says() -> None:
    """Attempts are refused until the pause's end, and allowed from that moment."""
    until = NOW + timedelta(minutes=2)
    assert is_paused(until, NOW)
    assert is_paused(until, until - timedelta(seconds=1))
    assert not is_paused(until, until)
    assert not is_paused(None, NOW)


@given(failures=failure_counts)
def test_never_longer_than_the_cap(failures: int) -> None:
    """However many failures, no pause exceeds 15 minutes: nobody is locked out for long."""
    assert timedelta(0) <= pause_after(failures) <= LONGEST_PAUSE


@given(failures=failure_counts)
def test_more_failures_never_shorten_the_pause(failures: int) -> None:
    """The pause grows (or stays at the cap) with every further failure."""
    assert pause_after(failures + 1) >= pause_after(failures)


@given(failures=st.integers(min_value=-(10**6), max_value=FREE_FAILURES))
def test_the_first_failures_are_free(failures: int) -> None:
    """Up to five failures in a row (or a nonsense count) never pause sign-in."""
    assert pause_after(failures) == timedelta(0)
    assert paused_until(failures, NOW) is None


@given(
    failures=failure_counts,
    seconds=st.integers(min_value=0, max_value=int(LONGEST_PAUSE.total_seconds()) * 2),
)
def test_a_pause_is_over_within_15_minutes_of_the_failure(failures: int, seconds: int) -> None:
    """Whatever the count, sign-in is possible again at most 15 minutes after the
    failure that started the pause."""
    until = paused_until(failures, NOW)
    later = NOW + timedelta(seconds=seconds)
    if later >= NOW + LONGEST_PAUSE:
        assert not is_paused(until, later)

"""When outcome measures are due: once, or at the start, every N weeks and at discharge."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clinic.domain.measure_schedule import (
    DEFAULT_GRACE_DAYS,
    Assignment,
    Cadence,
    occasions,
    states,
)

START = date(2026, 3, 2)


def repeating(every: int | None = 4, assigned_on: date = START, **kwargs) -> Assignment:
    return Assignment(Cadence.REPEATING, assigned_on, every_weeks=every, **kwargs)


def keys(found) -> list[str]:
    return [o.key for o in found]


def test_repeating_asks_at_the_start_then_every_n_weeks() -> None:
    """Baseline on the protocol's first day, then week 4, 8 and 12 by day 84."""
    found = occasions(
        repeating(4), protocol_start=START, discharged_on=None, until=START + timedelta(days=84)
    )
    assert keys(found) == ["baseline", "week-4", "week-8", "week-12"]
    assert [o.on for o in found][1] == START + timedelta(weeks=4)
    assert found[1].label == "week 4"


def test_discharge_ends_the_repeats_and_adds_a_last_occasion() -> None:
    """Discharged in week 6: baseline, week 4, then the discharge occasion; no week 8."""
    discharged = START + timedelta(weeks=6)
    found = occasions(
        repeating(4),
        protocol_start=START,
        discharged_on=discharged,
        until=START + timedelta(weeks=20),
    )
    assert keys(found) == ["baseline", "week-4", "discharge"]
    no_discharge = repeating(4, at_discharge=False)
    assert keys(
        occasions(no_discharge, protocol_start=START, discharged_on=discharged, until=discharged)
    ) == [
        "baseline",
        "week-4",
    ]


def test_nothing_is_asked_for_retrospectively() -> None:
    """Assigned in week 9: no baseline and no week 4 or 8; week 12 is the first occasion.
    Assigned within the grace period after the start, the baseline is still asked for."""
    late = repeating(4, assigned_on=START + timedelta(weeks=9))
    assert keys(
        occasions(late, protocol_start=START, discharged_on=None, until=START + timedelta(weeks=12))
    ) == ["week-12"]
    soon = repeating(4, assigned_on=START + timedelta(days=DEFAULT_GRACE_DAYS))
    assert keys(occasions(soon, protocol_start=START, discharged_on=None, until=START))[:1] == [
        "baseline"
    ]


def test_once_on_its_day_only() -> None:
    """A one-off measure has one occasion, from its day."""
    once = Assignment(Cadence.ONCE, START, on=START + timedelta(days=3))
    assert occasions(once, protocol_start=None, discharged_on=None, until=START) == []
    assert keys(
        occasions(once, protocol_start=None, discharged_on=None, until=START + timedelta(days=3))
    ) == ["once"]


def test_no_protocol_means_no_repeating_occasions() -> None:
    """Repeating measures follow the protocol: without one, nothing is due."""
    assert occasions(repeating(4), protocol_start=None, discharged_on=None, until=START) == []


def test_due_from_its_day_overdue_after_the_grace_period() -> None:
    """Open on its day (due), overdue once seven days have passed; answered: neither."""
    found = occasions(repeating(4), protocol_start=START, discharged_on=None, until=START)
    [on_day] = states(found, [], START)
    assert on_day.due and not on_day.overdue
    [last_grace_day] = states(found, [], START + timedelta(days=DEFAULT_GRACE_DAYS))
    assert not last_grace_day.overdue
    [late] = states(found, [], START + timedelta(days=DEFAULT_GRACE_DAYS + 1))
    assert late.overdue
    [answered] = states(found, ["baseline"], START + timedelta(days=30))
    assert answered.answered and not answered.due and not answered.overdue


def test_invalid_assignments_are_refused() -> None:
    """A one-off needs a day; a repeat is every 1 to 52 weeks."""
    with pytest.raises(ValueError):
        Assignment(Cadence.ONCE, START)
    with pytest.raises(ValueError):
        repeating(0)
    with pytest.raises(ValueError):
        repeating(53)


@given(
    every=st.integers(1, 12),
    assigned_after=st.integers(0, 120),
    until_after=st.integers(0, 400),
    discharge_after=st.one_of(st.none(), st.integers(0, 400)),
)
def test_occasions_are_ordered_unique_and_within_bounds(
    every: int, assigned_after: int, until_after: int, discharge_after: int | None
) -> None:
    """Property: occasions are in date order with distinct keys, never after `until`,
    never after discharge, and none before the assignment (a baseline or discharge within
    the grace period aside)."""
    assigned = START + timedelta(days=assigned_after)
    until = START + timedelta(days=until_after)
    discharged = START + timedelta(days=discharge_after) if discharge_after is not None else None
    found = occasions(
        repeating(every, assigned_on=assigned),
        protocol_start=START,
        discharged_on=discharged,
        until=until,
    )
    days = [o.on for o in found]
    assert days == sorted(days)
    assert len(set(keys(found))) == len(found)
    assert all(day <= until for day in days)
    if discharged:
        assert all(day <= discharged for day in days)
    for o in found:
        grace = (
            timedelta(days=DEFAULT_GRACE_DAYS)
            if o.key in ("baseline", "discharge")
            else timedelta()
        )
        assert o.on >= assigned - grace

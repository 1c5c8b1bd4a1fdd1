"""Care-flag rules from issue 16: repeated skips for pain or worry about pain, and a
"very much worse" global impression of change (examples and hypothesis properties)."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from clinic.domain.flags import (
    PAIN_SKIPS,
    PAIN_SKIPS_DAYS,
    PGIC_VERY_MUCH_WORSE,
    FlagKind,
    Severity,
    pain_skips,
    pgic_very_much_worse,
)

TODAY = date(2026, 3, 18)


def ago(*days: int) -> list[date]:
    return [TODAY - timedelta(days=n) for n in days]


def test_three_pain_skips_in_two_weeks_raise_a_flag() -> None:
    """Three skips for pain or fear of it within 14 days ask for a look, at "needs
    attention"; the detail says how many and the latest."""
    signal = pain_skips(ago(0, 5, 13), TODAY)
    assert signal is not None and signal.kind is FlagKind.PAIN_SKIPS
    assert FlagKind.PAIN_SKIPS.severity is Severity.ATTENTION
    assert signal.detail.startswith("3 sessions skipped for pain or worry about pain")


def test_skips_spread_wider_than_the_window_do_not() -> None:
    """Two in the window and one just outside it: no flag; nor for future-dated days."""
    assert pain_skips(ago(0, 5, 14), TODAY) is None
    assert pain_skips([*ago(0, 1), TODAY + timedelta(days=1)], TODAY) is None


def test_the_same_skips_seen_on_a_later_day_are_the_same_episode() -> None:
    """A flag once acknowledged is not raised again by the same skips a day later."""
    skips = ago(2, 3, 4)
    first = pain_skips(skips, TODAY)
    later = pain_skips(skips, TODAY + timedelta(days=1))
    assert first is not None and later is not None and first.key == later.key


@given(
    st.lists(st.integers(0, 40).map(lambda n: TODAY - timedelta(days=n)), max_size=10),
)
def test_a_flag_exactly_when_enough_skips_fall_in_the_window(days: list[date]) -> None:
    """Property: a signal exactly when at least PAIN_SKIPS skips fall within the last
    PAIN_SKIPS_DAYS days; its key is the block of the latest of them."""
    recent = [d for d in days if (TODAY - d).days < PAIN_SKIPS_DAYS]
    signal = pain_skips(days, TODAY)
    assert (signal is not None) == (len(recent) >= PAIN_SKIPS)
    if signal is not None:
        assert signal.key == f"pain_skips:{max(recent).toordinal() // PAIN_SKIPS_DAYS}"


@given(st.one_of(st.none(), st.integers(1, 7).map(float)))
def test_only_very_much_worse_raises_a_flag(answer: float | None) -> None:
    """Property: PGIC 7 ("very much worse") raises a flag keyed by its response; any
    other answer (or none) raises nothing."""
    signal = pgic_very_much_worse(42, answer, TODAY)
    assert (signal is not None) == (answer == PGIC_VERY_MUCH_WORSE)
    if signal is not None:
        assert signal.kind is FlagKind.PGIC_WORSE and signal.key == "pgic_worse:42"
        assert "very much worse" in signal.detail

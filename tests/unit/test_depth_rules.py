"""Depth after vaginoplasty: when a session's depth is a loss of depth (a red flag), and
the week-by-week depth trend clinicians read."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from clinic.domain.depth import (
    DEFAULT_DEPTH_DROP_CM,
    DEPTH_LOOKBACK_SESSIONS,
    DepthReading,
    DepthWeek,
    depth_by_week,
    depth_lost,
    week_start,
)
from clinic.domain.diary import (
    Bleeding,
    Concern,
    FlagReason,
    SessionReport,
    concerns_offered,
    red_flags,
)
from clinic.domain.indications import Indication
from clinic.domain.protocols import Route


def r(depth: float, mm: float = 32.5) -> DepthReading:
    return DepthReading(depth, mm)


# --- Loss of depth ----------------------------------------------------------------------


def test_the_default_is_one_centimetre_over_six_sessions() -> None:
    """The defaults the clinic setting starts from (their reasons are in the module)."""
    assert (DEFAULT_DEPTH_DROP_CM, DEPTH_LOOKBACK_SESSIONS) == (1.0, 6)


def test_more_than_the_set_amount_below_the_best_recent_session_is_a_loss() -> None:
    """15 cm recently, 13.9 today: a loss; 14.0 (exactly 1 cm) is not."""
    before = [r(14.5), r(15.0), r(14.6)]
    assert depth_lost(r(13.9), before)
    assert not depth_lost(r(14.0), before)


def test_only_the_last_sessions_are_compared() -> None:
    """A deep session seven sessions ago no longer counts."""
    before = [r(16.0)] + [r(14.0)] * DEPTH_LOOKBACK_SESSIONS
    assert not depth_lost(r(13.5), before)
    assert depth_lost(r(13.5), [*before[1:-1], r(16.0)])


def test_a_wider_size_going_less_deep_than_a_narrower_one_did_is_not_a_loss() -> None:
    """A new, wider size often goes less deep at first: only sessions with a dilator at
    least as wide are compared."""
    assert not depth_lost(r(12.0, 35.0), [r(14.0, 32.5)] * 3)
    assert depth_lost(r(12.0, 30.0), [r(14.0, 32.5)] * 3)


def test_no_earlier_depth_is_no_loss() -> None:
    """The first session with a depth has nothing to lose against."""
    assert not depth_lost(r(5.0), [])


def test_the_clinic_sets_the_amount() -> None:
    """A clinic that flags from 2 cm: a 1.5 cm drop is not a loss."""
    assert not depth_lost(r(13.5), [r(15.0)], drop_cm=2.0)
    assert depth_lost(r(13.5), [r(15.0)], drop_cm=0.5)


depths = st.floats(1.0, 25.0).map(lambda d: round(d, 1))
sizes = st.sampled_from([25.0, 27.5, 30.0, 32.5, 35.0])
readings = st.builds(DepthReading, depths, sizes)


@given(readings, st.lists(readings, max_size=12), st.sampled_from([0.5, 1.0, 1.5, 2.0]))
def test_a_loss_is_a_drop_beyond_the_amount_from_a_comparable_recent_session(
    now: DepthReading, before: list[DepthReading], drop: float
) -> None:
    """Property: a loss exactly when one of the last six sessions with a dilator at least
    as wide went more than `drop` deeper; going as deep as before or deeper never is."""
    comparable = [
        b.depth_cm for b in before[-DEPTH_LOOKBACK_SESSIONS:] if b.diameter_mm >= now.diameter_mm
    ]
    expected = bool(comparable) and max(comparable) - now.depth_cm > drop + 0.05
    assert depth_lost(now, before, drop) == expected
    assert not depth_lost(DepthReading(max(comparable, default=0) + 0.1, now.diameter_mm), before)


# --- The depth trend --------------------------------------------------------------------


def test_depths_are_grouped_by_week_from_monday() -> None:
    """Two weeks of readings in any order: per week, the sessions with a depth (whole
    numbers) and the deepest and shallowest."""
    monday = date(2026, 11, 2)
    readings = [
        (monday + timedelta(days=8), 14.0),
        (monday, 12.5),
        (monday + timedelta(days=6), 13.0),
        (monday + timedelta(days=7), 14.5),
    ]
    assert depth_by_week(readings) == [
        DepthWeek(monday, 2, 13.0, 12.5),
        DepthWeek(monday + timedelta(days=7), 2, 14.5, 14.0),
    ]
    assert depth_by_week([]) == []


@given(st.lists(st.tuples(st.dates(date(2025, 1, 1), date(2027, 1, 1)), depths), max_size=40))
def test_every_reading_falls_in_exactly_one_week(readings: list[tuple[date, float]]) -> None:
    """Property: the weeks are Mondays in order, their whole-number counts add up to the
    readings, and each week's deepest and shallowest bound its readings."""
    weeks = depth_by_week(readings)
    assert [w.week_of for w in weeks] == sorted({week_start(d) for d, _ in readings})
    assert all(w.week_of.weekday() == 0 for w in weeks)
    assert sum(w.sessions for w in weeks) == len(readings)
    assert all(isinstance(w.sessions, int) and w.sessions >= 1 for w in weeks)
    for w in weeks:
        mine = [x for d, x in readings if week_start(d) == w.week_of]
        assert (w.deepest, w.shallowest) == (max(mine), min(mine))


# --- The red flags ----------------------------------------------------------------------


def report(**kw) -> SessionReport:
    values = {"pain_during": 1, "pain_after": 1, "bleeding": Bleeding.NONE, "sharp_pain": False}
    return SessionReport(**{**values, **kw})


def test_a_loss_of_depth_raises_its_red_flag() -> None:
    """`depth_lost` adds the loss-of-depth flag, urgent, with plain words for clinicians."""
    assert red_flags(report(), 7, depth_lost=True) == [FlagReason.DEPTH_LOSS]
    assert FlagReason.DEPTH_LOSS.urgent and FlagReason.DEPTH_LOSS.label == "Loss of depth"
    assert red_flags(report(), 7) == []


def test_a_size_that_would_not_go_in_raises_its_red_flag() -> None:
    """The patient's "I could not insert the size I used before" raises an urgent flag."""
    flags = red_flags(report(concerns=frozenset({Concern.NOT_INSERTED})), 7)
    assert flags == [FlagReason.NOT_INSERTED]
    assert FlagReason.NOT_INSERTED.urgent
    assert Concern.NOT_INSERTED.label_for(True) == "I could not insert the size I used before"


def test_only_vaginoplasty_plans_ask_about_a_size_that_would_not_go_in() -> None:
    """The question is offered after vaginoplasty only."""
    for indication in Indication:
        for route in Route:
            asked = Concern.NOT_INSERTED in concerns_offered(route, indication)
            assert asked == (indication is Indication.VAGINOPLASTY)

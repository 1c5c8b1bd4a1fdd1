"""The charts' geometry (clinic.charts.layout): round values for an axis, date labels that
fit the width and never overlap, markers and labels spread apart, names wrapped."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clinic.charts.layout import (
    ELLIPSIS,
    Scale,
    data_ticks,
    date_ticks,
    marker_lanes,
    nice_step,
    spread,
    text_width,
    value_ticks,
    wrap,
)


def test_text_width_is_wider_for_wider_letters_and_bold() -> None:
    """ "mm" is wider than "ii"; bold is wider than regular; an unknown character counts as
    a full em, so a label in another script is never underestimated."""
    assert text_width("mm", 10) > text_width("ii", 10)
    assert text_width("28 Nov", 16, bold=True) > text_width("28 Nov", 16)
    assert text_width("日本", 10) == 20


def test_a_scale_maps_both_ways_and_a_single_value_to_the_middle() -> None:
    assert Scale(0, 10, 100, 0)(10) == 0 and Scale(0, 10, 100, 0)(5) == 50
    assert Scale(3, 3, 0, 100)(3) == 50


@pytest.mark.parametrize(
    ("span", "most", "step"), [(10, 10, 1), (10, 5, 2), (100, 4, 50), (34, 10, 5), (0.8, 10, 0.1)]
)
def test_nice_steps(span: float, most: int, step: float) -> None:
    assert nice_step(span, most) == pytest.approx(step)


def test_value_ticks_for_pain_wide_and_narrow() -> None:
    """0 to 10 on a tall axis: every level; on a short one, every other level."""
    assert value_ticks(0, 10, length=240, min_gap=22) == list(range(11))
    assert value_ticks(0, 10, length=190, min_gap=20) == [0, 2, 4, 6, 8, 10]


def test_value_ticks_prefer_the_ends_then_the_given_values() -> None:
    """A band starting at 19 of 20 is too close to the top to label; 8 and 15 are not."""
    ticks = value_ticks(0, 20, length=200, min_gap=20, first=[8, 15, 19], rounds=False)
    assert ticks == [0, 8, 15, 20]


@settings(max_examples=60, deadline=None)
@given(
    lo=st.integers(min_value=-50, max_value=50),
    span=st.integers(min_value=1, max_value=500),
    length=st.floats(min_value=40, max_value=600),
    first=st.lists(st.integers(min_value=-50, max_value=550), max_size=6),
)
def test_value_ticks_are_apart_and_include_the_ends(
    lo: int, span: int, length: float, first: list[int]
) -> None:
    """Whatever the range and length: both ends are labelled and no two labels are
    closer than the gap asked for."""
    hi = lo + span
    gap = 18.0
    ticks = value_ticks(lo, hi, length=length, min_gap=gap, first=first)
    assert ticks[0] == lo
    if length >= gap:
        assert ticks[-1] == hi
    per_unit = length / span
    assert all((b - a) * per_unit >= gap - 1e-6 for a, b in itertools.pairwise(ticks))


def _axis(first: date, last: date, width: float) -> Scale:
    return Scale(first.toordinal(), last.toordinal(), 40, width - 10)


def test_twelve_weeks_are_labelled_by_mondays_on_a_wide_chart_and_fewer_on_a_phone() -> None:
    first, last = date(2026, 9, 7), date(2026, 11, 29)
    wide = date_ticks(first, last, _axis(first, last, 860), size=16, gap=12, bounds=(0, 860))
    narrow = date_ticks(first, last, _axis(first, last, 360), size=14, gap=10, bounds=(0, 360))
    assert all(t.on.weekday() == 0 for t in wide) and len(wide) >= 6
    assert 2 <= len(narrow) < len(wide)
    assert all(" " not in t.label or t.label[0].isdigit() for t in wide)  # "7 Sep"


def test_a_long_span_is_labelled_by_months_with_the_year_when_it_changes() -> None:
    first, last = date(2025, 10, 3), date(2026, 9, 20)
    ticks = date_ticks(first, last, _axis(first, last, 860), size=16, gap=12, bounds=(0, 860))
    assert all(t.on.day == 1 for t in ticks)
    assert any(t.label.endswith("2026") for t in ticks)


def test_a_single_day_has_one_label() -> None:
    day = date(2026, 3, 2)
    ticks = date_ticks(day, day, _axis(day, day, 360), size=14, gap=10, bounds=(0, 360))
    assert [t.label for t in ticks] == ["2 Mar"]


@settings(max_examples=80, deadline=None)
@given(
    first=st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 1, 1)),
    days=st.integers(min_value=0, max_value=4000),
    width=st.sampled_from([360.0, 860.0, 1200.0]),
    size=st.sampled_from([14.0, 16.0]),
)
def test_date_labels_never_overlap_and_stay_inside(
    first: date, days: int, width: float, size: float
) -> None:
    """Any span, any width: at least one label, each within the bounds, each clear of
    the next by the gap, in date order."""
    last = first + timedelta(days=days)
    gap = size * 0.75
    ticks = date_ticks(
        first, last, _axis(first, last, width), size=size, gap=gap, bounds=(8, width - 8)
    )
    assert ticks
    assert all(first <= t.on <= last for t in ticks)
    assert all(t.left >= 8 - 1e-6 and t.right <= width - 8 + 1e-6 for t in ticks)
    assert all(a.right + gap <= b.left + 1e-6 for a, b in itertools.pairwise(ticks))


@settings(max_examples=60, deadline=None)
@given(
    offsets=st.lists(st.integers(min_value=0, max_value=900), min_size=1, max_size=30),
    width=st.sampled_from([360.0, 860.0]),
)
def test_answer_days_label_the_axis_only_where_they_fit(offsets: list[int], width: float) -> None:
    """Labels at answers' days: the first always, the last too when two fit, never
    overlapping; None only when not even two of several fit."""
    start = date(2026, 1, 5)
    days = sorted({start + timedelta(days=o) for o in offsets})
    axis = _axis(days[0], days[-1], width)
    ticks = data_ticks(days, axis, size=14, gap=10, bounds=(8, width - 8))
    if ticks is None:
        assert len(days) > 1
        return
    assert ticks[0].on == days[0] and {t.on for t in ticks} <= set(days)
    if len(days) > 1:
        assert ticks[-1].on == days[-1]
    assert all(a.right + 10 <= b.left + 1e-6 for a, b in itertools.pairwise(ticks))


def test_spread_keeps_apart_items_that_want_the_same_place() -> None:
    assert spread([50, 50, 50], [10, 10, 10], 2, 0, 100) == pytest.approx([38, 50, 62])
    assert spread([0, 1], [10, 10], 2, 0, 100) == pytest.approx([5, 17])
    with pytest.raises(ValueError, match="do not fit"):
        spread([1, 2, 3], [40, 40, 40], 2, 0, 100)


@settings(max_examples=100, deadline=None)
@given(
    items=st.lists(
        st.tuples(st.floats(min_value=-50, max_value=350), st.floats(min_value=1, max_value=40)),
        max_size=12,
    ),
    gap=st.floats(min_value=0, max_value=8),
)
def test_spread_items_never_overlap_keep_their_order_and_stay_inside(
    items: list[tuple[float, float]], gap: float
) -> None:
    wanted = [w for w, _ in items]
    sizes = [s for _, s in items]
    try:
        placed = spread(wanted, sizes, gap, 0, 300)
    except ValueError:
        assert sum(sizes) + gap * (len(sizes) - 1) > 300
        return
    order = sorted(range(len(items)), key=lambda i: (wanted[i], i))
    for a, b in itertools.pairwise(order):
        assert placed[a] + sizes[a] / 2 + gap <= placed[b] - sizes[b] / 2 + 1e-6
    assert all(
        p - s / 2 >= -1e-6 and p + s / 2 <= 300 + 1e-6 for p, s in zip(placed, sizes, strict=True)
    )


@settings(max_examples=80, deadline=None)
@given(
    xs=st.lists(st.floats(min_value=0, max_value=300), max_size=40),
)
def test_markers_in_lanes_never_touch(xs: list[float]) -> None:
    """However many markers and however close: within a lane no two touch, and all are
    within the plot; a second lane only when one cannot hold them all."""
    placed = marker_lanes(xs, 18, 4, 0, 300)
    assert len(placed) == len(xs)
    lanes = {p.lane for p in placed}
    for lane in lanes:
        centres = sorted(p.x for p in placed if p.lane == lane)
        assert all(b - a >= 22 - 1e-6 for a, b in itertools.pairwise(centres))
        assert all(9 - 1e-6 <= c <= 291 + 1e-6 for c in centres)
    if len(xs) * 18 + (len(xs) - 1) * 4 <= 300:  # one lane holds them
        assert lanes <= {0}


def test_wrap_breaks_between_words_and_ends_what_is_cut_with_an_ellipsis() -> None:
    assert wrap("Moderate", 200, 14) == ["Moderate"]
    assert wrap("No difficulty at all", 100, 14) == ["No difficulty", "at all"]
    lines = wrap("Extraordinarilylongword and more words after it", 80, 14)
    assert len(lines) == 2 and lines[0].endswith(ELLIPSIS) and lines[1].endswith(ELLIPSIS)


@settings(max_examples=80, deadline=None)
@given(text=st.text(min_size=1, max_size=80), width=st.floats(min_value=30, max_value=300))
def test_wrapped_lines_always_fit(text: str, width: float) -> None:
    lines = wrap(text, width, 14)
    assert 1 <= len(lines) <= 2
    assert all(text_width(line, 14) <= width + 1e-6 for line in lines)

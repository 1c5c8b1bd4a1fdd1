"""The named date formats templates and printed reports use, each exactly as before."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from clinic.core.templating import (
    day_month,
    long_date,
    padded_date,
    short_date,
    weekday,
    weekday_date,
)

DAY = date(2026, 6, 3)


def test_each_format_by_example() -> None:
    """What each name means, on Wednesday 3 June 2026."""
    assert short_date(DAY) == "3 Jun 2026"
    assert padded_date(DAY) == "03 Jun 2026"
    assert long_date(DAY) == "3 June 2026"
    assert day_month(DAY) == "3 Jun"
    assert weekday(DAY) == "Wednesday"
    assert weekday_date(DAY) == "Wednesday 03 June"


def test_no_day_shows_nothing() -> None:
    """A missing date renders as nothing rather than breaking the page."""
    for name in (short_date, padded_date, long_date, day_month, weekday, weekday_date):
        assert name(None) == ""


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)))
def test_the_filters_render_what_the_templates_spelled_out_before(day: date) -> None:
    """Each filter gives, for any day, the string the templates' own strftime calls gave,
    so no page or PDF changed when they moved here."""
    assert padded_date(day) == day.strftime("%d %b %Y")
    assert short_date(day) == f"{day.day} {day.strftime('%b %Y')}"
    assert long_date(day) == f"{day.day} {day.strftime('%B %Y')}"
    assert day_month(day) == f"{day.day} {day.strftime('%b')}"
    assert weekday(day) == day.strftime("%A")
    assert weekday_date(day) == day.strftime("%A %d %B")

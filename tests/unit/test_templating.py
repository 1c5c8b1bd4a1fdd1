"""Showing UTC timestamps in the clinic's own time zone, and email addresses and thresholds
in narrow columns."""

from __future__ import annotations

from datetime import UTC, datetime

from markupsafe import Markup

from clinic.core.templating import breakable_email, clinic_clock, clinic_time, keep_comparisons

NBSP = "\N{NO-BREAK SPACE}"


def test_timestamps_follow_the_clinics_zone_and_summer_time() -> None:
    """09:00 UTC is 10:00 in London in summer and 09:00 in winter."""
    assert (
        clinic_time(datetime(2026, 7, 1, 9, 0, tzinfo=UTC), "Europe/London") == "01 Jul 2026 10:00"
    )
    assert (
        clinic_time(datetime(2026, 1, 1, 9, 0, tzinfo=UTC), "Europe/London") == "01 Jan 2026 09:00"
    )


def test_a_time_of_day_follows_the_clinics_zone_as_the_full_time_does() -> None:
    """`clinic_clock` is the time part of `clinic_time`, in the clinic's zone."""
    for moment in (
        datetime(2026, 7, 1, 9, 5, tzinfo=UTC),
        datetime(2026, 1, 1, 23, 55, tzinfo=UTC),
    ):
        for zone in ("Europe/London", "America/Mexico_City", "Nowhere/Land"):
            assert clinic_time(moment, zone).endswith(" " + clinic_clock(moment, zone))
    assert clinic_clock(datetime(2026, 7, 1, 9, 5, tzinfo=UTC), "Europe/London") == "10:05"
    assert clinic_clock(datetime(2026, 1, 1, 3, 5, tzinfo=UTC), "America/Mexico_City") == "21:05"
    assert clinic_clock(None) == ""


def test_unknown_zone_falls_back_to_utc_and_none_is_blank() -> None:
    """A bad zone never breaks a page; a missing time shows nothing."""
    assert (
        clinic_time(datetime(2026, 1, 1, 9, 0, tzinfo=UTC), "Nowhere/Land") == "01 Jan 2026 09:00"
    )
    assert clinic_time(None) == ""


def test_an_email_address_may_break_after_its_at_and_dots_and_is_escaped() -> None:
    """`breakable_email` offers line breaks after "@" and each dot (never mid-word), and
    escapes the address: an address is data someone typed."""
    assert str(breakable_email("jo.b@example.org")) == "jo.<wbr>b<wbr>@example.<wbr>org"
    assert "<script>" not in str(breakable_email("<script>@x.org"))
    assert str(breakable_email("<script>@x.org")).startswith("&lt;script&gt;")


def test_a_comparison_sign_stays_with_its_number_and_the_text_is_escaped() -> None:
    """`keep_comparisons` puts a no-break space between "≥", "≤", "<" or ">" and the number
    after it (a phone never shows "(≥" at a line's end and "14)" below), leaves other
    spaces and signs alone, escapes typed text, and keeps markup already escaped."""
    assert str(keep_comparisons("14 days here (≥ 14)")) == f"14 days here (≥{NBSP}14)"
    assert str(keep_comparisons("adherence: 70% (< 80%)")) == f"adherence: 70% (&lt;{NBSP}80%)"
    assert str(keep_comparisons("pain ≤ 3, x > 2")) == f"pain ≤{NBSP}3, x &gt;{NBSP}2"
    assert str(keep_comparisons("a ≥ b, <script>")) == "a ≥ b, &lt;script&gt;"
    assert str(keep_comparisons(Markup("pain ≤ 3 &amp; more"))) == f"pain ≤{NBSP}3 &amp; more"
    assert str(keep_comparisons(None)) == ""

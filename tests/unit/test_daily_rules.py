"""When each clinic's daily work and each clinician's digest are due, in the clinic's own
time, and what a digest says (counts in plain words)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from clinic.core.clock import clinic_now
from clinic.domain.daily import (
    DIGEST_TIMES,
    DIGEST_WINDOW,
    EARLY_HOUR,
    DigestCounts,
    daily_work_due,
    digest_due,
    digest_lines,
    scheduler_late,
)

ZONES = ["Europe/London", "America/New_York", "Pacific/Auckland", "Asia/Kolkata", "UTC"]
instants = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
)


def test_the_daily_work_waits_for_the_early_hour_of_a_new_day() -> None:
    """Before 03:00 local the new day's work waits; from 03:00 it is due; once run today it
    is not due again until tomorrow."""
    london = ZoneInfo("Europe/London")
    yesterday = date(2027, 1, 11)
    assert not daily_work_due(datetime(2027, 1, 12, 2, 59, tzinfo=london), yesterday)
    assert daily_work_due(datetime(2027, 1, 12, 3, 0, tzinfo=london), yesterday)
    assert daily_work_due(datetime(2027, 1, 12, 23, 0, tzinfo=london), None)
    assert not daily_work_due(datetime(2027, 1, 12, 9, 0, tzinfo=london), date(2027, 1, 12))


@given(instants, st.sampled_from(ZONES))
def test_the_daily_work_runs_once_per_local_day(start: datetime, zone: str) -> None:
    """Looking every 15 minutes for two days, the work runs exactly once on each local day
    it reaches past the early hour, and never before that hour."""
    last_run: date | None = None
    runs: list[datetime] = []
    for step in range(2 * 24 * 4):
        local = clinic_now(zone, start + timedelta(minutes=15 * step))
        if daily_work_due(local, last_run):
            runs.append(local)
            last_run = local.date()
    days = [r.date() for r in runs]
    assert len(days) == len(set(days))
    assert all(r.time() >= EARLY_HOUR for r in runs)
    assert len(runs) >= 1


def test_the_scheduler_is_late_an_hour_after_the_early_hour() -> None:
    """A page doing the refresh at 03:30 is not a sign of trouble; at 04:00 it is."""
    zone = ZoneInfo("America/New_York")
    assert not scheduler_late(datetime(2027, 1, 12, 1, 0, tzinfo=zone))
    assert not scheduler_late(datetime(2027, 1, 12, 3, 59, tzinfo=zone))
    assert scheduler_late(datetime(2027, 1, 12, 4, 0, tzinfo=zone))


@given(st.sampled_from(DIGEST_TIMES), st.integers(min_value=-180, max_value=300))
def test_a_digest_goes_out_from_its_time_for_the_window(chosen: time, minutes: int) -> None:
    """Due from the chosen local time for `DIGEST_WINDOW`, not before and not after."""
    start = datetime.combine(date(2027, 1, 12), chosen, tzinfo=ZoneInfo("Europe/London"))
    at = start + timedelta(minutes=minutes)
    assert digest_due(at, chosen) == (timedelta(0) <= at - start < DIGEST_WINDOW)


def test_digest_times_never_reach_past_midnight() -> None:
    """The latest choice plus the window ends before midnight, so the day is never ambiguous."""
    latest = datetime.combine(date(2027, 1, 12), max(DIGEST_TIMES))
    assert (latest + DIGEST_WINDOW).date() == date(2027, 1, 12)


def test_digest_lines_are_counts_in_plain_words() -> None:
    """Singular and plural read right; a count of none is said calmly or left out."""
    assert digest_lines(DigestCounts(need_attention=1, answered=1, clinic_need_attention=1)) == [
        "1 patient in your caseload needs attention.",
        "1 questionnaire was answered by your patients in the last 24 hours.",
        "Across the clinic, 1 patient needs attention.",
    ]
    assert digest_lines(DigestCounts(need_attention=3, answered=2, clinic_need_attention=5)) == [
        "3 patients in your caseload need attention.",
        "2 questionnaires were answered by your patients in the last 24 hours.",
        "Across the clinic, 5 patients need attention.",
    ]
    assert digest_lines(DigestCounts(answered=2)) == [
        "Nobody in your caseload needs attention.",
        "2 questionnaires were answered by your patients in the last 24 hours.",
    ]


def test_only_the_clinicians_own_caseload_makes_news() -> None:
    """Clinic-wide counts alone do not make a digest worth sending."""
    assert not DigestCounts(clinic_need_attention=4).has_news
    assert DigestCounts(need_attention=1).has_news
    assert DigestCounts(answered=1).has_news

"""The time and dates as the clinic sees them, from one clock tests can move.

Everything that asks "what time is it" for a rule (a scheduled job deciding whether a
clinic's day has turned, "today" in a clinic's zone, a timestamp's default) reads `now()`.
Tests move it with `tests.support.clock.frozen_at`, which replaces `now` here; code reads
it through this module (`clock.now()`, or `clinic_today`) so the replacement is seen.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def now() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def zone_of(name: str) -> ZoneInfo:
    """The clinic's IANA zone (UTC if the name is unknown)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def clinic_now(zone: str, at: datetime | None = None) -> datetime:
    """The clinic's local time now (or at `at`), timezone-aware."""
    return (at or now()).astimezone(zone_of(zone))


def clinic_today(zone: str, now: datetime | None = None) -> date:
    """Today's date in the clinic's time zone (UTC if the zone is unknown)."""
    return clinic_now(zone, now).date()


def whole_years(born: date, on: date) -> int:
    """Age in completed years on `on` (a birthday on 29 February counts from 1 March in
    other years)."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))

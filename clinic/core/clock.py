"""Dates as the clinic sees them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def clinic_today(zone: str, now: datetime | None = None) -> date:
    """Today's date in the clinic's time zone (UTC if the zone is unknown)."""
    now = now or datetime.now(UTC)
    try:
        return now.astimezone(ZoneInfo(zone)).date()
    except (ZoneInfoNotFoundError, ValueError):
        return now.astimezone(UTC).date()

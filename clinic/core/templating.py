"""Values every template may use."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask
from flask_login import current_user

from clinic.access import HOME_ENDPOINTS
from clinic.core.forms import error_items
from clinic.models import Role

# Titles and headings may be read from across a room or from browser history: the name a
# patient or a visitor sees says nothing about what the therapy is.
NEUTRAL_BRAND = "Therapy diary"
STAFF_BRAND = "Clinic workspace"


def clinic_time(moment: datetime | None, zone: str = "UTC") -> str:
    """A UTC timestamp as the clinic's local date and time, e.g. "22 Nov 2026 09:07"."""
    if moment is None:
        return ""
    try:
        local = moment.astimezone(ZoneInfo(zone))
    except (ZoneInfoNotFoundError, ValueError):
        local = moment
    return local.strftime("%d %b %Y %H:%M")


def short_date(day: date | None) -> str:
    """A calendar day as lists show it, e.g. "22 Nov 2026"."""
    return f"{day.day} {day:%b %Y}" if day else ""


def percent(value: float | None) -> str:
    """A share as a whole percentage, "86%"; a dash when there is none."""
    return "—" if value is None else f"{value:.0f}%"


def register_template_helpers(app: Flask) -> None:
    """Expose the brand, the home endpoints and the formatting filters to Jinja."""
    app.add_template_filter(clinic_time)
    app.add_template_filter(short_date)
    app.add_template_filter(percent)
    app.add_template_global(error_items)

    @app.context_processor
    def site_context() -> dict[str, object]:
        is_staff = current_user.is_authenticated and current_user.role is not Role.PATIENT
        return {
            "brand": STAFF_BRAND if is_staff else NEUTRAL_BRAND,
            "home_endpoints": HOME_ENDPOINTS,
        }

"""Values every template may use: the brand, the navigation, and the named formats for
dates, times and shares (templates never format a date themselves)."""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale
from babel.dates import format_date, format_skeleton
from babel.numbers import format_decimal, format_percent
from flask import Flask, has_request_context
from flask_login import current_user
from markupsafe import Markup, escape

from clinic import i18n
from clinic.access import HOME_ENDPOINTS
from clinic.core.chrome import site_chrome
from clinic.core.clock import clinic_today, whole_years
from clinic.core.forms import error_items
from clinic.core.navigation import NAVIGATION, NavEntry, chart_sections_for
from clinic.domain.protocols import EventKind
from clinic.domain.text import N_
from clinic.i18n import current_locale, gettext
from clinic.models import Role

# Titles and headings may be read from across a room or from browser history: the name a
# patient or a visitor sees says nothing about what the therapy is.
# Marked for translation: a patient reads the brand in their own language too.
NEUTRAL_BRAND = N_("Therapy diary")
STAFF_BRAND = N_("Clinic workspace")


def _locale() -> Locale:
    """The language of the page being made (English outside a request or app)."""
    return current_locale()


# The English patterns as strftime formats: English pages (every staff page) print dates
# as they always have, at a quarter of Babel's cost.
_ENGLISH_DATES = {
    "d MMM y": lambda day: f"{day.day} {day:%b %Y}",
    "dd MMM y": lambda day: f"{day:%d %b %Y}",
    "d MMMM y": lambda day: f"{day.day} {day:%B %Y}",
    "d MMM": lambda day: f"{day.day} {day:%b}",
}


def _formatted(day: date | datetime, english: str, skeleton: str) -> str:
    """A date in the page's language: the English pattern the product has always printed
    ("3 Nov 2026"), or, in another language, that language's own form of the same fields
    (CLDR skeleton: "3 nov 2026", "3 de noviembre de 2026")."""
    locale = _locale()
    if locale.language == "en":
        return _ENGLISH_DATES[english](day)
    return format_skeleton(skeleton, day, locale=locale)


def _clinic_local(moment: datetime, zone: str) -> datetime:
    try:
        return moment.astimezone(ZoneInfo(zone))
    except (ZoneInfoNotFoundError, ValueError):
        return moment


def clinic_time(moment: datetime | None, zone: str = "UTC") -> str:
    """A UTC timestamp as the clinic's local date and time, e.g. "22 Nov 2026 09:07"."""
    if moment is None:
        return ""
    local = _clinic_local(moment, zone)
    return f"{_formatted(local, 'dd MMM y', 'yMMMd')} {local:%H:%M}"


def clinic_clock(moment: datetime | None, zone: str = "UTC") -> str:
    """A UTC timestamp as the clinic's local time of day, as `clinic_time` writes it
    ("09:07"): for a moment of the last hour or so, where the day goes without saying."""
    return "" if moment is None else f"{_clinic_local(moment, zone):%H:%M}"


def short_date(day: date | None) -> str:
    """A calendar day as lists show it, e.g. "3 Nov 2026"."""
    return _formatted(day, "d MMM y", "yMMMd") if day else ""


def padded_date(day: date | None) -> str:
    """A calendar day with a two-digit day, as the protocol's record shows it: "03 Nov 2026"
    (the days of its history line up)."""
    return _formatted(day, "dd MMM y", "yMMMd") if day else ""


def long_date(day: date | None) -> str:
    """A calendar day with the month in full, as printed for patients: "3 November 2026"."""
    return _formatted(day, "d MMMM y", "yMMMMd") if day else ""


def day_month(day: date | None) -> str:
    """A day and month without the year, for short spans within one report: "3 Nov"."""
    return _formatted(day, "d MMM", "MMMd") if day else ""


def weekday(day: date | None) -> str:
    """The day of the week: "Tuesday"."""
    if not day:
        return ""
    locale = _locale()
    return f"{day:%A}" if locale.language == "en" else format_date(day, "EEEE", locale=locale)


def weekday_date(day: date | None) -> str:
    """A near day as the patient's portal names it: "Tuesday 03 November" ("martes 3 de
    noviembre")."""
    if not day:
        return ""
    locale = _locale()
    if locale.language == "en":
        return f"{day:%A %d %B}"
    named = format_date(day, "EEEE", locale=locale)
    return f"{named} {format_skeleton('MMMMd', day, locale=locale)}"


# The named date and time formats, each a Jinja filter under its own name.
DATE_FILTERS = (
    short_date,
    padded_date,
    long_date,
    day_month,
    weekday,
    weekday_date,
    clinic_time,
    clinic_clock,
)


def percent(value: float | None) -> str:
    """A share as a whole percentage in the page's language, "86%" ("86 %"); a dash when
    there is none."""
    if value is None:
        return "—"
    locale = _locale()
    if locale.language == "en":
        return f"{value:.0f}%"
    return format_percent(round(value) / 100, locale=locale)


def number(value: float | int | None, places: int = 1) -> str:
    """A number in the page's language, with at most `places` decimals: "27.5" ("27,5");
    whole numbers print whole ("25", never "25.0")."""
    if value is None:
        return ""
    locale = _locale()
    if locale.language == "en" and _plain_number(value):
        written = f"{_rounded(value, places):,f}"
        return written.rstrip("0").rstrip(".") if "." in written else written
    pattern = "#,##0" + ("." + "#" * places if places else "")
    return format_decimal(value, format=pattern, locale=locale)


def fixed_places(value: float | int, places: int) -> str:
    """A number in the page's language with exactly `places` decimals and no grouping:
    "3.0" ("3,0")."""
    locale = _locale()
    if locale.language == "en" and _plain_number(value):
        return f"{_rounded(value, places):f}"
    return format_decimal(value, format="0." + "0" * places, locale=locale)


# English (every staff page) is written here, as Babel writes it, at a tenth of its cost:
# the float's shortest decimal form rounded half to even (tests/unit/test_numbers.py
# compares the two).
def _plain_number(value: object) -> bool:
    # Plain ints and floats only: anything else (a Decimal, a string) goes to Babel as it
    # always did.
    return type(value) is int or (type(value) is float and math.isfinite(value))


def _rounded(value: float | int, places: int) -> Decimal:
    exact = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    return exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)


def breakable_email(address: str) -> Markup:
    """An email address that may wrap after its "@" and its dots in a narrow column (never
    in the middle of a word), and still copies as typed."""
    return Markup("<wbr>@").join(
        Markup(".<wbr>").join(escape(part) for part in side.split("."))
        for side in address.split("@")
    )


# A comparison sign, a space and a number: "≥ 14", "≤ 3", "< 80%" (matched once escaped).
_COMPARISON = re.compile(r"(≥|≤|&lt;|&gt;) (?=\d)")


def keep_comparisons(text: str | None) -> Markup:
    """`text` (escaped, unless it is markup already) with each comparison sign held to its
    number by a no-break space, so that a narrow column (a phone, a table cell) never ends
    a line with "≥" and starts the next with "14"."""
    escaped = str(escape(text or ""))
    return Markup(_COMPARISON.sub("\\1\N{NO-BREAK SPACE}", escaped))  # noqa: S704 (escaped above)


def chart_sections() -> tuple[NavEntry, ...]:
    """The sections of a patient's chart the signed-in account may open."""
    return chart_sections_for(current_user.role)


def age_today(born: date) -> int:
    """A person's age today in the signed-in account's clinic, in completed years."""
    return whole_years(born, clinic_today(current_user.clinic.timezone))


def register_template_helpers(app: Flask) -> None:
    """Expose the brand, the navigation (and a patient chart's sections), the home
    endpoints and the formatting filters to Jinja, and the protocol event kinds (pages ask
    `EventKind.ADVANCE in allowed`)."""
    for date_filter in DATE_FILTERS:
        app.add_template_filter(date_filter)
    app.add_template_filter(percent)
    app.add_template_filter(number)
    # Every {% trans %} block is trimmed: its msgid does not depend on the template's
    # line breaks and indentation.
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    app.add_template_filter(breakable_email)
    app.add_template_filter(keep_comparisons)
    app.add_template_global(error_items)
    app.add_template_global(chart_sections)
    app.add_template_global(age_today)
    app.add_template_global(EventKind, "EventKind")
    app.add_template_global(site_chrome)

    @app.context_processor
    def site_context() -> dict[str, object]:
        # A job renders templates with no request (hence no one signed in): an MDT pack
        # made by the worker.
        signed_in = has_request_context() and current_user.is_authenticated
        is_staff = signed_in and current_user.role is not Role.PATIENT
        return {
            "brand": gettext(STAFF_BRAND if is_staff else NEUTRAL_BRAND),
            # Shown in the header to staff only: a clinic's name can say what it treats.
            # (The clinic is joined onto the user: this costs no query.)
            "staff_clinic_name": current_user.clinic.name if is_staff else None,
            "home_endpoints": HOME_ENDPOINTS,
            "navigation": NAVIGATION.get(current_user.role, ()) if signed_in else (),
            # <html lang dir>: screen readers, hyphenation and PDF /Lang follow it.
            "page_language": i18n.language(str(_locale())),
        }

"""The portal's words for the clinic's opening hours, in the page's language: "Monday to
Friday, 08:00 to 18:00" ("lunes a viernes, 08:00 a 18:00"). English reads exactly as it
always has.

Registered as template filters by the portal's blueprint (clinic.portal.views).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_skeleton, get_day_names
from flask_babel import get_locale, gettext

from clinic.alerts.services import opening_hours as clinic_opening_hours
from clinic.domain.working_hours import describe_days
from clinic.models import Clinic


def _day_names() -> list[str]:
    """Monday to Sunday in the page's language, capitalised as the language writes them
    in running text."""
    names = get_day_names("wide", locale=get_locale())
    return [names[day] for day in range(7)]


def working_days(days: frozenset[int]) -> str:
    """The days a clinic is open, in words: "Monday to Friday", "Monday, Wednesday and
    Friday", "every day" (days numbered 1 for Monday to 7)."""
    locale = get_locale()
    if locale is None or locale.language == "en":
        return describe_days(days)
    ordered = sorted(days)
    if len(ordered) == 7:
        return gettext("every day")
    names = [_day_names()[d - 1] for d in ordered]
    if len(ordered) >= 3 and ordered == list(range(ordered[0], ordered[-1] + 1)):
        return gettext("%(first)s to %(last)s", first=names[0], last=names[-1])
    if len(names) == 1:
        return names[0]
    return gettext("%(days)s and %(last)s", days=", ".join(names[:-1]), last=names[-1])


def opening_hours(clinic: Clinic) -> str:
    """The clinic's opening hours in words: "Monday to Friday, 08:00 to 18:00"."""
    hours = clinic_opening_hours(clinic)
    return gettext(
        "%(days)s, %(opens)s to %(closes)s",
        days=working_days(hours.days),
        opens=hours.opens.strftime("%H:%M"),
        closes=hours.closes.strftime("%H:%M"),
    )


def next_opening(moment: datetime, zone: str) -> str:
    """When the clinic opens next, in its own time: "Monday 8 June at 08:00" ("lunes 8
    de junio a las 08:00")."""
    local = moment.astimezone(ZoneInfo(zone))
    locale = get_locale()
    if locale is None or locale.language == "en":
        day = format_date(local, "EEEE d MMMM", locale="en")
    else:
        named = format_date(local, "EEEE", locale=locale)
        day = f"{named} {format_skeleton('MMMMd', local, locale=locale)}"
    return gettext("%(day)s at %(time)s", day=day, time=local.strftime("%H:%M"))

"""Words composed from values, in the page's language: a domain sentence with its values
(`Words`), a dilator size, how often a stage is done, a decimal. English reads exactly as
it always has; another language gets its own words and its own way of writing numbers
("27,5 mm", "3,0"). Registered as template filters and globals (`register`).
"""

from __future__ import annotations

from flask import Flask
from flask_babel import gettext, ngettext

from clinic.core.templating import fixed_places, number
from clinic.domain.protocols import Period
from clinic.domain.text import Words


def say(words: Words | str) -> str:
    """A domain sentence (or a label marked with `N_`) in the page's language, its
    values filled in after the message is translated (decimals as the language writes
    them)."""
    if isinstance(words, str):
        return gettext(words)
    if not words.values:
        return gettext(words.message)
    values = {
        name: number(value, 2) if isinstance(value, float) else value
        for name, value in words.values.items()
    }
    return gettext(words.message, **values)


def millimetres(diameter_mm: float) -> str:
    """A diameter as the page's language writes it: "27.5 mm" ("27,5 mm")."""
    return gettext("%(mm)s mm", mm=number(diameter_mm, 2))


def size_name(size: object) -> str:
    """A dilator size as prescriptions name it, in the page's language: "Size 3 (21 mm)",
    or "27.5 mm" ("27,5 mm") when the clinic's label already is the diameter. The label
    is the clinic's own word for the size, shown as written."""
    label: str = size.label  # type: ignore[attr-defined]
    diameter_mm: float = size.diameter_mm  # type: ignore[attr-defined]
    if label.replace(" ", "") == f"{diameter_mm:g}mm":
        return millimetres(diameter_mm)
    return f"{label} ({millimetres(diameter_mm)})"


def how_often(sessions: int, period: Period) -> str:
    """A stage's schedule in plain words: "once a day", "twice a week", "3 times a day"."""
    if period is Period.DAY:
        if sessions == 1:
            return gettext("once a day")
        if sessions == 2:
            return gettext("twice a day")
        return ngettext("%(num)d time a day", "%(num)d times a day", sessions)
    if sessions == 1:
        return gettext("once a week")
    if sessions == 2:
        return gettext("twice a week")
    return ngettext("%(num)d time a week", "%(num)d times a week", sessions)


def one_decimal(value: float) -> str:
    """A decimal with exactly one place, as a table of means prints it: "3.0" ("3,0")."""
    return fixed_places(value, 1)


def register(app: Flask) -> None:
    """Make these words available to every template."""
    app.add_template_filter(say)
    app.add_template_filter(size_name)
    app.add_template_filter(millimetres)
    app.add_template_filter(one_decimal)
    app.add_template_global(how_often)

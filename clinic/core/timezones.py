"""The time zones a clinic can choose from, as the choices of a list (issue 17: chosen, not
typed).

The list is a plain <select>, which needs no JavaScript and is the most dependable control
on a phone: it opens the phone's own picker, with nothing to type, misspell or
autocorrect, whereas an <input list> (datalist) shows its suggestions differently in each
browser (not at all in some mobile ones) and still takes any text. On a computer, typing a
city's first letters in the closed list jumps to it, so every option starts with the city:
"London (Europe/London)". The zones most clinics use come first; then every canonical zone
of the tz database, grouped by region and sorted by city (legacy aliases such as
"US/Eastern", "GB", "Asia/Calcutta" or "Europe/Kiev" are left out of the list, but a clinic
already set to one keeps it).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from zoneinfo import TZPATH, available_timezones

from flask_babel import gettext
from wtforms import SelectChoice

from clinic.domain.text import N_

# The regions of the tz database's canonical names ("Etc" holds fixed offsets, not places).
REGIONS = (
    N_("Africa"),
    N_("America"),
    N_("Antarctica"),
    N_("Arctic"),
    N_("Asia"),
    N_("Atlantic"),
    N_("Australia"),
    N_("Europe"),
    N_("Indian"),
    N_("Pacific"),
)
COMMON = (
    "Europe/London",
    "Europe/Dublin",
    "Europe/Amsterdam",
    "Europe/Berlin",
    "Europe/Paris",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Toronto",
    "America/Vancouver",
    "Australia/Sydney",
    "Australia/Melbourne",
    "Australia/Perth",
    "Pacific/Auckland",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Africa/Johannesburg",
    "UTC",
)
COMMON_GROUP = N_("Most used")


@cache
def known_zones() -> frozenset[str]:
    """Every zone name the tz database knows (read once: it lists a directory tree)."""
    return frozenset(available_timezones())


@cache
def canonical_zones() -> frozenset[str] | None:
    """The zones the tz database's `zone.tab` names (one for each region of each country,
    by its current name: "Asia/Kolkata", "Europe/Kyiv"), or None where the system has no
    such file. Without it, the list would offer the old names kept as links beside the
    current ones ("Asia/Calcutta" next to "Asia/Kolkata", "America/Buenos_Aires" next to
    "America/Argentina/Buenos_Aires"): the same rules under two names, and a choice that
    looks like it matters."""
    for folder in TZPATH:
        table = Path(folder) / "zone.tab"
        if table.is_file():
            rows = table.read_text(encoding="utf-8").splitlines()
            return frozenset(
                row.split("\t")[2].strip() for row in rows if row and not row.startswith("#")
            )
    return None


def zone_label(name: str) -> str:
    """ "London (Europe/London)", "Buenos Aires (America/Argentina/Buenos_Aires)": the city
    first, for type-to-search; the name itself where it is no place ("UTC")."""
    if "/" not in name:
        return name
    city = name.rsplit("/", 1)[1].replace("_", " ")
    return f"{city} ({name})"


@cache
def _listed() -> tuple[SelectChoice, ...]:
    known = known_zones()
    common = [SelectChoice(n, zone_label(n), optgroup=COMMON_GROUP) for n in COMMON if n in known]
    canonical = canonical_zones()
    offered = known if canonical is None else known & canonical
    regional = sorted(
        (
            (region, zone_label(name).casefold(), name)
            for name in offered - set(COMMON)
            if (region := name.split("/", 1)[0]) in REGIONS and "/" in name
        ),
    )
    return (
        *common,
        *(SelectChoice(name, zone_label(name), optgroup=region) for region, _, name in regional),
    )


def zone_choices(current: str | None = None) -> list[SelectChoice]:
    """The list's choices; a `current` zone the list leaves out (a legacy alias the clinic
    is set to) is offered first, so the list shows it and saving keeps it."""
    # The groups' names in the page's language (a patient's reminders page); the list
    # itself is made once, in English.
    choices = [
        SelectChoice(c.value, c.label, optgroup=gettext(c.optgroup)) if c.optgroup else c
        for c in _listed()
    ]
    if current and current in known_zones() and current not in {c.value for c in choices}:
        choices.insert(0, SelectChoice(current, current, optgroup=gettext(COMMON_GROUP)))
    return choices

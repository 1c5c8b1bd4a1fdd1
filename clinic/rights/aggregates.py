"""What an erasure keeps: figures about the patient's care that identify no one.

Pure rules, no Flask or database. They decide what survives an erasure, so each figure is
coarse on purpose: an age band by decade instead of a date of birth, the month the program
started instead of a day, counts instead of rows, the indication's code without the free
text that "other" carries. No names, identifiers, dates of birth or typed text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

# Bumped when the figures kept change, so statistics know which rules made a record.
AGGREGATES_VERSION = 1

# Few people reach this age: a decade of their own would single them out.
OLDEST_BAND_FROM = 90


@dataclass(frozen=True)
class CareFacts:
    """What the record says, read just before it is erased."""

    indication: str  # the indication's code ("vaginismus", "other", ...)
    date_of_birth: date
    erased_on: date  # the clinic-local day of the erasure
    status: str  # the patient's status at erasure ("active", "discharged", ...)
    program_start: date | None  # the first protocol's start day
    program_end: date | None  # the last closed protocol's last day; None while one is open
    protocols: int
    stages_reached: int  # the highest stage any protocol reached (0 without a protocol)
    sessions_logged: int  # sessions done (not skipped, not withdrawn)
    sessions_skipped: int
    red_flags: int
    measures_assigned: int
    # Submitted outcome measures, by instrument key ("pain-nrs": 3).
    measures_completed: Mapping[str, int] = field(default_factory=dict)


def age_band(date_of_birth: date, on: date) -> str:
    """The decade of age on `on`, e.g. "30-39"; "90+" from 90."""
    years = (
        on.year
        - date_of_birth.year
        - ((on.month, on.day) < (date_of_birth.month, date_of_birth.day))
    )
    years = max(years, 0)
    if years >= OLDEST_BAND_FROM:
        return f"{OLDEST_BAND_FROM}+"
    start = years // 10 * 10
    return f"{start}-{start + 9}"


def whole_weeks(first: date, last: date) -> int:
    """Complete weeks from `first` to `last` (0 when `last` is not after `first`)."""
    return max((last - first).days, 0) // 7


def erasure_aggregates(facts: CareFacts) -> dict[str, object]:
    """The de-identified figures an erasure record keeps about the patient's care."""
    end = facts.program_end or facts.erased_on
    return {
        "aggregates_version": AGGREGATES_VERSION,
        "indication": facts.indication,
        "age_band": age_band(facts.date_of_birth, facts.erased_on),
        "status_at_erasure": facts.status,
        "program_start_month": facts.program_start.strftime("%Y-%m")
        if facts.program_start
        else None,
        "weeks_in_program": whole_weeks(facts.program_start, end) if facts.program_start else None,
        "protocols": facts.protocols,
        "stages_reached": facts.stages_reached,
        "sessions_logged": facts.sessions_logged,
        "sessions_skipped": facts.sessions_skipped,
        "red_flags": facts.red_flags,
        "outcome_measures_assigned": facts.measures_assigned,
        "outcome_measures_completed": dict(sorted(facts.measures_completed.items())),
    }

"""When an outcome measure is due: the occasions an assignment asks for, and which of
them are answered, due now or overdue.

A clinician assigns an instrument to a patient in one of two ways:

- once, on a given day;
- repeating: at the start of the protocol (the baseline), then every N weeks after it,
  and at discharge when the patient is discharged.

An occasion opens on its day and stays open until answered; it is due from its day and
overdue once a grace period has passed (a week by default), when the clinic is told. An
occasion answered late still counts for that occasion. Occasions before the assignment
was made are not asked for retrospectively, except a baseline or a discharge in the grace
period before it (a measure assigned on the second day still gets its baseline).

Pure functions over plain values: no Flask, no database.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

DEFAULT_GRACE_DAYS = 7
MAX_EVERY_WEEKS = 52


class Cadence(StrEnum):
    """How often an assignment asks for the measure."""

    ONCE = "once"
    REPEATING = "repeating"


@dataclass(frozen=True)
class Assignment:
    """A measure assigned to a patient. For ONCE, `on` is the day; for REPEATING,
    `every_weeks` is the interval after the baseline (None: baseline and discharge only)."""

    cadence: Cadence
    assigned_on: date
    on: date | None = None
    every_weeks: int | None = None
    at_discharge: bool = True

    def __post_init__(self) -> None:
        if self.cadence is Cadence.ONCE and self.on is None:
            raise ValueError("a one-off measure needs its day")
        if self.every_weeks is not None and not 1 <= self.every_weeks <= MAX_EVERY_WEEKS:
            raise ValueError(f"repeat every 1 to {MAX_EVERY_WEEKS} weeks")


@dataclass(frozen=True)
class Occasion:
    """One time the measure is asked for: its key (stable, to match answers), its day and
    how the patient and clinician see it named."""

    key: str
    on: date
    label: str


@dataclass(frozen=True)
class OccasionState:
    """An occasion and where it stands today."""

    occasion: Occasion
    answered: bool
    due: bool  # open and its day has come
    overdue: bool  # open past the grace period


def occasions(
    assignment: Assignment,
    *,
    protocol_start: date | None,
    discharged_on: date | None,
    until: date,
    grace_days: int = DEFAULT_GRACE_DAYS,
) -> list[Occasion]:
    """The occasions the assignment asks for up to `until`, oldest first."""
    if assignment.cadence is Cadence.ONCE:
        day = assignment.on  # never None here: Assignment refuses a one-off without its day
        return [Occasion("once", day, "once")] if day is not None and day <= until else []
    if protocol_start is None:
        return []
    found: list[Occasion] = []
    end = min(until, discharged_on) if discharged_on else until
    earliest = assignment.assigned_on - timedelta(days=grace_days)
    if earliest <= protocol_start <= end:
        found.append(Occasion("baseline", protocol_start, "at the start"))
    if assignment.every_weeks:
        n = 1
        while (day := protocol_start + timedelta(weeks=assignment.every_weeks * n)) <= end:
            if day >= assignment.assigned_on:
                weeks = assignment.every_weeks * n
                found.append(Occasion(f"week-{weeks}", day, f"week {weeks}"))
            n += 1
    if assignment.at_discharge and discharged_on and earliest <= discharged_on <= until:
        found.append(Occasion("discharge", discharged_on, "at discharge"))
    return found


def states(
    found: Iterable[Occasion],
    answered_keys: Iterable[str],
    today: date,
    grace_days: int = DEFAULT_GRACE_DAYS,
) -> list[OccasionState]:
    """Where each occasion stands today, given the keys of the occasions answered."""
    answered = set(answered_keys)
    result = []
    for occasion in found:
        done = occasion.key in answered
        result.append(
            OccasionState(
                occasion=occasion,
                answered=done,
                due=not done and occasion.on <= today,
                overdue=not done and occasion.on + timedelta(days=grace_days) < today,
            )
        )
    return result

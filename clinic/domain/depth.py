"""Depth after vaginoplasty: the weekly trend clinicians read, and when a loss of depth is
a red flag.

From the clinical reference: after vaginoplasty depth matters as much as diameter
(dilators are marked in cm and depth is measured in clinic), and loss of depth or failing
to insert a size used before is a red flag. Patients log the depth of each session
(`depth_cm`).

A loss of depth is a session whose depth is more than the clinic's set amount
(`DEFAULT_DEPTH_DROP_CM`, 1 cm) below the deepest of the `DEPTH_LOOKBACK_SESSIONS` (6)
sessions before it that used a dilator at least as wide. Why these defaults:

- 1 cm: patients read depth off the dilator's cm markings, so readings vary by about half
  a centimetre from one session to the next; a whole centimetre is beyond that reading
  error, and small enough to catch narrowing early.
- the best of the last 6 sessions, not of all time: about two days at three sessions a
  day early on, or two to three weeks in maintenance; a single deep reading months ago
  would otherwise flag every session after it, and a slow loss still shows as it goes.
- sessions with a dilator at least as wide only: a wider size going less deep than a
  narrower one did is expected when a new size starts; a narrower or equal size going
  less deep is not.

Pure functions over plain values: no Flask, no database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

DEFAULT_DEPTH_DROP_CM = 1.0
DEPTH_DROP_CM_RANGE = (0.5, 5.0)
DEPTH_LOOKBACK_SESSIONS = 6

# Half a millimetre: depths are kept to one decimal place of a centimetre.
_EPSILON = 0.05


@dataclass(frozen=True)
class DepthReading:
    """One session's depth (cm) with the diameter (mm) of the dilator it was done with."""

    depth_cm: float
    diameter_mm: float


def depth_lost(
    now: DepthReading,
    before: Sequence[DepthReading],
    drop_cm: float = DEFAULT_DEPTH_DROP_CM,
    lookback: int = DEPTH_LOOKBACK_SESSIONS,
) -> bool:
    """Whether `now` is more than `drop_cm` below the deepest of the last `lookback`
    sessions `before` it (oldest first) done with a dilator at least as wide."""
    recent = before[-lookback:] if lookback > 0 else []
    comparable = [r.depth_cm for r in recent if r.diameter_mm >= now.diameter_mm - _EPSILON]
    if not comparable:
        return False
    return max(comparable) - now.depth_cm > drop_cm + _EPSILON


@dataclass(frozen=True)
class DepthWeek:
    """The depths logged in one week (Monday to Sunday): how many sessions gave a depth,
    and the deepest and shallowest of them (cm)."""

    week_of: date
    sessions: int
    deepest: float
    shallowest: float


def week_start(day: date) -> date:
    """The Monday of `day`'s week."""
    return day - timedelta(days=day.weekday())


def depth_by_week(readings: Sequence[tuple[date, float]]) -> list[DepthWeek]:
    """Depth by week, oldest first, from (day, depth in cm) readings in any order; weeks
    with no depth logged are left out. Counts are whole sessions."""
    weeks: dict[date, list[float]] = {}
    for day, depth in readings:
        weeks.setdefault(week_start(day), []).append(depth)
    return [
        DepthWeek(monday, len(depths), max(depths), min(depths))
        for monday, depths in sorted(weeks.items())
    ]

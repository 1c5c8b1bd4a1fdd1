"""A clock tests can set: `frozen_at(monkeypatch, when)` makes `clinic.core.clock.now()`
(hence "today" in every clinic's zone and every timestamp default) answer `when`, and
gives a handle that moves it on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from clinic.core import clock


@dataclass
class Clock:
    """The time the app reads, until the test ends."""

    current: datetime

    def __call__(self) -> datetime:
        return self.current

    def set(self, when: datetime) -> None:
        """Jump to `when` (timezone-aware)."""
        if when.tzinfo is None:
            raise ValueError("the clock takes aware datetimes")
        self.current = when

    def advance(self, by: timedelta) -> None:
        """Move on by `by`."""
        self.current += by


def frozen_at(monkeypatch: pytest.MonkeyPatch, when: datetime) -> Clock:
    """Make the app's clock read `when` (aware) until the test ends; returns it."""
    fixed = Clock(when)
    fixed.set(when)
    monkeypatch.setattr(clock, "now", fixed)
    return fixed

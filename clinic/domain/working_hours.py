"""A clinic's opening hours, and time counted in working hours.

A clinic works on some days of the week (Monday to Friday by default) between an opening
and a closing time on its own clock (its time zone). Two questions follow:

- is it open at a given moment (`is_open`), and when does it open next (`next_opening`);
- what moment lies N working hours after another (`add_working_hours`): the hours count
  only while the clinic is open, so 4 working hours after Friday 16:00, with hours 08:00
  to 18:00, is Monday 10:00.

Working hours are hours that really pass: on the night clocks change, a window that spans
the change is an hour longer or shorter, as it is for the people working it. A moment
exactly at closing time counts as reached within the day (the fourth working hour of a
day that opens at 14:00 and closes at 18:00 ends at 18:00, not the next morning).

Moments in and out are aware datetimes (any zone; answers are in UTC). No Flask, no
database: the alerts (clinic.alerts) and the patient's guidance use these rules.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# A week holds at least one open window, so a search for the next one never goes further.
_DAYS_SEARCHED = 8


class OpeningHoursError(ValueError):
    """Opening hours that describe no time at all (no day, or closing before opening)."""


@dataclass(frozen=True)
class OpeningHours:
    """When a clinic is open: ISO weekdays (1 Monday to 7 Sunday), and the local opening
    and closing times on each of them, in the IANA time zone `zone`."""

    zone: str
    days: frozenset[int]
    opens: time
    closes: time

    def __post_init__(self) -> None:
        if not self.days or not self.days <= set(range(1, 8)):
            raise OpeningHoursError("Choose at least one working day.")
        if not self.opens < self.closes:
            raise OpeningHoursError("The clinic must close after it opens.")

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.zone)

    def window(self, day: date) -> tuple[datetime, datetime] | None:
        """The open window of a local calendar day, in UTC, or None on a day off."""
        if day.isoweekday() not in self.days:
            return None
        opens = datetime.combine(day, self.opens, tzinfo=self.tz).astimezone(UTC)
        closes = datetime.combine(day, self.closes, tzinfo=self.tz).astimezone(UTC)
        return opens, closes

    def windows_from(self, moment: datetime) -> Iterator[tuple[datetime, datetime]]:
        """The open windows that end at or after `moment`, in order (the first may have
        begun)."""
        day = moment.astimezone(self.tz).date() - timedelta(days=1)  # a window from before
        while True:
            window = self.window(day)
            if window is not None and window[1] >= moment:
                yield window
            day += timedelta(days=1)


def parse_days(digits: str) -> frozenset[int]:
    """Working days as stored ("12345": Monday to Friday) to ISO weekday numbers."""
    return frozenset(int(d) for d in digits if d in "1234567")


def format_days(days: frozenset[int]) -> str:
    """ISO weekday numbers to the stored form ("12345")."""
    return "".join(str(d) for d in sorted(days))


def is_open(moment: datetime, hours: OpeningHours) -> bool:
    """Whether the clinic is open at `moment` (from opening time, until closing time)."""
    local = moment.astimezone(hours.tz)
    window = hours.window(local.date())
    return window is not None and window[0] <= moment < window[1]


def next_opening(moment: datetime, hours: OpeningHours) -> datetime:
    """When the clinic next opens after `moment` (the moment itself when it opens then;
    never a window already under way)."""
    for opens, _closes in hours.windows_from(moment):
        if opens >= moment:
            return opens
    raise AssertionError("unreachable: windows_from never ends")  # pragma: no cover


def add_working_hours(moment: datetime, duration: timedelta, hours: OpeningHours) -> datetime:
    """The moment `duration` of opening time after `moment` (in UTC). A moment outside
    opening hours starts counting at the next opening; a zero duration from there gives
    that opening (or `moment` itself while open)."""
    if duration < timedelta(0):
        raise ValueError("Working hours are counted forwards only.")
    moment = moment.astimezone(UTC)
    remaining = duration
    for opens, closes in hours.windows_from(moment):
        start = max(opens, moment)
        available = closes - start
        if remaining <= available:
            return start + remaining
        remaining -= available
    raise AssertionError("unreachable: windows_from never ends")  # pragma: no cover


def describe_days(days: frozenset[int]) -> str:
    """Working days in words: "Monday to Friday", "Monday, Wednesday and Friday",
    "every day"."""
    ordered = sorted(days)
    if len(ordered) == 7:
        return "every day"
    if len(ordered) >= 3 and ordered == list(range(ordered[0], ordered[-1] + 1)):
        return f"{DAY_NAMES[ordered[0] - 1]} to {DAY_NAMES[ordered[-1] - 1]}"
    names = [DAY_NAMES[d - 1] for d in ordered]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def describe(hours: OpeningHours) -> str:
    """Opening hours in words: "Monday to Friday, 08:00 to 18:00"."""
    return f"{describe_days(hours.days)}, {hours.opens:%H:%M} to {hours.closes:%H:%M}"


def minute_of_day(minutes: int) -> time:
    """A time from minutes after midnight (1440, midnight at the end of the day, is read
    as 23:59:59.999999 so that a day open until midnight stays one window)."""
    if minutes >= 24 * 60:
        return time(23, 59, 59, 999999)
    return time(minutes // 60, minutes % 60)

"""When the daily work is due, in each clinic's own time, and what a digest says.

- The daily work (summaries brought up to the new day, questionnaires made ready) runs
  once per clinic-local day, at or after `EARLY_HOUR` clinic time: late enough that the
  day has turned everywhere the clinic's patients live, early enough that it is done
  before anyone opens the dashboard. The scheduler looks every 15 minutes, so a run still
  missing an hour after `EARLY_HOUR` means the scheduler is not running.
- A clinician's digest goes out at the clinic-local time they chose, once per day, and
  only within `DIGEST_WINDOW` of it: a worker back after a long stop does not send the
  morning's digest in the evening.
- A digest is counts only: never a name, a condition or anything a patient reported.

Pure functions over plain values: no Flask, no database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

EARLY_HOUR = time(3, 0)
# How long after EARLY_HOUR the scheduler has surely had its chance (it runs every 15 min).
SCHEDULER_GRACE = timedelta(hours=1)
DIGEST_WINDOW = timedelta(hours=2)
# The times a clinician may choose: every half hour from 06:00 to 21:00, so that the
# window never crosses midnight.
DIGEST_TIMES = tuple(time(h, m) for h in range(6, 22) for m in (0, 30) if (h, m) <= (21, 0))


def daily_work_due(local_now: datetime, last_run_on: date | None) -> bool:
    """Whether the clinic's daily work should run now: not yet today (clinic-local), and
    the early hour has come. `local_now` is the clinic's local time."""
    today = local_now.date()
    not_yet_today = last_run_on is None or last_run_on < today
    return not_yet_today and local_now.time() >= EARLY_HOUR


def scheduler_late(local_now: datetime) -> bool:
    """Whether, at the clinic's local time `local_now`, the scheduled daily work should
    have run by now (so a page doing it instead means the scheduler is down)."""
    early = datetime.combine(local_now.date(), EARLY_HOUR)
    return local_now.replace(tzinfo=None) >= early + SCHEDULER_GRACE


def digest_due(local_now: datetime, chosen: time) -> bool:
    """Whether a digest chosen for `chosen` (clinic-local) goes out at `local_now`: from
    that time today, for `DIGEST_WINDOW`."""
    wall = local_now.replace(tzinfo=None)
    start = datetime.combine(wall.date(), chosen)
    return start <= wall < start + DIGEST_WINDOW


@dataclass(frozen=True)
class DigestCounts:
    """What one clinician's digest counts: patients of their caseload who need attention
    now, questionnaires their patients answered in the last 24 hours, and patients of the
    whole clinic who need attention."""

    need_attention: int = 0
    answered: int = 0
    clinic_need_attention: int = 0

    @property
    def has_news(self) -> bool:
        """Something about the clinician's own caseload to report. The clinic-wide count
        alone is not news for them: every colleague's digest would repeat it."""
        return self.need_attention > 0 or self.answered > 0


def _patients(n: int) -> str:
    return "1 patient" if n == 1 else f"{n} patients"


def digest_lines(counts: DigestCounts) -> list[str]:
    """The digest's lines, in plain words ("3 patients in your caseload need attention.")."""
    lines = []
    n = counts.need_attention
    if n:
        lines.append(f"{_patients(n)} in your caseload {'needs' if n == 1 else 'need'} attention.")
    else:
        lines.append("Nobody in your caseload needs attention.")
    a = counts.answered
    if a:
        noun = "questionnaire was" if a == 1 else "questionnaires were"
        lines.append(f"{a} {noun} answered by your patients in the last 24 hours.")
    c = counts.clinic_need_attention
    if c:
        verb = "needs" if c == 1 else "need"
        lines.append(f"Across the clinic, {_patients(c)} {verb} attention.")
    return lines

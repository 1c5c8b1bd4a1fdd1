"""Each clinic's daily work, once per clinic-local day, at an early hour of its own zone.

Days passing move every adherence window and make questionnaires due, so each day a
clinic's summaries are recomputed and its patients are told what is ready to fill in. The
scheduler (`clinic.schedule.jobs.start_daily_work`) runs this at `EARLY_HOUR` clinic
time. When it has not run, the first page that needs today's summaries does the refresh
itself (`refresh_on_first_view`): slower for that person, who is told so, and a warning
is logged so that operators notice the scheduler is down.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update

from clinic.core import clock
from clinic.core.statements import affected_rows
from clinic.domain.daily import daily_work_due, scheduler_late
from clinic.extensions import db
from clinic.models import Clinic
from clinic.monitoring.services import refresh_clinic_if_stale
from clinic.schedule.questionnaires import tell_questionnaires_ready

logger = logging.getLogger(__name__)


def clinics_due(now: datetime) -> list[int]:
    """The clinics whose daily work is due at `now` (each in its own zone), by id."""
    rows = db.session.execute(
        select(Clinic.id, Clinic.timezone, Clinic.daily_run_on).order_by(Clinic.id)
    )
    return [
        clinic_id
        for clinic_id, zone, last_run_on in rows
        if daily_work_due(clock.clinic_now(zone, now), last_run_on)
    ]


@dataclass(frozen=True)
class DailyRun:
    """What one clinic's daily work did (None: it was done already today)."""

    refreshed: bool
    questionnaires_ready: int


def run_daily_work(clinic: Clinic) -> DailyRun | None:
    """The clinic's daily work for its today, unless done already (in this unit of work).

    The day is claimed first, with one conditional UPDATE of the clinic's row: of two
    runs at once (two workers, a retried job), the second waits for the first to commit,
    then finds the day taken. The clinic's row first, then its summaries: the order the
    refresh and the dashboard take them in (see clinic.monitoring.services)."""
    today = clock.clinic_today(clinic.timezone)
    claimed = affected_rows(
        update(Clinic)
        .where(
            Clinic.id == clinic.id,
            (Clinic.daily_run_on.is_(None)) | (Clinic.daily_run_on < today),
        )
        .values(daily_run_on=today)
        .execution_options(synchronize_session=False)
    )
    db.session.expire(clinic, ["daily_run_on"])
    if claimed != 1:
        return None
    # A first page view may have refreshed already (the scheduler was late): no need twice.
    refreshed = refresh_clinic_if_stale(clinic)
    ready = tell_questionnaires_ready(clinic, today)
    return DailyRun(refreshed=refreshed, questionnaires_ready=ready)


@dataclass(frozen=True)
class FirstView:
    """Whether a page had to bring the summaries up to today itself, and whether that was
    because the scheduler is late (rather than early: before the early hour)."""

    refreshed: bool
    scheduler_late: bool = False

    @property
    def note(self) -> str:
        """What the page tells the clinician, in a calm line ("" when nothing to say)."""
        if not self.refreshed:
            return ""
        if self.scheduler_late:
            return (
                "Today's figures were worked out just now because the overnight update had"
                " not run. They are complete; the page was only slower to open."
            )
        return (
            "Today's figures were worked out just now: the day has begun before the"
            " overnight update (it runs at 3:00)."
        )


def refresh_on_first_view(clinic: Clinic) -> FirstView:
    """Bring the clinic's summaries up to today if the daily work has not (the page pays
    for it); logs a warning when the scheduler should have done it already."""
    if not refresh_clinic_if_stale(clinic):
        return FirstView(refreshed=False)
    late = scheduler_late(clock.clinic_now(clinic.timezone))
    if late:
        logger.warning(
            "Clinic %s: a page refreshed today's summaries because the scheduled daily work"
            " has not run (is the scheduler running? see README, 'Background work')",
            clinic.id,
        )
    return FirstView(refreshed=True, scheduler_late=late)

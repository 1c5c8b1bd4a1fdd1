"""The scheduler's periodic jobs (run by the one worker that runs the scheduler).

- `start_daily_work`, every 15 minutes: queues the daily work of each clinic whose local
  day has turned and whose early hour has come (`run_clinic_day`, one job per clinic, so
  a clinic that fails does not hold up the others and workers share the load).
- `send_digests`, every 15 minutes: the digests due now, clinic by clinic.
- `clean_up_daily`, once a day: sessions, links and message bodies past their use.

Every job is safe to run twice: the daily work claims its day, a digest's outbox key
holds the date, and clean-up removes only what is old.
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from clinic.core import clock
from clinic.core.uow import unit_of_work
from clinic.extensions import db
from clinic.models import Clinic
from clinic.queue import crontab, enqueue, job, periodic
from clinic.schedule.cleanup import Cleaned, clean_up
from clinic.schedule.daily import DailyRun, clinics_due, run_daily_work
from clinic.schedule.digest import post_digests

logger = logging.getLogger(__name__)


@job
def run_clinic_day(clinic_id: int) -> DailyRun | None:
    """One clinic's daily work for its today (nothing if done already)."""
    with unit_of_work():
        clinic = db.session.get(Clinic, clinic_id)
        return run_daily_work(clinic) if clinic is not None else None


@periodic(crontab(minute="*/15"))
def start_daily_work() -> list[int]:
    """Queue the daily work of every clinic whose early hour has come today."""
    with unit_of_work():
        due = clinics_due(clock.now())
    for clinic_id in due:
        enqueue(run_clinic_day, clinic_id)
    return due


@periodic(crontab(minute="*/15"))
def send_digests() -> int:
    """Post the clinicians' digests due now, one unit of work per clinic."""
    now = clock.now()
    with unit_of_work():
        clinic_ids = list(db.session.scalars(select(Clinic.id).order_by(Clinic.id)))
    posted = 0
    for clinic_id in clinic_ids:
        try:
            with unit_of_work():
                clinic = db.session.get(Clinic, clinic_id)
                if clinic is not None:
                    posted += post_digests(clinic, now)
        except Exception:
            # One clinic's failure must not cost every other clinic its digests.
            logger.exception("Clinic %s: the daily digests could not be prepared", clinic_id)
    return posted


@periodic(crontab(hour="2", minute="40"))
def clean_up_daily() -> Cleaned:
    """Remove sessions, links and message bodies past their use."""
    with unit_of_work():
        return clean_up(clock.now())

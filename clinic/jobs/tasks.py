"""The worker's clean-up of background runs: hourly, files past their day are emptied and
runs whose worker died are said to have failed."""

from __future__ import annotations

from clinic.core.uow import unit_of_work
from clinic.jobs.services import Purge, purge_expired
from clinic.queue import crontab, periodic


@periodic(crontab(minute="17"))
def purge_job_runs() -> Purge:
    """Empty expired files, give up on runs whose worker died, delete week-old rows."""
    with unit_of_work():
        return purge_expired()

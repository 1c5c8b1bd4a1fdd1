"""The worker's alert job: escalate reports nobody has acknowledged in time."""

from __future__ import annotations

from clinic.alerts.services import escalate_due
from clinic.core.uow import unit_of_work
from clinic.models.types import utcnow
from clinic.queue import crontab, periodic

# Every five minutes: a level is due at most five minutes late, and a run over every open
# flag of every clinic is a few small queries.
ESCALATION_SCHEDULE = crontab(minute="*/5")


@periodic(ESCALATION_SCHEDULE)
def escalate_red_flags() -> int:
    """Post the escalation messages now due (each level once per recipient)."""
    with unit_of_work():
        return escalate_due(utcnow())

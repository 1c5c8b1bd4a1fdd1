"""The worker's outbox jobs: deliver at once when asked, and sweep every minute."""

from __future__ import annotations

from clinic.outbox.delivery import Delivery, deliver_due
from clinic.queue import crontab, huey, job, periodic


@job
def deliver_outbox() -> Delivery:
    """Send what is due (queued after a unit of work that posted a message)."""
    return deliver_due()


@periodic(crontab(minute="*"))
def sweep_outbox() -> Delivery:
    """Send what is due: retries whose wait is over, messages of a worker that died,
    messages whose request could not reach the queue, and all of them once the mail
    server is back."""
    return deliver_due()


@huey.on_startup()
def deliver_on_start() -> None:
    """A worker that starts (after a crash, a deploy) catches up at once."""
    deliver_outbox.call_local()

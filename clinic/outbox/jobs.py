"""The worker's outbox jobs: deliver at once when asked, come back when something falls
due, and sweep every minute.

Three things start a delivery: a unit of work that posted a message (`deliver_outbox`,
queued after its commit), a worker starting (`deliver_on_start`), and the scheduler's
sweep each minute (`sweep_outbox`). After each run the worker looks at when the next
message falls due (a retry after the mail server was away, the lease of a worker that
died mid-batch) and, when that is within the minute, schedules one run for then
(`deliver_outbox_when_due`): a worker restarted a second after a crash sends the dead
worker's messages as soon as their lease has run out, not at the next sweep. One such
follow-up is scheduled at a time across all workers (a key in the queue's storage), so
a thousand posts do not leave a thousand timers behind.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from clinic.models.types import utcnow
from clinic.outbox.delivery import Delivery, deliver_due, next_due_at
from clinic.queue import crontab, huey, job, periodic

# Something due later than this is the minute's sweep's business.
FOLLOW_UP_HORIZON = timedelta(minutes=1)
# A lease is over once `claimed_until < now`: come back just after, not at the instant.
FOLLOW_UP_MARGIN = 0.2
# A follow-up whose time passed this long ago was lost (the queue emptied): replace it.
FOLLOW_UP_STALE = 30.0
_FOLLOW_UP_KEY = "clinic.outbox.follow-up"

logger = logging.getLogger(__name__)


def _deliver() -> Delivery:
    done = deliver_due()
    come_back_when_due()
    return done


@job
def deliver_outbox() -> Delivery:
    """Send what is due (queued after a unit of work that posted a message)."""
    return _deliver()


@job
def deliver_outbox_when_due() -> Delivery:
    """Send what has fallen due since the last run (the follow-up `come_back_when_due`
    scheduled)."""
    huey.get(_FOLLOW_UP_KEY)  # taken: the next run may schedule the next follow-up
    return _deliver()


@periodic(crontab(minute="*"))
def sweep_outbox() -> Delivery:
    """Send what is due: retries whose wait is over, messages of a worker that died,
    messages whose request could not reach the queue, and all of them once the mail
    server is back."""
    return _deliver()


@huey.on_startup()
def deliver_on_start() -> None:
    """A worker that starts (after a crash, a deploy) catches up at once, and comes back
    when the messages a dead worker held are free."""
    deliver_outbox.call_local()


def come_back_when_due() -> None:
    """Schedule one delivery for when the next message falls due, if that is within the
    minute and no earlier follow-up is already scheduled."""
    if huey.immediate:
        return  # tests run jobs at once and move time themselves
    due = next_due_at()
    if due is None:
        return
    wait = max((due - utcnow()).total_seconds(), 0.0) + FOLLOW_UP_MARGIN
    if wait > FOLLOW_UP_HORIZON.total_seconds():
        return
    at = time.time() + wait
    try:
        if not _take_follow_up(at):
            return
        deliver_outbox_when_due.schedule(delay=wait)
    except Exception:  # the queue unreachable: the sweep comes when it is back
        logger.warning("The task queue is unreachable; the outbox waits for the next sweep")


def _take_follow_up(at: float) -> bool:
    """Whether this run should schedule the follow-up at `at` (a timestamp): none is
    scheduled, the one scheduled is later, or it was lost."""
    if huey.put_if_empty(_FOLLOW_UP_KEY, at):
        return True
    scheduled = huey.get(_FOLLOW_UP_KEY, peek=True)
    now = time.time()
    if scheduled is None or scheduled < now - FOLLOW_UP_STALE or at < scheduled - 1:
        # Not atomic: two workers may both schedule one here, which costs one empty run.
        huey.put(_FOLLOW_UP_KEY, at)
        return True
    return False

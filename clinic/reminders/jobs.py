"""The minute's reminder job: send what has fallen due, in bounded batches.

Each batch is its own unit of work (a few hundred plans), so a long run never holds one
transaction, and a failure costs one batch: its plans keep their `next_due_at` and the
next minute looks at them again (the outbox's keys keep what was already posted to one
message). The job stops when a batch finds fewer plans than it may take.
"""

from __future__ import annotations

from clinic.core import clock
from clinic.core.uow import unit_of_work
from clinic.queue import crontab, periodic
from clinic.reminders.sending import BATCH, send_batch


def send_reminders_now(limit: int = BATCH) -> int:
    """Send every reminder due now, a batch per unit of work; returns how many messages
    were posted."""
    now = clock.now()
    posted = 0
    while True:
        with unit_of_work():
            batch = send_batch(now, limit)
        posted += batch.posted
        if batch.looked_at < limit:
            return posted


@periodic(crontab(minute="*"))
def send_reminders() -> int:
    """Post the patients' reminders (and nudges) due this minute."""
    return send_reminders_now()

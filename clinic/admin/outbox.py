"""The clinic's outbox as administrators see it: what was sent, what waits, what failed,
and sending a failed message again.

What a message says (its subject and body) is never read here: the list loads only the
columns it shows (kind, recipient, status, attempts, times, the kind of error), so no
page can show a link that signs someone in, or a word about anyone's care.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _

from clinic.audit.log import record
from clinic.core.refusals import Refusal
from clinic.domain.text import N_
from clinic.extensions import db
from clinic.models import User
from clinic.models.outbox import MessageStatus, OutboxMessage
from clinic.outbox.delivery import retry
from clinic.outbox.jobs import deliver_outbox
from clinic.queue import enqueue_after_commit

# The list's filter: its value in the URL -> (words, the statuses it shows). The words are
# marked here and translated by the page that shows them.
SHOWN: dict[str, tuple[str, tuple[MessageStatus, ...]]] = {
    "all": (N_("All messages"), ()),
    "failed": (N_("Failed"), (MessageStatus.FAILED,)),
    "waiting": (N_("Waiting or sending"), (MessageStatus.PENDING, MessageStatus.SENDING)),
    "sent": (N_("Sent"), (MessageStatus.SENT,)),
    "cancelled": (N_("Not needed"), (MessageStatus.CANCELLED,)),
}

# The columns the list shows; subject and body stay in the database.
LISTED = (
    OutboxMessage.id,
    OutboxMessage.kind,
    OutboxMessage.recipient,
    OutboxMessage.status,
    OutboxMessage.attempts,
    OutboxMessage.next_attempt_at,
    OutboxMessage.created_at,
    OutboxMessage.sent_at,
    OutboxMessage.last_error,
)


class OutboxChangeError(Refusal):
    """The message cannot be sent again; the message says why."""


def outbox_query(clinic_id: int, shown: str) -> sa.Select[OutboxMessage]:
    """The clinic's messages under the filter `shown`: failed ones first (they need an
    administrator), then the newest."""
    _, statuses = SHOWN.get(shown, SHOWN["all"])
    query = (
        sa.select(OutboxMessage)
        .options(so.load_only(*LISTED, raiseload=True))
        .where(OutboxMessage.clinic_id == clinic_id)
    )
    if statuses:
        query = query.where(OutboxMessage.status.in_(statuses))
    needs_attention = sa.case((OutboxMessage.status == MessageStatus.FAILED, 0), else_=1)
    return query.order_by(needs_attention, OutboxMessage.created_at.desc(), OutboxMessage.id.desc())


def failed_count(clinic_id: int) -> int:
    """How many of the clinic's messages could not be sent (and were not sent since)."""
    return int(
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(OutboxMessage)
            .where(
                OutboxMessage.clinic_id == clinic_id,
                OutboxMessage.status == MessageStatus.FAILED,
            )
        )
        or 0
    )


def get_message_or_404(message_id: int, clinic_id: int) -> OutboxMessage:
    """One of this clinic's messages; 404 for another clinic's (or none)."""
    return db.first_or_404(
        sa.select(OutboxMessage)
        .options(so.load_only(*LISTED))
        .where(OutboxMessage.id == message_id, OutboxMessage.clinic_id == clinic_id)
    )


def send_again(message: OutboxMessage, by: User) -> None:
    """Put a failed message back in line with fresh attempts, audited; the worker is asked
    to deliver once the change is saved."""
    if message.status != MessageStatus.FAILED:
        raise OutboxChangeError(
            _(
                "Only a message that failed can be sent again; this one is “%(status)s”.",
                status=message.status.label.lower(),
            )
        )
    if message.body == "":
        # The daily clean-up empties a failed message's body (and a letter's PDF) after a
        # while; sent again, it would arrive empty, and be shown as sent.
        raise OutboxChangeError(
            _(
                "This message is too old to send again: what it said was cleared. "
                "Send it afresh from where it was written (a letter: write it again)."
            )
        )
    retry(message)
    record("outbox.retry", object_type="outbox_message", object_id=message.id, actor=by)
    db.session.flush()
    enqueue_after_commit(deliver_outbox)

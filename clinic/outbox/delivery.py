"""Sending what the outbox holds: claim, send, mark, each step its own transaction.

1. `deliver_due` claims a batch of due messages in one short transaction: status
   "sending", one more attempt, and a lease (`claimed_until`). On PostgreSQL two workers
   skip each other's rows (SKIP LOCKED); on SQLite the write lock takes them in turn.
2. It sends them over one connection, and marks each one "sent" as soon as the server has
   accepted it, in a transaction of its own, emptying its body (links in it sign people
   in). A worker killed mid-batch leaves the rest "sending"; once the lease has run out,
   the next run sends them. Only a message the server accepted in the instant before the
   worker died can go twice, and it goes with the same Message-ID.
3. A message the server refuses waits longer each time (`BACKOFF`) and is "failed" after
   its last attempt: administrators see it and may retry (`retry`). A server that cannot
   be reached is not the message's fault: the batch is released without using up an
   attempt, and goes out when the server is back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from clinic.core import mail
from clinic.core.mail import MailServerUnavailable, Message, MessageRefused
from clinic.core.statements import affected_rows
from clinic.core.uow import unit_of_work
from clinic.extensions import db
from clinic.models.outbox import MessageStatus, OutboxMessage
from clinic.models.types import utcnow

# How long a refused message waits before its next attempt, after each failed one; after
# the last, it is "failed". About six hours from the first try to the last.
BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(hours=1),
    timedelta(hours=4),
)
MAX_ATTEMPTS = len(BACKOFF) + 1
# How soon a batch is tried again when the mail server could not be reached.
SERVER_RETRY = timedelta(minutes=1)
UNREACHABLE = "mail server unreachable"


@dataclass(frozen=True)
class Claimed:
    """A claimed message, read before its transaction ended."""

    id: int
    attempts: int
    message: Message


@dataclass
class Delivery:
    """What one run did."""

    sent: int = 0
    refused: int = 0
    server_unavailable: bool = False


def _due(now: datetime) -> sa.ColumnElement[bool]:
    """Waiting and due, or claimed by a worker whose lease ran out (it died)."""
    return sa.or_(
        sa.and_(
            OutboxMessage.status == MessageStatus.PENDING, OutboxMessage.next_attempt_at <= now
        ),
        sa.and_(OutboxMessage.status == MessageStatus.SENDING, OutboxMessage.claimed_until < now),
    )


def _message_id(outbox_id: int) -> str:
    domain = current_app.config["MAIL_FROM"].rpartition("@")[2] or "localhost"
    return f"<outbox-{outbox_id}@{domain}>"


def claim(limit: int) -> list[Claimed]:
    """Take up to `limit` due messages for this worker, in a transaction of their own."""
    now = utcnow()
    lease: timedelta = current_app.config["OUTBOX_LEASE"]
    with unit_of_work():
        due = (
            sa.select(OutboxMessage.id)
            .where(_due(now))
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        ids = list(
            db.session.scalars(
                sa.update(OutboxMessage)
                .where(OutboxMessage.id.in_(due))
                .values(
                    status=MessageStatus.SENDING,
                    claimed_until=now + lease,
                    attempts=OutboxMessage.attempts + 1,
                )
                .returning(OutboxMessage.id)
                .execution_options(synchronize_session=False)
            )
        )
        rows = db.session.execute(
            sa.select(
                OutboxMessage.id,
                OutboxMessage.attempts,
                OutboxMessage.recipient,
                OutboxMessage.subject,
                OutboxMessage.body,
                OutboxMessage.sender_name,
            )
            .where(OutboxMessage.id.in_(ids))
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        ).all()
    return [
        Claimed(
            id=row.id,
            attempts=row.attempts,
            message=Message(
                to=row.recipient,
                subject=row.subject,
                body=row.body,
                sender_name=row.sender_name,
                message_id=_message_id(row.id),
            ),
        )
        for row in rows
    ]


def _mark(outbox_id: int, **values: object) -> None:
    """Record what became of a claimed message (only while it is still claimed: a row an
    administrator changed meanwhile keeps their change)."""
    with unit_of_work():
        affected_rows(
            sa.update(OutboxMessage)
            .where(OutboxMessage.id == outbox_id, OutboxMessage.status == MessageStatus.SENDING)
            .values(claimed_until=None, **values)
        )


def _release(batch: list[Claimed], reason: str) -> None:
    """Give the batch back without using up an attempt: the server was not there."""
    with unit_of_work():
        db.session.execute(
            sa.update(OutboxMessage)
            .where(
                OutboxMessage.id.in_([c.id for c in batch]),
                OutboxMessage.status == MessageStatus.SENDING,
            )
            .values(
                status=MessageStatus.PENDING,
                claimed_until=None,
                attempts=OutboxMessage.attempts - 1,
                next_attempt_at=utcnow() + SERVER_RETRY,
                last_error=reason,
            )
            .execution_options(synchronize_session=False)
        )


def after_refusal(attempts: int, now: datetime) -> dict[str, object]:
    """The row's new state after its `attempts`-th attempt was refused."""
    if attempts >= MAX_ATTEMPTS:
        # The body is kept: an administrator may retry it (clean-up empties it later).
        return {"status": MessageStatus.FAILED}
    return {"status": MessageStatus.PENDING, "next_attempt_at": now + BACKOFF[attempts - 1]}


def deliver_due(batch_size: int = 50) -> Delivery:
    """Send every message due now, batch after batch, until none is due or the server
    cannot be reached."""
    done = Delivery()
    transport = mail.transport()
    while batch := claim(batch_size):
        with transport.session() as send:
            for position, claimed in enumerate(batch):
                try:
                    send(claimed.message)
                except MessageRefused as refusal:
                    done.refused += 1
                    _mark(
                        claimed.id,
                        last_error=refusal.reason,
                        **after_refusal(claimed.attempts, utcnow()),
                    )
                except MailServerUnavailable as unavailable:
                    done.server_unavailable = True
                    _release(batch[position:], f"{UNREACHABLE} ({unavailable})")
                    break
                else:
                    done.sent += 1
                    _mark(
                        claimed.id,
                        status=MessageStatus.SENT,
                        sent_at=utcnow(),
                        body="",
                        last_error="",
                    )
        if done.server_unavailable or len(batch) < batch_size:
            break
    return done


def retry(message: OutboxMessage) -> None:
    """Put a failed message back in line, with a fresh set of attempts (an administrator
    asked; the body was kept for this)."""
    message.status = MessageStatus.PENDING
    message.attempts = 0
    message.next_attempt_at = utcnow()
    message.last_error = ""

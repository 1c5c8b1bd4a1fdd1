"""Outbox rows as tests need them (messages in any status, written straight to the table,
or posted as features post them), and a mail transport that refuses on demand."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from flask import Flask

from clinic.core import mail
from clinic.core.mail import Message, MessageRefused
from clinic.core.uow import unit_of_work
from clinic.extensions import db
from clinic.models.outbox import MessageStatus, OutboxMessage
from clinic.models.types import utcnow
from clinic.outbox import Content, post
from clinic.outbox.kinds import MessageKind

# What a test message says: words that must never reach the outbox page.
SECRET_SUBJECT = "Subject-words-never-listed"
SECRET_BODY = "Body-words-never-listed https://clinic.test/password/reset/secret-token"


def add_messages(
    app: Flask,
    clinic_id: int,
    count: int,
    status: MessageStatus = MessageStatus.SENT,
    *,
    recipient: str = "someone@example.org",
    minutes_ago: int = 0,
) -> list[int]:
    """Write `count` messages of clinic `clinic_id` in `status` (committed); their ids."""
    now = utcnow() - timedelta(minutes=minutes_ago)
    rows = [
        OutboxMessage(
            clinic_id=clinic_id,
            kind=MessageKind.PASSWORD_RESET.value,
            key=f"test:{uuid.uuid4().hex}",
            recipient=recipient,
            subject=SECRET_SUBJECT,
            body=SECRET_BODY,
            status=status,
            attempts={MessageStatus.FAILED: 6, MessageStatus.SENT: 1}.get(status, 0),
            last_error="recipient refused (550)" if status == MessageStatus.FAILED else "",
            created_at=now,
            next_attempt_at=now,
            sent_at=now if status == MessageStatus.SENT else None,
        )
        for _ in range(count)
    ]
    with app.app_context():
        db.session.add_all(rows)
        db.session.commit()
        return [row.id for row in rows]


def post_messages(app: Flask, clinic_id: int, count: int, prefix: str = "m") -> None:
    """Post `count` messages through `clinic.outbox.post` in one unit of work, as a
    feature would: committed, then delivery is asked for (run at once in tests, or by a
    real worker when the queue is shared with one). Recipients: `{prefix}.{n}@example.org`."""
    with app.app_context(), unit_of_work():
        for n in range(count):
            post(
                MessageKind.PASSWORD_RESET,
                f"{prefix}-{n}",
                to=f"{prefix}.{n}@example.org",
                clinic_id=clinic_id,
                content=Content(subject="Your sign-in link", body=f"Message {prefix}-{n}."),
            )


def statuses(app: Flask) -> dict[str, int]:
    """How many messages are in each status."""
    with app.app_context():
        counts: dict[str, int] = {}
        for status in db.session.scalars(db.select(OutboxMessage.status)):
            counts[status.value] = counts.get(status.value, 0) + 1
        return counts


@dataclass
class RefusingTransport:
    """A mail transport that refuses every message (550) while `refusing`, and keeps
    what it accepts afterwards in `messages`."""

    refusing: bool = True
    messages: list[Message] = field(default_factory=list)

    @contextmanager
    def session(self) -> Iterator[Callable[[Message], None]]:
        def send(message: Message) -> None:
            if self.refusing:
                raise MessageRefused("recipient refused (550)")
            self.messages.append(message)

        yield send


@contextmanager
def transport_in_use(app: Flask, transport: object) -> Iterator[None]:
    """Make `transport` the app's mail transport for the block."""
    key = mail._EXTENSION_KEY
    previous = app.extensions[key]
    app.extensions[key] = transport
    try:
        yield
    finally:
        app.extensions[key] = previous

"""The outbox: every message the system sends is a row here first.

A row is written in the same transaction as the event that causes it (a red flag, an
invitation, a reset request), so a message exists exactly when its cause was saved. The
task queue's worker sends what is due and marks it (clinic.outbox.delivery); the queue only
runs the work, the rows are the truth.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
import sqlalchemy.orm as so

from clinic.extensions import Model
from clinic.models.types import UTCDateTime, enum_column, utcnow


class MessageStatus(StrEnum):
    """Where a message stands."""

    PENDING = "pending"  # waiting to be sent (first try or a retry after `next_attempt_at`)
    SENDING = "sending"  # claimed by a worker until `claimed_until`
    SENT = "sent"  # the mail server accepted it
    FAILED = "failed"  # gave up after the last attempt; an administrator may retry it
    CANCELLED = "cancelled"  # its occasion passed before it went out (a flag acknowledged)

    @property
    def failed(self) -> bool:
        """Given up after the last attempt: an administrator may send it again."""
        return self is MessageStatus.FAILED

    @property
    def waiting(self) -> bool:
        """Not sent yet, and due at `next_attempt_at`."""
        return self is MessageStatus.PENDING

    @property
    def label(self) -> str:
        """The status as an administrator reads it."""
        return {
            "pending": "Waiting",
            "sending": "Sending",
            "sent": "Sent",
            "failed": "Failed",
            "cancelled": "Not needed",
        }[self.value]


class OutboxMessage(Model):
    """One message to one recipient on one channel, for one occasion."""

    __tablename__ = "outbox_messages"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    clinic_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("clinics.id"), index=True)
    # The account it goes to, when it goes to one (a clinic's duty address has none).
    # Erasing an account erases its messages (clinic.rights).
    user_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"), index=True)
    # What kind of message (clinic.outbox.kinds), shown to administrators; never content.
    kind: so.Mapped[str] = so.mapped_column(sa.String(40))
    # One message per occasion, recipient and channel ("red_flag:12:user:3:email"): writing
    # the same occasion twice keeps the first row (see clinic.outbox.post).
    key: so.Mapped[str] = so.mapped_column(sa.String(200), unique=True)
    channel: so.Mapped[str] = so.mapped_column(sa.String(10), default="email")
    recipient: so.Mapped[str] = so.mapped_column(sa.String(254))
    # The display name in From (a clinic may prefer none: some patients do).
    sender_name: so.Mapped[str] = so.mapped_column(sa.String(120), default="")
    subject: so.Mapped[str] = so.mapped_column(sa.String(200))
    # Emptied once sent: a link in it may sign someone in, and the row outlives its use.
    body: so.Mapped[str] = so.mapped_column(sa.Text)
    # A file sent with the message (a letter's PDF, clinic.letters): its name, and its
    # bytes until the message is sent (emptied then, like the body; the letter keeps them).
    attachment_name: so.Mapped[str] = so.mapped_column(
        sa.String(120), default="", server_default=""
    )
    attachment: so.Mapped[bytes | None] = so.mapped_column(sa.LargeBinary, deferred=True)
    status: so.Mapped[MessageStatus] = so.mapped_column(
        enum_column(MessageStatus, "message_status"), default=MessageStatus.PENDING
    )
    attempts: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    next_attempt_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    claimed_until: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    # The claim of the worker sending it (random, set at each claim): a worker writes what
    # became of a message only while the claim is still its own (clinic.outbox.delivery).
    claim_token: so.Mapped[str | None] = so.mapped_column(sa.String(32))
    # The kind of error only (an SMTP code, "server unreachable"): never an address.
    last_error: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    sent_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)

    __table_args__ = (
        # What the worker looks for: messages due, oldest first.
        sa.Index("ix_outbox_messages_due", "status", "next_attempt_at"),
        sa.CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        # On SQLite, ids are never reused (AUTOINCREMENT): a message's id is its
        # Message-ID, and a mailbox may drop a new message that has an old one's.
        {"sqlite_autoincrement": True},
    )

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.id} {self.kind} {self.status}>"

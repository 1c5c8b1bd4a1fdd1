"""Sending what the outbox holds: claim, send, mark, each step its own transaction.

1. `deliver_due` claims a batch of due messages in one short transaction: status
   "sending", one more attempt, a lease (`claimed_until`) and the claim's own random
   token (`claim_token`). On PostgreSQL two workers skip each other's rows (SKIP LOCKED);
   on SQLite the write lock takes them in turn.
2. It sends them over one connection. Just before each send it renews that message's
   lease, only while the claim is still its own (same token, still "sending"): a batch
   slower than one lease loses the messages another worker took meanwhile (their lease
   had run out, as if this worker had died) and skips them, rather than sending them a
   second time. It marks each one "sent" as soon as the server has accepted it, in a
   transaction of its own, emptying its body (links in it sign people in); every mark is
   made only under its own token too. A worker killed mid-batch leaves the rest
   "sending"; once the lease has run out, the next run sends them. Only a message the
   server accepted in the instant before the worker died, or whose one send took longer
   than a whole lease (the SMTP timeout is far shorter), can go twice, and it goes with
   the same Message-ID.
3. A message the server refuses waits longer each time (`BACKOFF`) and is "failed" after
   its last attempt: administrators see it and may retry (`retry`). A server that cannot
   be reached is not the message's fault: the batch is released without using up an
   attempt, and goes out when the server is back.
4. A message that cannot even be handed to the transport (an address no header can
   carry) is refused like one the server refused, so it never holds back the batch; and a
   message whose worker died while sending it on every one of its attempts is "failed"
   rather than claimed for ever.
5. A push message (channel "push", clinic.push) goes to one device: its body holds the
   subscription's id and the payload. It is handed to that device's push service
   (clinic.core.webpush) instead of the mail server. A device whose subscription is gone
   (the patient turned it off, or the push service answered 404/410, whereupon the
   subscription is deleted) makes the message "not needed". A push service that cannot
   be reached gives back that one message without using up an attempt (push services
   are many and independent: the rest of the batch goes on). A mail server that cannot
   be reached holds back the emails only: the push messages of that run still go out.
6. `next_due_at` says when something will next be due (a retry, a lease running out):
   the worker's jobs (clinic.outbox.jobs) use it to come back then, sooner than the
   minute's sweep.
"""

from __future__ import annotations

import json
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from clinic.core import mail, webpush
from clinic.core.mail import Attachment, MailServerUnavailable, Message, MessageRefused
from clinic.core.statements import affected_rows
from clinic.core.uow import unit_of_work
from clinic.extensions import db
from clinic.models.invitations import Invitation
from clinic.models.outbox import MessageStatus, OutboxMessage
from clinic.models.push import PushSubscription
from clinic.models.types import utcnow
from clinic.models.users import Role, User, normalise_email
from clinic.outbox.kinds import MessageKind

# The channels a message goes out on (OutboxMessage.channel).
EMAIL = "email"
PUSH = "push"

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
# How soon a batch is tried again when the mail server could not be reached: the
# configuration's OUTBOX_SERVER_RETRY (CLINIC_OUTBOX_SERVER_RETRY_SECONDS), one minute unless
# set.
SERVER_RETRY = timedelta(minutes=1)
UNREACHABLE = "mail server unreachable"
PUSH_UNREACHABLE = "push service unreachable"
DEVICE_GONE = "the device no longer takes notifications"
DIED_SENDING = "the worker stopped while sending it"
PATIENT_ADDRESS_NOW = "not sent: the address is now a patient's own"
# Kinds sent to addresses outside the clinic's accounts that must never reach a patient,
# checked again just before each is sent (the address may have become a patient's).
NEVER_TO_PATIENTS = frozenset({MessageKind.LETTER.value})

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Claimed:
    """A claimed message, read before its transaction ended."""

    id: int
    attempts: int
    message: Message
    token: str  # the claim's: this worker's while the row still holds it
    channel: str = EMAIL
    kind: str = ""


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
    token = secrets.token_hex(16)
    with unit_of_work():
        # A message whose worker died while sending it on its last attempt is not tried
        # again for ever (it may be what kills the worker): it is failed, for an
        # administrator to look at.
        affected_rows(
            sa.update(OutboxMessage)
            .where(
                OutboxMessage.status == MessageStatus.SENDING,
                OutboxMessage.claimed_until < now,
                OutboxMessage.attempts >= MAX_ATTEMPTS,
            )
            .values(
                status=MessageStatus.FAILED,
                claimed_until=None,
                claim_token=None,
                last_error=DIED_SENDING,
            )
            .execution_options(synchronize_session=False)
        )
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
                    claim_token=token,
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
                OutboxMessage.channel,
                OutboxMessage.kind,
                OutboxMessage.attachment_name,
                OutboxMessage.attachment,
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
                attachments=(
                    (Attachment(row.attachment_name, row.attachment),)
                    if row.attachment is not None
                    else ()
                ),
            ),
            token=token,
            channel=row.channel,
            kind=row.kind,
        )
        for row in rows
    ]


def _still_ours(claimed: Claimed) -> sa.ColumnElement[bool]:
    """The message is still "sending" under this claim (not taken by another worker whose
    sweep found the lease run out, not changed by an administrator)."""
    return sa.and_(
        OutboxMessage.id == claimed.id,
        OutboxMessage.status == MessageStatus.SENDING,
        OutboxMessage.claim_token == claimed.token,
    )


def _renew(claimed: Claimed) -> bool:
    """Extend the lease of a message about to be sent, if the claim is still this
    worker's; False when it is not (another worker has it: not sent here)."""
    lease: timedelta = current_app.config["OUTBOX_LEASE"]
    with unit_of_work():
        return (
            affected_rows(
                sa.update(OutboxMessage)
                .where(_still_ours(claimed))
                .values(claimed_until=utcnow() + lease)
            )
            == 1
        )


def _mark(claimed: Claimed, **values: object) -> None:
    """Record what became of a claimed message (only while the claim is still this
    worker's: a row an administrator or another worker changed meanwhile keeps that)."""
    with unit_of_work():
        affected_rows(
            sa.update(OutboxMessage)
            .where(_still_ours(claimed))
            .values(claimed_until=None, claim_token=None, **values)
        )


def _release(batch: list[Claimed], reason: str) -> None:
    """Give the batch back without using up an attempt: the server was not there (the
    messages another worker took meanwhile stay with it)."""
    with unit_of_work():
        db.session.execute(
            sa.update(OutboxMessage)
            .where(
                OutboxMessage.id.in_([c.id for c in batch]),
                OutboxMessage.status == MessageStatus.SENDING,
                OutboxMessage.claim_token == batch[0].token,
            )
            .values(
                status=MessageStatus.PENDING,
                claimed_until=None,
                claim_token=None,
                attempts=OutboxMessage.attempts - 1,
                next_attempt_at=utcnow()
                + current_app.config.get("OUTBOX_SERVER_RETRY", SERVER_RETRY),
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
    """Send every message due now, batch after batch, until none is due or the mail server
    cannot be reached (push messages still go out then: their services are not the mail
    server, and a mail outage must not silence the devices)."""
    done = Delivery()
    transport = mail.transport()
    mail_down = ""  # why, once the mail server could not be reached in this run
    while batch := claim(batch_size):
        emails = [c for c in batch if c.channel != PUSH]
        if mail_down and emails:
            _release(emails, mail_down)  # given back at once: the server is away
        with transport.session() as send:
            for position, claimed in enumerate(batch):
                if mail_down and claimed.channel != PUSH:
                    continue  # released
                if not _renew(claimed):
                    continue  # another worker took it when this batch outlived its lease
                if claimed.channel == PUSH:
                    _push(claimed, done)
                    continue
                if claimed.kind in NEVER_TO_PATIENTS and _now_a_patients(claimed.message.to):
                    # Written when the address was no patient's; it is one now. Failed, not
                    # retried, and refused again if an administrator sends it again.
                    done.refused += 1
                    _mark(claimed, status=MessageStatus.FAILED, last_error=PATIENT_ADDRESS_NOW)
                    continue
                try:
                    send(claimed.message)
                except MessageRefused as refusal:
                    done.refused += 1
                    _refused(claimed, refusal.reason)
                except MailServerUnavailable as unavailable:
                    done.server_unavailable = True
                    mail_down = f"{UNREACHABLE} ({unavailable})"
                    _release([c for c in batch[position:] if c.channel != PUSH], mail_down)
                except Exception as error:  # one bad message, not the whole batch
                    # The transport could not even take it (a header it cannot write): the
                    # message's fault. Left "sending", it would stop every batch it is in.
                    logger.exception("outbox message %s could not be sent", claimed.id)
                    done.refused += 1
                    _refused(claimed, f"could not be sent ({type(error).__name__})")
                else:
                    done.sent += 1
                    # The attachment goes with the body: the letter it came from keeps it.
                    _mark(
                        claimed,
                        status=MessageStatus.SENT,
                        sent_at=utcnow(),
                        body="",
                        attachment=None,
                        last_error="",
                    )
        if len(batch) < batch_size or (mail_down and len(emails) == len(batch)):
            break
    return done


def is_patient_address(email: str) -> bool:
    """Whether a patient account, of any clinic, signs in with this address, or is moving
    to it (an email change waiting for its link to be opened)."""
    address = normalise_email(email)
    signs_in = sa.select(User.id).where(User.email == address, User.role == Role.PATIENT)
    moving = (
        sa.select(Invitation.id)
        .join(User, User.id == Invitation.user_id)
        .where(
            Invitation.new_email == address,
            Invitation.usable_at(utcnow()),
            User.role == Role.PATIENT,
        )
    )
    return db.session.scalar(signs_in.union_all(moving).limit(1)) is not None


def _now_a_patients(address: str) -> bool:
    with unit_of_work():
        return is_patient_address(address)


def _push(claimed: Claimed, done: Delivery) -> None:
    """Send one push message to its device and record what became of it."""
    try:
        stored = json.loads(claimed.message.body)
        subscription_id, payload = int(stored["device"]), json.dumps(stored["payload"])
    except (ValueError, KeyError, TypeError):
        done.refused += 1
        _refused(claimed, "not a push message")
        return
    with unit_of_work():
        subscription = db.session.get(PushSubscription, subscription_id)
        device = (
            webpush.Device(subscription.endpoint, subscription.p256dh, subscription.auth)
            if subscription is not None
            else None
        )
    if device is None:  # turned off (or gone) since the message was written
        _mark(claimed, status=MessageStatus.CANCELLED, body="", last_error=DEVICE_GONE)
        return
    try:
        webpush.send(device, payload)
    except webpush.SubscriptionGone:
        with unit_of_work():
            db.session.execute(
                sa.delete(PushSubscription).where(PushSubscription.id == subscription_id)
            )
        _mark(claimed, status=MessageStatus.CANCELLED, body="", last_error=DEVICE_GONE)
    except webpush.PushServiceUnavailable as unavailable:
        _release([claimed], f"{PUSH_UNREACHABLE} ({unavailable})")
    except webpush.PushRefused as refusal:
        done.refused += 1
        _device_failed(subscription_id, refusal.reason)
        _refused(claimed, refusal.reason)
    except Exception as error:  # one bad message, not the whole batch (as for email)
        # Left "sending", it would stop the emails after it in this batch and come back in
        # every batch after its lease. Its class only: an error's words may hold the
        # endpoint, which identifies a browser and never reaches the logs.
        logger.error("outbox message %s could not be pushed (%s)", claimed.id, type(error).__name__)
        done.refused += 1
        _refused(claimed, f"could not be sent ({type(error).__name__})")
    else:
        done.sent += 1
        with unit_of_work():
            db.session.execute(
                sa.update(PushSubscription)
                .where(PushSubscription.id == subscription_id)
                .values(last_used_at=utcnow())
            )
        _mark(claimed, status=MessageStatus.SENT, sent_at=utcnow(), body="", last_error="")


def _device_failed(subscription_id: int, reason: str) -> None:
    with unit_of_work():
        db.session.execute(
            sa.update(PushSubscription)
            .where(PushSubscription.id == subscription_id)
            .values(last_failed_at=utcnow(), last_error=reason[:200])
        )


def _refused(claimed: Claimed, reason: str) -> None:
    _mark(claimed, last_error=reason[:200], **after_refusal(claimed.attempts, utcnow()))


def next_due_at() -> datetime | None:
    """When a message will next be due: the earliest retry of a waiting message, or the
    end of a lease held by a worker (which, if that worker died, frees its messages)."""
    pending = db.session.scalar(
        sa.select(sa.func.min(OutboxMessage.next_attempt_at)).where(
            OutboxMessage.status == MessageStatus.PENDING
        )
    )
    leased = db.session.scalar(
        sa.select(sa.func.min(OutboxMessage.claimed_until)).where(
            OutboxMessage.status == MessageStatus.SENDING
        )
    )
    times = [t for t in (pending, leased) if t is not None]
    return min(times) if times else None


def retry(message: OutboxMessage) -> None:
    """Put a failed message back in line, with a fresh set of attempts (an administrator
    asked; the body was kept for this)."""
    message.status = MessageStatus.PENDING
    message.attempts = 0
    message.next_attempt_at = utcnow()
    message.claimed_until = None
    message.claim_token = None
    message.last_error = ""

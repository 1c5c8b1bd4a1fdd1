"""Messages that leave the system: written here as rows, sent by the worker.

A feature that must tell someone something calls `post(...)` inside its unit of work: the
message is saved with the event that causes it, or not at all. Each message has a key
naming its occasion, recipient and channel (`occasion_key`); posting a key already in the
outbox keeps the first message, so an event handled twice (a job run again, two workers)
still sends one. Once the unit commits, the worker is asked to deliver
(clinic.outbox.delivery); a periodic sweep catches anything that request missed.

Ids in keys are never reused: on SQLite a table without AUTOINCREMENT hands a deleted
row's id (an erased patient's flag, an invitation the clean-up removed) to the next row,
whose message would then share the old one's key and never be written. Every table whose
ids name an occasion, or go out as a Message-ID, is in `IDS_NEVER_REUSED` and has
`sqlite_autoincrement=True` in its model (tests/unit/test_outbox_occasions.py finds every
occasion in the code); a migration that rebuilds one of them in batch mode must pass
`table_kwargs={'sqlite_autoincrement': True}` (tests/integration/test_migrations.py
checks it after every migration).

What a message may say: a neutral subject, what to do, and a link to sign in. Never a
condition, a device, a symptom, a score or the patient's name (see
tests/integration/test_message_privacy.py, which renders every kind).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import event

from clinic.core.mail import Attachment
from clinic.core.statements import insert_or_leave
from clinic.core.uow import after_commit, in_unit_of_work
from clinic.extensions import db
from clinic.models import Clinic, Patient, ReminderPlan, User
from clinic.models.outbox import MessageStatus, OutboxMessage
from clinic.models.types import utcnow
from clinic.outbox.delivery import EMAIL
from clinic.outbox.delivery import PUSH as PUSH  # the channel of clinic.push's messages
from clinic.outbox.jobs import deliver_outbox
from clinic.outbox.kinds import MessageKind
from clinic.queue import enqueue

# The tables whose row ids leave in a message: in an occasion's key (a report's first
# flag, an invitation, a questionnaire assignment, an account as recipient) or as the
# Message-ID (the outbox's own rows). See the module's docstring.
IDS_NEVER_REUSED = frozenset(
    {
        "users",
        "patients",
        "red_flags",
        "invitations",
        "letters",
        "measure_assignments",
        "outbox_messages",
        "push_subscriptions",
    }
)


@dataclass(frozen=True)
class Content:
    """What a message says: a subject and a plain-text body."""

    subject: str
    body: str


def sender_name_for(clinic: Clinic, to: User | None = None) -> str:
    """The display name in From for this clinic's messages: the one set in the clinic's
    settings, which may be empty, or the clinic's name when none was set. To a patient,
    none unless they chose, in their reminder settings, to see the clinic's name: a name
    such as "... Pelvic Health" beside the subject says what the email is about to anyone
    who sees the inbox (as reminders are first proposed; clinic.reminders.forms)."""
    if to is not None and to.role.is_patient:
        return patient_sender_name(clinic, shows_clinic_name=_shows_clinic_name(to))
    return clinic.sender_name


def patient_sender_name(clinic: Clinic, *, shows_clinic_name: bool) -> str:
    """The From name on an email to a patient: the clinic's sender name only if the patient
    chose to see it (`ReminderPlan.show_clinic_name`; none without reminder settings)."""
    return clinic.sender_name if shows_clinic_name else ""


def _shows_clinic_name(patient_user: User) -> bool:
    return bool(
        db.session.scalar(
            sa.select(ReminderPlan.show_clinic_name)
            .join(Patient, Patient.id == ReminderPlan.patient_id)
            .where(Patient.user_id == patient_user.id, Patient.clinic_id == patient_user.clinic_id)
        )
    )


def occasion_key(kind: MessageKind, occasion: object, recipient: User | str, channel: str) -> str:
    """The unique key of one message: the kind, what it is about (`occasion`, e.g. a
    flag's id and the escalation level), who it goes to and how."""
    who = f"user:{recipient.id}" if isinstance(recipient, User) else f"address:{recipient}"
    return f"{kind.value}:{occasion}:{who}:{channel}"[:200]


def post(
    kind: MessageKind,
    occasion: object,
    *,
    to: User | str,
    clinic_id: int,
    content: Content,
    sender_name: str = "",
    channel: str = EMAIL,
    account: User | None = None,
    attachment: Attachment | None = None,
) -> bool:
    """Write one message into the outbox, in the current unit of work; True if it is new
    (False: this occasion's message to this recipient was already written). A message to
    an address about an account (its old or new address during an email change) names the
    `account`, so that erasing the account erases the message too. An `attachment` (a
    letter's PDF) goes with the message and is emptied once it is sent."""
    address = to.email if isinstance(to, User) else to
    owner = to if isinstance(to, User) else account
    values = {
        "clinic_id": clinic_id,
        "user_id": owner.id if owner is not None else None,
        "kind": kind.value,
        "key": occasion_key(kind, occasion, to, channel),
        "channel": channel,
        "recipient": address,
        "sender_name": sender_name,
        "subject": content.subject,
        "body": content.body,
        "attachment_name": attachment.file_name if attachment else "",
        "attachment": attachment.content if attachment else None,
        "status": MessageStatus.PENDING.value,
        "attempts": 0,
        "next_attempt_at": utcnow(),
        "last_error": "",
        "created_at": utcnow(),
    }
    table = OutboxMessage.__table__
    insert = insert_or_leave(table)
    # ON CONFLICT DO NOTHING: a second writer of the same occasion (a job run twice, two
    # workers at once) neither fails nor writes a second message.
    # Whether a row was written is read from RETURNING: psycopg reports no row count (-1)
    # for this statement, which read as "new" every time on PostgreSQL.
    written = db.session.execute(
        insert.values(**values).on_conflict_do_nothing(index_elements=["key"]).returning(table.c.id)
    )
    new = written.first() is not None
    if new:
        _deliver_after_commit()
    return new


def _deliver_after_commit() -> None:
    """Ask the worker to deliver once the unit commits (once, however many were posted)."""
    if in_unit_of_work():
        after_commit(lambda: enqueue(deliver_outbox), once_as="clinic.outbox.deliver")
        return
    # Posted outside a unit of work: by a session listener while a plain commit runs
    # (clinic.alerts), or before one. Asked once the session has committed: before, the
    # worker could not see the rows, and on SQLite would wait on this session's lock.
    session = db.session()
    if not event.contains(session, "after_commit", _deliver_now):
        event.listen(session, "after_commit", _deliver_now, once=True)


def _deliver_now(_session: object) -> None:
    enqueue(deliver_outbox)


def cancel(kind: MessageKind, occasion_prefix: str, *, failed: bool = False) -> int:
    """Withdraw the messages of this kind whose occasion starts with `occasion_prefix` that
    have not gone out yet (an escalation once the flag is acknowledged); returns how many.
    With `failed`, the failed ones too (an invitation whose link was replaced: an
    administrator must not send a dead link again, and only failed ones can be retried).
    A message being sent stays as it is: the worker may already have handed it over."""
    unsent = [MessageStatus.PENDING, MessageStatus.FAILED] if failed else [MessageStatus.PENDING]
    result = db.session.execute(
        sa.update(OutboxMessage)
        .where(
            OutboxMessage.kind == kind.value,
            OutboxMessage.key.startswith(f"{kind.value}:{occasion_prefix}", autoescape=True),
            OutboxMessage.status.in_(unsent),
        )
        # The body goes: a link in it may sign someone in.
        .values(status=MessageStatus.CANCELLED, body="")
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]

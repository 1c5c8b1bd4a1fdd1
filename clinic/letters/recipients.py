"""The clinic's address book of letter recipients: scoped reads, and the changes a
clinician or an administrator makes (each audited). A recipient is archived, never
deleted: the letters sent to them keep naming them."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy import select

from clinic.audit import log as audit
from clinic.core.refusals import Refusal
from clinic.domain.text import N_
from clinic.extensions import db
from clinic.models import (
    LetterAddressee,
    MessageStatus,
    OutboxMessage,
    Recipient,
    RecipientRole,
    User,
)
from clinic.models.types import utcnow
from clinic.models.users import normalise_email
from clinic.outbox.delivery import is_patient_address

PATIENT_ADDRESS = N_("Letters are never sent to a patient's own address by this route.")
# Why a letter's copy to a recipient was withdrawn before it went (on the letter's page).
ADDRESS_CHANGED = "withdrawn because the recipient's email address was changed"
ARCHIVED = "withdrawn because the recipient was archived"


class RecipientRefused(Refusal):
    """The address book cannot take this change (said in plain words, for the form)."""


@dataclass(frozen=True)
class RecipientDetails:
    """A recipient as the form gives them."""

    name: str
    role: RecipientRole
    service: str
    organisation: str
    postal_address: str
    email: str  # "" for none


def clinic_recipients(clinic_id: int, *, archived: bool = False) -> list[Recipient]:
    """The clinic's recipients in the address book (or those archived), by name: one query."""
    condition = Recipient.archived_at.is_not(None) if archived else Recipient.archived_at.is_(None)
    return list(
        db.session.scalars(
            select(Recipient)
            .where(Recipient.clinic_id == clinic_id, condition)
            .order_by(Recipient.name, Recipient.id)
        )
    )


def get_recipient_or_404(recipient_id: int, clinic_id: int) -> Recipient:
    """The recipient with this id in this clinic's address book; 404 if absent or another
    clinic's."""
    return db.first_or_404(
        select(Recipient).where(Recipient.id == recipient_id, Recipient.clinic_id == clinic_id)
    )


def _check(details: RecipientDetails) -> None:
    if details.email and is_patient_address(details.email):
        raise RecipientRefused(_(PATIENT_ADDRESS), "email")


def _apply(recipient: Recipient, details: RecipientDetails) -> None:
    recipient.name = details.name
    recipient.role = details.role
    recipient.service = details.service
    recipient.organisation = details.organisation
    recipient.postal_address = details.postal_address
    recipient.email = normalise_email(details.email) if details.email else ""


def add_recipient(clinic_id: int, details: RecipientDetails, actor: User) -> Recipient:
    """Add someone to the clinic's address book."""
    _check(details)
    recipient = Recipient(clinic_id=clinic_id)
    _apply(recipient, details)
    db.session.add(recipient)
    db.session.flush()
    audit.record("recipient.create", object_type="recipient", object_id=recipient.id, actor=actor)
    return recipient


def _withdraw_unsent_copies(recipient: Recipient, reason: str) -> None:
    """Cancel the recipient's letter messages not sent yet (waiting or failed): they carry
    the old address, and neither the worker nor an administrator's "send again" may use
    it. A copy being sent stays as it is: the worker may already have handed it over."""
    keys = select(LetterAddressee.outbox_key).where(
        LetterAddressee.recipient_id == recipient.id, LetterAddressee.outbox_key.is_not(None)
    )
    db.session.execute(
        sa.update(OutboxMessage)
        .where(
            OutboxMessage.clinic_id == recipient.clinic_id,
            OutboxMessage.key.in_(keys),
            OutboxMessage.status.in_([MessageStatus.PENDING, MessageStatus.FAILED]),
        )
        # The letter keeps its PDF; the message's copy of it goes with the message.
        .values(status=MessageStatus.CANCELLED, body="", attachment=None, last_error=reason)
        .execution_options(synchronize_session=False)
    )


def update_recipient(recipient: Recipient, details: RecipientDetails, actor: User) -> None:
    """Change a recipient's details (letters already written keep the details they had).
    A new email address withdraws the copies of letters not yet sent to the old one."""
    _check(details)
    old_email = recipient.email
    _apply(recipient, details)
    if recipient.email != old_email:
        _withdraw_unsent_copies(recipient, ADDRESS_CHANGED)
    db.session.flush()
    audit.record("recipient.update", object_type="recipient", object_id=recipient.id, actor=actor)


def set_archived(recipient: Recipient, archived: bool, actor: User) -> None:
    """Take a recipient out of the address book (withdrawing the copies of letters not yet
    sent to them), or put them back."""
    if (recipient.archived_at is not None) == archived:
        raise RecipientRefused(
            _("%(name)s is already archived.", name=recipient.name)
            if archived
            else _("%(name)s is not archived.", name=recipient.name)
        )
    recipient.archived_at = utcnow() if archived else None
    if archived:
        _withdraw_unsent_copies(recipient, ARCHIVED)
    db.session.flush()
    audit.record(
        "recipient.archive" if archived else "recipient.restore",
        object_type="recipient",
        object_id=recipient.id,
        actor=actor,
    )

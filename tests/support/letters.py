"""Letters as the record keeps them, without rendering one (tests/integration/test_letters.py
writes and sends real ones): a recipient of a clinic's address book, and a stored letter to
them, with its message in the outbox when the recipient has an email address."""

from __future__ import annotations

import hashlib

from clinic.extensions import db
from clinic.models import (
    Delivery,
    Letter,
    LetterAddressee,
    LetterKind,
    OutboxMessage,
    Recipient,
    RecipientRole,
)

PDF = b"%PDF-1.7 a letter"


def stored_letter(
    clinic_id: int, patient_id: int, author_id: int, recipient_name: str, email: str = ""
) -> tuple[Recipient, Letter]:
    """Add a recipient and a letter to them to the session (the caller commits)."""
    recipient = Recipient(
        clinic_id=clinic_id,
        name=recipient_name,
        role=RecipientRole.GP,
        organisation="Canal Street Surgery",
        postal_address="3 Canal Street",
        email=email,
    )
    db.session.add(recipient)
    letter = Letter(
        clinic_id=clinic_id,
        patient_id=patient_id,
        kind=LetterKind.UPDATE,
        author_id=author_id,
        opening="Thank you.",
        reason="Update.",
        programme="Stage 2.",
        red_flags="None.",
        measures="None.",
        ask="Nothing.",
        file_name="letter-x.pdf",
        pdf=PDF,
        sha256=hashlib.sha256(PDF).hexdigest(),
        size_bytes=len(PDF),
    )
    db.session.add(letter)
    db.session.flush()
    key = f"letter:{letter.id}:address:{email}:email" if email else None
    db.session.add(
        LetterAddressee(
            letter_id=letter.id,
            recipient_id=recipient.id,
            name=recipient.name,
            description=recipient.description,
            postal_address=recipient.postal_address,
            email=email,
            delivery=Delivery.EMAIL if email else Delivery.PRINT,
            outbox_key=key,
        )
    )
    if key is not None:
        db.session.add(
            OutboxMessage(
                clinic_id=clinic_id,
                kind="letter",
                key=key,
                recipient=email,
                subject="A letter from the clinic",
                body="Attached.",
                attachment_name=letter.file_name,
                attachment=PDF,
            )
        )
    return recipient, letter

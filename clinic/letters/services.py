"""Writing a letter: kept exactly as produced (PDF bytes and SHA-256), then sent to each
recipient with a secure-email address through the outbox (the PDF attached, a neutral
subject and body), or marked to print for those without one. Never to a patient's own
address: the address book refuses one, and so does this, in case an address became a
patient's after it was entered."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from clinic.audit import log as audit
from clinic.core.mail import Attachment
from clinic.core.refusals import Refusal
from clinic.extensions import db
from clinic.letters.compose import LetterText, record_summary
from clinic.letters.document import LetterDocument, file_name, letter_pdf
from clinic.letters.queries import clinic_letter_templates
from clinic.letters.recipients import PATIENT_ADDRESS
from clinic.models import (
    Delivery,
    Letter,
    LetterAddressee,
    LetterKind,
    Patient,
    Recipient,
    User,
)
from clinic.models.types import utcnow
from clinic.outbox import Content, occasion_key, post, sender_name_for
from clinic.outbox.delivery import EMAIL, is_patient_address
from clinic.outbox.kinds import MessageKind
from clinic.outbox.text import render_text

SUBJECT = "A letter from the clinic"


class LetterRefused(Refusal):
    """The letter cannot be written as asked (said in plain words, for the form)."""


@dataclass(frozen=True)
class LetterRequest:
    """A letter as the clinician finished it."""

    kind: LetterKind
    recipient_ids: tuple[int, ...]
    text: LetterText
    with_report: bool
    # The form's one-time key (LetterForm.key); a fresh one for a letter made otherwise.
    key: str = field(default_factory=lambda: uuid.uuid4().hex)


def reference(letter: Letter) -> str:
    """The letter's reference, quoted in its message ("L-42")."""
    return f"L-{letter.id}"


def message_for(letter: Letter) -> Content:
    """What the email carrying the letter says: nothing about the patient or the care."""
    ref = reference(letter)
    return Content(
        subject=f"{SUBJECT} (reference {ref})",
        body=render_text("letter.txt", reference=ref),
    )


def _recipients(patient: Patient, ids: tuple[int, ...]) -> list[Recipient]:
    if not ids:
        raise LetterRefused(_("Choose at least one recipient from the address book."), "recipients")
    found = list(
        db.session.scalars(
            select(Recipient)
            .where(
                Recipient.id.in_(ids),
                Recipient.clinic_id == patient.clinic_id,
                Recipient.archived_at.is_(None),
            )
            .order_by(Recipient.name, Recipient.id)
        )
    )
    if len(found) != len(set(ids)):
        raise LetterRefused(
            _("A recipient chosen is no longer in the address book: choose again."), "recipients"
        )
    for recipient in found:
        if recipient.email and is_patient_address(recipient.email):
            raise LetterRefused(
                _("%(name)s: %(reason)s", name=recipient.name, reason=_(PATIENT_ADDRESS)),
                "recipients",
            )
    return found


def create_letter(patient: Patient, request: LetterRequest, author: User, today: date) -> Letter:
    """Make the letter, keep it with the record, and send or mark it to print for each
    recipient."""
    recipients = _recipients(patient, request.recipient_ids)
    report = record_summary(patient, author, today) if request.with_report else None
    if request.with_report and report is None:
        raise LetterRefused(
            _("This patient has no programme yet, so there is no progress report to attach."),
            "with_report",
        )
    addressees = [
        LetterAddressee(
            recipient_id=r.id,
            name=r.name,
            description=r.description,
            postal_address=r.postal_address,
            email=r.email,
            delivery=Delivery.EMAIL if r.email else Delivery.PRINT,
        )
        for r in recipients
    ]
    text = {
        name: getattr(request.text, name)
        for name in ("opening", "reason", "programme", "red_flags", "measures", "ask")
    }
    document = LetterDocument(
        clinic=patient.clinic,
        patient=patient,
        kind=request.kind,
        author=author,
        written_on=today,
        addressees=addressees,
        text=text,
        report=report,
    )
    pdf = letter_pdf(document)
    letter = Letter(
        clinic_id=patient.clinic_id,
        patient_id=patient.id,
        kind=request.kind,
        author_id=author.id,
        created_at=utcnow(),
        with_report=report is not None,
        file_name=file_name(request.kind, today),
        pdf=pdf,
        sha256=hashlib.sha256(pdf).hexdigest(),
        size_bytes=len(pdf),
        submission_key=request.key,
        **text,
    )
    db.session.add(letter)
    db.session.flush()
    content = message_for(letter)
    for addressee in addressees:
        addressee.letter_id = letter.id
        if addressee.delivery is Delivery.EMAIL:
            post(
                MessageKind.LETTER,
                letter.id,
                to=addressee.email,
                clinic_id=patient.clinic_id,
                content=content,
                sender_name=sender_name_for(patient.clinic),
                attachment=Attachment(letter.file_name, pdf),
            )
            addressee.outbox_key = occasion_key(
                MessageKind.LETTER, letter.id, addressee.email, EMAIL
            )
    db.session.add_all(addressees)
    db.session.flush()
    audit.record(
        "letter.create",
        patient_id=patient.id,
        object_type="letter",
        object_id=letter.id,
        actor=author,
        clinic_id=patient.clinic_id,
        detail={
            "kind": request.kind.value,
            "recipients": len(addressees),
            "by_email": sum(a.delivery is Delivery.EMAIL for a in addressees),
            "with_report": letter.with_report,
        },
    )
    return letter


def save_letter_templates(
    clinic_id: int, wording: dict[LetterKind, tuple[str, str]], actor: User
) -> None:
    """Save the clinic's wording for each kind of letter: (opening, ask) by kind."""
    templates = clinic_letter_templates(clinic_id)
    for kind, (opening, ask) in wording.items():
        template = templates[kind]
        template.opening, template.ask = opening, ask
        if template.id is None:
            db.session.add(template)
    db.session.flush()
    audit.record(
        "letter_templates.update",
        object_type="clinic",
        object_id=clinic_id,
        actor=actor,
        clinic_id=clinic_id,
    )

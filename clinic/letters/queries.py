"""Scoped reads of a patient's letters: every lookup filters by clinic and patient inside
the query, so another clinic's (or another patient's) letter is simply not found."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload, undefer

from clinic.extensions import db
from clinic.letters.defaults import DEFAULT_WORDING
from clinic.models import Letter, LetterKind, LetterTemplate, MessageStatus, OutboxMessage


def patient_letters(patient_id: int, clinic_id: int) -> list[Letter]:
    """The patient's letters, newest first, with authors and recipients, without PDFs
    (three queries, however many letters)."""
    return list(
        db.session.scalars(
            select(Letter)
            .where(Letter.patient_id == patient_id, Letter.clinic_id == clinic_id)
            .options(joinedload(Letter.author), selectinload(Letter.addressees))
            .order_by(Letter.created_at.desc(), Letter.id.desc())
        )
    )


def get_letter_or_404(
    letter_id: int, patient_id: int, clinic_id: int, *, with_pdf: bool = False
) -> Letter:
    """The letter with this id, of this patient in this clinic, with its recipients (and
    its PDF if asked); 404 if absent or anyone else's."""
    options = [joinedload(Letter.author), selectinload(Letter.addressees)]
    if with_pdf:
        options.append(undefer(Letter.pdf))
    return db.first_or_404(
        select(Letter)
        .where(
            Letter.id == letter_id,
            Letter.patient_id == patient_id,
            Letter.clinic_id == clinic_id,
        )
        .options(*options)
    )


def letter_by_key(patient_id: int, clinic_id: int, key: str) -> Letter | None:
    """The patient's letter already written from the form with this one-time key."""
    return db.session.scalars(
        select(Letter).where(
            Letter.patient_id == patient_id,
            Letter.clinic_id == clinic_id,
            Letter.submission_key == key,
        )
    ).first()


@dataclass(frozen=True)
class CopyStatus:
    """Where one emailed copy of a letter stands, from its outbox row."""

    status: MessageStatus
    sent_at: datetime | None
    # Why it did not go (failed or withdrawn), in plain words; "" otherwise.
    reason: str = ""

    @property
    def label(self) -> str:
        """Queued, sent or failed, in words (the reader's language)."""
        return {
            MessageStatus.PENDING: _("Queued"),
            MessageStatus.SENDING: _("Queued (being sent)"),
            MessageStatus.SENT: _("Sent"),
            MessageStatus.FAILED: _("Failed"),
            MessageStatus.CANCELLED: _("Not sent"),
        }[self.status]


def delivery_status(letters: list[Letter]) -> dict[str, CopyStatus]:
    """Where each emailed copy of these letters stands in the outbox, by message key (one
    query for them all)."""
    keys = [a.outbox_key for letter in letters for a in letter.addressees if a.outbox_key]
    if not keys:
        return {}
    rows = db.session.execute(
        select(
            OutboxMessage.key, OutboxMessage.status, OutboxMessage.sent_at, OutboxMessage.last_error
        ).where(OutboxMessage.key.in_(keys))
    )
    return {
        key: CopyStatus(status, sent_at, "" if status is MessageStatus.SENT else reason)
        for key, status, sent_at, reason in rows
    }


def clinic_letter_templates(clinic_id: int) -> dict[LetterKind, LetterTemplate]:
    """The clinic's letter templates by kind; the default wording, not yet saved, for a
    kind the clinic has none of (a clinic made by code that did not seed them)."""
    found = {
        t.kind: t
        for t in db.session.scalars(
            select(LetterTemplate).where(LetterTemplate.clinic_id == clinic_id)
        )
    }
    for kind, (opening, ask) in DEFAULT_WORDING.items():
        if kind not in found:
            found[kind] = LetterTemplate(clinic_id=clinic_id, kind=kind, opening=opening, ask=ask)
    return found

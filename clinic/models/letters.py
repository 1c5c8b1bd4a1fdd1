"""Letters to other services: the clinic's address book of recipients, its letter
templates (one per kind, with the wording it opens and asks with), and the letters written
from a patient's chart, each kept exactly as it was produced (PDF bytes and SHA-256) with
the people it went to and how."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
import sqlalchemy.orm as so

from clinic.extensions import Model
from clinic.models.types import UTCDateTime, enum_column, utcnow
from clinic.models.users import User


class RecipientRole(StrEnum):
    """What a recipient does, as letters address them."""

    GP = "gp"
    GYNAECOLOGIST = "gynaecologist"
    UROGYNAECOLOGIST = "urogynaecologist"
    UROLOGIST = "urologist"
    SURGEON = "surgeon"
    COLORECTAL_SURGEON = "colorectal_surgeon"
    ONCOLOGIST = "oncologist"
    PSYCHOSEXUAL_THERAPIST = "psychosexual_therapist"
    PHYSIOTHERAPIST = "physiotherapist"
    NURSE_SPECIALIST = "nurse_specialist"
    OTHER = "other"

    @property
    def label(self) -> str:
        return _ROLE_LABELS[self]


_ROLE_LABELS = {
    RecipientRole.GP: "GP",
    RecipientRole.GYNAECOLOGIST: "Gynaecologist",
    RecipientRole.UROGYNAECOLOGIST: "Urogynaecologist",
    RecipientRole.UROLOGIST: "Urologist",
    RecipientRole.SURGEON: "Surgeon",
    RecipientRole.COLORECTAL_SURGEON: "Colorectal surgeon",
    RecipientRole.ONCOLOGIST: "Oncologist",
    RecipientRole.PSYCHOSEXUAL_THERAPIST: "Psychosexual therapist",
    RecipientRole.PHYSIOTHERAPIST: "Physiotherapist",
    RecipientRole.NURSE_SPECIALIST: "Nurse specialist",
    RecipientRole.OTHER: "Other",
}


class LetterKind(StrEnum):
    """The letters a clinic writes, each from its own template."""

    REFERRAL = "referral"
    UPDATE = "update"
    DISCHARGE = "discharge"

    @property
    def label(self) -> str:
        """The kind as the clinician chooses it."""
        return {
            "referral": "Referral onward",
            "update": "Update to the referrer",
            "discharge": "Discharge summary",
        }[self.value]

    @property
    def heading(self) -> str:
        """The letter's heading."""
        return {
            "referral": "Referral letter",
            "update": "Progress update",
            "discharge": "Discharge summary",
        }[self.value]


class Delivery(StrEnum):
    """How a letter reaches one recipient."""

    EMAIL = "email"  # by secure email, through the outbox, the PDF attached
    PRINT = "print"  # printed and posted by the clinic (the recipient has no email address)

    @property
    def label(self) -> str:
        return {"email": "Secure email", "print": "To print and post"}[self.value]

    @property
    def by_email(self) -> bool:
        """Whether the copy goes by secure email (else it is printed and posted)."""
        return self is Delivery.EMAIL


class Recipient(Model):
    """Someone in the clinic's address book: a person at a service letters go to. Archived,
    never deleted: the letters sent to them keep pointing at them."""

    __tablename__ = "recipients"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    clinic_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("clinics.id"), index=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(120))  # "Dr Amira Shah"
    role: so.Mapped[RecipientRole] = so.mapped_column(enum_column(RecipientRole, "recipient_role"))
    service: so.Mapped[str] = so.mapped_column(sa.String(160), default="")
    organisation: so.Mapped[str] = so.mapped_column(sa.String(160))
    postal_address: so.Mapped[str] = so.mapped_column(sa.Text)
    # A secure-email address the clinic may send letters to; "" for none (letters printed).
    email: so.Mapped[str] = so.mapped_column(sa.String(254), default="", server_default="")
    archived_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def description(self) -> str:
        """Role, service and organisation on one line ("Gynaecologist, Pelvic pain
        clinic, St Mary's Hospital")."""
        return ", ".join(p for p in (self.role.label, self.service, self.organisation) if p)

    def __repr__(self) -> str:
        return f"<Recipient {self.id}>"


class LetterTemplate(Model):
    """A clinic's wording for one kind of letter: how it opens and what it asks. Every
    clinic has one per kind (seeded with the defaults of clinic.letters.defaults)."""

    __tablename__ = "letter_templates"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    clinic_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("clinics.id"), index=True)
    kind: so.Mapped[LetterKind] = so.mapped_column(enum_column(LetterKind, "letter_kind"))
    opening: so.Mapped[str] = so.mapped_column(sa.Text)
    ask: so.Mapped[str] = so.mapped_column(sa.Text)
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (sa.UniqueConstraint("clinic_id", "kind", name="uq_letter_templates_kind"),)


class Letter(Model):
    """A letter about a patient, kept exactly as it was produced: the text as the
    clinician finished it, the PDF bytes and their SHA-256. Never changed or deleted
    (an erasure of the record aside)."""

    __tablename__ = "letters"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    clinic_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("clinics.id"), index=True)
    patient_id: so.Mapped[int] = so.mapped_column(index=True)
    kind: so.Mapped[LetterKind] = so.mapped_column(enum_column(LetterKind, "letter_kind"))
    author_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    opening: so.Mapped[str] = so.mapped_column(sa.Text)
    reason: so.Mapped[str] = so.mapped_column(sa.Text)
    programme: so.Mapped[str] = so.mapped_column(sa.Text)
    red_flags: so.Mapped[str] = so.mapped_column(sa.Text)
    measures: so.Mapped[str] = so.mapped_column(sa.Text)
    ask: so.Mapped[str] = so.mapped_column(sa.Text)
    with_report: so.Mapped[bool] = so.mapped_column(default=False)
    file_name: so.Mapped[str] = so.mapped_column(sa.String(120))
    pdf: so.Mapped[bytes] = so.mapped_column(sa.LargeBinary, deferred=True)
    sha256: so.Mapped[str] = so.mapped_column(sa.String(64))
    size_bytes: so.Mapped[int]
    # The one-time key of the form it was written from: the same form sent twice makes
    # one letter (and one message per recipient), not two.
    # (A fresh one for a letter made otherwise.)
    submission_key: so.Mapped[str] = so.mapped_column(
        sa.String(64), default=lambda: uuid.uuid4().hex
    )

    author: so.Mapped[User] = so.relationship()
    # Never nulled or deleted by the ORM with the letter: deleting a letter is refused
    # (below), and the erasure deletes both with plain statements.
    addressees: so.Mapped[list[LetterAddressee]] = so.relationship(
        order_by="LetterAddressee.id", lazy="raise", back_populates="letter", passive_deletes="all"
    )

    __table_args__ = (
        sa.ForeignKeyConstraint(
            ["patient_id", "clinic_id"],
            ["patients.id", "patients.clinic_id"],
            name="fk_letters_patient_clinic",
        ),
        sa.UniqueConstraint("clinic_id", "submission_key", name="uq_letters_submission_key"),
        # Its id names the occasion of the messages that carry it (clinic.outbox).
        {"sqlite_autoincrement": True},
    )

    @property
    def emailed(self) -> bool:
        """Whether any recipient gets it by secure email."""
        return any(a.delivery.by_email for a in self.addressees)

    @property
    def to_print(self) -> bool:
        """Whether any recipient gets it on paper (the clinic prints and posts it)."""
        return any(a.delivery is Delivery.PRINT for a in self.addressees)


class LetterAddressee(Model):
    """One recipient of a letter as the letter names them (their details as they were on
    the day), how it reaches them, and the key of its message in the outbox."""

    __tablename__ = "letter_addressees"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    letter_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("letters.id"), index=True)
    recipient_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("recipients.id"), index=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    description: so.Mapped[str] = so.mapped_column(sa.String(500))
    postal_address: so.Mapped[str] = so.mapped_column(sa.Text)
    email: so.Mapped[str] = so.mapped_column(sa.String(254), default="")
    delivery: so.Mapped[Delivery] = so.mapped_column(enum_column(Delivery, "letter_delivery"))
    outbox_key: so.Mapped[str | None] = so.mapped_column(sa.String(200))

    letter: so.Mapped[Letter] = so.relationship(back_populates="addressees")


@sa.event.listens_for(Letter, "before_update")
@sa.event.listens_for(Letter, "before_delete")
def _letters_are_kept_as_sent(_mapper: object, _connection: object, letter: Letter) -> None:
    # A letter is the record of what was sent: correcting it means a new letter.
    raise LetterIsFinal(f"letter {letter.id} is kept as it was sent and cannot change")


class LetterIsFinal(RuntimeError):
    """Something tried to change or delete a stored letter."""

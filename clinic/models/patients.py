"""The patient record a clinic keeps, optionally linked to a portal login."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlalchemy.orm as so

from clinic.domain.indications import Indication
from clinic.domain.text import N_
from clinic.extensions import Model
from clinic.models.clinics import Clinic
from clinic.models.types import UTCDateTime, enum_column, utcnow
from clinic.models.users import User

if TYPE_CHECKING:
    from clinic.models.care import PatientSummary


class PatientStatus(StrEnum):
    """Where the patient is in their care at the clinic."""

    ACTIVE = "active"
    PAUSED = "paused"
    DISCHARGED = "discharged"

    @property
    def label(self) -> str:
        return {
            "active": N_("Active"),
            "paused": N_("Paused"),
            "discharged": N_("Discharged"),
        }[self.value]


class Patient(Model):
    """A person under the clinic's care."""

    __tablename__ = "patients"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    clinic_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("clinics.id"), index=True)
    # The portal login, once the patient has been invited. One login, one record.
    user_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"), unique=True)
    # The legal name, for documents that need it (reports, MDT packs, letters).
    full_name: so.Mapped[str] = so.mapped_column(sa.String(120))
    # What the patient asks to be called: everything patient-facing uses it, and greets
    # neutrally when it is empty (never the first word of the legal name).
    name_to_use: so.Mapped[str] = so.mapped_column(sa.String(80), default="", server_default="")
    date_of_birth: so.Mapped[date]
    # The clinic's own identifier (MRN / hospital number).
    clinic_identifier: so.Mapped[str] = so.mapped_column(sa.String(40))
    pronouns: so.Mapped[str] = so.mapped_column(sa.String(40), default="")
    indication: so.Mapped[Indication] = so.mapped_column(enum_column(Indication, "indication"))
    indication_other: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    referring_clinician: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    status: so.Mapped[PatientStatus] = so.mapped_column(
        enum_column(PatientStatus, "patient_status"), default=PatientStatus.ACTIVE
    )
    responsible_clinician_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id"), index=True
    )
    # The next review the clinician planned; a "review due" flag is raised on that day.
    review_on: so.Mapped[date | None]
    # When pelvic radiotherapy ended. On the record, not a protocol: it is the patient's
    # treatment history, the same for every program that follows (a replaced protocol
    # must not take it away) and what the clinic's interval before dilation counts from.
    radiotherapy_ended_on: so.Mapped[date | None]
    # The language the patient reads their portal, emails and printed sheets in (a code of
    # clinic.i18n.LANGUAGES). Served only once the clinic has turned it on
    # (clinic.models.clinics.ClinicLanguage); English until then.
    language: so.Mapped[str] = so.mapped_column(sa.String(12), default="en", server_default="en")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    clinic: so.Mapped[Clinic] = so.relationship()
    user: so.Mapped[User | None] = so.relationship(foreign_keys=[user_id])
    responsible_clinician: so.Mapped[User | None] = so.relationship(
        foreign_keys=[responsible_clinician_id]
    )
    if TYPE_CHECKING:
        # Mapped after the classes they need exist: summary in clinic.models.care,
        # open_red_flags and open_urgent_red_flags in clinic.models.diary.
        summary: so.Mapped[PatientSummary | None]
        open_red_flags: so.Mapped[int]
        open_urgent_red_flags: so.Mapped[int]

    __table_args__ = (
        sa.UniqueConstraint("clinic_id", "clinic_identifier", name="uq_patients_clinic_identifier"),
        # Target of composite foreign keys: rows about a patient carry the patient's clinic.
        sa.UniqueConstraint("id", "clinic_id", name="uq_patients_id_clinic"),
        # The caseload list's order within a clinic: a page of it reads that page's rows,
        # whatever the clinic (or the server) holds.
        sa.Index("ix_patients_clinic_name", "clinic_id", "full_name", "id"),
        sa.CheckConstraint(
            "indication <> 'other' OR indication_other <> ''", name="other_indication_described"
        ),
        # Never reuse an erased patient's id on SQLite (see clinic.models.users.User).
        {"sqlite_autoincrement": True},
    )

    @property
    def greeting_name(self) -> str:
        """The name to use with the patient, or "" when none was recorded. Never derived
        from the legal name: its first word may not be what the patient is called."""
        return self.name_to_use.strip()

    @property
    def greeting(self) -> str:
        """ "Hello, Sam", or a neutral "Hello" when no name to use was recorded."""
        return f"Hello, {self.greeting_name}" if self.greeting_name else "Hello"

    @property
    def keeps_diary(self) -> bool:
        """Whether the patient uses the portal (has set a password), so keeps a diary.
        Without it there is no diary to count: adherence is unknown, not 0%."""
        return self.user is not None and self.user.has_password

    @property
    def diary_since(self) -> date | None:
        """The clinic-local day the patient began the diary (accepted the portal's
        invitation), from which adherence counts; None when every day counts (not known:
        an account given its password another way) or when there is no diary at all
        (`keeps_diary`)."""
        if not self.keeps_diary or self.user is None or self.user.claimed_at is None:
            return None
        return self.user.claimed_at.astimezone(ZoneInfo(self.clinic.timezone)).date()

    @property
    def indication_label(self) -> str:
        """The indication as a clinician reads it, with the free text for "other"."""
        if self.indication is Indication.OTHER:
            return f"Other: {self.indication_other}"
        return self.indication.label

    def __repr__(self) -> str:
        return f"<Patient {self.id}>"

"""Outcome measures: instruments a clinic imported, measures assigned to patients and the
patient's answers with the score computed when they were submitted.

Instruments shipped with the product are files (clinic/data/instruments/); a clinic's own
imports are rows here, in the same format. Scoring rules are in clinic.domain.questionnaires.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from clinic.domain.measure_schedule import Cadence
from clinic.extensions import Model
from clinic.models.types import UTCDateTime, enum_column, utcnow
from clinic.models.users import User


def _patient_clinic_fk(table: str) -> sa.ForeignKeyConstraint:
    # The row's clinic is its patient's clinic: the database refuses a mismatch.
    return sa.ForeignKeyConstraint(
        ["patient_id", "clinic_id"],
        ["patients.id", "patients.clinic_id"],
        name=f"fk_{table}_patient_clinic",
    )


class ClinicInstrument(Model):
    """An instrument a clinic imported (one it holds a licence for), kept as imported.
    A new version is a new row; older versions stay so old scores keep their meaning."""

    __tablename__ = "clinic_instruments"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    clinic_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("clinics.id"), index=True)
    key: so.Mapped[str] = so.mapped_column(sa.String(60))
    version: so.Mapped[str] = so.mapped_column(sa.String(20))
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    licence_status: so.Mapped[str] = so.mapped_column(sa.String(40))
    # The JSON text as imported (validated by clinic.domain.questionnaires.parse_instrument).
    definition: so.Mapped[str] = so.mapped_column(sa.Text)
    imported_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    imported_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    # No longer offered for new assignments; existing answers keep it.
    retired_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)

    imported_by: so.Mapped[User | None] = so.relationship()

    __table_args__ = (
        sa.UniqueConstraint("clinic_id", "key", "version", name="uq_clinic_instruments_version"),
    )


class MeasureAssignment(Model):
    """An instrument assigned to a patient: once on a day, or repeating (at the protocol's
    start, every N weeks, and at discharge). See clinic.domain.measure_schedule."""

    __tablename__ = "measure_assignments"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    clinic_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("clinics.id"), index=True)
    patient_id: so.Mapped[int] = so.mapped_column(index=True)
    instrument_key: so.Mapped[str] = so.mapped_column(sa.String(60))
    cadence: so.Mapped[Cadence] = so.mapped_column(enum_column(Cadence, "measure_cadence"))
    # ONCE: the day it is asked for. REPEATING: None.
    on: so.Mapped[date | None]
    every_weeks: so.Mapped[int | None]
    at_discharge: so.Mapped[bool] = so.mapped_column(default=True)
    assigned_on: so.Mapped[date]  # clinic-local day it was assigned
    assigned_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    # Stopped by a clinician: asks for nothing more; answers already given stay.
    ended_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    ended_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))

    assigned_by: so.Mapped[User | None] = so.relationship(foreign_keys=[assigned_by_id])

    __table_args__ = (
        _patient_clinic_fk("measure_assignments"),
        sa.CheckConstraint("cadence <> 'once' OR \"on\" IS NOT NULL", name="once_has_day"),
        sa.CheckConstraint(
            "every_weeks IS NULL OR every_weeks BETWEEN 1 AND 52", name="every_weeks_range"
        ),
        # On SQLite, ids are never reused (AUTOINCREMENT): the outbox keys the
        # questionnaire-ready messages by assignment id (clinic.outbox).
        {"sqlite_autoincrement": True},
    )


class MeasureResponse(Model):
    """The patient's answers for one occasion of an assignment. A draft until submitted;
    scored on submission with the instrument version it was answered on, then final."""

    __tablename__ = "measure_responses"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    clinic_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("clinics.id"), index=True)
    patient_id: so.Mapped[int] = so.mapped_column(index=True)
    assignment_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("measure_assignments.id"), index=True
    )
    occasion_key: so.Mapped[str] = so.mapped_column(sa.String(40))  # "baseline", "week-4", ...
    occasion_on: so.Mapped[date]
    instrument_key: so.Mapped[str] = so.mapped_column(sa.String(60))
    instrument_version: so.Mapped[str] = so.mapped_column(sa.String(20))
    # {"item key": value or null} as JSON text: partial while a draft.
    answers: so.Mapped[str] = so.mapped_column(sa.Text, default="{}")
    started_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    saved_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    submitted_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    # The score at submission: total (None when invalid or no total), its band, the domain
    # scores as JSON, and why it is invalid if it is.
    total: so.Mapped[float | None] = so.mapped_column(sa.Numeric(8, 3, asdecimal=False))
    band_label: so.Mapped[str] = so.mapped_column(sa.String(120), default="")
    domains: so.Mapped[str] = so.mapped_column(sa.Text, default="{}")
    valid: so.Mapped[bool | None]
    invalid_reason: so.Mapped[str] = so.mapped_column(sa.Text, default="")

    assignment: so.Mapped[MeasureAssignment] = so.relationship()

    __table_args__ = (
        _patient_clinic_fk("measure_responses"),
        sa.UniqueConstraint("assignment_id", "occasion_key", name="uq_measure_responses_occasion"),
        sa.Index("ix_measure_responses_clinic_patient", "clinic_id", "patient_id", "occasion_on"),
    )

    @property
    def submitted(self) -> bool:
        """Whether the answers were sent (and scored); drafts can still change."""
        return self.submitted_at is not None

    @property
    def sent_at(self) -> datetime:
        """When the answers were sent; only for a sent response (a draft has no such time)."""
        if self.submitted_at is None:
            raise ValueError(f"measure response {self.id} is a draft")
        return self.submitted_at

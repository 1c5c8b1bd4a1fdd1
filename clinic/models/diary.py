"""What patients record: sessions done or skipped, corrections to them, and red flags."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.types import TypeDecorator

from clinic.domain.diary import (
    URGENT_REASONS,
    Bleeding,
    Concern,
    FlagReason,
    SessionReport,
    SkipReason,
    decode_concerns,
    encode_concerns,
)
from clinic.extensions import Model
from clinic.models.catalogue import DilatorSize
from clinic.models.patients import Patient
from clinic.models.types import UTCDateTime, enum_column, utcnow
from clinic.models.users import User


class ConcernSet(TypeDecorator[frozenset[Concern]]):
    """The concerns reported with a session: a set in Python, their values space-separated
    in the database ("" for none)."""

    impl = sa.String(120)
    cache_ok = True

    def process_bind_param(self, value: frozenset[Concern] | None, dialect: Any) -> str:
        return encode_concerns(value or ())

    def process_result_value(self, value: str | None, dialect: Any) -> frozenset[Concern]:
        return decode_concerns(value)


class DiaryEntry(Model):
    """One session done, or one skipped, stored with the prescription in force then."""

    __tablename__ = "diary_entries"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    clinic_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("clinics.id"))
    patient_id: so.Mapped[int] = so.mapped_column(index=True)
    protocol_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("protocols.id"), index=True)
    version_number: so.Mapped[int]
    stage: so.Mapped[int]
    skipped: so.Mapped[bool] = so.mapped_column(default=False)
    occurred_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    # The clinic-local calendar day of `occurred_at`: weeks and "today" are local.
    occurred_on: so.Mapped[date] = so.mapped_column(index=True)
    # Indexed: a size relabelled finds the patients whose diary names it (their pages
    # kept show its label).
    dilator_size_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("dilator_sizes.id"), index=True
    )
    minutes: so.Mapped[int | None]
    pain_during: so.Mapped[int | None]
    pain_after: so.Mapped[int | None]
    bleeding: so.Mapped[Bleeding | None] = so.mapped_column(enum_column(Bleeding, "bleeding"))
    sharp_pain: so.Mapped[bool | None]
    depth_cm: so.Mapped[float | None] = so.mapped_column(sa.Numeric(3, 1, asdecimal=False))
    note: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    # What else the patient ticked under "Anything else today?" (see Concern).
    concerns: so.Mapped[frozenset[Concern]] = so.mapped_column(
        ConcernSet(), default=frozenset, server_default=""
    )
    skip_reason: so.Mapped[SkipReason | None] = so.mapped_column(
        enum_column(SkipReason, "skip_reason")
    )
    skip_other: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    # Exactly-once: the key the form was rendered with; a re-sent form finds its entry.
    submission_key: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    created_by_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    updated_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    withdrawn_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)

    dilator_size: so.Mapped[DilatorSize | None] = so.relationship()
    flags: so.Mapped[list[RedFlag]] = so.relationship(back_populates="entry")
    revisions: so.Mapped[list[EntryRevision]] = so.relationship(
        back_populates="entry", order_by="EntryRevision.id"
    )

    __table_args__ = (
        # The entry's clinic is its patient's clinic (see patients.uq_patients_id_clinic).
        sa.ForeignKeyConstraint(
            ["patient_id", "clinic_id"],
            ["patients.id", "patients.clinic_id"],
            name="fk_diary_entries_patient_clinic",
        ),
        sa.Index("ix_diary_entries_patient_day", "patient_id", "occurred_on"),
        # Every read is scoped by clinic first. With a plain clinic index, SQLite (which has
        # no statistics until ANALYZE) would scan a whole clinic's diary for one patient.
        sa.Index("ix_diary_entries_clinic_patient_day", "clinic_id", "patient_id", "occurred_on"),
        sa.CheckConstraint(
            "skipped OR (minutes BETWEEN 1 AND 240 AND pain_during BETWEEN 0 AND 10 "
            "AND pain_after BETWEEN 0 AND 10 AND bleeding IS NOT NULL "
            "AND sharp_pain IS NOT NULL AND dilator_size_id IS NOT NULL)",
            name="session_complete",
        ),
        sa.CheckConstraint("NOT skipped OR skip_reason IS NOT NULL", name="skip_has_reason"),
    )

    @property
    def withdrawn(self) -> bool:
        return self.withdrawn_at is not None

    @property
    def report(self) -> SessionReport:
        """What a session (not a skip) reported; the `session_complete` CHECK guarantees
        every part of it."""
        if (
            self.pain_during is None
            or self.pain_after is None
            or self.bleeding is None
            or self.sharp_pain is None
        ):
            raise ValueError(f"diary entry {self.id} is a skip, not a session")
        return SessionReport(
            self.pain_during,
            self.pain_after,
            self.bleeding,
            self.sharp_pain,
            self.concerns or frozenset(),
        )

    @property
    def reason_skipped(self) -> SkipReason:
        """Why a skip was skipped; the `skip_has_reason` CHECK guarantees one."""
        if self.skip_reason is None:
            raise ValueError(f"diary entry {self.id} is a session, not a skip")
        return self.skip_reason


class EntryRevision(Model):
    """The values an entry had before a correction or its withdrawal (audit trail)."""

    __tablename__ = "entry_revisions"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    entry_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("diary_entries.id"), index=True)
    action: so.Mapped[str] = so.mapped_column(sa.String(20))  # "corrected" or "withdrawn"
    previous: so.Mapped[str] = so.mapped_column(sa.Text)  # JSON of the values before
    changed_by_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"))
    changed_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    entry: so.Mapped[DiaryEntry] = so.relationship(back_populates="revisions")


class RedFlag(Model):
    """A safety signal from an entry that a clinician must see and acknowledge. Never
    removed: a corrected or withdrawn entry keeps the flags it raised."""

    __tablename__ = "red_flags"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    clinic_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("clinics.id"), index=True)
    patient_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("patients.id"), index=True)
    entry_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("diary_entries.id"), index=True)
    reason: so.Mapped[FlagReason] = so.mapped_column(enum_column(FlagReason, "flag_reason"))
    pain: so.Mapped[int | None]  # the highest pain reported, for HIGH_PAIN
    raised_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    acknowledged_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    acknowledged_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    acknowledgement: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    # The escalation level reached while it stayed open (clinic.alerts): 0 none yet, 1 and
    # 2 the levels sent. A flag loaded with history starts at 2: it is not news.
    escalated_level: so.Mapped[int] = so.mapped_column(default=0, server_default="0")

    entry: so.Mapped[DiaryEntry] = so.relationship(back_populates="flags")
    acknowledged_by: so.Mapped[User | None] = so.relationship()

    __table_args__ = (
        sa.CheckConstraint("escalated_level BETWEEN 0 AND 2", name="escalated_level_range"),
        # The open ones, which the dashboard counts on every visit.
        sa.Index(
            "ix_red_flags_open",
            "clinic_id",
            "patient_id",
            sqlite_where=sa.text("acknowledged_at IS NULL"),
            postgresql_where=sa.text("acknowledged_at IS NULL"),
        ),
        # On SQLite, ids are never reused (AUTOINCREMENT): a report's alerts are keyed by
        # its first flag's id in the outbox (clinic.outbox), and an erased patient's flag id
        # coming back would make a new report's alert a duplicate of the old one, unsent.
        {"sqlite_autoincrement": True},
    )


# Open red flags per patient, and how many of them are urgent (all but a distress
# check-in: the dashboard's "urgent red flags"), as correlated counts lists load in the
# same query as the patients (`undefer`), so they show them without a query per row; the
# loader of one patient's chart does the same for its header. Deferred elsewhere: a
# subquery on every patient load costs time on pages that do not show it.
Patient.open_red_flags = so.column_property(
    sa.select(sa.func.count(RedFlag.id))
    .where(RedFlag.patient_id == Patient.id, RedFlag.acknowledged_at.is_(None))
    .correlate_except(RedFlag)
    .scalar_subquery(),
    deferred=True,
)
Patient.open_urgent_red_flags = so.column_property(
    sa.select(sa.func.count(RedFlag.id))
    .where(
        RedFlag.patient_id == Patient.id,
        RedFlag.acknowledged_at.is_(None),
        RedFlag.reason.in_(URGENT_REASONS),
    )
    .correlate_except(RedFlag)
    .scalar_subquery(),
    deferred=True,
)

"""What the clinic's care team works from: flags raised by the rules, the per-patient
summary the dashboard lists, and clinical notes with their earlier wording."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from clinic.domain.flags import FlagKind, Trend, pain_trend
from clinic.domain.progression import Suggestion
from clinic.domain.protocols import EventKind, decision_for
from clinic.extensions import Model
from clinic.models.patients import Patient
from clinic.models.types import UTCDateTime, enum_column, utcnow
from clinic.models.users import User

NOTE_EDIT_WINDOW = timedelta(hours=24)


def _patient_clinic_fk(table: str) -> sa.ForeignKeyConstraint:
    # The row's clinic is its patient's clinic: the database refuses a mismatch.
    return sa.ForeignKeyConstraint(
        ["patient_id", "clinic_id"],
        ["patients.id", "patients.clinic_id"],
        name=f"fk_{table}_patient_clinic",
    )


class CareFlag(Model):
    """A flag raised by the rules (not logging, pain rising, ready, review due). Kept
    until a clinician acknowledges it with a note, and never deleted. Red flags from the
    portal are `RedFlag` rows, tied to the entry that raised them."""

    __tablename__ = "care_flags"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    clinic_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("clinics.id"), index=True)
    patient_id: so.Mapped[int] = so.mapped_column(index=True)
    kind: so.Mapped[FlagKind] = so.mapped_column(enum_column(FlagKind, "flag_kind"))
    # The episode the flag is about (see clinic.domain.flags): one flag per episode.
    key: so.Mapped[str] = so.mapped_column(sa.String(120))
    detail: so.Mapped[str] = so.mapped_column(sa.Text)
    raised_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    acknowledged_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    acknowledged_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    acknowledgement: so.Mapped[str] = so.mapped_column(sa.Text, default="")

    acknowledged_by: so.Mapped[User | None] = so.relationship()

    __table_args__ = (
        _patient_clinic_fk("care_flags"),
        sa.UniqueConstraint("patient_id", "key", name="uq_care_flags_episode"),
    )


class PatientSummary(Model):
    """The dashboard's row for a patient, as of `computed_on`: recomputed in the transaction
    of every change to what it is made of (see clinic.monitoring.upkeep), and for every
    patient once a day (days passing move the adherence windows and can raise flags)."""

    __tablename__ = "patient_summaries"

    patient_id: so.Mapped[int] = so.mapped_column(primary_key=True)
    clinic_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("clinics.id"), index=True)
    computed_on: so.Mapped[date]
    computed_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    # One more at every refresh (in the database, `version + 1`): the dashboard caches its
    # table under the sum of its clinic's versions (see clinic.dashboard.queries).
    version: so.Mapped[int] = so.mapped_column(default=1, server_default="1")
    protocol_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("protocols.id"))
    paused: so.Mapped[bool] = so.mapped_column(default=False)
    keeps_diary: so.Mapped[bool] = so.mapped_column(default=True)  # uses the portal
    stage: so.Mapped[int | None]
    stage_count: so.Mapped[int | None]
    size_label: so.Mapped[str] = so.mapped_column(sa.String(80), default="")  # "Size 3 (21 mm)"
    size_mm: so.Mapped[float | None] = so.mapped_column(sa.Numeric(4, 1, asdecimal=False))
    adherence_7: so.Mapped[float | None]
    adherence_28: so.Mapped[float | None]
    pain_7: so.Mapped[float | None]  # mean pain during, last 7 days
    pain_prev_7: so.Mapped[float | None]  # the same, the 7 days before
    last_entry_on: so.Mapped[date | None]
    suggestion: so.Mapped[Suggestion | None] = so.mapped_column(
        enum_column(Suggestion, "suggestion")
    )
    suggestion_reasons: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    # Open flags: red flags and rule flags, and the highest severity of all of them (red
    # flags are urgent). The dashboard sorts by these; they change in the same transaction
    # as the flags themselves.
    red_flags: so.Mapped[int] = so.mapped_column(default=0)
    open_flags: so.Mapped[int] = so.mapped_column(default=0)
    top_severity: so.Mapped[int] = so.mapped_column(default=0, index=True)
    open_flag_kinds: so.Mapped[str] = so.mapped_column(sa.String(120), default="")

    patient: so.Mapped[Patient] = so.relationship()

    __table_args__ = (_patient_clinic_fk("patient_summaries"),)

    @property
    def open_kinds(self) -> list[FlagKind]:
        """The kinds of open rule flags, most severe first."""
        kinds = [FlagKind(v) for v in self.open_flag_kinds.split()]
        return sorted(kinds, key=lambda k: (-k.severity, k.label))

    @property
    def trend(self) -> Trend | None:
        """Mean pain this week against last week."""
        return pain_trend(self.pain_7, self.pain_prev_7)

    @property
    def suggested_decision(self) -> EventKind | None:
        """The stage decision that carries out the suggestion (None for a review)."""
        return decision_for(self.suggestion) if self.suggestion else None


class ClinicalNote(Model):
    """A dated note signed by its author. Editable by the author for 24 hours; after that
    it stands as written and can only be added to (an addendum is a note of its own)."""

    __tablename__ = "clinical_notes"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    clinic_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("clinics.id"), index=True)
    patient_id: so.Mapped[int] = so.mapped_column(index=True)
    author_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"))
    addendum_to_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("clinical_notes.id"), index=True
    )
    body: so.Mapped[str] = so.mapped_column(sa.Text)
    written_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    edited_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)

    author: so.Mapped[User] = so.relationship()
    addenda: so.Mapped[list[ClinicalNote]] = so.relationship(
        order_by="ClinicalNote.written_at", remote_side="ClinicalNote.addendum_to_id"
    )
    # The wording the note had before each change, oldest first. Pages that show it load
    # it with the notes (`selectinload`); a lazy load from a template would mean a query
    # per note, so it raises instead.
    revisions: so.Mapped[list[ClinicalNoteRevision]] = so.relationship(
        order_by="ClinicalNoteRevision.id", lazy="raise"
    )

    __table_args__ = (_patient_clinic_fk("clinical_notes"),)

    def editable_by(self, user: User, now: datetime) -> bool:
        """Whether `user` may still change the note: its author, within 24 hours."""
        return user.id == self.author_id and now - self.written_at < NOTE_EDIT_WINDOW


# A patient's dashboard row. Lists load it with the patient (contains_eager); a lazy load
# from a template would mean a query per row, so it raises instead.
Patient.summary = so.relationship(
    PatientSummary,
    primaryjoin=PatientSummary.patient_id == Patient.id,
    foreign_keys=[PatientSummary.patient_id],
    uselist=False,
    viewonly=True,
    lazy="raise",
)


class ClinicalNoteRevision(Model):
    """The wording a note (or addendum) had before its author changed it. A signed note is
    part of the clinical record: a change within the 24 hours keeps what it replaced, and
    revisions are never changed or deleted."""

    __tablename__ = "clinical_note_revisions"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    note_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("clinical_notes.id"), index=True)
    body: so.Mapped[str] = so.mapped_column(sa.Text)  # the text before the change
    # When this text was written: the note's `written_at`, or the previous change's time.
    written_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    replaced_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    replaced_by_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"))


class Report(Model):
    """A document generated for a patient, kept exactly as it was sent: the PDF bytes and
    their SHA-256, who made it, when, and for which period. Never changed or deleted."""

    __tablename__ = "reports"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    clinic_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("clinics.id"), index=True)
    patient_id: so.Mapped[int] = so.mapped_column(index=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(20))  # "progress"
    period_from: so.Mapped[date]
    period_to: so.Mapped[date]
    assessment: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    plan: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    # None when made from the command line.
    author_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    file_name: so.Mapped[str] = so.mapped_column(sa.String(120))
    pdf: so.Mapped[bytes] = so.mapped_column(sa.LargeBinary, deferred=True)
    sha256: so.Mapped[str] = so.mapped_column(sa.String(64))
    size_bytes: so.Mapped[int]

    author: so.Mapped[User | None] = so.relationship()

    __table_args__ = (_patient_clinic_fk("reports"),)


@sa.event.listens_for(Report, "before_update")
@sa.event.listens_for(Report, "before_delete")
def _reports_are_kept_as_sent(_mapper: object, _connection: object, report: Report) -> None:
    # A report is the record of what was sent: correcting it means a new report.
    raise ReportIsFinal(f"report {report.id} is kept as it was sent and cannot change")


class ReportIsFinal(RuntimeError):
    """Something tried to change or delete a stored report."""

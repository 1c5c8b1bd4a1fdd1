"""Protocol templates (the clinic's library) and patients' protocols with their history.

A patient's protocol never changes in place: each change of plan is a new numbered
version with its own copy of the stages, and each thing that happens (start, stage change,
pause, ...) is an event with its date, author and reason, chained by hash so that a
rewritten history shows. `clinic.domain.protocols.in_force_on` reads the events to say what
was prescribed on any day.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from clinic.domain.indications import Indication, Indications
from clinic.domain.progression import GoingBack, Suggestion
from clinic.domain.protocols import (
    DEFAULT_LAST_N_SESSIONS,
    DEFAULT_MIN_ADHERENCE_PCT,
    DEFAULT_PAIN_CEILING,
    DEFAULT_RED_FLAG_PAIN,
    STAGE_FIELD_NAMES,
    STAGE_LIMITS,
    STAGE_NUMBER_RANGE,
    EventKind,
    Period,
    ProtocolStatus,
    Route,
    StagePrescription,
    frequency_text,
)
from clinic.extensions import Model
from clinic.models.catalogue import DilatorSize
from clinic.models.patients import Patient
from clinic.models.types import UTCDateTime, enum_column, utcnow
from clinic.models.users import User


class StageFields:
    """The columns of one stage, shared by template stages and protocol stages: exactly the
    fields of `clinic.domain.protocols.StagePrescription` (see there), plus the position."""

    position: so.Mapped[int]  # 1-based order within the plan
    dilator_size_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("dilator_sizes.id"))
    minutes: so.Mapped[int]
    sessions: so.Mapped[int]
    period: so.Mapped[Period] = so.mapped_column(enum_column(Period, "period"))
    min_days: so.Mapped[int]
    is_maintenance: so.Mapped[bool] = so.mapped_column(default=False)
    target_depth_cm: so.Mapped[float | None] = so.mapped_column(sa.Numeric(3, 1, asdecimal=False))
    technique_notes: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    pain_ceiling: so.Mapped[int] = so.mapped_column(default=DEFAULT_PAIN_CEILING)
    last_n_sessions: so.Mapped[int] = so.mapped_column(default=DEFAULT_LAST_N_SESSIONS)
    min_adherence_pct: so.Mapped[int] = so.mapped_column(default=DEFAULT_MIN_ADHERENCE_PCT)
    # Bleeding beyond spotting and sharp pain are red flags at every stage and cannot be
    # switched off; `red_flag_pain` adds a pain level.
    red_flag_pain: so.Mapped[int] = so.mapped_column(default=DEFAULT_RED_FLAG_PAIN)
    limits_reason: so.Mapped[str] = so.mapped_column(sa.Text, default="")

    @so.declared_attr
    def dilator_size(cls) -> so.Mapped[DilatorSize]:
        return so.relationship(DilatorSize)

    @property
    def frequency(self) -> str:
        """The schedule in plain words, e.g. "twice a day"."""
        return frequency_text(self.sessions, self.period)

    def stage_values(self) -> StagePrescription:
        """The prescription as a value (used to copy a stage, and to fill the stage editor)."""
        return StagePrescription(**{name: getattr(self, name) for name in STAGE_FIELD_NAMES})


# The name each range's CHECK constraint has had since the first migration.
_RANGE_CHECK_NAMES = {
    "minutes": "minutes_range",
    "sessions": "sessions_range",
    "min_days": "min_days_range",
    "pain_ceiling": "pain_ceiling_range",
    "red_flag_pain": "red_flag_pain_range",
    "last_n_sessions": "last_n_range",
    "min_adherence_pct": "adherence_range",
}


def _stage_checks() -> tuple[sa.CheckConstraint, ...]:
    # The database refuses values no form would let through: the ranges are the domain's,
    # the very ones the stage editor validates against.
    return (
        sa.CheckConstraint(f"position >= {STAGE_NUMBER_RANGE.low}", name="position_positive"),
        *(
            sa.CheckConstraint(
                f"{column} BETWEEN {limits.low} AND {limits.high}",
                name=_RANGE_CHECK_NAMES[column],
            )
            for column, limits in STAGE_LIMITS.items()
        ),
    )


class ProtocolTemplate(Model):
    """A reusable plan in the clinic's library, per indication."""

    __tablename__ = "protocol_templates"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    clinic_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("clinics.id"), index=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    indication: so.Mapped[Indication] = so.mapped_column(enum_column(Indication, "indication"))
    route: so.Mapped[Route] = so.mapped_column(enum_column(Route, "route"))
    description: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    # Where the plan comes from (one reference a line) and when the clinic reviews it next.
    sources: so.Mapped[str] = so.mapped_column(sa.Text, default="", server_default="")
    review_on: so.Mapped[date | None]
    # What the plan suggests when pain says go back (a smaller size, or a review with the
    # surgical team: the default after vaginoplasty, see `default_going_back`).
    going_back: so.Mapped[GoingBack] = so.mapped_column(
        enum_column(GoingBack, "going_back"),
        default=GoingBack.STEP_BACK,
        server_default="step_back",
    )
    retired_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Optimistic locking: a save based on an older copy is refused, never merged silently.
    lock_version: so.Mapped[int] = so.mapped_column(default=1)

    stages: so.Mapped[list[TemplateStage]] = so.relationship(
        order_by="TemplateStage.position", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": lock_version}

    def __repr__(self) -> str:
        return f"<ProtocolTemplate {self.id}>"


class TemplateStage(StageFields, Model):
    """One stage of a template."""

    __tablename__ = "template_stages"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    template_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("protocol_templates.id"), index=True
    )

    __table_args__ = _stage_checks()


class Protocol(Model):
    """A patient's graded dilator program. At most one is open (active or paused)."""

    __tablename__ = "protocols"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    clinic_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("clinics.id"), index=True)
    patient_id: so.Mapped[int] = so.mapped_column(index=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    indication: so.Mapped[Indication] = so.mapped_column(enum_column(Indication, "indication"))
    route: so.Mapped[Route] = so.mapped_column(enum_column(Route, "route"))
    source_template_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("protocol_templates.id")
    )
    # Surgeon-directed programs (anal fissure, after haemorrhoidectomy / anal stenosis,
    # after vaginoplasty): who directed it (the treating surgeon), as the clinician
    # confirmed, and the date of the procedure it follows; empty for other indications.
    # On the protocol, not the patient: each program follows its own procedure.
    surgeon_direction: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    procedure_on: so.Mapped[date | None]
    # A patient under 18 on the start date: the specialist service for children and young
    # people that leads the program, as the clinician confirmed; empty for adults.
    specialist_direction: so.Mapped[str] = so.mapped_column(
        sa.String(200), default="", server_default=""
    )
    # What the plan suggests when pain says go back (copied from the template at start).
    going_back: so.Mapped[GoingBack] = so.mapped_column(
        enum_column(GoingBack, "going_back"),
        default=GoingBack.STEP_BACK,
        server_default="step_back",
    )
    # The status after the latest event (kept here for lists and the one-open rule).
    status: so.Mapped[ProtocolStatus] = so.mapped_column(
        enum_column(ProtocolStatus, "protocol_status")
    )
    created_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    lock_version: so.Mapped[int] = so.mapped_column(default=1)
    # The chain hash of the latest event: deleting events from the end shows too.
    head_hash: so.Mapped[str] = so.mapped_column(sa.String(64), default="", server_default="")

    patient: so.Mapped[Patient] = so.relationship()
    created_by: so.Mapped[User | None] = so.relationship()
    versions: so.Mapped[list[ProtocolVersion]] = so.relationship(
        back_populates="protocol", order_by="ProtocolVersion.number"
    )
    events: so.Mapped[list[ProtocolEvent]] = so.relationship(
        back_populates="protocol", order_by="ProtocolEvent.id"
    )

    __mapper_args__ = {"version_id_col": lock_version}

    @property
    def safety_indications(self) -> Indications:
        """The indications whose safety rules this plan follows: its own (the template's)
        and the patient's, whichever template it was started from."""
        return Indications.of(self.patient.indication, self.indication)

    __table_args__ = (
        # The protocol's clinic is its patient's clinic: the database refuses a mismatch.
        sa.ForeignKeyConstraint(
            ["patient_id", "clinic_id"],
            ["patients.id", "patients.clinic_id"],
            name="fk_protocols_patient_clinic",
        ),
        sa.Index(
            "uq_protocols_one_open_per_patient",
            "patient_id",
            unique=True,
            sqlite_where=sa.text("status IN ('active', 'paused')"),
            postgresql_where=sa.text("status IN ('active', 'paused')"),
        ),
    )

    def __repr__(self) -> str:
        return f"<Protocol {self.id}>"


class ProtocolVersion(Model):
    """One complete plan of a protocol, as prescribed from `effective_on` (see events)."""

    __tablename__ = "protocol_versions"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    protocol_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("protocols.id"), index=True)
    number: so.Mapped[int]
    reason: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    created_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    # SHA-256 of the stages as prescribed (see clinic.protocols.integrity).
    content_hash: so.Mapped[str] = so.mapped_column(sa.String(64))

    protocol: so.Mapped[Protocol] = so.relationship(back_populates="versions")
    created_by: so.Mapped[User | None] = so.relationship()
    stages: so.Mapped[list[ProtocolStage]] = so.relationship(
        order_by="ProtocolStage.position", cascade="all, delete-orphan"
    )

    __table_args__ = (
        sa.UniqueConstraint("protocol_id", "number", name="uq_protocol_versions_number"),
    )


class ProtocolStage(StageFields, Model):
    """One stage of one version of a patient's protocol."""

    __tablename__ = "protocol_stages"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    version_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("protocol_versions.id"), index=True)

    __table_args__ = _stage_checks()


class ProtocolEvent(Model):
    """Something that happened to a protocol: who, when, effective which day, and why."""

    __tablename__ = "protocol_events"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    protocol_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("protocols.id"), index=True)
    kind: so.Mapped[EventKind] = so.mapped_column(enum_column(EventKind, "event_kind"))
    effective_on: so.Mapped[date]
    version_number: so.Mapped[int]
    stage: so.Mapped[int]  # the stage in force after the event (1-based)
    reason: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    resume_on: so.Mapped[date | None]
    # For a stage decision: what the system suggested when it was made (None if nothing),
    # so the record shows whether the clinician followed the suggestion or overrode it.
    suggested: so.Mapped[Suggestion | None] = so.mapped_column(
        enum_column(Suggestion, "suggestion")
    )
    created_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    # SHA-256 over this event, its version's content hash and the previous event's hash.
    chain_hash: so.Mapped[str] = so.mapped_column(sa.String(64))

    protocol: so.Mapped[Protocol] = so.relationship(back_populates="events")
    created_by: so.Mapped[User | None] = so.relationship()

    __table_args__ = (
        sa.CheckConstraint(f"stage >= {STAGE_NUMBER_RANGE.low}", name="stage_positive"),
    )

"""Security records: the audit trail, server-side sign-in sessions, two-factor recovery
codes and erasures done on a patient's request.

Audit rows and erasure records carry plain ids (no foreign keys) for patients and actors:
they must outlive an erased patient or account, and they hold no personal data themselves.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from clinic.extensions import Model
from clinic.models.types import UTCDateTime, utcnow


class AuditEvent(Model):
    """One thing someone did: who (account id and role), what (`action`, e.g.
    "patient.view", "report.download", "auth.sign_in_failed"), on which patient and object,
    when, from where, and whether it succeeded. Append-only: never changed or deleted.
    `detail` is JSON of non-identifying facts (field names changed, a count), never free text
    a person typed."""

    __tablename__ = "audit_events"

    id: so.Mapped[int] = so.mapped_column(
        sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True
    )
    at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    # None for events with no clinic known (a failed sign-in for an unknown address).
    clinic_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("clinics.id"))
    actor_id: so.Mapped[int | None]
    actor_role: so.Mapped[str] = so.mapped_column(sa.String(20), default="")
    action: so.Mapped[str] = so.mapped_column(sa.String(60))
    patient_id: so.Mapped[int | None]
    object_type: so.Mapped[str] = so.mapped_column(sa.String(40), default="")
    object_id: so.Mapped[int | None]
    outcome: so.Mapped[str] = so.mapped_column(sa.String(20), default="ok")
    ip: so.Mapped[str] = so.mapped_column(sa.String(45), default="")
    detail: so.Mapped[str] = so.mapped_column(sa.Text, default="{}")

    __table_args__ = (
        sa.Index("ix_audit_events_clinic_at", "clinic_id", "at"),
        sa.Index("ix_audit_events_clinic_patient_at", "clinic_id", "patient_id", "at"),
        sa.Index("ix_audit_events_clinic_actor_at", "clinic_id", "actor_id", "at"),
        # Erasures only: which events are about the record holding a patient id now is
        # told by the last erasure for that id, looked up once per event listed
        # (clinic.audit.queries._last_erasure_of); without it, each lookup walked the trail.
        sa.Index(
            "ix_audit_events_erasures",
            "clinic_id",
            "patient_id",
            "id",
            sqlite_where=sa.text("action = 'patient.erase'"),
            postgresql_where=sa.text("action = 'patient.erase'"),
        ),
    )


@sa.event.listens_for(AuditEvent, "before_update")
@sa.event.listens_for(AuditEvent, "before_delete")
def _audit_is_append_only(_mapper: object, _connection: object, event: AuditEvent) -> None:
    raise AuditIsAppendOnly(f"audit event {event.id} cannot change")


class AuditIsAppendOnly(RuntimeError):
    """Something tried to change or delete an audit event."""


class UserSession(Model):
    """One signed-in session (a browser), kept on the server so it can be ended: the cookie
    carries only a random token whose hash is stored here. Ends on sign-out, idle timeout,
    absolute lifetime, or a password change elsewhere."""

    __tablename__ = "user_sessions"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"), index=True)
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    ended_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    end_reason: so.Mapped[str] = so.mapped_column(sa.String(20), default="")
    user_agent: so.Mapped[str] = so.mapped_column(sa.String(200), default="")


class RecoveryCode(Model):
    """A one-time two-factor recovery code (only its hash is stored)."""

    __tablename__ = "recovery_codes"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"), index=True)
    code_hash: so.Mapped[str] = so.mapped_column(sa.String(255))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    used_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)


class PatientErasure(Model):
    """A patient erased on a documented request: when, by whom, the request's reference and
    the de-identified aggregates kept (JSON: indication, age band, program length, sessions
    logged...). The patient's id survives only as a number in the audit trail."""

    __tablename__ = "patient_erasures"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    clinic_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("clinics.id"), index=True)
    erased_patient_id: so.Mapped[int]
    erased_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    erased_by_id: so.Mapped[int | None]
    request_reference: so.Mapped[str] = so.mapped_column(sa.String(120))
    aggregates: so.Mapped[str] = so.mapped_column(sa.Text, default="{}")

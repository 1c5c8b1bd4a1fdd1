"""Long work run for someone in the background (an MDT pack for many patients, an audit
trail export), with its progress and, once done, the file it made, kept for a day for its
download.

The file is kept in the database, not in an instance folder: the worker that makes it and
the web process that serves it may be on different machines, and they share only the
database. A size cap (clinic.jobs.services.MAX_RESULT_BYTES) keeps rows small enough for
that, and the file is emptied once it expires (clinic.jobs.services.purge_expired).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
import sqlalchemy.orm as so

from clinic.extensions import Model
from clinic.models.types import UTCDateTime, enum_column, utcnow


class JobStatus(StrEnum):
    """Where a run stands."""

    QUEUED = "queued"  # asked for; waiting for a worker
    RUNNING = "running"  # a worker is making it
    DONE = "done"  # made; the file is kept until `expires_at`
    FAILED = "failed"  # not made; `error` says why in plain words, nothing is kept

    @property
    def finished(self) -> bool:
        return self in (JobStatus.DONE, JobStatus.FAILED)


class JobRun(Model):
    """One request for background work by one member of staff, and what it produced."""

    __tablename__ = "job_runs"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    clinic_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("clinics.id"), index=True)
    # Only this account may follow the run and download its file.
    requested_by_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"), index=True)
    # What is made (clinic.jobs.kinds): "mdt_pack", "audit_export".
    kind: so.Mapped[str] = so.mapped_column(sa.String(40))
    # What the job needs, as JSON: ids and dates only, never names or typed text.
    params: so.Mapped[str] = so.mapped_column(sa.Text, default="{}")
    status: so.Mapped[JobStatus] = so.mapped_column(
        enum_column(JobStatus, "job_status"), default=JobStatus.QUEUED
    )
    # Progress in the kind's own unit (patients, events): `done` of `total`.
    done: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    total: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    started_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    finished_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    # Why a run failed, in words for the person who asked (never a traceback).
    error: so.Mapped[str] = so.mapped_column(sa.String(300), default="")
    # The file made: loaded only for its download.
    result: so.Mapped[bytes | None] = so.mapped_column(sa.LargeBinary, deferred=True)
    result_name: so.Mapped[str] = so.mapped_column(sa.String(120), default="")
    result_type: so.Mapped[str] = so.mapped_column(sa.String(80), default="")
    result_size: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    # When the file is emptied (a day after it was made).
    expires_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)

    __table_args__ = (
        sa.Index("ix_job_runs_expires_at", "expires_at"),
        sa.CheckConstraint("done >= 0 AND total >= 0", name="progress_not_negative"),
    )

    def __repr__(self) -> str:
        return f"<JobRun {self.id} {self.kind} {self.status}>"

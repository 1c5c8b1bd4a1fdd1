"""A clinic: the tenant every account and patient record belongs to."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from clinic.extensions import db
from clinic.models.types import UTCDateTime, utcnow


class Clinic(db.Model):
    """A pelvic-health clinic with its contact details and settings."""

    __tablename__ = "clinics"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(120), unique=True)
    address: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    phone: so.Mapped[str] = so.mapped_column(sa.String(40), default="")
    email: so.Mapped[str] = so.mapped_column(sa.String(254), default="")
    # IANA zone: "today" for a patient's diary and "due" dates are the clinic's local dates.
    timezone: so.Mapped[str] = so.mapped_column(sa.String(64), default="Europe/London")
    invitation_valid_days: so.Mapped[int] = so.mapped_column(default=7)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        sa.CheckConstraint(
            "invitation_valid_days BETWEEN 1 AND 30", name="invitation_valid_days_range"
        ),
    )

    def __repr__(self) -> str:
        return f"<Clinic {self.id}>"

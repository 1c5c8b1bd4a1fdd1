"""What other systems are allowed to do with the clinic's FHIR API: the tokens an
administrator issues, and the referrals those systems post, kept until someone decides.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
import sqlalchemy.orm as so

from clinic.extensions import Model
from clinic.models.clinics import Clinic
from clinic.models.types import UTCDateTime, enum_column, utcnow
from clinic.models.users import User


class ApiToken(Model):
    """A bearer token one outside system uses to call the clinic's FHIR API.

    The secret is shown once, when it is made; only its SHA-256 is stored (a random
    256-bit secret needs no slow hash: nothing can be guessed from its digest). A token
    reads the clinic's records; one made with `can_import` may also post referrals.
    Revoking sets `revoked_at`: the token stops working at the next request and the row
    stays, so the audit trail still says whose calls they were."""

    __tablename__ = "api_tokens"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    clinic_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("clinics.id"), index=True)
    # What the administrator called it ("Hospital EPR", "GP referral hub").
    label: so.Mapped[str] = so.mapped_column(sa.String(80))
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    can_import: so.Mapped[bool] = so.mapped_column(default=False, server_default=sa.false())
    # None when made on the command line (no account behind it).
    created_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    last_used_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    revoked_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)

    clinic: so.Mapped[Clinic] = so.relationship()
    created_by: so.Mapped[User | None] = so.relationship()

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class ReferralStatus(StrEnum):
    """Where an electronic referral stands."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class PendingReferral(Model):
    """A referral another system posted (a FHIR ServiceRequest with its Patient), waiting
    for an administrator to accept it into a new patient record or decline it.

    `resource` keeps the JSON exactly as it arrived; the other columns are what was read
    from it, for the list and the new record's form. Accepted, it names the patient
    record it became (and goes with that record when it is erased)."""

    __tablename__ = "pending_referrals"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    clinic_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("clinics.id"))
    received_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    token_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("api_tokens.id"))
    status: so.Mapped[ReferralStatus] = so.mapped_column(
        enum_column(ReferralStatus, "referral_status"), default=ReferralStatus.PENDING
    )
    resource: so.Mapped[str] = so.mapped_column(sa.Text)
    full_name: so.Mapped[str] = so.mapped_column(sa.String(120))
    date_of_birth: so.Mapped[date]
    # The sending system's identifier for the patient ("system|value"), "" if none.
    identifier: so.Mapped[str] = so.mapped_column(sa.String(300), default="")
    referrer: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    reason: so.Mapped[str] = so.mapped_column(sa.String(500), default="")
    # One of clinic.domain.indications.Indication's values when the reason matched one.
    indication: so.Mapped[str] = so.mapped_column(sa.String(40), default="")
    note: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    decided_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    decided_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    decline_reason: so.Mapped[str] = so.mapped_column(sa.String(500), default="")
    patient_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("patients.id"))
    # What makes a retry the same referral (clinic.fhirapi.referrals.dedup_key):
    # "identifier:" or "body:" and a SHA-256; unique per clinic. None for a referral kept
    # some other way (tests, data made by hand).
    dedup_key: so.Mapped[str | None] = so.mapped_column(sa.String(80))

    token: so.Mapped[ApiToken | None] = so.relationship()
    decided_by: so.Mapped[User | None] = so.relationship()

    __table_args__ = (
        # The administrator's list: a clinic's referrals waiting, oldest first.
        sa.Index("ix_pending_referrals_clinic_status", "clinic_id", "status", "received_at"),
        # A sending system retrying after a timeout finds its referral, never makes two.
        sa.Index("uq_pending_referrals_dedup", "clinic_id", "dedup_key", unique=True),
    )

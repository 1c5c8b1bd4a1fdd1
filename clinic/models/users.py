"""Accounts: clinic staff (admins, clinicians) and patients' portal logins."""

from __future__ import annotations

import secrets
from datetime import datetime, time
from enum import StrEnum
from typing import TYPE_CHECKING

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_login import UserMixin

from clinic.extensions import Model
from clinic.models.clinics import Clinic
from clinic.models.types import UTCDateTime, enum_column, utcnow


class Role(StrEnum):
    """What an account is for. Access rules per role live in clinic.access."""

    ADMIN = "admin"
    CLINICIAN = "clinician"
    PATIENT = "patient"

    @property
    def is_admin(self) -> bool:
        return self is Role.ADMIN

    @property
    def is_patient(self) -> bool:
        return self is Role.PATIENT


# When the daily digest goes out unless the clinician chooses another time (clinic time).
DEFAULT_DIGEST_AT = time(8, 0)


def new_session_token() -> str:
    """A fresh random token; changing it signs the account out everywhere."""
    return secrets.token_urlsafe(24)


class User(UserMixin, Model):
    """One sign-in. Every account belongs to exactly one clinic."""

    __tablename__ = "users"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    clinic_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("clinics.id"), index=True)
    # Stored lower-cased (see `normalise_email`), so the unique constraint below is
    # case-insensitive on every engine; the CHECK keeps any other writer honest. Unique
    # per clinic, not globally: otherwise inviting an address would tell one clinic that
    # the person has an account (is a patient) at another.
    email: so.Mapped[str] = so.mapped_column(sa.String(254), index=True)
    full_name: so.Mapped[str] = so.mapped_column(sa.String(120))
    role: so.Mapped[Role] = so.mapped_column(enum_column(Role, "role"))
    active: so.Mapped[bool] = so.mapped_column(default=True)
    # NULL until the person accepts their invitation and chooses a password.
    password_hash: so.Mapped[str | None] = so.mapped_column(sa.String(255))
    # Part of the Flask-Login id kept in the session cookie: rotating it ends every session.
    session_token: so.Mapped[str] = so.mapped_column(sa.String(64), default=new_session_token)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    password_changed_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    # When the invitation was accepted (the first password chosen): a patient's diary
    # begins then, and adherence counts from that day. Empty for an account given its
    # password another way (seeded data, or claimed before this was kept): every day counts.
    claimed_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    # Two-factor (TOTP): the shared secret (base32) once enrolment is confirmed, and the
    # last time step accepted, so a code cannot be used twice.
    totp_secret: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    totp_enabled_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    totp_last_step: so.Mapped[int | None] = so.mapped_column(sa.BigInteger)
    # Per-account back-off after failed sign-ins: short, growing waits, never a lock-out.
    failed_sign_ins: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    sign_in_blocked_until: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    last_login_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    # What the person chose to receive by email (clinic.account.notifications). Staff: the
    # daily digest of counts, on by default, at a clinic-local time. Patients: a message
    # when a questionnaire is ready. Alerts about patients who need review are not here:
    # they always go out.
    digest_enabled: so.Mapped[bool] = so.mapped_column(default=True, server_default=sa.true())
    digest_at: so.Mapped[time] = so.mapped_column(
        sa.Time, default=lambda: DEFAULT_DIGEST_AT, server_default="08:00:00"
    )
    questionnaire_emails: so.Mapped[bool] = so.mapped_column(default=True, server_default=sa.true())

    # Every signed-in request needs the signed-in account's clinic (its time zone, its
    # settings): the session check loads it with the account (clinic.auth.sessions). Any
    # other account loaded in the request (a patient's, a colleague's) is of the same
    # clinic, which the session then holds: reading its `clinic` costs no query, and its
    # 29 columns are not read again with every account.
    clinic: so.Mapped[Clinic] = so.relationship(lazy="select")
    if TYPE_CHECKING:
        # Mapped in clinic.models once Patient exists: a patient's served language.
        language: so.Mapped[str | None]

    __table_args__ = (
        sa.CheckConstraint("email = lower(email)", name="email_lowercase"),
        sa.UniqueConstraint("clinic_id", "email", name="uq_users_clinic_email"),
        # On SQLite, ids are never reused (AUTOINCREMENT): an erased account's id must not
        # come back as a new colleague's, or the audit trail would mix the two.
        {"sqlite_autoincrement": True},
    )

    @so.validates("email")
    def _normalise(self, _key: str, value: str) -> str:
        return normalise_email(value)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users at sign-in
        return self.active

    @property
    def role_label(self) -> str:
        """The role as colleagues read it."""
        return {"admin": "Administrator", "clinician": "Clinician", "patient": "Patient"}[
            self.role.value
        ]

    @property
    def account_status(self) -> str:
        """Deactivated, Invited (no password chosen yet) or Active, in words."""
        if not self.active:
            return "Deactivated"
        return "Active" if self.has_password else "Invited"

    @property
    def has_password(self) -> bool:
        """Whether the account has been claimed (an invitation accepted)."""
        return self.password_hash is not None

    def get_id(self) -> str:
        """The id Flask-Login stores: user id plus session token, so a rotated token
        invalidates copies of old session cookies."""
        return f"{self.id}:{self.session_token}"

    def end_all_sessions(self) -> None:
        """Sign this account out on every device at its next request."""
        self.session_token = new_session_token()

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


def normalise_email(value: str) -> str:
    """Emails compare case-insensitively; store them trimmed and lower-cased."""
    return value.strip().lower()

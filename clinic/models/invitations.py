"""Single-use, expiring links with which staff and patients choose their password."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from clinic.extensions import Model
from clinic.models.types import UTCDateTime, utcnow
from clinic.models.users import User

# What a link is for. A token of one purpose is never accepted for the other.
INVITATION = "invitation"  # claim the account by choosing its first password
RESET = "reset"  # choose a new password for a claimed account
EMAIL_CHANGE = "email_change"  # prove the new address of an email change (see `new_email`)


def hash_token(token: str) -> str:
    """Only a hash is stored, so a copy of the database cannot be used to claim accounts."""
    return hashlib.sha256(token.encode()).hexdigest()


class Invitation(Model):
    """An invitation to claim `user` by choosing a password."""

    __tablename__ = "invitations"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"), index=True)
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    created_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    expires_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    used_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    # "invitation" (claim the account) or "reset" (choose a new password): same single-use,
    # expiring, hashed token.
    purpose: so.Mapped[str] = so.mapped_column(
        sa.String(20), default="invitation", server_default="invitation"
    )
    # Set when a newer invitation for the same person replaces this one.
    revoked_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    # For an email change: the address the account moves to once the link sent to it is
    # opened (until then the account keeps its address). Empty for other purposes.
    new_email: so.Mapped[str] = so.mapped_column(sa.String(254), default="", server_default="")

    user: so.Mapped[User] = so.relationship(foreign_keys=[user_id])
    created_by: so.Mapped[User | None] = so.relationship(foreign_keys=[created_by_id])

    # On SQLite, ids are never reused (AUTOINCREMENT): the outbox keys an invitation's
    # messages by its id, and the daily clean-up deletes old invitations.
    __table_args__ = ({"sqlite_autoincrement": True},)

    @classmethod
    def issue(
        cls,
        user: User,
        created_by: User | None,
        valid_days: int = 0,
        now: datetime | None = None,
        *,
        purpose: str = INVITATION,
        valid_for: timedelta | None = None,
        new_email: str = "",
    ) -> tuple[Invitation, str]:
        """A new link for `purpose` and its secret token (shown once, never stored), valid
        for `valid_for` or else `valid_days`."""
        now = now or utcnow()
        token = secrets.token_urlsafe(32)
        invitation = cls(
            user=user,
            created_by=created_by,
            token_hash=hash_token(token),
            created_at=now,
            expires_at=now + (valid_for if valid_for is not None else timedelta(days=valid_days)),
            purpose=purpose,
            new_email=new_email,
        )
        return invitation, token

    def is_usable(self, now: datetime) -> bool:
        """Unused, not replaced and not yet expired."""
        return self.used_at is None and self.revoked_at is None and now < self.expires_at

    @classmethod
    def usable_at(cls, now: datetime) -> sa.ColumnElement[bool]:
        """`is_usable` as a query condition."""
        return sa.and_(cls.used_at.is_(None), cls.revoked_at.is_(None), cls.expires_at > now)

"""Web Push subscriptions: the devices on which a patient turned notifications on.

A browser that agrees to notifications hands the page a subscription: an endpoint at its
push service (a long secret URL, like a capability) and two keys the payload is encrypted
with (`p256dh`, the browser's public key, and `auth`, a shared secret). The endpoint is
unique: one browser profile has one subscription for this site, and when another patient
turns notifications on in that browser it moves to them (clinic.push.services).
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

import sqlalchemy as sa
import sqlalchemy.orm as so

from clinic.extensions import Model
from clinic.models.types import UTCDateTime, utcnow


class PushSubscription(Model):
    """One device (browser) that shows this patient's notifications."""

    __tablename__ = "push_subscriptions"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"), index=True)
    clinic_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("clinics.id"), index=True)
    # The push service's address for this browser. Never logged or audited whole: only
    # its host (`service_host`) may leave this table.
    endpoint: so.Mapped[str] = so.mapped_column(sa.String(2048), unique=True)
    p256dh: so.Mapped[str] = so.mapped_column(sa.String(200))
    auth: so.Mapped[str] = so.mapped_column(sa.String(100))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    last_used_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    last_failed_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    # The kind of the last failure ("push service refused (400)"), never the endpoint.
    last_error: so.Mapped[str] = so.mapped_column(sa.String(200), default="", server_default="")

    # On SQLite, ids are never reused (AUTOINCREMENT): the outbox keys a push message by
    # its subscription's id (clinic.outbox's docstring).
    __table_args__ = ({"sqlite_autoincrement": True},)

    @property
    def service_host(self) -> str:
        """The push service's host (e.g. fcm.googleapis.com): all that is ever shown."""
        return service_host(self.endpoint)

    def __repr__(self) -> str:
        return f"<PushSubscription {self.id} user={self.user_id} {self.service_host}>"


def service_host(endpoint: str) -> str:
    """The host of a push endpoint, without the path that identifies the browser."""
    return (urlsplit(endpoint).hostname or "")[:100]

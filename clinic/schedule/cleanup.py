"""Clean-up of what has outlived its use, run once a day by the scheduler.

- Sign-in sessions ended (signed out, timed out, ended elsewhere) or past their absolute
  lifetime more than `KEPT_FOR` ago: a dead session is only a token hash and a browser
  name; the sign-ins themselves stay in the audit trail.
- Links (invitations and password resets) used, replaced or expired more than
  `KEPT_FOR` ago: a link that can no longer be opened answers "no longer valid" whether
  its row exists or not.
- The bodies of messages that failed or were not needed, once `KEPT_FOR` old: a body may
  hold a link that signs someone in, and nobody retries a month-old message. The row stays
  (administrators see what was tried and when); sent messages lost their body at sending.

The audit trail is never touched (it is append-only: clinic.models.security).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from clinic.core.statements import affected_rows
from clinic.models import Invitation, UserSession
from clinic.models.outbox import MessageStatus, OutboxMessage

KEPT_FOR = timedelta(days=30)


@dataclass(frozen=True)
class Cleaned:
    """How many rows one clean-up removed or emptied."""

    sessions: int
    links: int
    message_bodies: int


def clean_up(now: datetime) -> Cleaned:
    """Remove what is older than `KEPT_FOR` at `now` (in the current unit of work)."""
    cutoff = now - KEPT_FOR
    lifetime: timedelta = current_app.config["SESSION_ABSOLUTE_LIFETIME"]
    sessions = affected_rows(
        sa.delete(UserSession)
        .where(
            sa.or_(
                UserSession.ended_at < cutoff,
                UserSession.created_at < cutoff - lifetime,
            )
        )
        .execution_options(synchronize_session=False)
    )
    links = affected_rows(
        sa.delete(Invitation)
        .where(
            sa.or_(
                Invitation.used_at < cutoff,
                Invitation.revoked_at < cutoff,
                Invitation.expires_at < cutoff,
            )
        )
        .execution_options(synchronize_session=False)
    )
    bodies = affected_rows(
        sa.update(OutboxMessage)
        .where(
            OutboxMessage.status.in_([MessageStatus.FAILED, MessageStatus.CANCELLED]),
            OutboxMessage.created_at < cutoff,
            sa.or_(OutboxMessage.body != "", OutboxMessage.attachment.is_not(None)),
        )
        # A letter's PDF too: the letter keeps it, the outbox need not.
        .values(body="", attachment=None)
        .execution_options(synchronize_session=False)
    )
    return Cleaned(sessions=sessions, links=links, message_bodies=bodies)

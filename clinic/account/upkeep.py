"""Open email-change links withdrawn when the account's credentials change.

An email change is asked for with the password (and code) of the moment, and its link
stays valid for a day. When the password then changes (on the account page or through a
reset link) or two-factor sign-in is turned on, moved to a new phone or turned off, the
request was made with credentials the owner has just replaced, very likely because
someone else had them: its link must stop moving the account.

No write path calls anything: before each flush, this module looks at the accounts whose
`password_changed_at` or `totp_secret` is changing and revokes their open email-change
links in the same flush (the pattern of clinic.monitoring.upkeep). The first password
chosen through an invitation sets neither (no email change can be open before it), nor
does re-hashing the same password when the hashing parameters were raised.
"""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import inspect
from sqlalchemy.orm import Session, UOWTransaction
from sqlalchemy.orm.scoping import scoped_session

from clinic.auth.services import revoke_open_links
from clinic.core.session_events import listen_once
from clinic.models import User
from clinic.models.invitations import EMAIL_CHANGE
from clinic.models.types import utcnow

_S = TypeVar("_S", bound=Session)

# What, changed on an account, ends its open email-change requests.
CREDENTIALS = ("password_changed_at", "totp_secret")


def install(session: scoped_session[_S]) -> None:
    """Listen to the sessions `session` makes (once, however often the app is created)."""
    listen_once(session, (("before_flush", _before_flush),))


def _before_flush(session: Session, _context: UOWTransaction, _instances: object) -> None:
    changed = [
        obj.id
        for obj in session.dirty
        if isinstance(obj, User)
        and obj.id is not None
        and any(inspect(obj).attrs[name].history.has_changes() for name in CREDENTIALS)
    ]
    if changed:
        withdraw_email_changes(changed)


def withdraw_email_changes(user_ids: list[int]) -> None:
    """Revoke the open email-change links of these accounts (written by this same flush)."""
    now = utcnow()
    for user_id in user_ids:
        revoke_open_links(user_id, EMAIL_CHANGE, now)

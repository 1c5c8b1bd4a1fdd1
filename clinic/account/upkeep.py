"""What follows from a change to an account: open email-change links withdrawn when its
credentials change, and its clinic's staff revision moved when a name changes.

An email change is asked for with the password (and code) of the moment, and its link
stays valid for a day. When the password then changes (on the account page or through a
reset link) or two-factor sign-in is turned on, moved to a new phone or turned off, the
request was made with credentials the owner has just replaced, very likely because
someone else had them: its link must stop moving the account.

Pages kept under the clinic's caseload version (the caseload list) also name staff (a
patient's responsible clinician), whose names are not what that version is made of:
`Clinic.staff_revision` moves by 1, in the database, whenever an account's name changes,
and those pages key on it too.

No write path calls anything: before each flush, this module looks at the accounts whose
`password_changed_at` or `totp_secret` is changing and revokes their open email-change
links, and at those whose `full_name` is changing and moves their clinics' staff
revision, in the same flush (the pattern of clinic.monitoring.upkeep). The first password
chosen through an invitation sets neither credential (no email change can be open before
it), nor does re-hashing the same password when the hashing parameters were raised.
"""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import inspect, update
from sqlalchemy.orm import Session, UOWTransaction
from sqlalchemy.orm.scoping import scoped_session

from clinic.auth.services import revoke_open_links
from clinic.core.session_events import listen_once
from clinic.models import Clinic, User
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
    renamed = {
        obj.clinic_id
        for obj in session.dirty
        if isinstance(obj, User)
        and obj.id is not None
        and inspect(obj).attrs.full_name.history.has_changes()
    }
    if renamed:
        # A table-level statement: the clinic's summaries are not made of it, and the
        # summaries' upkeep does not see one (clinic.monitoring.upkeep). Added in the
        # database, never from a value read earlier: no concurrent rename is lost.
        clinics = Clinic.__table__
        session.execute(
            update(clinics)
            .where(clinics.c.id.in_(sorted(renamed)))
            .values(staff_revision=clinics.c.staff_revision + 1)
        )


def withdraw_email_changes(user_ids: list[int]) -> None:
    """Revoke the open email-change links of these accounts (written by this same flush)."""
    now = utcnow()
    for user_id in user_ids:
        revoke_open_links(user_id, EMAIL_CHANGE, now)

"""What follows from a change to an account: open email-change links withdrawn when its
credentials change, and its clinic's staff revision moved when a name changes.

An email change is asked for with the password (and code) of the moment, and its link
stays valid for a day. When the password then changes (on the account page or through a
reset link) or two-factor sign-in is turned on, moved to a new phone or turned off, the
request was made with credentials the owner has just replaced, very likely because
someone else had them: its link must stop moving the account.

Pages kept under the clinic's caseload version (the caseload list) also name staff (a
patient's responsible clinician), whose names are not what that version is made of:
`Clinic.staff_revision` moves by 1, in the database, whenever a staff account's name
changes (an object's, or a bulk UPDATE's that sets it), and those pages key on it too. A
patient's name is their record's, which moves the caseload version itself.

No write path calls anything: before each flush, this module looks at the accounts whose
`password_changed_at` or `totp_secret` is changing and revokes their open email-change
links, and at those whose `full_name` is changing and moves their clinics' staff
revision, in the same flush (the pattern of clinic.monitoring.upkeep). The first password
chosen through an invitation sets neither credential (no email change can be open before
it), nor does re-hashing the same password when the hashing parameters were raised.
"""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import Update, inspect, select, update
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction
from sqlalchemy.orm.scoping import scoped_session

from clinic.auth.services import revoke_open_links
from clinic.core.session_events import listen_once
from clinic.models import Clinic, Role, User
from clinic.models.invitations import EMAIL_CHANGE
from clinic.models.types import utcnow
from clinic.monitoring.upkeep import columns_set

_S = TypeVar("_S", bound=Session)

# What, changed on an account, ends its open email-change requests.
CREDENTIALS = ("password_changed_at", "totp_secret")


def install(session: scoped_session[_S]) -> None:
    """Listen to the sessions `session` makes (once, however often the app is created)."""
    listen_once(session, (("before_flush", _before_flush), ("do_orm_execute", _on_execute)))


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
        and obj.role is not Role.PATIENT  # a patient's name is theirs: a summary input
        and inspect(obj).attrs.full_name.history.has_changes()
    }
    if renamed:
        _move_staff_revision(session, renamed)


def _on_execute(state: ORMExecuteState) -> None:
    """A bulk UPDATE of accounts that sets `full_name` moves the staff revision of every
    clinic whose staff it may rename (its WHERE clause, read before it runs)."""
    mapper = state.bind_mapper
    if not state.is_update or mapper is None or mapper.class_ is not User:
        return
    statement = state.statement
    sets = columns_set(statement, [])
    if sets is not None and "full_name" not in sets:
        return
    where = statement.whereclause if isinstance(statement, Update) else None
    staff = select(User.clinic_id).where(User.role != Role.PATIENT).distinct()
    clinics = set(state.session.scalars(staff if where is None else staff.where(where)))
    if clinics:
        _move_staff_revision(state.session, clinics)


def _move_staff_revision(session: Session, clinic_ids: set[int]) -> None:
    """Add 1 to these clinics' staff revision, in the database (never from a value read
    earlier: no concurrent rename is lost). A table-level statement: the clinics'
    summaries are not made of it, and their upkeep does not see one
    (clinic.monitoring.upkeep)."""
    clinics = Clinic.__table__
    session.execute(
        update(clinics)
        .where(clinics.c.id.in_(sorted(clinic_ids)))
        .values(staff_revision=clinics.c.staff_revision + 1)
    )
    # The clinics the session holds no longer hold the revision: read it again if asked.
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Clinic) and obj.id in clinic_ids:
            session.expire(obj, ["staff_revision"])


def withdraw_email_changes(user_ids: list[int]) -> None:
    """Revoke the open email-change links of these accounts (written by this same flush)."""
    now = utcnow()
    for user_id in user_ids:
        revoke_open_links(user_id, EMAIL_CHANGE, now)

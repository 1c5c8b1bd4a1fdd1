"""Account operations: authenticate, issue and accept invitations.

Services change the session's objects and flush; the view commits once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

from clinic.auth.hashing import hash_password, needs_rehash, verify_password
from clinic.extensions import db
from clinic.models import Invitation, Patient, Role, User
from clinic.models.invitations import hash_token
from clinic.models.types import utcnow
from clinic.models.users import normalise_email
from clinic.monitoring.services import refresh_patient


class InvitationAlreadyUsed(Exception):
    """The invitation was used by another request a moment ago."""


def authenticate(email: str, password: str) -> list[User]:
    """The active accounts with this email whose password matches: usually one, none
    whatever was wrong, several when one person has accounts at several clinics."""
    candidates = db.session.scalars(
        select(User)
        .where(
            User.email == normalise_email(email),
            User.active,
            User.password_hash.is_not(None),
        )
        .order_by(User.id)
    ).all()
    if not candidates:
        verify_password(None, password)  # spend the time of a check all the same
        return []
    matched = [user for user in candidates if verify_password(user.password_hash, password)]
    for user in matched:
        if needs_rehash(user.password_hash):  # parameters were raised since this hash
            user.password_hash = hash_password(password)
    return matched


def record_sign_in(user: User, now: datetime | None = None) -> None:
    """Note when the account last signed in (shown to the clinic's admins)."""
    user.last_login_at = now or utcnow()


def set_password(user: User, password: str) -> None:
    """Store a new password and end the account's other sessions."""
    user.password_hash = hash_password(password)
    user.end_all_sessions()


def issue_invitation(user: User, created_by: User | None, now: datetime | None = None) -> str:
    """Create an invitation for `user`, replacing any open one, and return its secret token."""
    now = now or utcnow()
    open_invitations = db.session.scalars(
        select(Invitation).where(
            Invitation.user_id == user.id,
            Invitation.used_at.is_(None),
            Invitation.revoked_at.is_(None),
        )
    )
    for older in open_invitations:
        older.revoked_at = now
    invitation, token = Invitation.issue(
        user, created_by, valid_days=user.clinic.invitation_valid_days, now=now
    )
    db.session.add(invitation)
    db.session.flush()
    return token


def find_usable_invitation(token: str, now: datetime | None = None) -> Invitation | None:
    """The invitation behind `token` if it can still be used by an active account."""
    invitation = db.session.scalar(
        select(Invitation).where(Invitation.token_hash == hash_token(token))
    )
    if invitation is None or not invitation.is_usable(now or utcnow()):
        return None
    if not invitation.user.active:
        return None
    return invitation


def accept_invitation(invitation: Invitation, password: str, now: datetime | None = None) -> User:
    """Claim the invited account with `password`; the invitation cannot be used again."""
    now = now or utcnow()
    # Claim the invitation with one conditional UPDATE: of two simultaneous submissions
    # only one can succeed.
    claimed = db.session.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        raise InvitationAlreadyUsed()
    invitation.used_at = now
    user = invitation.user
    set_password(user, password)
    user.last_login_at = now
    db.session.flush()
    if user.role is Role.PATIENT:
        # From now on the patient keeps a diary: the rules start judging it.
        patient = db.session.scalar(
            select(Patient).where(Patient.user_id == user.id, Patient.clinic_id == user.clinic_id)
        )
        if patient is not None:
            refresh_patient(patient)
    return user

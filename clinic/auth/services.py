"""Account operations: authenticate (with the per-account back-off), complete a sign-in,
issue and accept invitations, reset forgotten passwords.

Services change the session's objects and flush; the request's unit of work commits once
(clinic.core.uow). A failed attempt (a wrong password or code, a sign-in while paused) is
kept although the request fails: it counts towards the back-off and is audited through
`clinic.core.uow.persist_despite_failure`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from clinic.account.guards import mark_recent_auth
from clinic.audit.log import record
from clinic.auth import mfa, sessions
from clinic.auth.hashing import hash_password, needs_rehash, verify_password
from clinic.core.statements import affected_rows
from clinic.core.uow import persist_despite_failure
from clinic.domain import backoff
from clinic.extensions import db
from clinic.models import Invitation, Patient, Role, User
from clinic.models.invitations import EMAIL_CHANGE, INVITATION, RESET, hash_token
from clinic.models.types import utcnow
from clinic.models.users import normalise_email
from clinic.outbox import cancel
from clinic.outbox.kinds import MessageKind

# A reset link works for an hour: long enough to find the email, short enough that an old
# message in a mailbox is no key to the account.
RESET_VALID_FOR = timedelta(hours=1)
# A link proving a new email address: a day, so it can be opened on another device later.
EMAIL_CHANGE_VALID_FOR = timedelta(hours=24)
# The messages keyed by a link's id (clinic.auth.invitations, clinic.account.notices),
# withdrawn when a newer link replaces it. A reset's message is keyed by its request.
LINK_MESSAGES = {
    INVITATION: (MessageKind.INVITATION, MessageKind.INVITATION_REMINDER),
    EMAIL_CHANGE: (MessageKind.EMAIL_CHANGE_LINK,),
}


class InvitationAlreadyUsed(Exception):
    """The invitation was used by another request a moment ago."""


def claimed_accounts(email: str) -> list[User]:
    """The active accounts under `email` that have a password (one per clinic at most)."""
    return list(
        db.session.scalars(
            select(User)
            .where(
                User.email == normalise_email(email),
                User.active,
                User.password_hash.is_not(None),
            )
            # Sign-in and reset messages name each account's clinic.
            .options(joinedload(User.clinic))
            .order_by(User.id)
        )
    )


def authenticate(email: str, password: str, now: datetime | None = None) -> list[User]:
    """The active accounts with this email whose password matches: usually one, none
    whatever was wrong, several when one person has accounts at several clinics.

    An account whose sign-in is paused by the back-off never matches, even with the right
    password (the password is still checked, so the time taken tells nothing). A match
    starts its count of failures again, unless a code is still to come: then only the
    right code does (see `check_second_step`)."""
    now = now or utcnow()
    candidates = claimed_accounts(email)
    if not candidates:
        verify_password(None, password)  # spend the time of a check all the same
        return []
    matched = [
        user
        for user in candidates
        if verify_password(user.password_hash, password)
        and not backoff.is_paused(user.sign_in_blocked_until, now)
    ]
    for user in matched:
        if not mfa.is_enabled(user):
            clear_backoff(user)
        _rehash_if_needed(user, password)
    return matched


def _rehash_if_needed(user: User, password: str) -> None:
    """Hash the right password again when the hashing parameters were raised since (the
    only moment the password is at hand)."""
    if user.password_hash is not None and needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)


def clear_backoff(user: User) -> None:
    """Start counting failed sign-ins from zero (after a success or a password reset)."""
    if user.failed_sign_ins or user.sign_in_blocked_until is not None:
        user.failed_sign_ins = 0
        user.sign_in_blocked_until = None


def note_failed_password(user: User, now: datetime) -> None:
    """Count a failed sign-in (a wrong password, or a wrong code after the right one) for
    `user` and pause its sign-in when the rule says so (clinic.domain.backoff). The count
    goes up in one UPDATE, so simultaneous attempts each count."""
    failures = db.session.execute(
        update(User)
        .where(User.id == user.id)
        .values(failed_sign_ins=User.failed_sign_ins + 1)
        .returning(User.failed_sign_ins)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    set_committed_value(user, "failed_sign_ins", failures)
    paused_until = backoff.paused_until(failures, now)
    if paused_until is not None:
        user.sign_in_blocked_until = paused_until


def audit_refused_step(user: User, step: str, *, blocked: bool = False) -> None:
    """Audit a sign-in of `user` refused at `step` ("password" or "second_factor"):
    "blocked" when the back-off paused it, whatever was typed."""
    record(
        "auth.sign_in_failed",
        clinic_id=user.clinic_id,
        object_type="user",
        object_id=user.id,
        outcome="refused" if blocked else "failed",
        detail={"step": step, "reason": "blocked"} if blocked else {"step": step},
    )


def count_failed_step(user: User, step: str, now: datetime) -> None:
    """A wrong password or code for `user` at `step`: counted towards the back-off and
    audited, and kept although the request fails."""

    def write() -> None:
        note_failed_password(user, now)
        audit_refused_step(user, step)

    persist_despite_failure(write)


def audit_paused(user: User, step: str = "password") -> None:
    """A sign-in of `user` refused at `step` because the back-off paused it: audited, and
    kept although the request fails (it neither counts nor lengthens the pause)."""
    persist_despite_failure(lambda: audit_refused_step(user, step, blocked=True))


def check_second_step(user: User, entry: str, now: datetime | None = None) -> str | None:
    """The code typed after the right password (an app's code or a recovery code), under
    the account's back-off like the password: while sign-in is paused the code is not
    even checked (nor used up), a wrong one counts as a failed sign-in, and a right one
    starts the count again. Returns the second factor used ("totp" or "recovery"), or
    None when refused; audited either way."""
    now = now or utcnow()
    if backoff.is_paused(user.sign_in_blocked_until, now):
        audit_paused(user, "second_factor")
        return None
    method = mfa.check_second_factor(user, entry, now)
    if method is None:
        count_failed_step(user, "second_factor", now)
        return None
    clear_backoff(user)
    return method


def complete_sign_in(
    user: User,
    *,
    second_factor: str = "none",
    after: str | None = None,
    now: datetime | None = None,
) -> None:
    """Sign `user` in on this browser, once who they are is proved: by their password (and
    code, `second_factor` "totp" or "recovery"), after a time-out, or through a reset link
    or an invitation (`after` says which, in the audit event). Every way in calls this
    one function, so a sign-in always ends in the same state. The caller found the
    account active and its sign-in not paused (the checks of `authenticate`,
    `check_second_step`, `sign_in_again` and `find_usable_invitation`), and re-hashed the
    password when the parameters rose (only the password check has it at hand).

    The order of steps, and why:
    1. The back-off starts from zero: the person got in.
    2. A brand-new server-side session (`sessions.begin`): this browser's earlier session
       ends, Flask's session is emptied (nothing planted before the sign-in, such as a
       fixated cookie or a pending step, carries over), a new token is issued and
       Flask-Login signs the account in.
    3. "Confirmed it is you" starts now. After step 2, which would erase it.
    4. The time of the sign-in, and the "auth.sign_in" audit event.
    Everything is one unit of work, committed with the request: should the commit fail,
    there is no session record, no audit event and no reset back-off, and the token the
    browser was given opens nothing (the page says nothing was saved)."""
    now = now or utcnow()
    clear_backoff(user)
    sessions.begin(user, now)
    mark_recent_auth(now)
    user.last_login_at = now
    detail = {"second_factor": second_factor}
    if after is not None:
        detail["after"] = after
    record("auth.sign_in", actor=user, object_type="user", object_id=user.id, detail=detail)


def record_failed_sign_in(email: str, now: datetime | None = None) -> None:
    """Audit a sign-in refused at the password: one event in the trail of each clinic with
    an active account under this email, or one with no clinic when there is none. The
    typed email is never stored, only the accounts' ids. Kept although the request fails.

    Each account counts the failure towards its back-off, except one whose sign-in was
    paused: that attempt was refused whatever the password ("blocked"), and neither
    counts nor lengthens the pause."""
    persist_despite_failure(lambda: _record_failed_sign_in(email, now or utcnow()))


def _record_failed_sign_in(email: str, now: datetime) -> None:
    accounts = db.session.scalars(
        select(User).where(User.email == normalise_email(email), User.active)
    ).all()
    candidates: Sequence[User | None] = accounts or [None]
    for user in candidates:
        if user is not None and backoff.is_paused(user.sign_in_blocked_until, now):
            audit_refused_step(user, "password", blocked=True)
            continue
        if user is not None and user.has_password:
            note_failed_password(user, now)
        record(
            "auth.sign_in_failed",
            clinic_id=user.clinic_id if user else None,
            object_type="user" if user else "",
            object_id=user.id if user else None,
            outcome="failed",
            detail={"step": "password"},
        )


def set_password(user: User, password: str, *, keep_current_session: bool = True) -> None:
    """Store a new password and end the account's other sessions. The session making
    this request stays signed in when it is the account's own (a change on the account
    page), unless `keep_current_session` is False (a reset or an invitation: every
    session ends, and the view starts a fresh one)."""
    user.password_hash = hash_password(password)
    keep = sessions.current_record_id(user) if keep_current_session else None
    sessions.end_others(user, sessions.EndReason.PASSWORD_CHANGED, keep=keep)


def issue_invitation(
    user: User,
    created_by: User | None,
    now: datetime | None = None,
    purpose: str = INVITATION,
    new_email: str = "",
) -> str:
    """Create a link for `user` (an invitation; with `purpose=RESET` a password reset; with
    `purpose=EMAIL_CHANGE` the proof of `new_email`), replacing any open one of the same
    purpose (the older link stops working), and return its secret token. Invitations last
    the clinic's `invitation_valid_days`, resets `RESET_VALID_FOR`, email changes
    `EMAIL_CHANGE_VALID_FOR`."""
    now = now or utcnow()
    for older in revoke_open_links(user.id, purpose, now):
        # Its messages not sent yet (waiting, or failed and waiting for an administrator)
        # carry or point to a link that no longer works: withdrawn, bodies emptied.
        for kind in LINK_MESSAGES.get(purpose, ()):
            cancel(kind, f"{older.id}:", failed=True)
    invitation, token = Invitation.issue(
        user,
        created_by,
        valid_days=user.clinic.invitation_valid_days,
        now=now,
        purpose=purpose,
        valid_for={RESET: RESET_VALID_FOR, EMAIL_CHANGE: EMAIL_CHANGE_VALID_FOR}.get(purpose),
        new_email=new_email,
    )
    db.session.add(invitation)
    db.session.flush()
    return token


def revoke_open_links(user_id: int, purpose: str, now: datetime) -> list[Invitation]:
    """Stop the account's open links of `purpose` working (unused ones: a used link is
    spent anyway); returns them. Changes loaded objects, no bulk UPDATE, so that it may
    run inside a flush (clinic.account.upkeep)."""
    open_links = db.session.scalars(
        select(Invitation).where(
            Invitation.user_id == user_id,
            Invitation.purpose == purpose,
            Invitation.used_at.is_(None),
            Invitation.revoked_at.is_(None),
        )
    )
    revoked = list(open_links)
    for link in revoked:
        link.revoked_at = now
    return revoked


def find_usable_invitation(
    token: str, now: datetime | None = None, purpose: str = INVITATION
) -> Invitation | None:
    """The link behind `token` if it is for `purpose` and can still be used by an active
    account (a reset token is no invitation, and the other way round)."""
    invitation = db.session.scalar(
        select(Invitation).where(
            Invitation.token_hash == hash_token(token), Invitation.purpose == purpose
        )
    )
    if invitation is None or not invitation.is_usable(now or utcnow()):
        return None
    if not invitation.user.active:
        return None
    return invitation


def accept_invitation(invitation: Invitation, password: str, now: datetime | None = None) -> User:
    """Claim the invited account with `password`; the invitation cannot be used again."""
    now = now or utcnow()
    claim_link(invitation, now)
    user = invitation.user
    set_password(user, password, keep_current_session=False)
    if user.claimed_at is None:  # the first acceptance; a later invitation changes nothing
        user.claimed_at = now
    db.session.flush()
    patient = None
    if user.role is Role.PATIENT:
        patient = db.session.scalar(
            select(Patient).where(Patient.user_id == user.id, Patient.clinic_id == user.clinic_id)
        )
    record(
        "invitation.accept",
        actor=user,
        patient_id=patient.id if patient is not None else None,
        object_type="invitation",
        object_id=invitation.id,
        detail={"purpose": invitation.purpose},
    )
    return user


def claim_link(invitation: Invitation, now: datetime) -> None:
    """Mark the link used with one conditional UPDATE: of two simultaneous submissions
    only one can succeed (the other raises InvitationAlreadyUsed)."""
    claimed = affected_rows(
        update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed != 1:
        raise InvitationAlreadyUsed()
    invitation.used_at = now


def request_password_reset(email: str, now: datetime | None = None) -> list[tuple[User, str]]:
    """Reset links for the claimed, active accounts under `email` (one per clinic where
    the person has one; usually one, often none): each replaces any open reset link of its
    account. Audited per account, without the address. Whether any exist is for the
    caller to keep to itself."""
    now = now or utcnow()
    accounts = claimed_accounts(email)
    links = []
    for user in accounts:
        links.append((user, issue_invitation(user, created_by=None, now=now, purpose=RESET)))
        record(
            "auth.password_reset_requested",
            actor=user,
            object_type="user",
            object_id=user.id,
        )
    return links


def reset_password(invitation: Invitation, password: str, now: datetime | None = None) -> User:
    """Choose a new password through a reset link: the link cannot be used again, every
    session of the account ends, and the back-off starts from zero (a reset is how the
    owner gets in while an attacker keeps sign-in paused)."""
    now = now or utcnow()
    claim_link(invitation, now)
    user = invitation.user
    set_password(user, password, keep_current_session=False)
    user.password_changed_at = now
    clear_backoff(user)
    db.session.flush()
    record(
        "auth.password_reset",
        actor=user,
        object_type="invitation",
        object_id=invitation.id,
    )
    return user


def check_password(user: User, password: str, now: datetime | None = None) -> bool:
    """Whether `password` is `user`'s, under the same back-off and audit as the sign-in
    page: while the account's sign-in is paused it is refused whatever was typed, and a
    wrong one counts towards the pause and is audited (kept although the request fails).
    A right one starts the count again only when no code is still to come."""
    now = now or utcnow()
    if not user.active or user.password_hash is None:
        verify_password(None, password)
        return False
    right = verify_password(user.password_hash, password)
    if backoff.is_paused(user.sign_in_blocked_until, now):
        audit_paused(user)
        return False
    if not right:
        count_failed_step(user, "password", now)
        return False
    _rehash_if_needed(user, password)
    if not mfa.is_enabled(user):
        clear_backoff(user)
    return True


def sign_in_again(
    user: User, password: str, code: str = "", now: datetime | None = None
) -> str | None:
    """After a time-out: whether `password` (and, with two-factor on, `code`) open
    `user`'s account, under the same back-off and audit as the sign-in page. Returns the
    second factor used ("none", "totp" or "recovery"), or None when refused."""
    now = now or utcnow()
    if not check_password(user, password, now):
        return None
    if not mfa.is_enabled(user):
        return "none"
    return check_second_step(user, code, now)

"""Changes a person makes to their own account: password, email and turning two-factor
off. (Two-factor itself lives in clinic.auth.mfa.) Functions flush, add the audit event and
write the messages into the outbox; the unit of work commits once.

Every check of the current password here is a sign-in's: the same per-account back-off and
the same audit of failures (clinic.auth.services.check_password), so the account page is no
side door for guessing a password.

An email change takes effect only once a link sent to the new address is opened (an
`Invitation` with purpose "email_change" holding the new address); the old address keeps
working until then, and is told at once that a change was asked for, and again when it
happens. A new password or second factor withdraws the open link (clinic.account.upkeep).
The account's address is also told when the password changes or two-factor is turned off.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from clinic.account import notices
from clinic.audit.log import record
from clinic.auth import mfa
from clinic.auth.services import (
    check_password,
    check_second_step,
    claim_link,
    find_usable_invitation,
    issue_invitation,
    revoke_open_links,
    set_password,
    sign_in_again,
)
from clinic.core.refusals import Refusal
from clinic.domain import backoff
from clinic.domain.text import N_
from clinic.extensions import db
from clinic.models import Invitation, User
from clinic.models.invitations import EMAIL_CHANGE, hash_token
from clinic.models.types import utcnow
from clinic.models.users import normalise_email
from clinic.outbox.kinds import MessageKind
from clinic.patients.queries import email_in_use

NOT_CURRENT = N_("That is not your current password.")
PAUSED = N_(
    "There were too many wrong attempts, so this is paused for a few minutes. Wait, then try again."
)
CONFIRM_REFUSED = N_("Those details did not match. Check them and try again.")
ADDRESS_TAKEN = N_("Another account at your clinic already uses this email address.")


def confirm_identity(user: User, password: str, code: str = "") -> bool:
    """Whether `password` (and, with two-factor on, `code`: an app's code or a recovery
    code, used up when right) prove the signed-in person is the account's owner. Checked
    like a sign-in: the same per-account back-off, the same audit of failures."""
    return sign_in_again(user, password, code) is not None


def _check_current_password(user: User, password: str, field: str) -> None:
    """Refuse (next to `field`) a wrong current password, or any while the account's
    sign-in is paused, saying which: the person is signed in, so there is no account's
    existence to keep secret."""
    if not check_password(user, password):
        paused = backoff.is_paused(user.sign_in_blocked_until, utcnow())
        raise Refusal(_(PAUSED if paused else NOT_CURRENT), field=field)


def change_password(user: User, current: str, new: str) -> None:
    """Replace the account's password; its other sessions end (see `set_password`), and
    the account's address is told. The current password is checked like a sign-in."""
    _check_current_password(user, current, "current_password")
    if new == current:
        raise Refusal(_("Choose a password different from your current one."), field="password")
    now = utcnow()
    set_password(user, new)
    user.password_changed_at = now
    db.session.flush()
    record("auth.password_changed", actor=user, object_type="user", object_id=user.id)
    notices.notify_owner(
        MessageKind.PASSWORD_CHANGED, user, f"{user.id}:{now.isoformat()}", now, to=user.email
    )


def request_email_change(user: User, new_email: str, password: str, code: str = "") -> str:
    """Send a link to `new_email` that moves the account to it once opened; return the
    address as stored. The password (and, with two-factor on, the code) are checked like a
    sign-in, in this same request. A newer request replaces the older link. The account's
    address is told at once, with how to stop it (a new password withdraws the link: see
    clinic.account.upkeep).

    The answer is the same whether or not another account at the clinic uses the address
    (who is a patient here is not for the person typing to learn): when one does, no link
    is sent, and the address's owner is told it cannot serve a second account. The link,
    once opened, checks again (`confirm_email_change`)."""
    email = normalise_email(new_email)
    if email == user.email:
        raise Refusal(_("This is already your email address."), field="email")
    _check_current_password(user, password, "password")
    if mfa.is_enabled(user) and check_second_step(user, code) is None:
        raise Refusal(
            _("That code did not match. Enter the code your app shows now."), field="code"
        )
    now = utcnow()
    occasion = f"{user.id}:{now.isoformat()}"
    if email_in_use(email, user.clinic_id):
        revoke_open_links(user.id, EMAIL_CHANGE, now)  # as a new link would
        notices.tell_address_in_use(user, email, occasion)
    else:
        token = issue_invitation(
            user, created_by=user, now=now, purpose=EMAIL_CHANGE, new_email=email
        )
        invitation = db.session.scalars(
            select(Invitation).where(Invitation.token_hash == hash_token(token))
        ).one()
        notices.send_email_change_link(user, invitation.id, email, token, invitation.expires_at)
    notices.notify_owner(MessageKind.EMAIL_CHANGE_REQUESTED, user, occasion, now, to=user.email)
    # The addresses themselves stay out of the trail: only that a change was asked for.
    record("auth.email_change_requested", actor=user, object_type="user", object_id=user.id)
    return email


def email_change_link(token: str) -> Invitation | None:
    """The open email-change link behind `token`, or None."""
    return find_usable_invitation(token, purpose=EMAIL_CHANGE)


def confirm_email_change(invitation: Invitation) -> User:
    """Move the account to the address the link was sent to (the link is used up), and
    tell the old address. Refused when another account at the clinic took the address
    meanwhile. Raises InvitationAlreadyUsed when another request used the link first."""
    user = invitation.user
    if email_in_use(invitation.new_email, user.clinic_id):
        raise Refusal(_(ADDRESS_TAKEN))
    now = utcnow()
    claim_link(invitation, now)
    old = user.email
    user.email = invitation.new_email
    db.session.flush()
    record("auth.email_changed", actor=user, object_type="user", object_id=user.id)
    notices.notify_owner(MessageKind.EMAIL_CHANGED, user, invitation.id, now, to=old)
    return user


def turn_off_two_factor(user: User) -> None:
    """Turn two-factor sign-in off (refused when the clinic requires it) and tell the
    account's address."""
    was_on = mfa.is_enabled(user)
    mfa.disable(user)
    if was_on:
        now = utcnow()
        notices.notify_owner(
            MessageKind.TWO_FACTOR_OFF, user, f"{user.id}:{now.isoformat()}", now, to=user.email
        )

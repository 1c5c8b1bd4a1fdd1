"""Changes a person makes to their own account: password and email. (Two-factor changes
live in clinic.auth.mfa.) Functions flush and add the audit event; the unit of work commits once."""

from __future__ import annotations

from clinic.audit.log import record
from clinic.auth.hashing import verify_password
from clinic.auth.services import set_password, sign_in_again
from clinic.core.refusals import Refusal
from clinic.extensions import db
from clinic.models import User
from clinic.models.types import utcnow
from clinic.models.users import normalise_email
from clinic.patients.queries import email_in_use

NOT_CURRENT = "That is not your current password."
CONFIRM_REFUSED = "Those details did not match. Check them and try again."


def confirm_identity(user: User, password: str, code: str = "") -> bool:
    """Whether `password` (and, with two-factor on, `code`: an app's code or a recovery
    code, used up when right) prove the signed-in person is the account's owner. Checked
    like a sign-in: the same per-account back-off, the same audit of failures."""
    return sign_in_again(user, password, code) is not None


def change_password(user: User, current: str, new: str) -> None:
    """Replace the account's password; its other sessions end (see `set_password`)."""
    if not verify_password(user.password_hash, current):
        raise Refusal(NOT_CURRENT, field="current_password")
    if new == current:
        raise Refusal("Choose a password different from your current one.", field="password")
    set_password(user, new)
    user.password_changed_at = utcnow()
    db.session.flush()
    record("auth.password_changed", actor=user, object_type="user", object_id=user.id)


def change_email(user: User, new_email: str) -> None:
    """Sign in with `new_email` from now on. Unique within the account's clinic."""
    email = normalise_email(new_email)
    if email == user.email:
        raise Refusal("This is already your email address.", field="email")
    if email_in_use(email, user.clinic_id):
        raise Refusal(
            "Another account at your clinic already uses this email address.", field="email"
        )
    user.email = email
    db.session.flush()
    # The addresses themselves stay out of the trail: only that it changed.
    record("auth.email_changed", actor=user, object_type="user", object_id=user.id)

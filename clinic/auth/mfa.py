"""Two-factor sign-in: time-based one-time codes (TOTP, RFC 6238) and recovery codes.

The rules, in plain words:

- A code is the 6 digits an authenticator app shows for a 30-second time step. The step
  before and the step after are accepted too (phone clocks drift, people type slowly).
- A code works once: the account remembers the last step it accepted (`totp_last_step`)
  and refuses that step and every earlier one, so a code seen over someone's shoulder is
  useless afterwards.
- Enrolment: a new secret is stored on the account (and two-factor turned on) only once a
  code from the app proves the app has it. Until then the secret waits in the person's
  session, so setting up a new phone leaves the old one working until the new one does.
- Ten recovery codes are made when two-factor is turned on (or on request); they are
  shown once and only their hashes are kept. Each works once.
- A clinic may make two-factor mandatory for its administrators and clinicians; patients
  are never forced (they may turn it on if they wish).
- Staff who lose both their phone and their recovery codes ask an administrator of their
  clinic to reset it (`reset_for_colleague`): the secret and recovery codes go, and every
  session of the account ends. Never one's own: that is what the recovery codes (or
  another administrator) are for.

The functions at the top are pure (no database, no Flask); the rest change the account
and its recovery codes, add the audit event and flush. The unit of work commits once.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime

import pyotp
import segno
from flask_babel import gettext
from markupsafe import Markup, escape
from sqlalchemy import delete, func, or_, select, update

from clinic.audit.log import record
from clinic.auth import sessions
from clinic.core.refusals import Refusal
from clinic.core.statements import affected_rows
from clinic.domain.text import N_
from clinic.extensions import db
from clinic.models import RecoveryCode, Role, User
from clinic.models.types import utcnow

# What the authenticator app lists the account under. Neutral on purpose: someone who
# glances at the phone learns nothing about the kind of care.
ISSUER = "Clinic sign-in"
CODE_DIGITS = 6
STEP_WINDOW = 1  # time steps accepted either side of "now"
RECOVERY_CODE_COUNT = 10
# 12 characters from 32 (no i, l, o, u to misread): 60 random bits per code, so storing a
# fast hash (SHA-256) is safe; a slow one would make checking ten of them slow instead.
RECOVERY_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
RECOVERY_GROUPS = 3
RECOVERY_GROUP_LENGTH = 4

CODE_REFUSED = N_(
    "That code did not work. Enter the newest code your app shows (each code works once), "
    "or one of your recovery codes."
)
ENROLMENT_CODE_REFUSED = N_(
    "That code did not work. Check the app shows this account, then enter the newest 6-digit code."
)
MANDATORY = N_("Your clinic requires two-factor sign-in for its staff, so it cannot be turned off.")
RESET_OWN = N_(
    "You cannot reset your own two-factor sign-in. Sign in with one of your recovery codes, "
    "or ask another administrator."
)
STAFF_ROLES = frozenset({Role.ADMIN, Role.CLINICIAN})

_SEPARATORS = re.compile(r"[\s-]+")


# Pure rules -------------------------------------------------------------------------------


def new_secret() -> str:
    """A fresh random TOTP secret (base32, 160 bits)."""
    return pyotp.random_base32()


def provisioning_uri(secret: str, account_name: str) -> str:
    """The otpauth:// address an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=account_name, issuer_name=ISSUER)


def qr_svg(uri: str, label: str = "QR code to scan with your authenticator app") -> Markup:
    """The QR code for `uri` as inline SVG, made here (never by an outside service).

    Only presentation attributes (fill, stroke), no `style` and no script, so the page's
    Content-Security-Policy (no 'unsafe-inline') lets it show. Dark on a light square with
    its quiet zone, so it scans on a dark theme too.
    """
    # omitsize: a viewBox instead of a fixed size, so the page's CSS can size it.
    svg = segno.make(uri, error="m").svg_inline(
        dark="#000", light="#fff", svgclass="qr-code", lineclass=None, omitsize=True
    )
    # A picture with a name for screen readers (the key is also shown as text). Markup is
    # safe here: segno's SVG holds only path data, and the one text added is escaped.
    named = svg.replace("<svg ", f'<svg role="img" aria-label="{escape(label)}" ', 1)
    return Markup(named)  # noqa: S704


def secret_for_display(secret: str) -> str:
    """The secret in groups of four, easier to type into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def normalise_code(entry: str) -> str:
    """What was typed, without spaces or hyphens, lower-cased."""
    return _SEPARATORS.sub("", entry or "").lower()


def looks_like_totp(entry: str) -> bool:
    """Six digits (spaces allowed): an app's code rather than a recovery code."""
    code = normalise_code(entry)
    return len(code) == CODE_DIGITS and code.isascii() and code.isdigit()


def matching_step(secret: str, entry: str, now: datetime, last_step: int | None) -> int | None:
    """The time step whose code `entry` is, within one step of `now` and after
    `last_step` (the newest step already used); None when there is none."""
    if not looks_like_totp(entry):
        return None
    code = normalise_code(entry)
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in range(current + STEP_WINDOW, current - STEP_WINDOW - 1, -1):
        if last_step is not None and step <= last_step:
            continue  # used already, or older than a code that was
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def new_recovery_codes(count: int = RECOVERY_CODE_COUNT) -> list[str]:
    """`count` random recovery codes written like "7kq2-m9xd-4hpa"."""
    return [
        "-".join(
            "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_GROUP_LENGTH))
            for _ in range(RECOVERY_GROUPS)
        )
        for _ in range(count)
    ]


def hash_recovery_code(code: str) -> str:
    """What is stored of a recovery code: the SHA-256 of its normalised form."""
    return hashlib.sha256(normalise_code(code).encode()).hexdigest()


def is_mandatory(user: User) -> bool:
    """Whether the account's clinic requires two-factor for it (staff only, never patients)."""
    return user.role in STAFF_ROLES and user.clinic.staff_mfa_required


def why_not_reset(user: User, by: User) -> str | None:
    """Why administrator `by` cannot reset `user`'s two-factor sign-in, in plain words;
    None when they can."""
    if user.id == by.id:
        return RESET_OWN
    if not is_enabled(user):
        return f"{user.full_name} does not use two-factor sign-in: there is nothing to reset."
    return None


def is_enabled(user: User) -> bool:
    """Whether sign-in asks this account for a second factor."""
    return user.totp_enabled_at is not None and user.totp_secret is not None


def needs_enrolment(user: User) -> bool:
    """Whether the clinic requires two-factor for this account and it is not yet on."""
    return is_mandatory(user) and not is_enabled(user)


# Changes to the account ------------------------------------------------------------------


def confirm_enrolment(
    user: User, secret: str, entry: str, now: datetime | None = None
) -> list[str]:
    """Turn two-factor on with `secret` once `entry` is a current code for it, replacing
    any earlier secret (a new phone); return the new recovery codes (shown once)."""
    now = now or utcnow()
    step = matching_step(secret, entry, now, None)
    if step is None:
        raise Refusal(gettext(ENROLMENT_CODE_REFUSED), field="code")
    replaced = is_enabled(user)
    user.totp_secret = secret
    user.totp_enabled_at = now
    user.totp_last_step = step  # the confirming code is used up like any other
    codes = _replace_recovery_codes(user, now)
    record(
        "auth.mfa_enabled",
        actor=user,
        object_type="user",
        object_id=user.id,
        detail={"new_device": replaced},
    )
    return codes


def replace_recovery_codes(user: User, now: datetime | None = None) -> list[str]:
    """New recovery codes for an account with two-factor on; the old ones stop working."""
    if not is_enabled(user):
        raise Refusal(gettext("Two-factor sign-in is not on for your account."))
    codes = _replace_recovery_codes(user, now or utcnow())
    record("auth.recovery_codes_replaced", actor=user, object_type="user", object_id=user.id)
    return codes


def _replace_recovery_codes(user: User, now: datetime) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = new_recovery_codes()
    db.session.add_all(
        RecoveryCode(user_id=user.id, code_hash=hash_recovery_code(code), created_at=now)
        for code in codes
    )
    db.session.flush()
    return codes


def disable(user: User) -> None:
    """Turn two-factor off: forget the secret and the recovery codes. Refused when the
    clinic makes it mandatory for the account."""
    if is_mandatory(user):
        raise Refusal(gettext(MANDATORY))
    was_enabled = is_enabled(user)
    _forget_second_factor(user)
    if was_enabled:
        record("auth.mfa_disabled", actor=user, object_type="user", object_id=user.id)


def reset_for_colleague(user: User, by: User) -> int:
    """An administrator turns two-factor off for a colleague who lost their phone and
    their recovery codes: the secret and recovery codes go, and every session of the
    account ends (whoever holds it now is signed out). The next sign-in needs only the
    password; where the clinic requires two-factor, it then asks to set it up again.
    Return how many sessions ended. The caller has scoped `user` to `by`'s clinic."""
    if (reason := why_not_reset(user, by)) is not None:
        raise Refusal(reason)
    _forget_second_factor(user)
    user.end_all_sessions()
    ended = sessions.end_others(user, sessions.EndReason.REVOKED)
    record(
        "auth.mfa_reset",
        actor=by,
        object_type="user",
        object_id=user.id,
        detail={"sessions_ended": ended},
    )
    db.session.flush()
    return ended


def _forget_second_factor(user: User) -> None:
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.flush()


def recovery_codes_left(user: User) -> int:
    """How many of the account's recovery codes are still unused."""
    return db.session.execute(
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    ).scalar_one()


def accept_totp(user: User, entry: str, now: datetime | None = None) -> bool:
    """Whether `entry` is a current, unused code of the account's app; if so its step is
    used up. Two requests racing with the same code: one conditional UPDATE lets only one
    of them through."""
    secret = user.totp_secret
    if not is_enabled(user) or secret is None:
        return False
    step = matching_step(secret, entry, now or utcnow(), user.totp_last_step)
    if step is None:
        return False
    claimed = affected_rows(
        update(User)
        .where(
            User.id == user.id,
            or_(User.totp_last_step.is_(None), User.totp_last_step < step),
        )
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    if claimed != 1:
        return False
    user.totp_last_step = step
    return True


def accept_recovery_code(user: User, entry: str, now: datetime | None = None) -> bool:
    """Whether `entry` is one of the account's unused recovery codes; if so it is used up
    (and the use audited)."""
    if not is_enabled(user) or not normalise_code(entry):
        return False
    now = now or utcnow()
    code_id = db.session.scalar(
        select(RecoveryCode.id).where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == hash_recovery_code(entry),
            RecoveryCode.used_at.is_(None),
        )
    )
    if code_id is None:
        return False
    claimed = affected_rows(
        update(RecoveryCode)
        .where(RecoveryCode.id == code_id, RecoveryCode.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed != 1:
        return False
    record(
        "auth.recovery_code_used",
        actor=user,
        object_type="user",
        object_id=user.id,
        detail={"codes_left": recovery_codes_left(user)},
    )
    return True


def check_second_factor(user: User, entry: str, now: datetime | None = None) -> str | None:
    """Check what was typed at the second step: "totp" for an app's code, "recovery" for a
    recovery code, None when it is neither (nothing is used up then)."""
    if looks_like_totp(entry):
        return "totp" if accept_totp(user, entry, now) else None
    return "recovery" if accept_recovery_code(user, entry, now) else None

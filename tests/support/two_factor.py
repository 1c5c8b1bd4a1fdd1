"""Two-factor helpers for tests: the code an authenticator app would show, and an account
with two-factor turned on the way the set-up page does it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
from flask import Flask

from clinic.auth import mfa
from clinic.extensions import db
from clinic.models import User


def code_for(secret: str, steps_ahead: int = 0) -> str:
    """The code an authenticator app with `secret` shows now (or `steps_ahead` 30-second
    steps on: the window accepts the next step, which a step just used up never is)."""
    return pyotp.TOTP(secret).at(datetime.now(UTC) + timedelta(seconds=30 * steps_ahead))


def enrol(app: Flask, user_id: int) -> tuple[str, list[str]]:
    """Turn two-factor on for an account as the set-up page does; return the secret and
    the recovery codes. The confirming code's step is used up, as in real life."""
    with app.app_context():
        user = db.session.get(User, user_id)
        secret = mfa.new_secret()
        codes = mfa.confirm_enrolment(user, secret, code_for(secret))
        db.session.commit()
    return secret, codes


def wrong_code_for(secret: str) -> str:
    """Six digits that are none of the codes the app shows around now (a guess)."""
    shown = {code_for(secret, steps) for steps in range(-2, 3)}
    return next(
        guess for guess in (f"{n:06d}" for n in range(0, 10**6, 111_111)) if guess not in shown
    )

"""Rate limits on the doors people could try to force: signing in (both steps), links that
set a password (invitations and resets) and asking for a reset link.

Counted per client address (Flask-Limiter), on POST only: showing a form costs nothing.
The limits are settings (clinic/config.py, `RATELIMIT_*`); the counts live in memory or, with
`CLINIC_RATELIMIT_STORAGE_URL`, in Redis shared by every worker. Guessing one account's
password is slowed further by the per-account back-off (clinic.domain.backoff).

Apply one line under the view's policy:

    @bp.route("/login", methods=["GET", "POST"])
    @public
    @sign_in_limit
    def login(): ...

Over the limit, the person sees a calm page saying how long to wait, with Retry-After.
"""

from __future__ import annotations

import math
import time

from flask import Flask, current_app, render_template
from flask_babel import gettext, ngettext
from flask_limiter.errors import RateLimitExceeded
from werkzeug.wrappers import Response

from clinic.extensions import limiter
from clinic.fhirapi.outcomes import api_error

sign_in_limit = limiter.limit(lambda: current_app.config["RATELIMIT_SIGN_IN"], methods=["POST"])
"""Password and second-factor steps of signing in (and signing in again after a time-out)."""

link_limit = limiter.limit(lambda: current_app.config["RATELIMIT_LINKS"], methods=["POST"])
"""Choosing a password through an invitation or reset link."""

reset_request_limit = limiter.limit(
    lambda: current_app.config["RATELIMIT_RESET_REQUEST"], methods=["POST"]
)
"""Asking for a password-reset link (each one sends an email)."""


def init_app(app: Flask) -> None:
    """Bind the limiter to `app` and show the "please wait" page when a limit is reached."""
    limiter.init_app(app)
    # Flask-Limiter turns its one shared switch off when an app disables it; keep it on and
    # let each app's RATELIMIT_ENABLED decide per request (see clinic.extensions).
    limiter.enabled = True
    app.register_error_handler(429, too_many_requests)


def seconds_to_wait() -> int:
    """How long until the limit this request reached lets a new attempt through."""
    current = limiter.current_limit
    if current is None:
        return 60
    return max(1, math.ceil(current.reset_at - time.time()))


def too_many_requests(_error: RateLimitExceeded) -> tuple[str | Response, int, dict[str, str]]:
    """The 429 page: what happened, and how long to wait, in words and in Retry-After
    (to the FHIR API, an OperationOutcome)."""
    seconds = seconds_to_wait()
    if (outcome := api_error(429)) is not None:
        return outcome, 429, {"Retry-After": str(seconds)}
    minutes = max(1, round(seconds / 60))
    wait = (
        gettext("about a minute")
        if minutes == 1
        else ngettext("about %(num)d minute", "about %(num)d minutes", minutes)
    )
    page = render_template("errors/429.html", wait=wait)
    return page, 429, {"Retry-After": str(seconds)}

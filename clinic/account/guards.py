"""Two checks around security changes and sign-in.

- Re-authentication: changing an email, a password or two-factor settings needs the
  password (and the code, when two-factor is on) entered in this browser session within
  the last five minutes, so a session left open on a shared computer cannot take the
  account over. So do an administrator's gravest changes (erasing a patient, resetting a
  colleague's two-factor sign-in). The time lives in Flask's signed session
  (`session["reauth_at"]`); sign-in sets it too, since the person has just proved who they
  are. A form sent after the five minutes is not lost: what was typed waits in the "confirm
  it is you" page and is offered to send on afterwards.
- Mandatory enrolment: when a clinic requires two-factor for its staff, an administrator
  or clinician without it is signed in but sent to set it up before any other page.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import TypeVar, cast

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext
from flask_login import current_user
from werkzeug.wrappers import Response

from clinic.account.forms import ReauthenticateForm, ReauthenticateWithCodeForm
from clinic.auth import mfa
from clinic.domain.text import N_
from clinic.models.types import utcnow

F = TypeVar("F", bound=Callable[..., object])

REAUTH_AT = "reauth_at"
REAUTH_WINDOW = timedelta(minutes=5)
REAUTH_NEEDED = N_("For your security, confirm it is you before changing this.")
# A form sent after the five minutes: its fields travel in the "confirm it is you" page as
# hidden fields with this prefix (never stored on the server), then are offered to send on.
# Not from the sign-in and account pages (they hold passwords), never a password or the
# CSRF token (the page that sends them on has a fresh one).
KEPT_PREFIX = "kept-"
_NOT_KEPT_BLUEPRINTS = frozenset({"auth", "account"})

# What staff who must set up two-factor may still open: the set-up pages themselves and
# what they need on the way (confirming it is them, signing out, the idle time-out warning
# and its "stay signed in", the styles).
ENROLMENT_ENDPOINTS = frozenset(
    {
        "account.two_factor",
        "account.start_two_factor",
        "account.reauthenticate",
        "auth.logout",
        "auth.idle_warning",
        "auth.stay_signed_in",
        "health.healthz",
        "static",
    }
)
ENROLMENT_NEEDED = N_(
    "Your clinic requires two-factor sign-in for all staff. Set it up now to continue: "
    "it takes a couple of minutes and a phone with an authenticator app."
)


def mark_recent_auth(now: datetime | None = None) -> None:
    """Note that the person has just entered their password (and code) in this session."""
    session[REAUTH_AT] = (now or utcnow()).timestamp()


def has_recent_auth(now: datetime | None = None) -> bool:
    """Whether the password was entered in this session within the last five minutes."""
    at = session.get(REAUTH_AT)
    if not isinstance(at, int | float):
        return False
    elapsed = (now or utcnow()).timestamp() - at
    return 0 <= elapsed <= REAUTH_WINDOW.total_seconds()


def require_recent_auth(view: F) -> F:
    """View decorator: without a recent re-authentication, send the person to confirm it
    is them, then back here (see `reauthentication_needed`)."""

    @wraps(view)
    def checked(*args: object, **kwargs: object) -> object:
        needed = reauthentication_needed()
        return view(*args, **kwargs) if needed is None else needed

    return cast(F, checked)  # wraps() keeps the view's signature


def reauthentication_needed() -> Response | str | None:
    """None when the person confirmed it is them within the last five minutes; otherwise
    the answer that asks them to, then brings them back. Views that load an object first
    (a 404 for another clinic's, a refusal for an impossible change) call this after
    loading; others use `require_recent_auth`.

    After a GET, back to the same page. A POST cannot be replayed by a redirect: when its
    form carried something typed, the "confirm it is you" page itself is the answer and
    keeps it; otherwise back to the same page's form when it has one, else the account
    page."""
    if has_recent_auth():
        return None
    flash(gettext(REAUTH_NEEDED), "info")
    if request.method == "GET":
        back = request.full_path.removesuffix("?")
    elif kept := _typed_fields():
        return confirmation_page(kept, next_url=request.full_path.removesuffix("?"))
    elif request.url_rule is not None and "GET" in (request.url_rule.methods or ()):
        back = request.path
    else:
        back = url_for("account.index")
    return redirect(url_for("account.reauthenticate", next=back))


def confirmation_page(
    kept: list[tuple[str, str]],
    next_url: str,
    form: ReauthenticateForm | None = None,
) -> str:
    """The "confirm it is you" page, holding `kept` (a form's fields to send on to
    `next_url` afterwards). A new form is not bound to this request's data: that is the
    kept form's."""
    with_code = mfa.is_enabled(current_user)
    if form is None:
        form_class = ReauthenticateWithCodeForm if with_code else ReauthenticateForm
        form = form_class(formdata=None)
    return render_template(
        "account/reauthenticate.html",
        form=form,
        with_code=with_code,
        kept=kept,
        kept_prefix=KEPT_PREFIX,
        action=url_for("account.reauthenticate", next=next_url),
    )


def kept_fields() -> list[tuple[str, str]]:
    """The fields a "confirm it is you" page kept (see `confirmation_page`)."""
    return [
        (name.removeprefix(KEPT_PREFIX), value)
        for name, value in request.form.items(multi=True)
        if name.startswith(KEPT_PREFIX) and "password" not in name
    ]


def _typed_fields() -> list[tuple[str, str]]:
    if request.blueprint in _NOT_KEPT_BLUEPRINTS:
        return []
    return [
        (name, value)
        for name, value in request.form.items(multi=True)
        if name != "csrf_token" and "password" not in name and value.strip()
    ]


def enforce_mandatory_enrolment() -> Response | None:
    """before_request hook: staff whose clinic requires two-factor, and who have not set
    it up, see only the set-up pages until they do. Patients are never forced."""
    if request.endpoint is None or request.endpoint in ENROLMENT_ENDPOINTS:
        return None
    if not current_user.is_authenticated or not mfa.needs_enrolment(current_user):
        return None
    flash(gettext(ENROLMENT_NEEDED), "info")
    return redirect(url_for("account.two_factor"))

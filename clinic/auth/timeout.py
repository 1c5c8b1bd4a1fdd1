"""Idle time-outs as people meet them: a warning they can answer, and nothing typed lost.

- Pages with nothing to type in reload, two minutes before the idle limit, into a warning
  ("You will be signed out in 2 minutes") with a "Stay signed in" button (a POST that
  renews the session) and "Sign out". Left alone, the warning reloads once more when the
  time is up and lands on the sign-in page with a calm message, showing nothing of the
  page before. No script: a Refresh header (see clinic.auth.sessions.add_idle_warning).
- Pages with a form never reload themselves, since that would throw away what someone is
  typing (a diary entry, a clinical note). If the form is sent after the session ended,
  what was typed is kept: the answer asks for the password (and code) to sign in again,
  then offers to send the form on, unchanged. What was typed travels only in the page, in
  a signed hidden field bound to the same account, so nobody else can send it and it is
  never stored on the server.

The unauthorized handler here replaces Flask-Login's default redirect to make that choice.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import (
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext, ngettext
from flask_login import current_user, login_url
from itsdangerous import BadData, URLSafeTimedSerializer
from werkzeug.wrappers import Response

from clinic.access import any_signed_in, is_safe_redirect, public
from clinic.auth import mfa, sessions
from clinic.auth.forms import SignInAgainForm
from clinic.auth.limits import sign_in_limit
from clinic.auth.services import complete_sign_in, sign_in_again
from clinic.auth.views import SIGN_IN_FAILED, bp, home_url
from clinic.core.forms import show_refusal
from clinic.core.refusals import Refusal
from clinic.extensions import db, login_manager
from clinic.models import User

# A kept form can be sent on for this long after its session ended.
KEPT_FORM_MAX_AGE_SECONDS = 12 * 60 * 60
_KEPT_FORM_SALT = "clinic.kept-form"
# Never carried over: the stale CSRF token (the page sending it on has a fresh one), and
# passwords, which are never written into a page.
_NOT_KEPT = frozenset({"csrf_token"})
# Sign-in and account pages ask for passwords and codes: nothing of theirs is kept.
_NOT_KEPT_BLUEPRINTS = frozenset({"auth", "account"})


@dataclass(frozen=True)
class KeptForm:
    """A form sent after its session ended: for whom, where to, and what it held."""

    user_id: int
    path: str
    fields: list[tuple[str, str]]


def _serializer() -> URLSafeTimedSerializer:
    key = current_app.secret_key
    if not key:  # clinic.config always sets one; never sign with an empty key
        raise RuntimeError("SECRET_KEY is not set")
    return URLSafeTimedSerializer(key, salt=_KEPT_FORM_SALT)


def keep_form(user_id: int) -> str:
    """The form of this request, signed (not stored), for `user_id` to send on later."""
    fields = [
        [name, value]
        for name, value in request.form.items(multi=True)
        if name not in _NOT_KEPT and "password" not in name
    ]
    path = request.full_path.removesuffix("?")
    return _serializer().dumps({"user_id": user_id, "path": path, "fields": fields})


def kept_form(signed: str) -> KeptForm | None:
    """The kept form in `signed`, or None when it was altered, is too old or is not one."""
    try:
        data = _serializer().loads(signed or "", max_age=KEPT_FORM_MAX_AGE_SECONDS)
    except BadData:
        return None
    try:
        kept = KeptForm(
            user_id=int(data["user_id"]),
            path=str(data["path"]),
            fields=[(str(name), str(value)) for name, value in data["fields"]],
        )
    except (KeyError, TypeError, ValueError):
        return None
    return kept if is_safe_redirect(kept.path) else None


def time_words(seconds: int) -> str:
    """A short wait in words: "2 minutes", "1 minute", "less than a minute"."""
    if seconds >= 60:
        return ngettext("%(num)d minute", "%(num)d minutes", max(1, round(seconds / 60)))
    return gettext("less than a minute")


@login_manager.unauthorized_handler
def send_to_sign_in() -> Response | str:
    """A page that needs a signed-in person, and nobody is: a form sent after this
    browser's session ended is kept and the person asked to sign in again; anything else
    goes to the sign-in page, and back here afterwards."""
    user_id = sessions.signed_out_user_id()
    if (
        request.method == "POST"
        and user_id is not None
        and request.blueprint not in _NOT_KEPT_BLUEPRINTS
    ):
        user = db.session.get(User, user_id)
        if user is not None and user.active:
            return _sign_in_again_page(user, keep_form(user_id))
    if not g.get("signed_out_message"):
        flash(gettext(login_manager.login_message), login_manager.login_message_category)
    return redirect(login_url("auth.login", next_url=request.url))


def _sign_in_again_page(user: User, kept: str, form: SignInAgainForm | None = None) -> str:
    reason = (session.get(sessions.SIGNED_OUT_KEY) or {}).get("reason", "")
    if form is None:
        # Not bound to this request's form data: that is the kept form, not this one.
        form = SignInAgainForm(formdata=None, needs_code=mfa.is_enabled(user))
    form.kept.data = kept
    # Said once: when the session ended in this very request, the layout's message says it.
    why = None
    if not g.get("signed_out_message"):
        why = sessions.ended_message(reason, user) or gettext("You have been signed out.")
    return render_template("auth/idle_sign_in_again.html", form=form, why=why)


@bp.get("/session/timeout")
@public
def idle_warning() -> Response:
    """The warning shortly before an idle session ends, with a way to stay signed in.
    Opening it is not activity; once the time is up it goes to the sign-in page."""
    back = request.args.get("next")
    back = back if is_safe_redirect(back) else None
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    seconds = sessions.seconds_left()
    response = make_response(
        render_template("auth/idle_warning.html", time_left=time_words(seconds), back=back)
    )
    # Come back when the time is up: the session has ended by then, and this page sends
    # the person to sign in (its own refresh, as it must not count as activity).
    response.headers["Refresh"] = f"{seconds + 2}; url={url_for('auth.idle_warning', next=back)}"
    return response


@bp.post("/session/stay")
@any_signed_in
def stay_signed_in() -> Response:
    """ "Stay signed in" on the warning: count it as activity, and go back to the page."""
    sessions.renew()
    back = request.form.get("next")
    return redirect(back if is_safe_redirect(back) else home_url())


@bp.post("/session/resume")
@public
@sign_in_limit
def sign_in_again_and_resume() -> Response | str:
    """Sign in again after a time-out, then offer to send on the form that was kept."""
    form_kept = kept_form(request.form.get("kept", ""))
    user = db.session.get(User, form_kept.user_id) if form_kept else None
    if form_kept is None or user is None:
        flash(gettext("That page has expired. Please sign in."), "info")
        return redirect(url_for("auth.login"))
    if current_user.is_authenticated:
        # Signed in again meanwhile (another tab): as that person, send on; as anyone
        # else, the kept form is not theirs.
        if current_user.id == form_kept.user_id:
            return render_template("auth/idle_send_kept.html", kept=form_kept)
        return redirect(home_url())
    form = SignInAgainForm(needs_code=mfa.is_enabled(user))
    if form.validate_on_submit():
        code = form.code.data if "code" in form else ""
        second_factor = sign_in_again(user, form.password.data, code)
        if second_factor is not None:
            complete_sign_in(user, second_factor=second_factor, after="time-out")
            return render_template("auth/idle_send_kept.html", kept=form_kept)
        # The failure was kept (it counts towards the back-off, and is audited).
        show_refusal(form, Refusal(gettext(SIGN_IN_FAILED)))
    return _sign_in_again_page(user, request.form.get("kept", ""), form)

"""Server-side sign-in sessions: each signed-in browser has a record that can be ended.

Flask's session is a signed cookie: on its own it cannot be revoked, and a copy keeps
working. So the cookie carries a random token, and the `user_sessions` table keeps only
its hash with the times that matter. Every request checks its record (`load_user`, the
Flask-Login user loader):

- unknown or ended token: signed out;
- no activity for longer than the clinic's idle limit (`staff_idle_minutes`,
  `patient_idle_minutes`): ended with reason "idle", and the sign-in page says calmly
  "You were signed out after N minutes without activity";
- older than the absolute lifetime (`SESSION_ABSOLUTE_LIFETIME`, 12 hours by default),
  however busy: ended with reason "lifetime";
- account deactivated, or every session of the account ended at once
  (`User.end_all_sessions`, which rotates `users.session_token`, part of Flask-Login's id
  in the cookie): signed out.

Activity is written to `last_seen_at` at most once a minute (a write per request would
cost throughput), so the last activity lies within a minute after `last_seen_at`; a
session therefore ends between N and N+1 minutes after the last request, never before N.

Sign-out ends this browser's session only: a copy of its cookie dies with it, and signing
out of the clinic's shared tablet does not sign the person out of their own phone.
Changing a password ends every other session of the account (`end_others`); a reset
ends them all.

Pages without anything to type in carry a Refresh header that opens a warning page two
minutes before the idle limit (see clinic.auth.timeout); pages with a form never reload
themselves, and a form sent after its session ended is kept and sent once the person has
signed in again.
"""

from __future__ import annotations

import math
import re
import secrets
from datetime import datetime, timedelta
from enum import StrEnum

from flask import current_app, flash, g, has_request_context, request, session, url_for
from flask_babel import force_locale, gettext
from flask_login import AnonymousUserMixin, current_user, login_user
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response

from clinic.access import policy_for
from clinic.audit.log import record
from clinic.core.statements import affected_rows
from clinic.core.uow import unit_of_work
from clinic.extensions import db
from clinic.i18n import browser_language
from clinic.models import Role, User, UserSession
from clinic.models.invitations import hash_token
from clinic.models.types import utcnow

# Keys in Flask's signed session cookie.
SESSION_ID_KEY = "session_id"
# Who was signed out and why: lets a form sent after a time-out be kept for that person.
SIGNED_OUT_KEY = "signed_out"
# A new invitation link waiting for its one display (clinic/auth/invitations.py). Flask's
# session cookie is signed, not encrypted: the link must not outlive the sign-in that made it.
INVITATION_TO_SHOW_KEY = "invitation_to_show"
# Flask-Login's own keys; ending a session removes them, never the CSRF secret, so a form
# left open in another tab can still be sent (and kept) after a time-out.
_FLASK_LOGIN_KEYS = ("_user_id", "_fresh", "_id", "_remember_seconds")

TOUCH_EVERY = timedelta(minutes=1)
WARN_BEFORE = timedelta(minutes=2)
USER_AGENT_LENGTH = 200
# Looking at the time-out warning is not activity: otherwise it would renew the session
# it warns about.
PASSIVE_ENDPOINTS = frozenset({"auth.idle_warning"})
# Requests that never need to know who is signed in (no database query for them).
_NO_USER_ENDPOINTS = frozenset({"static", "health.healthz"})


class EndReason(StrEnum):
    """Why a session ended (stored in `user_sessions.end_reason`)."""

    SIGN_OUT = "sign_out"
    IDLE = "idle"
    LIFETIME = "lifetime"
    PASSWORD_CHANGED = "password_changed"  # noqa: S105 (a reason, not a password)
    REPLACED = "replaced"  # the same browser signed in again
    REVOKED = "revoked"  # account deactivated, or all its sessions ended at once


# Pure rules -------------------------------------------------------------------------------


def idle_limit(user: User) -> timedelta:
    """How long the account's sessions may sit unused: a setting of its clinic."""
    clinic = user.clinic
    if user.role is Role.PATIENT:
        return timedelta(minutes=clinic.patient_idle_minutes)
    return timedelta(minutes=clinic.staff_idle_minutes)


def idle_deadline(last_seen_at: datetime, idle: timedelta) -> datetime:
    """When a session last written as seen at `last_seen_at` ends if nothing happens.
    The minute of `TOUCH_EVERY` is added because activity within that minute after
    `last_seen_at` was not written."""
    return last_seen_at + idle + TOUCH_EVERY


def expiry_reason(
    created_at: datetime,
    last_seen_at: datetime,
    now: datetime,
    idle: timedelta,
    lifetime: timedelta,
) -> EndReason | None:
    """Why a session must end at `now` (lifetime first, then idleness), or None."""
    if now >= created_at + lifetime:
        return EndReason.LIFETIME
    if now >= idle_deadline(last_seen_at, idle):
        return EndReason.IDLE
    return None


def ended_message(reason: str, user: User) -> str | None:
    """What the sign-in page says about a session that ended by itself."""
    if reason == EndReason.IDLE:
        minutes = int(idle_limit(user).total_seconds() // 60)
        return gettext(
            "You were signed out after %(minutes)d minutes without activity. "
            "Sign in again to continue.",
            minutes=minutes,
        )
    if reason == EndReason.LIFETIME:
        hours = math.ceil(current_app.config["SESSION_ABSOLUTE_LIFETIME"].total_seconds() / 3600)
        return gettext(
            "For your security, sessions end %(hours)d hours after signing in. "
            "Sign in again to continue.",
            hours=hours,
        )
    return None


# Records ----------------------------------------------------------------------------------


def open_record(user: User, user_agent: str = "", now: datetime | None = None) -> tuple[int, str]:
    """Create a session record for `user`; return its id and its secret token (only the
    token's hash is stored). Flushes; the unit of work commits."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    user_session = UserSession(
        user_id=user.id,
        token_hash=hash_token(token),
        created_at=now,
        last_seen_at=now,
        user_agent=user_agent[:USER_AGENT_LENGTH],
    )
    db.session.add(user_session)
    db.session.flush()
    return user_session.id, token


def begin(user: User, now: datetime | None = None) -> None:
    """Sign `user` in on this browser with a brand-new session: Flask's session is emptied
    first, so nothing from before (a planted cookie, a CSRF secret) carries over, and the
    token is new (renewal at sign-in). Any session this browser had is ended. Flushes; the
    unit of work commits (see clinic.auth.services.complete_sign_in, the one caller)."""
    now = now or utcnow()
    previous = g.pop("user_session_id", None)
    if previous is not None:
        _end(previous, EndReason.REPLACED, now)
    session.clear()
    # Flask-WTF keeps this request's CSRF token in `g`; it belonged to the cleared session,
    # and a page rendered after sign-in (the kept form to send on) needs a new one.
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)
    record_id, session[SESSION_ID_KEY] = open_record(user, request.user_agent.string or "", now)
    login_user(user, remember=False)  # never Flask-Login's long-lived "remember me" cookie
    g.user_session_id = record_id
    g.session_deadline = idle_deadline(now, idle_limit(user))


def current_record_id(user: User | None = None) -> int | None:
    """The id of this request's session record when it is signed in (as `user`, if
    given); None outside a request."""
    if not has_request_context():
        return None
    record_id = g.get("user_session_id")
    someone_else = user is not None and (
        not current_user.is_authenticated or current_user.id != user.id
    )
    return None if someone_else else record_id


def end_current(reason: EndReason = EndReason.SIGN_OUT, now: datetime | None = None) -> None:
    """End this browser's session (audited as "auth.sign_out" for a sign-out) and forget it
    in the cookie. Flushes; the unit of work commits."""
    record_id = g.pop("user_session_id", None)
    ended = record_id is not None and _end(record_id, reason, now or utcnow())
    if ended and reason is EndReason.SIGN_OUT and current_user.is_authenticated:
        record(
            "auth.sign_out",
            actor=current_user._get_current_object(),
            object_type="session",
            object_id=record_id,
        )
    _forget()


def end_others(
    user: User, reason: EndReason, keep: int | None = None, now: datetime | None = None
) -> int:
    """End every open session of `user` except the record `keep`; return how many."""
    query = update(UserSession).where(
        UserSession.user_id == user.id, UserSession.ended_at.is_(None)
    )
    if keep is not None:
        query = query.where(UserSession.id != keep)
    ended = affected_rows(
        query.values(ended_at=now or utcnow(), end_reason=reason.value).execution_options(
            synchronize_session=False
        )
    )
    return ended


def renew(now: datetime | None = None) -> None:
    """Count now as activity for this request's session ("Stay signed in")."""
    record_id = current_record_id()
    if record_id is None or not current_user.is_authenticated:
        return
    now = now or utcnow()
    _touch(record_id, now)
    g.session_deadline = idle_deadline(now, idle_limit(current_user))


def seconds_left(now: datetime | None = None) -> int:
    """Seconds until this request's session ends if nothing else happens (0: none)."""
    deadline = g.get("session_deadline")
    if deadline is None:
        return 0
    return max(0, math.ceil((deadline - (now or utcnow())).total_seconds()))


def _end(record_id: int, reason: EndReason, now: datetime) -> bool:
    """End one record if it is still open; whether this call ended it (two requests
    racing to end the same session audit it once)."""
    return (
        affected_rows(
            update(UserSession)
            .where(UserSession.id == record_id, UserSession.ended_at.is_(None))
            .values(ended_at=now, end_reason=reason.value)
            .execution_options(synchronize_session=False)
        )
        == 1
    )


def _touch(record_id: int, now: datetime) -> None:
    db.session.execute(
        update(UserSession)
        .where(UserSession.id == record_id)
        .values(last_seen_at=now)
        .execution_options(synchronize_session=False)
    )


def _forget(user_id: int | None = None, reason: str = "") -> None:
    """Drop the sign-in from Flask's session (keeping the CSRF secret); note who it was
    when known, so their unsent form can be kept for them."""
    for key in (*_FLASK_LOGIN_KEYS, SESSION_ID_KEY, INVITATION_TO_SHOW_KEY):
        session.pop(key, None)
    if user_id is not None:
        session[SIGNED_OUT_KEY] = {"user_id": user_id, "reason": reason}


def signed_out_user_id() -> int | None:
    """The account whose session in this browser ended, if one did."""
    marker = session.get(SIGNED_OUT_KEY)
    if isinstance(marker, dict) and isinstance(marker.get("user_id"), int):
        return marker["user_id"]
    return None


# Every request ----------------------------------------------------------------------------


# Every request but the trivial ones sends this: built once, not per request. The
# session's own columns are enough (no object of it to track); the account is the object
# the request works with.
_SESSION_WITH_ACCOUNT = (
    select(
        UserSession.id,
        UserSession.created_at,
        UserSession.last_seen_at,
        UserSession.ended_at,
        UserSession.end_reason,
        User,
    )
    .join(User, User.id == UserSession.user_id)
    .where(UserSession.token_hash == bindparam("token_hash"))
    .options(joinedload(User.clinic))
)


def load_user(user_id: str) -> User | None:
    """Flask-Login's user loader: the account behind this browser's session, or None when
    the session is unknown, ended, idle too long, too old, or its account is deactivated.
    `user_id` is Flask-Login's id from the cookie, "<user id>:<account generation>"."""
    raw_id, _, generation = user_id.partition(":")
    token = session.get(SESSION_ID_KEY)
    if not raw_id.isdigit() or not generation or not isinstance(token, str):
        _forget()
        return None
    row = db.session.execute(_SESSION_WITH_ACCOUNT, {"token_hash": hash_token(token)}).first()
    if row is None or row.User.id != int(raw_id):
        _forget()
        return None
    user_session, user = row, row.User
    now = utcnow()
    if user_session.ended_at is not None:
        _forget(user.id, user_session.end_reason)
        return None
    if not user.active or user.session_token != generation:
        _end(user_session.id, EndReason.REVOKED, now)
        _forget(user.id, EndReason.REVOKED)
        return None
    idle = idle_limit(user)
    reason = expiry_reason(
        user_session.created_at,
        user_session.last_seen_at,
        now,
        idle,
        current_app.config["SESSION_ABSOLUTE_LIFETIME"],
    )
    if reason is not None:
        _expire(user_session.id, user, reason, now)
        return None
    last_seen = user_session.last_seen_at
    if now - last_seen >= TOUCH_EVERY and request.endpoint not in PASSIVE_ENDPOINTS:
        # Committed at once, alone, at the start of the request (see `load_early`).
        _touch(user_session.id, now)
        last_seen = now
    g.user_session_id = user_session.id
    g.session_deadline = idle_deadline(last_seen, idle)
    return user


def _expire(session_id: int, user: User, reason: EndReason, now: datetime) -> None:
    user_id = user.id
    # Said while the account is being loaded, so not in the signed-in person's language
    # (choosing it would load the account again): in the browser's, as the sign-in page
    # that shows it will be.
    with force_locale(browser_language()):
        message = ended_message(reason, user)
    detail: dict[str, object] = {"reason": reason.value}
    if reason is EndReason.IDLE:
        detail["idle_minutes"] = int(idle_limit(user).total_seconds() // 60)
    if _end(session_id, reason, now):
        record(
            "auth.session_expired",
            actor=user,
            object_type="session",
            object_id=session_id,
            detail=detail,
        )
    _forget(user_id, reason)
    if message:
        flash(message, "info")
        g.signed_out_message = message
    return None


def load_early() -> None:
    """before_request hook: check the session before anything else runs, as a unit of
    work of its own (clinic.core.uow). Its writes (activity, a session ended) are kept
    whatever the page does next, never mixed with a view's work, and commit at once: a
    write lock is never held while the page is worked out. (Should the session be
    checked later, only by an error page after an earlier hook refused the request,
    its writes are dropped with that request; the next request checks again.)"""
    if request.endpoint in _NO_USER_ENDPOINTS:
        return
    policy = policy_for(request.endpoint) if request.endpoint else None
    if policy is not None and policy.token:
        # The FHIR API: a session cookie authenticates nothing there, so nobody is signed
        # in for this request (nothing after this, an audit event included, can take the
        # call for a person's).
        g._login_user = AnonymousUserMixin()
        return
    with unit_of_work():
        _ = current_user.is_authenticated


# Time-out warnings ------------------------------------------------------------------------

# A POST form holding something a person types or chooses: reloading that page would throw
# it away. Buttons-only forms (sign out, "invite") and GET filter forms do not count. Our
# templates write `method="post"` just so (tests/integration/test_sessions.py checks).
_POST_FORM = b'method="post"'
_TYPING = re.compile(
    rb"<textarea\b|<select\b"
    rb"|<input\b(?![^>]*\btype=[\"']?(?:hidden|submit|button|reset|image)\b)",
    re.I,
)


def page_takes_typing(html: bytes) -> bool:
    """Whether the page has a form someone types into (or chooses in) to send. One pass
    of a plain search over the page, then a look inside each POST form only."""
    start = 0
    while (found := html.find(_POST_FORM, start)) != -1:
        end = html.find(b"</form>", found)
        end = len(html) if end == -1 else end
        if _TYPING.search(html, found, end):
            return True
        start = end
    return False


def add_idle_warning(response: Response) -> Response:
    """after_request hook: on a signed-in page with nothing to type, a Refresh header opens
    the time-out warning two minutes before the idle limit. (A header rather than a meta
    tag: it is decided after the page is rendered, and needs no script, so the CSP holds.)"""
    if (
        request.method != "GET"
        or response.status_code != 200
        or response.mimetype != "text/html"
        or response.is_streamed
        or request.endpoint in PASSIVE_ENDPOINTS
        or "Refresh" in response.headers
        or g.get("session_deadline") is None
        or current_user.is_anonymous
    ):
        return response
    if page_takes_typing(response.get_data()):
        return response
    delay = max(1, seconds_left() - int(WARN_BEFORE.total_seconds()))
    back = request.full_path.removesuffix("?")
    response.headers["Refresh"] = f"{delay}; url={url_for('auth.idle_warning', next=back)}"
    return response

"""Sign-in, sign-out, the role-based home redirect and invitation acceptance."""

from __future__ import annotations

from typing import Any, TypeGuard

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, logout_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from clinic.access import HOME_ENDPOINTS, any_signed_in, is_safe_redirect, public
from clinic.auth import mfa, sessions
from clinic.auth.forms import ChooseAccountForm, ChoosePasswordForm, LoginForm, SecondFactorForm
from clinic.auth.limits import link_limit, sign_in_limit
from clinic.auth.services import (
    InvitationAlreadyUsed,
    accept_invitation,
    authenticate,
    check_second_step,
    complete_sign_in,
    find_usable_invitation,
    record_failed_sign_in,
)
from clinic.core.forms import show_refusal
from clinic.core.refusals import Refusal
from clinic.domain import backoff
from clinic.domain.text import N_
from clinic.extensions import db
from clinic.i18n import link_language, serve_in
from clinic.models import Role, User
from clinic.models.types import utcnow

bp = Blueprint("auth", __name__)

# The same words for every refusal (wrong password, unknown address, sign-in paused after
# many attempts), so the page never tells whether an account exists.
SIGN_IN_FAILED = N_(
    "Those details did not match an active account. Check them and try again. After "
    "several unsuccessful tries, signing in pauses for a few minutes."
)
# Session keys between a sign-in matching several accounts and the choice of one: which
# accounts, and since when (a POSIX time). The choice must come within PENDING_SECONDS
# too: the cookie would otherwise open those accounts, without a password, to whoever
# holds it later (the next person at a shared computer, a copy of the cookie).
PENDING_ACCOUNTS = "pending_accounts"
# Each account offered is named by its clinic and, in these words, its role.
ROLE_WORDS = {
    Role.ADMIN: N_("administrator"),
    Role.CLINICIAN: N_("clinician"),
    Role.PATIENT: N_("patient"),
}
PENDING_NEXT = "pending_next"
# Between a right password and the code of an account with two-factor on: who, and since
# when (a POSIX time). Not signed in yet; the code must come within PENDING_SECONDS.
PENDING_CODE = "pending_second_factor"
PENDING_SECONDS = 5 * 60
CODE_EXPIRED = N_("That took more than 5 minutes. Please sign in again.")
# The password was right, so saying that sign-in is paused tells nothing new.
CODE_PAUSED = N_(
    "After several unsuccessful tries, signing in to this account is paused for a few "
    "minutes. Please wait, then sign in again."
)


def home_url() -> str:
    """Where the signed-in user's work starts."""
    return url_for(HOME_ENDPOINTS[current_user.role])


@bp.get("/")
@public
def index() -> Response:
    """Send visitors to sign in and signed-in users to their home page."""
    if current_user.is_authenticated:
        return redirect(home_url())
    return redirect(url_for("auth.login"))


@bp.route("/login", methods=["GET", "POST"])
@public
@sign_in_limit
def login() -> Response | str:
    """The one sign-in page for admins, clinicians and patients."""
    if current_user.is_authenticated:
        return redirect(home_url())
    form = LoginForm()
    if form.validate_on_submit():
        matched = authenticate(form.email.data, form.password.data)
        next_url = request.args.get("next")
        if len(matched) == 1:
            return _password_accepted(matched[0], next_url)
        if matched:
            # One person, accounts at several clinics with the same password: they proved
            # who they are, so they may see those clinics' names and pick one.
            session.clear()
            session[PENDING_ACCOUNTS] = {
                "user_ids": [user.id for user in matched],
                "since": utcnow().timestamp(),
            }
            session[PENDING_NEXT] = next_url if is_safe_redirect(next_url) else None
            return redirect(url_for("auth.choose_account"))
        record_failed_sign_in(form.email.data)  # kept: it counts towards the back-off
        show_refusal(form, Refusal(_(SIGN_IN_FAILED)))
    return render_template("auth/login.html", form=form)


def _password_accepted(user: User, next_url: str | None) -> Response:
    """The password was right: sign in, or first ask for the code when two-factor is on."""
    if not mfa.is_enabled(user):
        return _sign_in(user, next_url)
    session.clear()
    session[PENDING_CODE] = {"user_id": user.id, "since": utcnow().timestamp()}
    session[PENDING_NEXT] = next_url if is_safe_redirect(next_url) else None
    return redirect(url_for("auth.second_factor"))


def _sign_in(user: User, next_url: str | None, second_factor: str = "none") -> Response:
    complete_sign_in(user, second_factor=second_factor)
    return redirect(next_url if is_safe_redirect(next_url) else home_url())


def _in_time(pending: object) -> TypeGuard[dict[str, Any]]:
    """Whether a pending step (a dict with its "since") began within PENDING_SECONDS."""
    since = pending.get("since") if isinstance(pending, dict) else None
    return isinstance(since, int | float) and 0 <= utcnow().timestamp() - since <= PENDING_SECONDS


def _pending_code_user() -> User | None:
    """The account waiting for its second factor, if it is still in time and still usable."""
    pending = session.get(PENDING_CODE)
    if not _in_time(pending):
        return None
    user_id = pending.get("user_id")
    if not isinstance(user_id, int):
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.active or not mfa.is_enabled(user):
        return None
    return user


@bp.route("/login/code", methods=["GET", "POST"])
@public
@sign_in_limit
def second_factor() -> Response | str:
    """The second sign-in step: the code from the authenticator app, or a recovery code."""
    if current_user.is_authenticated:
        return redirect(home_url())
    user = _pending_code_user()
    if user is None:
        had_pending = session.pop(PENDING_CODE, None) is not None
        if had_pending:
            flash(_(CODE_EXPIRED), "info")
        return redirect(url_for("auth.login"))
    form = SecondFactorForm()
    if form.validate_on_submit():
        method = check_second_step(user, form.code.data)
        if method is not None:
            signed_in = _sign_in(user, session.get(PENDING_NEXT), second_factor=method)
            if method == "recovery":  # after _sign_in, which starts a fresh session
                flash(
                    ngettext(
                        "You signed in with a recovery code (%(num)d left; each works once). "
                        "If your phone is lost, choose “Move to a new phone” on Your account.",
                        "You signed in with a recovery code (%(num)d left; each works once). "
                        "If your phone is lost, choose “Move to a new phone” on Your account.",
                        mfa.recovery_codes_left(user),
                    ),
                    "info",
                )
            return signed_in
        # The failure was kept (it counts towards the back-off, and is audited).
        paused = backoff.is_paused(user.sign_in_blocked_until, utcnow())
        show_refusal(form, Refusal(_(CODE_PAUSED if paused else mfa.CODE_REFUSED), field="code"))
    return render_template("auth/second_factor.html", form=form)


def _pending_account_ids() -> list[int] | None:
    """The accounts the sign-in just before matched, to choose from (none without one);
    None when that sign-in is more than five minutes old."""
    pending = session.get(PENDING_ACCOUNTS)
    if pending is None:
        return []
    if not _in_time(pending):
        return None
    ids = pending.get("user_ids")
    return [i for i in ids if isinstance(i, int)] if isinstance(ids, list) else []


@bp.route("/login/clinic", methods=["GET", "POST"])
@public
def choose_account() -> Response | str:
    """After a sign-in that matched accounts at several clinics: which one to use now."""
    pending = _pending_account_ids()
    if pending is None:
        session.pop(PENDING_ACCOUNTS, None)
        flash(_(CODE_EXPIRED), "info")
        return redirect(url_for("auth.login"))
    accounts = [
        user
        for user in db.session.scalars(
            select(User)
            .where(User.id.in_(pending), User.active)
            .options(joinedload(User.clinic))  # each named with its clinic
            .order_by(User.id)
        )
    ]
    if len(accounts) < 2 or current_user.is_authenticated:
        session.pop(PENDING_ACCOUNTS, None)
        return redirect(url_for("auth.index"))
    form = ChooseAccountForm()
    form.account.choices = [
        SelectChoice(
            str(user.id),
            _("%(clinic)s (%(role)s)", clinic=user.clinic.name, role=_(ROLE_WORDS[user.role])),
        )
        for user in accounts
    ]
    if form.validate_on_submit():
        chosen = next(user for user in accounts if str(user.id) == form.account.data)
        return _password_accepted(chosen, session.get(PENDING_NEXT))
    return render_template("auth/choose_account.html", form=form)


@bp.post("/logout")
@any_signed_in
def logout() -> Response:
    """Sign out: this browser's session ends on the server, so a copied cookie is useless
    afterwards. (Other devices stay signed in; changing the password ends those.)"""
    sessions.end_current()
    logout_user()
    session.clear()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/invitation/<token>", methods=["GET", "POST"])
@public
@link_limit
def accept(token: str) -> Response | tuple[str, int] | str:
    """Choose a password through a single-use invitation link."""
    invitation = find_usable_invitation(token)
    if invitation is None:
        return render_template("auth/invitation_unusable.html"), 410
    # The link is the patient's: it opens in their language, whatever the browser asks.
    if (code := link_language(invitation.user)) is not None:
        serve_in(code)
    form = ChoosePasswordForm(email=invitation.user.email)
    if form.validate_on_submit():
        try:
            user = accept_invitation(invitation, form.password.data)
        except InvitationAlreadyUsed:
            return render_template("auth/invitation_unusable.html"), 410  # saves nothing
        complete_sign_in(user, after="invitation")
        flash(_("Your password is set and you are signed in."), "success")
        return redirect(home_url())
    return render_template("auth/accept_invitation.html", form=form, user=invitation.user)

"""Sign-in, sign-out, the role-based home redirect and invitation acceptance."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from clinic.access import HOME_ENDPOINTS, any_signed_in, is_safe_redirect, public
from clinic.auth.forms import ChooseAccountForm, ChoosePasswordForm, LoginForm
from clinic.auth.services import (
    InvitationAlreadyUsed,
    accept_invitation,
    authenticate,
    find_usable_invitation,
    record_sign_in,
)
from clinic.extensions import db
from clinic.models import User

bp = Blueprint("auth", __name__)

SIGN_IN_FAILED = "Those details did not match an active account. Check them and try again."
# Session keys between a sign-in matching several accounts and the choice of one.
PENDING_ACCOUNTS = "pending_account_ids"
PENDING_NEXT = "pending_next"


def home_url() -> str:
    """Where the signed-in user's work starts."""
    return url_for(HOME_ENDPOINTS[current_user.role])


def _start_session(user: User) -> None:
    # A fresh session at sign-in: nothing from before it (e.g. a fixated cookie) carries over.
    session.clear()
    login_user(user)


@bp.get("/")
@public
def index() -> Response:
    """Send visitors to sign in and signed-in users to their home page."""
    if current_user.is_authenticated:
        return redirect(home_url())
    return redirect(url_for("auth.login"))


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> Response | str:
    """The one sign-in page for admins, clinicians and patients."""
    if current_user.is_authenticated:
        return redirect(home_url())
    form = LoginForm()
    if form.validate_on_submit():
        matched = authenticate(form.email.data, form.password.data)
        next_url = request.args.get("next")
        if len(matched) == 1:
            return _sign_in(matched[0], next_url)
        if matched:
            # One person, accounts at several clinics with the same password: they proved
            # who they are, so they may see those clinics' names and pick one.
            db.session.commit()  # keep any re-hashed passwords
            session.clear()
            session[PENDING_ACCOUNTS] = [user.id for user in matched]
            session[PENDING_NEXT] = next_url if is_safe_redirect(next_url) else None
            return redirect(url_for("auth.choose_account"))
        form.form_errors.append(SIGN_IN_FAILED)
    return render_template("auth/login.html", form=form)


def _sign_in(user: User, next_url: str | None) -> Response:
    record_sign_in(user)
    db.session.commit()
    _start_session(user)
    return redirect(next_url if is_safe_redirect(next_url) else home_url())


@bp.route("/login/clinic", methods=["GET", "POST"])
@public
def choose_account() -> Response | str:
    """After a sign-in that matched accounts at several clinics: which one to use now."""
    pending = session.get(PENDING_ACCOUNTS) or []
    accounts = [
        user
        for user in db.session.scalars(
            select(User).where(User.id.in_(pending), User.active).order_by(User.id)
        )
    ]
    if len(accounts) < 2 or current_user.is_authenticated:
        session.pop(PENDING_ACCOUNTS, None)
        return redirect(url_for("auth.index"))
    form = ChooseAccountForm()
    form.account.choices = [
        SelectChoice(str(user.id), f"{user.clinic.name} ({user.role_label.lower()})")
        for user in accounts
    ]
    if form.validate_on_submit():
        chosen = next(user for user in accounts if str(user.id) == form.account.data)
        return _sign_in(chosen, session.get(PENDING_NEXT))
    return render_template("auth/choose_account.html", form=form)


@bp.post("/logout")
@any_signed_in
def logout() -> Response:
    """Sign out; the session ends everywhere, so a copied cookie is useless afterwards."""
    current_user.end_all_sessions()
    db.session.commit()
    logout_user()
    session.clear()
    flash("You have signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/invitation/<token>", methods=["GET", "POST"])
@public
def accept(token: str) -> Response | tuple[str, int] | str:
    """Choose a password through a single-use invitation link."""
    invitation = find_usable_invitation(token)
    if invitation is None:
        return render_template("auth/invitation_unusable.html"), 410
    form = ChoosePasswordForm(email=invitation.user.email)
    if form.validate_on_submit():
        try:
            user = accept_invitation(invitation, form.password.data)
        except InvitationAlreadyUsed:
            db.session.rollback()
            return render_template("auth/invitation_unusable.html"), 410
        db.session.commit()
        _start_session(user)
        flash("Your password is set and you are signed in.", "success")
        return redirect(home_url())
    return render_template("auth/accept_invitation.html", form=form, user=invitation.user)

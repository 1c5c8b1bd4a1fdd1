"""The account page every signed-in person has: change password and email, set up or turn
off two-factor sign-in, new recovery codes; and the "confirm it is you" page that every
one of those changes asks for first (see clinic.account.guards)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from clinic.access import any_signed_in, is_safe_redirect, public, roles
from clinic.account import services
from clinic.account.forms import (
    ChangeEmailForm,
    ChangeEmailWithCodeForm,
    ChangePasswordForm,
    ConfirmEmailForm,
    ConfirmEnrolmentForm,
    LanguageForm,
    ReauthenticateForm,
    ReauthenticateWithCodeForm,
)
from clinic.account.guards import (
    confirmation_page,
    kept_fields,
    mark_recent_auth,
    require_recent_auth,
)
from clinic.account.language import language_form, set_language
from clinic.auth import mfa
from clinic.auth.limits import link_limit, sign_in_limit
from clinic.auth.services import InvitationAlreadyUsed
from clinic.core.forms import flash_refusal, show_refusal
from clinic.core.refusals import Refusal
from clinic.i18n import choosable_languages
from clinic.models import Role, User
from clinic.patients.queries import get_own_patient_record

bp = Blueprint("account", __name__, url_prefix="/account")

# The key being set up, until a code from the app confirms it (then it moves to the account).
PENDING_ENROLMENT = "two_factor_new_key"


def _me() -> User:
    return current_user._get_current_object()


def index_context(user: User) -> dict[str, Any]:
    """What the account page shows: the person's sign-in details, two-factor sign-in and,
    for a patient whose clinic offers more than English, their language."""
    patient = get_own_patient_record(user) if user.role.is_patient else None
    return {
        "user": user,
        "name": (patient.greeting_name if patient is not None else "")
        if user.role.is_patient
        else user.full_name,
        "two_factor": mfa.is_enabled(user),
        "mandatory": mfa.is_mandatory(user),
        "codes_left": mfa.recovery_codes_left(user) if mfa.is_enabled(user) else 0,
        "language_form": language_form(user, patient) if patient is not None else None,
    }


@bp.get("")
@any_signed_in
def index() -> str:
    """The signed-in person's email, password and two-factor sign-in, with what they can
    change (a patient: their language too)."""
    return render_template("account/index.html", **index_context(_me()))


@bp.post("/language")
@roles(Role.PATIENT)
def choose_language() -> Response | tuple[str, int]:
    """Save the signed-in patient's choice of language (clinic.account.language): the
    record is the session's patient's, never one named by the form. The next page speaks
    the language chosen; a language not offered is refused, with nothing saved."""
    user = _me()
    patient = get_own_patient_record(user)
    form = LanguageForm(languages=choosable_languages(user.clinic_id))
    if patient is not None and form.validate_on_submit():
        try:
            chosen = set_language(user, patient, form.language.data)
        except Refusal as refusal:
            show_refusal(form, refusal)
        else:
            # Said in the language just chosen: the page it leads to speaks it.
            with force_locale(chosen.code):
                flash(
                    _("Language saved: %(language)s.", language=chosen.native),
                    "success",
                )
            return redirect(url_for("account.index"))
    page = render_template("account/index.html", **{**index_context(user), "language_form": form})
    return page, 400


@bp.route("/confirm", methods=["GET", "POST"])
@any_signed_in
@sign_in_limit
def reauthenticate() -> Response | str:
    """Confirm it is you (password, and the code when two-factor is on) before a change to
    the account's security or a grave administrative change; then back to where the change
    was asked for, offering to send on a form that was kept meanwhile."""
    user = _me()
    next_url = request.args.get("next")
    back = next_url if is_safe_redirect(next_url) else url_for("account.index")
    with_code = mfa.is_enabled(user)
    form = ReauthenticateWithCodeForm() if with_code else ReauthenticateForm()
    kept = kept_fields() if request.method == "POST" else []
    if form.validate_on_submit():
        code = form.code.data if with_code else ""
        # A failed attempt is kept (back-off, audit trail) although the request fails.
        if services.confirm_identity(user, form.password.data, code):
            mark_recent_auth()
            if kept:
                return render_template("account/send_kept.html", kept=kept, target=back)
            return redirect(back)
        show_refusal(form, Refusal(_(services.CONFIRM_REFUSED)))
    if kept:
        return confirmation_page(kept, back, form)
    return render_template("account/reauthenticate.html", form=form, with_code=with_code)


@bp.route("/password", methods=["GET", "POST"])
@any_signed_in
@require_recent_auth
@sign_in_limit
def change_password() -> Response | str:
    """Choose a new password (the current one first, checked like a sign-in); other
    sessions end, this one stays, and the account's address is told."""
    user = _me()
    form = ChangePasswordForm(email=user.email)
    if form.validate_on_submit():
        try:
            services.change_password(user, form.current_password.data, form.password.data)
        except Refusal as refusal:
            show_refusal(form, refusal)
        else:
            # The account's other sessions ended (a stolen cookie stops working); this one,
            # the owner's, stays signed in (see clinic.auth.services.set_password).
            flash(
                _(
                    "Your password was changed. Anywhere else you were signed in has been "
                    "signed out."
                ),
                "success",
            )
            return redirect(url_for("account.index"))
    return render_template("account/change_password.html", form=form)


@bp.route("/email", methods=["GET", "POST"])
@any_signed_in
@sign_in_limit
def change_email() -> Response | str:
    """Ask to sign in with a different address: the password (and code) now, then a link
    sent to the new address makes the change."""
    user = _me()
    with_code = mfa.is_enabled(user)
    form = ChangeEmailWithCodeForm() if with_code else ChangeEmailForm()
    if form.validate_on_submit():
        code = form.code.data if with_code else ""
        try:
            new_email = services.request_email_change(
                user, form.email.data, form.password.data, code
            )
        except Refusal as refusal:
            show_refusal(form, refusal)
        else:
            flash(
                _(
                    "We sent a link to %(address)s. Open it to finish the change; until then, "
                    "sign in with your current address.",
                    address=new_email,
                ),
                "success",
            )
            return redirect(url_for("account.index"))
    return render_template("account/change_email.html", form=form, user=user, with_code=with_code)


@bp.route("/email/confirm/<email_token>", methods=["GET", "POST"])
@public
@link_limit
def confirm_email(email_token: str) -> Response | tuple[str, int] | str:
    """Finish an email change through the link sent to the new address (a button, so
    that a mail program previewing the link changes nothing)."""
    invitation = services.email_change_link(email_token)
    if invitation is None:
        return render_template("account/email_link_unusable.html"), 410
    form = ConfirmEmailForm()
    if form.validate_on_submit():
        try:
            user = services.confirm_email_change(invitation)
        except InvitationAlreadyUsed:
            return render_template("account/email_link_unusable.html"), 410
        except Refusal as refusal:
            show_refusal(form, refusal)
        else:
            flash(
                _("Your email address is now %(address)s. Use it to sign in.", address=user.email),
                "success",
            )
            signed_in = current_user.is_authenticated and current_user.id == user.id
            return redirect(url_for("account.index" if signed_in else "auth.login"))
    return render_template("account/confirm_email.html", form=form, new_email=invitation.new_email)


@bp.route("/two-factor", methods=["GET", "POST"])
@any_signed_in
@require_recent_auth
def two_factor() -> Response | str:
    """Set up two-factor sign-in (or move it to a new phone): add the key to an
    authenticator app (QR code or typed), then confirm with the code it shows; the
    recovery codes are shown once."""
    user = _me()
    secret = session.get(PENDING_ENROLMENT)
    form = ConfirmEnrolmentForm()
    if secret and form.validate_on_submit():
        try:
            codes = mfa.confirm_enrolment(user, secret, form.code.data)
        except Refusal as refusal:
            show_refusal(form, refusal)
        else:
            session.pop(PENDING_ENROLMENT, None)
            return _recovery_codes_page(codes, first_time=True)
    enrolment = {}
    if secret:
        uri = mfa.provisioning_uri(secret, user.email)
        enrolment = {"uri": uri, "qr": mfa.qr_svg(uri), "key": mfa.secret_for_display(secret)}
    return render_template(
        "account/two_factor.html",
        form=form,
        user=user,
        started=bool(secret),
        enabled=mfa.is_enabled(user),
        mandatory=mfa.is_mandatory(user),
        issuer=mfa.ISSUER,
        **enrolment,
    )


@bp.post("/two-factor/start")
@any_signed_in
@require_recent_auth
def start_two_factor() -> Response:
    """Make a new key for the authenticator app. It is kept in this session only until a
    code confirms it: an earlier key (an old phone) works until then."""
    session[PENDING_ENROLMENT] = mfa.new_secret()
    return redirect(url_for("account.two_factor"))


@bp.post("/two-factor/recovery-codes")
@any_signed_in
@require_recent_auth
def new_recovery_codes() -> Response | str:
    """Replace the recovery codes with ten new ones, shown once."""
    try:
        codes = mfa.replace_recovery_codes(_me())
    except Refusal as refusal:
        flash_refusal(refusal)
        return redirect(url_for("account.index"))
    return _recovery_codes_page(codes, first_time=False)


@bp.post("/two-factor/turn-off")
@any_signed_in
@require_recent_auth
def disable_two_factor() -> Response:
    """Turn two-factor sign-in off (not when the clinic requires it for the account)."""
    try:
        services.turn_off_two_factor(_me())
    except Refusal as refusal:
        flash_refusal(refusal)
    else:
        flash(_("Two-factor sign-in is off. Signing in needs only your password."), "success")
    return redirect(url_for("account.index"))


def _recovery_codes_page(codes: list[str], first_time: bool) -> str:
    # Shown once: only the codes' hashes are stored, so this page cannot be made again.
    return render_template("account/recovery_codes.html", codes=codes, first_time=first_time)

"""Administrator pages: the clinic's staff, its settings and its outbox."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from clinic.access import roles
from clinic.account.guards import reauthentication_needed
from clinic.admin.forms import ClinicSettingsForm, StaffInvitationForm, alert_settings_data
from clinic.admin.outbox import (
    SHOWN,
    OutboxChangeError,
    failed_count,
    get_message_or_404,
    outbox_query,
    send_again,
)
from clinic.admin.queries import clinic_staff, get_staff_or_404
from clinic.admin.services import (
    StaffChangeError,
    invite_staff,
    reissue_staff_invitation,
    set_staff_active,
    update_clinic_settings,
)
from clinic.audit.log import audited
from clinic.auth import mfa
from clinic.auth.invitations import invitation_email_status, invitation_page, keep_to_show
from clinic.core.forms import flash_refusal
from clinic.core.refusals import Refusal
from clinic.core.requests import page_number
from clinic.extensions import db
from clinic.models import Role, User
from clinic.outbox.kinds import kind_label

bp = Blueprint("admin", __name__, url_prefix="/admin")

admins_only = roles(Role.ADMIN)


def _show_link(token: str, user: User) -> Response:
    # Shown by the page this redirects to, once: only the token's hash is stored, and
    # reloading that page never re-sends this request (which would replace the link).
    keep_to_show(user, token)
    return redirect(url_for("admin.invitation", user_id=user.id))


@bp.get("/staff")
@admins_only
def staff() -> str:
    """The clinic's clinicians and administrators, with whether each uses two-factor and,
    for those invited, whether the invitation email went out."""
    staff = clinic_staff(current_user.clinic_id)
    return render_template(
        "admin/staff.html",
        staff=staff,
        two_factor_on={user.id for user in staff if mfa.is_enabled(user)},
        invitation_email=invitation_email_status(u.id for u in staff if not u.has_password),
        failed_messages=failed_count(current_user.clinic_id),
    )


@bp.route("/staff/new", methods=["GET", "POST"])
@admins_only
@audited(change="staff.invite")
def invite() -> Response | str:
    """Invite a clinician or administrator: the link is emailed, and shown once on the
    invitation page this leads to."""
    form = StaffInvitationForm(clinic_id=current_user.clinic_id)
    if form.validate_on_submit():
        user, token = invite_staff(
            current_user.clinic,
            form.full_name.data,
            form.email.data,
            Role(form.role.data),
            by=current_user,
        )
        return _show_link(token, user)
    return render_template("admin/invite.html", form=form)


@bp.post("/staff/<int:user_id>/invitation")
@admins_only
@audited(change="staff.reinvite", object_type="user", object_id="user_id")
def reinvite(user_id: int) -> Response:
    """Resend an invitation: a new link, emailed (the earlier one stops working)."""
    user = get_staff_or_404(user_id, current_user.clinic_id)
    try:
        token = reissue_staff_invitation(user, by=current_user)
    except StaffChangeError as exc:
        flash_refusal(exc)
        return redirect(url_for("admin.staff"))
    return _show_link(token, user)


@bp.get("/staff/<int:user_id>/invitation")
@admins_only
@audited("staff.invitation", object_type="user", object_id="user_id")
def invitation(user_id: int) -> str:
    """A colleague's invitation: the new link once, then what became of it."""
    user = get_staff_or_404(user_id, current_user.clinic_id)
    return invitation_page(
        user,
        person=user.full_name,
        back_url=url_for("admin.staff"),
        resend_url=url_for("admin.reinvite", user_id=user.id),
    )


@bp.post("/staff/<int:user_id>/deactivate")
@admins_only
@audited(change="staff.deactivate", object_type="user", object_id="user_id")
def deactivate(user_id: int) -> Response:
    """Stop a colleague's access; their sessions end at once."""
    return _set_active(user_id, active=False)


@bp.post("/staff/<int:user_id>/reactivate")
@admins_only
@audited(change="staff.reactivate", object_type="user", object_id="user_id")
def reactivate(user_id: int) -> Response:
    """Restore a colleague's access."""
    return _set_active(user_id, active=True)


@bp.route("/staff/<int:user_id>/two-factor-reset", methods=["GET", "POST"])
@admins_only
@audited(change="auth.mfa_reset", object_type="user", object_id="user_id")
def reset_two_factor(user_id: int) -> Response | str:
    """Reset a colleague's two-factor sign-in when they lost their phone and recovery
    codes: a page says what happens, and the button does it (with the administrator's
    password entered within the last five minutes)."""
    user = get_staff_or_404(user_id, current_user.clinic_id)
    me = current_user._get_current_object()
    # The impossible is refused before the password is asked for.
    if (reason := mfa.why_not_reset(user, by=me)) is not None:
        flash(reason, "error")
        return redirect(url_for("admin.staff"))
    if (confirm_first := reauthentication_needed()) is not None:
        return confirm_first
    if request.method == "GET":
        return render_template(
            "admin/reset_two_factor.html", user=user, mandatory=mfa.is_mandatory(user)
        )
    try:
        mfa.reset_for_colleague(user, by=me)
    except Refusal as refusal:
        flash_refusal(refusal)
        return redirect(url_for("admin.staff"))
    if mfa.is_mandatory(user):
        done = _(
            "Two-factor sign-in was reset for %(name)s, who has been signed out everywhere. "
            "They will be asked to set it up again, with their new phone, when they sign in.",
            name=user.full_name,
        )
    else:
        done = _(
            "Two-factor sign-in was reset for %(name)s, who has been signed out everywhere. "
            "They can sign in with their password alone, and turn it on again from their "
            "account page.",
            name=user.full_name,
        )
    flash(done, "success")
    return redirect(url_for("admin.staff"))


def _set_active(user_id: int, active: bool) -> Response:
    user = get_staff_or_404(user_id, current_user.clinic_id)
    try:
        set_staff_active(user, active, by=current_user)
    except StaffChangeError as exc:
        flash_refusal(exc)
    else:
        flash(
            _("%(name)s was reactivated.", name=user.full_name)
            if active
            else _("%(name)s was deactivated.", name=user.full_name),
            "success",
        )
    return redirect(url_for("admin.staff"))


@bp.route("/clinic", methods=["GET", "POST"])
@admins_only
@audited(change="clinic.settings", object_type="clinic")
def settings() -> Response | str:
    """The clinic's name, contact details (shown to patients) and settings; saving
    recomputes every patient's summary under the new settings."""
    clinic = current_user.clinic
    form = ClinicSettingsForm(obj=clinic, clinic_id=clinic.id, **alert_settings_data(clinic))
    if form.validate_on_submit():
        update_clinic_settings(clinic, form.settings())
        flash(_("Clinic details saved."), "success")
        return redirect(url_for("admin.settings"))
    return render_template("admin/settings.html", form=form)


@bp.get("/outbox")
@admins_only
@audited("outbox.view")
def outbox() -> str:
    """The clinic's messages (kind, recipient, status, attempts; never what they say),
    failed ones first, filterable by status."""
    shown = request.args.get("status", "all")
    if shown not in SHOWN:
        shown = "all"
    page = db.paginate(
        outbox_query(current_user.clinic_id, shown),
        page=page_number(),
        per_page=current_app.config["PATIENTS_PER_PAGE"],
        max_per_page=100,
        error_out=False,
    )
    return render_template(
        "admin/outbox.html",
        page=page,
        shown=shown,
        choices=SHOWN,
        kind_label=kind_label,
        failed_messages=failed_count(current_user.clinic_id),
    )


@bp.post("/outbox/<int:message_id>/retry")
@admins_only
@audited(change="outbox.retry", object_type="outbox_message", object_id="message_id")
def retry_message(message_id: int) -> Response:
    """Send a failed message again, with a fresh set of attempts."""
    message = get_message_or_404(message_id, current_user.clinic_id)
    try:
        send_again(message, by=current_user)
    except OutboxChangeError as refusal:
        flash_refusal(refusal)
    else:
        flash(_("The message will be sent again in a moment."), "success")
    shown = request.form.get("status")
    return redirect(url_for("admin.outbox", status=shown if shown in SHOWN else None))

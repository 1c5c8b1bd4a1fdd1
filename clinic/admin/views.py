"""Administrator pages: the clinic's staff and its settings."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from clinic.access import roles
from clinic.admin.forms import ClinicSettingsForm, StaffInvitationForm
from clinic.admin.queries import clinic_staff, get_staff_or_404
from clinic.admin.services import (
    StaffChangeError,
    invite_staff,
    reissue_staff_invitation,
    set_staff_active,
    update_clinic_settings,
)
from clinic.core.links import external_url
from clinic.extensions import db
from clinic.models import Role, User

bp = Blueprint("admin", __name__, url_prefix="/admin")

admins_only = roles(Role.ADMIN)


def _invitation_page(token: str, user: User) -> str:
    # Shown once: only the token's hash is stored, so this page cannot be recreated.
    return render_template(
        "shared/invitation_link.html",
        link=external_url("auth.accept", token=token),
        person=user.full_name,
        user=user,
        back_url=url_for("admin.staff"),
    )


@bp.get("/staff")
@admins_only
def staff() -> str:
    """The clinic's clinicians and administrators."""
    return render_template("admin/staff.html", staff=clinic_staff(current_user.clinic_id))


@bp.route("/staff/new", methods=["GET", "POST"])
@admins_only
def invite() -> Response | str:
    """Invite a clinician or administrator; the link is shown to copy and send."""
    form = StaffInvitationForm(clinic_id=current_user.clinic_id)
    if form.validate_on_submit():
        user, token = invite_staff(
            current_user.clinic,
            form.full_name.data,
            form.email.data,
            Role(form.role.data),
            by=current_user,
        )
        db.session.commit()
        return _invitation_page(token, user)
    return render_template("admin/invite.html", form=form)


@bp.post("/staff/<int:user_id>/invitation")
@admins_only
def reinvite(user_id: int) -> Response | str:
    """A new invitation link for a colleague who has not yet signed in."""
    user = get_staff_or_404(user_id, current_user.clinic_id)
    try:
        token = reissue_staff_invitation(user, by=current_user)
    except StaffChangeError as exc:
        flash(str(exc), "error")
        return redirect(url_for("admin.staff"))
    db.session.commit()
    return _invitation_page(token, user)


@bp.post("/staff/<int:user_id>/deactivate")
@admins_only
def deactivate(user_id: int) -> Response:
    """Stop a colleague's access; their sessions end at once."""
    return _set_active(user_id, active=False)


@bp.post("/staff/<int:user_id>/reactivate")
@admins_only
def reactivate(user_id: int) -> Response:
    """Restore a colleague's access."""
    return _set_active(user_id, active=True)


def _set_active(user_id: int, active: bool) -> Response:
    user = get_staff_or_404(user_id, current_user.clinic_id)
    try:
        set_staff_active(user, active, by=current_user)
    except StaffChangeError as exc:
        flash(str(exc), "error")
    else:
        db.session.commit()
        verb = "reactivated" if active else "deactivated"
        flash(f"{user.full_name} was {verb}.", "success")
    return redirect(url_for("admin.staff"))


@bp.route("/clinic", methods=["GET", "POST"])
@admins_only
def settings() -> Response | str:
    """The clinic's name, contact details (shown to patients) and settings; saving
    recomputes every patient's summary under the new settings."""
    clinic = current_user.clinic
    form = ClinicSettingsForm(obj=clinic, clinic_id=clinic.id)
    if form.validate_on_submit():
        update_clinic_settings(clinic, form.settings())
        db.session.commit()
        flash("Clinic details saved.", "success")
        return redirect(url_for("admin.settings"))
    return render_template("admin/settings.html", form=form)

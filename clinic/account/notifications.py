"""Email notifications each person chooses, on their account (`/account/notifications`).

- A clinician: the daily summary (counts only, clinic.schedule.digest), on or off, and
  the clinic-local time it goes out. Alerts about patients who need review are not a
  choice: they always go out, and the page says so.
- A patient: the email saying a questionnaire is ready (clinic.schedule.questionnaires),
  on or off.

Administrators have nothing to choose here yet (the digest is about a caseload).
"""

from __future__ import annotations

from datetime import time

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from clinic.access import roles
from clinic.account.forms import ON, DigestPreferencesForm, QuestionnaireEmailsForm
from clinic.account.views import bp
from clinic.extensions import db
from clinic.models import Role, User


def set_digest(user: User, *, enabled: bool, at: time) -> None:
    """Keep the clinician's daily summary choice (the time is kept even when it is off,
    so turning it back on restores it)."""
    user.digest_enabled = enabled
    user.digest_at = at
    db.session.flush()


def set_questionnaire_emails(user: User, *, enabled: bool) -> None:
    """Keep the patient's choice about "something to fill in" emails."""
    user.questionnaire_emails = enabled
    db.session.flush()


@bp.route("/notifications", methods=["GET", "POST"])
@roles(Role.CLINICIAN, Role.PATIENT)
def notifications() -> Response | str:
    """Choose which emails to receive (and, for the daily summary, when)."""
    user: User = current_user._get_current_object()
    if user.role.is_patient:
        patient_form = QuestionnaireEmailsForm.for_user(user)
        if patient_form.validate_on_submit():
            set_questionnaire_emails(user, enabled=patient_form.questionnaire_emails.data == ON)
            flash(_("Your choice is saved."), "success")
            return redirect(url_for("account.notifications"))
        return render_template("account/notifications.html", form=patient_form, user=user)
    form = DigestPreferencesForm.for_user(user)
    if form.validate_on_submit():
        enabled = form.digest.data == ON
        set_digest(user, enabled=enabled, at=form.chosen_time)
        flash(
            _(
                "Saved: your daily summary will be sent at %(time)s, clinic time.",
                time=form.digest_at.data,
            )
            if enabled
            else _("Saved: you will not receive the daily summary."),
            "success",
        )
        return redirect(url_for("account.notifications"))
    return render_template("account/notifications.html", form=form, user=user)

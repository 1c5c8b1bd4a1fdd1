"""The patient's Reminders page (`/diary/reminders`, on the portal's blueprint): turn
reminders on or off, choose days, times, quiet hours, time zone, and how the email
looks, with a preview of exactly what arrives."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import current_user
from werkzeug.wrappers import Response

from clinic import push
from clinic.audit.log import audited, own_patient
from clinic.core import clock
from clinic.core.words import how_often
from clinic.domain.protocols import Period
from clinic.domain.reminders import Kind, Slot, proposed_slots
from clinic.models import Patient, ReminderPlan
from clinic.models.reminders import SUBJECTS
from clinic.portal.views import bp, current_prescription, own_record_or_404, patients_only
from clinic.reminders.forms import CLINIC, RemindersForm
from clinic.reminders.sending import reminder_content
from clinic.reminders.services import plan_of, reminder_status, save_reminders, zone_for


def _proposal(patient: Patient) -> tuple[tuple[Slot, ...], str]:
    """Slots proposed from the current prescription, and the prescription in words."""
    prescription = current_prescription(patient)
    if prescription is None:
        return proposed_slots(1, per_week=False), ""
    stage = prescription.stage
    return proposed_slots(stage.sessions, per_week=stage.period is Period.WEEK), how_often(
        stage.sessions, stage.period
    )


@bp.route("/reminders", methods=["GET", "POST"])
@patients_only
@audited("portal.reminders", change="reminders.change", patient=own_patient)
def reminders() -> Response | str:
    """Reminders: on or off, when, and how they look."""
    patient = own_record_or_404()
    clinic = patient.clinic
    plan = plan_of(patient)
    devices_on = len(push.devices_of(current_user))
    form = RemindersForm(clinic_sender=clinic.sender_name, devices_on=devices_on)
    proposed, frequency = _proposal(patient)
    if form.validate_on_submit():
        choice = form.choice(clinic.timezone)
        changed = save_reminders(patient, choice, current_user, clock.now())
        if not changed:
            flash(gettext("Nothing was changed."), "info")
        elif choice.enabled:
            flash(gettext("Saved: your reminders are on."), "success")
        else:
            flash(gettext("Saved: you will not receive reminders."), "success")
        return redirect(url_for("portal.reminders"))
    if not form.is_submitted():
        form.fill(plan, proposed, zone_for(plan, clinic))
    return render_template(
        "portal/reminders.html",
        form=form,
        patient=patient,
        clinic=clinic,
        status=reminder_status(patient),
        devices_on=devices_on,
        # On, by notification only, and no device has them on any more (turned off, or
        # gone): nothing arrives, and the page says so rather than "on" alone.
        nothing_arrives=(
            plan is not None
            and plan.enabled
            and plan.by_push
            and not plan.by_email
            and not devices_on
        ),
        frequency=frequency,
        proposed=proposed,
        # A third time a day only where the plan asks for three (or one was given).
        shown_times=max(2, *(sum(1 for s in proposed if s.weekday == d) for d in range(7))),
        preview=_preview(form, clinic.sender_name),
        mail_from=current_app.config["MAIL_FROM"],
    )


def _preview(form: RemindersForm, clinic_sender: str) -> dict[str, str]:
    """Exactly what arrives, as the form stands (saved choices, or what was just typed)."""
    draft = ReminderPlan(subject=form.subject.data if form.subject.data in SUBJECTS else "")
    slots = form.slots()
    at = f"{slots[0].at:%H:%M}" if slots else "19:00"
    reminder = reminder_content(draft, Kind.REMINDER, at)
    nudge = reminder_content(draft, Kind.NUDGE, at)
    return {
        "sender": clinic_sender if form.sender.data == CLINIC else "",
        "subject": reminder.subject,
        "body": reminder.body,
        "nudge": nudge.body,
    }

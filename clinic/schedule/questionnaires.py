"""Telling patients that a questionnaire is ready to fill in.

Run by each clinic's daily work: every occasion due today (or since, still within its
grace period, for days the scheduler missed) and not yet started gets one message to its
patient, keyed by the assignment and the occasion, so a job run twice sends one. Only
patients who use the portal (an active account with a password) and have not turned
these emails off. An occasion already overdue is not announced: by then the clinic has
been told, and a "ready" email a week late reads oddly.
"""

from __future__ import annotations

from datetime import date

from flask_babel import gettext
from sqlalchemy import select

from clinic.core.links import external_url
from clinic.domain.text import N_
from clinic.extensions import db
from clinic.i18n import language, speaking
from clinic.measures.schedule import occasion_statuses
from clinic.models import Clinic, Patient, ReminderPlan, User
from clinic.outbox import Content, patient_sender_name, post
from clinic.outbox.kinds import MessageKind
from clinic.outbox.text import render_text

# Neutral on purpose: it shows on lock screens and in notification previews.
SUBJECT = N_("You have something to fill in")


def ready_message(code: str = "en") -> Content:
    """The message to a patient: something to fill in, and a link to sign in, in the
    language `code` (the patient's)."""
    # The sign-in page, not the questionnaires' own address: the portal's addresses
    # say what the care is about, and a link shows in previews. After signing in, the
    # patient's first page lists what is waiting.
    with speaking(code):
        body = render_text("questionnaire_ready.txt", link=external_url("auth.login"))
        return Content(subject=gettext(SUBJECT), body=body)


def tell_questionnaires_ready(clinic: Clinic, today: date) -> int:
    """Post a message for each occasion of the clinic's portal patients that is ready
    today and was not announced yet; returns how many were posted (four queries, then
    one per message)."""
    accounts = {
        patient_id: (user, bool(shows_clinic_name))
        for patient_id, user, shows_clinic_name in db.session.execute(
            select(Patient.id, User, ReminderPlan.show_clinic_name)
            .join(User, User.id == Patient.user_id)
            # Whether the patient chose to see the clinic's name on emails.
            .outerjoin(ReminderPlan, ReminderPlan.patient_id == Patient.id)
            .where(
                Patient.clinic_id == clinic.id,
                User.clinic_id == clinic.id,
                User.active.is_(True),
                User.password_hash.is_not(None),
                User.questionnaire_emails.is_(True),
            )
        )
    }
    if not accounts:
        return 0
    # One message per language (the accounts' languages were loaded with them).
    contents: dict[str, Content] = {}
    posted = 0
    statuses = occasion_statuses(clinic.id, accounts.keys(), today)
    for patient_id, found in statuses.items():
        for status in found:
            state = status.state
            if not state.due or state.overdue or status.response is not None:
                continue
            account, shows_clinic_name = accounts[patient_id]
            code = language(account.language).code
            content = contents.get(code) or contents.setdefault(code, ready_message(code))
            posted += post(
                MessageKind.QUESTIONNAIRE_READY,
                f"{status.assignment.id}:{state.occasion.key}",
                to=account,
                clinic_id=clinic.id,
                content=content,
                sender_name=patient_sender_name(clinic, shows_clinic_name=shows_clinic_name),
            )
    return posted

"""Every kind of message the system sends, caused the way it is in use, for a patient whose
name, identifier and notes are full of diagnostic words: no subject or body carries any of
them, nor any word of the deny-list (tests/support/privacy.py), and every kind in
`MessageKind` is covered (a new kind without a cause here fails the suite). The same for a
patient who reads Spanish or French (issue 20): their messages are in their language, and
as discreet; the clinic's staff are still written to in English."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from clinic.account.services import (
    change_password,
    confirm_email_change,
    email_change_link,
    request_email_change,
    turn_off_two_factor,
)
from clinic.alerts.services import escalate_due
from clinic.auth.invitations import remind
from clinic.core.mail import Message
from clinic.core.uow import unit_of_work
from clinic.domain.reminders import Slot
from clinic.extensions import db
from clinic.letters.compose import LetterText
from clinic.letters.services import LetterRequest, create_letter
from clinic.models import Clinic, Invitation, LetterKind, Patient, Recipient, RecipientRole, User
from clinic.models.outbox import OutboxMessage
from clinic.outbox.kinds import MessageKind
from clinic.patients.services import invite_to_portal
from clinic.reminders.jobs import send_reminders_now
from clinic.reminders.services import ReminderChoice, save_reminders
from clinic.schedule.digest import post_digests
from clinic.schedule.questionnaires import tell_questionnaires_ready
from tests.support.alerts import log_session
from tests.support.clock import Clock, frozen_at
from tests.support.factories import PASSWORD, make_patient
from tests.support.languages import speaks
from tests.support.mail import sent_messages
from tests.support.measures import assign
from tests.support.privacy import assert_discreet
from tests.support.world import World

# A Tuesday morning in London, inside the default opening hours.
MORNING = datetime(2027, 1, 12, 9, 5, tzinfo=UTC)
# What the record holds that no message may repeat.
NAME = "Vaginismus Bleeding Quinnell"
IDENTIFIER = "STENOSIS-4471"
NEW_PASSWORD = "a calm river at dawn 42"


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return frozen_at(monkeypatch, MORNING)


@pytest.fixture
def sent(app: Flask) -> Iterator[list[Message]]:
    messages = sent_messages(app)
    messages.clear()
    yield messages
    messages.clear()


def _in_unit(app: Flask, work: Callable[[], object]) -> None:
    with app.app_context(), unit_of_work():
        work()


def cause_everything(
    app: Flask, client: FlaskClient, world: World, clock: Clock, plan: int
) -> None:
    """One of each kind, through the services a request or a job calls."""
    pid, clinician = world.patient.patient_id, world.clinician.id
    # A new patient invited to the portal, then reminded.
    with app.app_context(), unit_of_work():
        clinic = db.session.get_one(Clinic, world.clinic_a)
        language = db.session.get_one(Patient, world.patient.patient_id).language
        newcomer = make_patient(
            clinic, full_name=NAME + " Junior", clinic_identifier="PELVIC-9", language=language
        )
        db.session.flush()
        invite_to_portal(newcomer, "newcomer@example.org", db.session.get_one(User, clinician))
        newcomer_user = newcomer.user_id
    with app.app_context(), unit_of_work():
        invitation = db.session.scalars(
            select(Invitation).where(Invitation.user_id == newcomer_user)
        ).one()
        remind(invitation)
    # A reset link asked for.
    client.post("/password/forgot", data={"email": world.patient.email})
    # The patient's own account: password, email, two-factor.
    with app.app_context(), unit_of_work():
        # Two-factor on (as enrolment leaves it), so that turning it off is told.
        account = db.session.get_one(User, world.patient.id)
        account.totp_secret, account.totp_enabled_at = "JBSWY3DPEHPK3PXP", clock()
    _in_unit(
        app,
        lambda: change_password(db.session.get_one(User, world.patient.id), PASSWORD, NEW_PASSWORD),
    )
    _in_unit(app, lambda: turn_off_two_factor(db.session.get_one(User, world.patient.id)))
    # An address another account of the clinic has: its owner is told, nothing changes.
    _in_unit(
        app,
        lambda: request_email_change(
            db.session.get_one(User, world.patient.id), world.clinician.email, NEW_PASSWORD
        ),
    )
    # A free address: a link to it, and the account's own address told of the request.
    clock.advance(timedelta(minutes=1))
    _in_unit(
        app,
        lambda: request_email_change(
            db.session.get_one(User, world.patient.id), "new-address@example.org", NEW_PASSWORD
        ),
    )
    (link,) = [m.body for m in sent_messages(app) if m.to == "new-address@example.org"]
    token = re.search(r"/account/email/confirm/(\S+)", link).group(1)
    _in_unit(app, lambda: confirm_email_change(email_change_link(token)))
    # A report that needs review, then its escalation, the digest and a questionnaire.
    log_session(app, world.patient, plan, pain=9)
    clock.advance(timedelta(days=2))
    _in_unit(app, lambda: escalate_due(clock()))
    with app.app_context(), unit_of_work():
        db.session.get_one(User, clinician).digest_at = clock().time()
    _in_unit(app, lambda: post_digests(db.session.get_one(Clinic, world.clinic_a), clock()))
    assign(app, pid, days_from_today=0)
    _in_unit(
        app,
        lambda: tell_questionnaires_ready(
            db.session.get_one(Clinic, world.clinic_a), clock().date()
        ),
    )
    # A letter about the patient to a recipient of the address book, the PDF attached.
    with app.test_request_context(), unit_of_work():
        recipient = Recipient(
            clinic_id=world.clinic_a,
            name="Dr Pelvic Vaginismus",
            role=RecipientRole.GYNAECOLOGIST,
            service="Vulvodynia clinic",
            organisation="Pelvic Pain Hospital",
            postal_address="1 Road",
            email="letters@hospital.example",
        )
        db.session.add(recipient)
        db.session.flush()
        patient = db.session.get_one(Patient, pid)
        create_letter(
            patient,
            LetterRequest(
                kind=LetterKind.REFERRAL,
                recipient_ids=(recipient.id,),
                text=LetterText(*(f"{NAME} {IDENTIFIER}",) * 6),
                with_report=False,
            ),
            db.session.get_one(User, clinician),
            clock().date(),
        )
    # Reminders every day at the next hour, nudge after 2 days: reminders, then the nudge.
    at = (clock() + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    every_day = tuple(Slot(day, at.time()) for day in range(7))

    def turn_on() -> None:
        patient = db.session.get_one(Patient, pid)
        patient.clinic.reminder_nudge_days = 2
        choice = ReminderChoice(True, every_day, None, "UTC", "reminder", True)
        save_reminders(patient, choice, db.session.get_one(User, world.patient.id), clock())

    _in_unit(app, turn_on)
    for day in range(4):
        clock.set(at + timedelta(days=day))
        with app.app_context():
            send_reminders_now()


# The kinds written to the patient (in their language); the others go to staff (English).
TO_THE_PATIENT = {
    MessageKind.PASSWORD_RESET,
    MessageKind.INVITATION,
    MessageKind.INVITATION_REMINDER,
    MessageKind.EMAIL_CHANGE_LINK,
    MessageKind.EMAIL_CHANGE_REQUESTED,
    MessageKind.EMAIL_ADDRESS_IN_USE,
    MessageKind.EMAIL_CHANGED,
    MessageKind.PASSWORD_CHANGED,
    MessageKind.TWO_FACTOR_OFF,
    MessageKind.QUESTIONNAIRE_READY,
    MessageKind.REMINDER,
    MessageKind.REMINDER_NUDGE,
}
GREETING = {"en": "Hello,", "es": "Hola:", "fr": "Bonjour,"}


@pytest.mark.parametrize("language", ["en", "es", "fr"])
def test_no_message_of_any_kind_carries_health_information_or_the_patient(
    app: Flask,
    client: FlaskClient,
    world: World,
    clock: Clock,
    on_protocol: int,
    sent: list[Message],
    language: str,
) -> None:
    """With the record full of diagnostic words (the name, the identifier), every kind of
    message is written and sent, and none names any of them or a deny-listed word (in
    English, Spanish or French); the patient's messages are in the patient's language,
    the staff's in English."""
    speaks(app, world.patient.patient_id, language)
    with app.app_context(), unit_of_work():
        patient = db.session.get_one(Patient, world.patient.patient_id)
        patient.full_name, patient.clinic_identifier = NAME, IDENTIFIER
    cause_everything(app, client, world, clock, on_protocol)
    with app.app_context():
        kinds = {
            f"<outbox-{row.id}@": row.kind
            for row in db.session.execute(select(OutboxMessage.id, OutboxMessage.kind))
        }
    seen: set[str] = set()
    for message in sent:
        kind = next(k for prefix, k in kinds.items() if message.message_id.startswith(prefix))
        seen.add(kind)
        expected = language if MessageKind(kind) in TO_THE_PATIENT else "en"
        if MessageKind(kind) is not MessageKind.LETTER:
            assert message.body.startswith(GREETING[expected]), (kind, message.body[:40])
        assert_discreet(
            message, also=[NAME, IDENTIFIER, "PELVIC-9", "Vulvodynia", "Pelvic Pain Hospital"]
        )
    assert seen == {kind.value for kind in MessageKind}, "a kind of message was not caused"

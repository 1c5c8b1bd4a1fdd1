"""Telling patients a questionnaire is ready: one neutral message per occasion, from the
clinic's daily work, only to patients who use the portal and did not turn these emails
off, never to anyone of another clinic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask

from clinic.core.mail import Message
from clinic.core.uow import unit_of_work
from clinic.extensions import db
from clinic.measures.answers import save_draft, start_or_resume
from clinic.models import Clinic, MeasureAssignment, Patient, ReminderPlan, User
from clinic.outbox.kinds import MessageKind
from clinic.schedule.daily import run_daily_work
from tests.support.clock import Clock, frozen_at
from tests.support.measures import assign
from tests.support.privacy import assert_discreet
from tests.support.scheduled import outbox_keys, run_at
from tests.support.world import World

EARLY = datetime(2027, 1, 12, 3, 5, tzinfo=UTC)  # 03:05 in London (both clinics' zone)
DAY = timedelta(days=1)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The app's clock, on 11 January 2027 in the afternoon (before the assignments)."""
    return frozen_at(monkeypatch, datetime(2027, 1, 11, 15, tzinfo=UTC))


def names_in(app: Flask, world: World) -> list[str]:
    """What no message may carry: every patient's name and clinic identifier."""
    with app.app_context():
        return [
            part
            for patient in db.session.query(Patient).all()
            for part in (patient.full_name, patient.clinic_identifier)
        ]


def test_a_ready_questionnaire_is_announced_once_per_occasion(
    app: Flask, world: World, clock: Clock, mail: list[Message]
) -> None:
    """A one-off measure due tomorrow: nothing today; tomorrow's daily work sends one
    message to the patient, neutral, with a link to sign in; the day after (still open)
    nothing more."""
    assignment = assign(app, world.patient.patient_id, days_from_today=1)
    run_at(app, clock, EARLY - DAY, "start_daily_work")
    assert mail == []

    run_at(app, clock, EARLY, "start_daily_work")
    (message,) = mail
    assert message.to == world.patient.email
    assert message.subject == "You have something to fill in"
    assert "http://clinic.test/login" in message.body
    assert_discreet(message, also=names_in(app, world))
    assert message.sender_name == ""  # no clinic name unless the patient chose to see it
    assert outbox_keys(app, MessageKind.QUESTIONNAIRE_READY.value) == [
        f"questionnaire_ready:{assignment}:once:user:{world.patient.id}:email"
    ]

    run_at(app, clock, EARLY + DAY, "start_daily_work")
    assert len(mail) == 1


def test_the_clinic_is_named_in_from_only_for_a_patient_who_chose_it(
    app: Flask, world: World, clock: Clock, mail: list[Message]
) -> None:
    """A patient whose reminder settings show the clinic's name gets the questionnaire
    email from it, as their reminders; one without settings gets it from no name."""
    with app.app_context():
        db.session.add(
            ReminderPlan(
                clinic_id=world.clinic_a, patient_id=world.patient.patient_id, show_clinic_name=True
            )
        )
        db.session.commit()
        clinic_name = db.session.get_one(Clinic, world.clinic_a).sender_name
    assign(app, world.patient.patient_id, days_from_today=1)
    assign(app, world.other_patient.patient_id, days_from_today=1)
    run_at(app, clock, EARLY, "start_daily_work")
    senders = {message.to: message.sender_name for message in mail}
    assert senders == {world.patient.email: clinic_name, world.other_patient.email: ""}


def test_only_portal_patients_who_want_them_and_only_of_the_clinic(
    app: Flask, world: World, clock: Clock, mail: list[Message]
) -> None:
    """Of clinic A's patients with a questionnaire due, the one without a portal account
    and the one who turned these emails off get nothing; clinic A's daily work never
    writes to clinic B's patient (whose own clinic's work does)."""
    for patient_id in (
        world.patient.patient_id,
        world.other_patient.patient_id,
        world.offline_patient_id,
        world.other_clinic_patient.patient_id,
    ):
        assign(app, patient_id)
    with app.app_context():
        db.session.get(User, world.other_patient.id).questionnaire_emails = False
        db.session.commit()
    clock.set(EARLY)
    with app.app_context(), unit_of_work():
        run_daily_work(db.session.get(Clinic, world.clinic_a))
    assert [m.to for m in mail] == [world.patient.email]

    with app.app_context(), unit_of_work():
        run_daily_work(db.session.get(Clinic, world.clinic_b))
    assert [m.to for m in mail] == [world.patient.email, world.other_clinic_patient.email]


def test_an_occasion_already_overdue_or_started_is_not_announced(
    app: Flask, world: World, clock: Clock, mail: list[Message]
) -> None:
    """An occasion past its grace period (the clinic has been told instead) and one the
    patient has already started are left alone; an ended assignment asks nothing."""
    assign(app, world.patient.patient_id, days_from_today=-10)
    assign(app, world.other_patient.patient_id, ended=True)
    started = assign(app, world.other_clinic_patient.patient_id)
    with app.app_context():
        patient = db.session.get(Patient, world.other_clinic_patient.patient_id)
        draft = start_or_resume(patient, db.session.get(MeasureAssignment, started), "once")
        save_draft(draft, {"insert": 2})
        db.session.commit()
    run_at(app, clock, EARLY, "start_daily_work")
    assert mail == []

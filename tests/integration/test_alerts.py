"""Red-flag alerts: a patient's report that needs review reaches the clinic at once (one
message per recipient, whatever the number of reasons), escalates on the clinic's clock
when nobody acknowledges it, stops when someone does, and never says anything about the
patient or their health. Clinic B's staff never hear of clinic A's patients."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import select, update

import clinic.alerts.services as services
from clinic.alerts.jobs import escalate_red_flags
from clinic.core.clock import clinic_today
from clinic.domain.diary import Bleeding
from clinic.extensions import db
from clinic.models import Clinic, Patient, RedFlag, User
from clinic.models.outbox import MessageStatus
from clinic.monitoring.services import acknowledge
from clinic.outbox.kinds import MessageKind
from clinic.rights.erasure import erase_patient
from tests.support.alerts import correct_session, flags_raised_at, hours, log_session, outbox
from tests.support.privacy import assert_discreet
from tests.support.protocols import start_plan
from tests.support.world import World

LONDON = ZoneInfo("Europe/London")
ALERT, ESCALATION = MessageKind.RED_FLAG_ALERT.value, MessageKind.RED_FLAG_ESCALATION.value
# Friday 5 June 2026, 16:00 in London (the clinic opens Monday to Friday, 08:00 to 18:00).
FRIDAY_4PM = datetime(2026, 6, 5, 16, tzinfo=LONDON)


@pytest.fixture
def plans(app: Flask, world: World) -> dict[str, int]:
    """Protocols for the patient with a responsible clinician, the one without, and the
    clinic B patient; each with a name of their own (the factories' "Patient 4" would
    match the word "patient" every message may use)."""
    with app.app_context():
        for person, name in (
            (world.patient, "Robin Ashdown"),
            (world.other_patient, "Sasha Okafor"),
            (world.other_clinic_patient, "Jules Marchetti"),
        ):
            db.session.get_one(Patient, person.patient_id).full_name = name
        db.session.commit()
    return {
        "patient": start_plan(app, world.patient.patient_id, world.clinician.id),
        "other": start_plan(app, world.other_patient.patient_id, world.clinician.id),
        "clinic_b": start_plan(
            app, world.other_clinic_patient.patient_id, world.other_clinician.id
        ),
    }


@pytest.fixture
def held_mail(monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker is not asked to deliver: messages stay "pending" in the outbox."""
    monkeypatch.setattr("clinic.outbox.enqueue", lambda *args: None)


def secrets_of(app: Flask, patient_id: int) -> list[str]:
    """What no message may name: the patient's name and clinic identifier."""
    with app.app_context():
        patient = db.session.get_one(Patient, patient_id)
        return [patient.full_name, patient.clinic_identifier]


def run_escalation_at(app: Flask, monkeypatch: pytest.MonkeyPatch, moment: datetime) -> int:
    """Run the periodic escalation job as if the clock showed `moment` (in this app: the
    queue's own app is the one created last, which in a long run is another test's)."""
    monkeypatch.setattr("clinic.alerts.jobs.utcnow", lambda: moment)
    with app.app_context():
        return escalate_red_flags.call_local()


def set_clinic(app: Flask, clinic_id: int, **values: object) -> None:
    with app.app_context():
        clinic = db.session.get_one(Clinic, clinic_id)
        for name, value in values.items():
            setattr(clinic, name, value)
        db.session.commit()


def test_a_report_alerts_the_responsible_clinician_once_and_discreetly(
    app: Flask, world: World, plans, mail
) -> None:
    """Sharp pain, bleeding and high pain in one entry: three flags, one message, to the
    patient's clinician only; neutral subject, a link to the dashboard narrowed to
    patients needing attention in words that say nothing about health, and no name,
    identifier or symptom anywhere."""
    log_session(app, world.patient, plans["patient"], pain=9, bleeding=Bleeding.MORE, sharp=True)
    with app.app_context():
        assert len(db.session.scalars(select(RedFlag)).all()) == 3
    (posted,) = outbox(app)
    assert (posted.kind, posted.recipient, posted.status) == (ALERT, world.clinician.email, "sent")
    assert posted.sender_name == "Clinic A"
    (message,) = mail
    assert message.to == world.clinician.email
    assert message.subject == "A patient needs review"
    assert "A patient in your caseload reported something that needs review" in message.body
    assert "/dashboard/?who=all&status=any&show=attention" in message.body
    assert_discreet(message, also=secrets_of(app, world.patient.patient_id))


def test_a_session_without_a_red_flag_sends_nothing(app: Flask, world: World, plans, mail) -> None:
    """An ordinary session tells nobody anything."""
    log_session(app, world.patient, plans["patient"], pain=2)
    assert outbox(app) == [] and mail == []


def test_the_duty_address_receives_every_alert_too(app: Flask, world: World, plans, mail) -> None:
    """With a duty address set, it gets its own copy (and a clinic's sender name left
    empty shows no name)."""
    set_clinic(app, world.clinic_a, duty_email="duty@a.example", mail_sender_name="")
    log_session(app, world.patient, plans["patient"], sharp=True)
    assert sorted(m.to for m in mail) == sorted(["duty@a.example", world.clinician.email])
    assert {p.sender_name for p in outbox(app)} == {""}
    for message in mail:
        assert_discreet(message, also=secrets_of(app, world.patient.patient_id))


def test_without_a_responsible_clinician_every_clinician_is_told(
    app: Flask, world: World, plans, mail
) -> None:
    """A patient with nobody responsible: every clinician of the clinic (not the
    administrator, not clinic B's clinician) receives the alert."""
    log_session(app, world.other_patient, plans["other"], sharp=True)
    assert sorted(m.to for m in mail) == sorted([world.clinician.email, world.colleague.email])


def test_a_deactivated_responsible_clinician_is_replaced_by_the_clinic(
    app: Flask, world: World, plans, mail
) -> None:
    """A responsible clinician who can no longer sign in is not the only one told."""
    with app.app_context():
        db.session.get_one(User, world.clinician.id).active = False
        db.session.commit()
    log_session(app, world.patient, plans["patient"], sharp=True)
    assert [m.to for m in mail] == [world.colleague.email]


def test_clinic_b_staff_hear_only_of_clinic_b(app: Flask, world: World, plans, mail) -> None:
    """Reports in both clinics: each clinic's clinicians receive their own patients'
    alerts only."""
    log_session(app, world.other_patient, plans["other"], sharp=True)
    log_session(app, world.other_clinic_patient, plans["clinic_b"], sharp=True)
    assert sorted(m.to for m in mail) == sorted(
        [world.clinician.email, world.colleague.email, world.other_clinician.email]
    )


def test_a_correction_does_not_alert_again_for_the_same_flags(
    app: Flask, world: World, plans, mail
) -> None:
    """Correcting an entry whose flags were announced sends nothing new; a correction
    that adds a new reason is a new report, announced once."""
    entry_id = log_session(app, world.patient, plans["patient"], sharp=True)
    correct_session(app, world.patient, plans["patient"], entry_id, pain=3, bleeding=Bleeding.NONE)
    assert len(mail) == 1
    correct_session(app, world.patient, plans["patient"], entry_id, pain=3, bleeding=Bleeding.MORE)
    assert len(mail) == 2
    assert len({p.key for p in outbox(app)}) == 2


def test_escalation_counts_working_hours_across_a_weekend(
    app: Flask, world: World, plans, mail, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A report on Friday at 16:00 (first level after 4 working hours, second after 72
    hours here): nothing that evening or over the weekend; the first level on Monday at 10:00
    to every clinician and administrator of clinic A (the administrator gets the sign-in
    page, not the dashboard); the second 72 calendar hours after the report (Monday
    16:00); each once, however often the job runs."""
    set_clinic(app, world.clinic_a, escalate_again_after_hours=72)
    log_session(app, world.patient, plans["patient"], sharp=True)
    flags_raised_at(app, FRIDAY_4PM)
    mail.clear()
    assert run_escalation_at(app, monkeypatch, FRIDAY_4PM + hours(3)) == 0
    assert run_escalation_at(app, monkeypatch, datetime(2026, 6, 8, 9, 59, tzinfo=LONDON)) == 0
    monday_ten = datetime(2026, 6, 8, 10, tzinfo=LONDON)
    assert run_escalation_at(app, monkeypatch, monday_ten) == 3
    assert run_escalation_at(app, monkeypatch, monday_ten + hours(1)) == 0
    staff = {world.clinician.email, world.colleague.email, world.admin.email}
    assert {m.to for m in mail} == staff
    for message in mail:
        assert message.subject == "A patient still needs review"
        assert "4 working hours" in message.body
        assert_discreet(message, also=secrets_of(app, world.patient.patient_id))
    (to_admin,) = [m for m in mail if m.to == world.admin.email]
    assert "/dashboard/" not in to_admin.body and "make sure a clinician" in to_admin.body
    mail.clear()
    # 72 calendar hours after Friday 16:00: Monday 16:00.
    assert run_escalation_at(app, monkeypatch, FRIDAY_4PM + hours(72)) == 3
    assert run_escalation_at(app, monkeypatch, FRIDAY_4PM + hours(100)) == 0
    assert {m.to for m in mail} == staff
    for message in mail:
        assert "more than 72 hours" in message.body
        assert_discreet(message, also=secrets_of(app, world.patient.patient_id))


def test_the_second_level_alone_when_it_falls_due_first(
    app: Flask, world: World, plans, mail, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the default second level (24 calendar hours), a Friday 16:00 report reaches
    it on Saturday 16:00, before the first level's Monday 10:00: only the second level is
    sent, and Monday sends nothing more."""
    log_session(app, world.patient, plans["patient"], sharp=True)
    flags_raised_at(app, FRIDAY_4PM)
    mail.clear()
    assert run_escalation_at(app, monkeypatch, FRIDAY_4PM + hours(24)) == 3
    assert run_escalation_at(app, monkeypatch, datetime(2026, 6, 8, 10, tzinfo=LONDON)) == 0
    assert {p.key.split(":")[2] for p in outbox(app, MessageKind.RED_FLAG_ESCALATION)} == {
        "level-2"
    }


def test_escalation_never_reaches_another_clinic(
    app: Flask, world: World, plans, mail, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Clinic B's report escalates to clinic B's clinician and administrator only."""
    log_session(app, world.other_clinic_patient, plans["clinic_b"], sharp=True)
    flags_raised_at(app, FRIDAY_4PM)
    mail.clear()
    run_escalation_at(app, monkeypatch, FRIDAY_4PM + hours(24))
    assert {m.to for m in mail} == {world.other_clinician.email, world.other_admin.email}


def acknowledge_all(app: Flask, world: World, *, first_only: bool = False) -> None:
    with app.app_context():
        flags = db.session.scalars(
            select(RedFlag).where(RedFlag.acknowledged_at.is_(None)).order_by(RedFlag.id)
        ).all()
        clinician = db.session.get_one(User, world.clinician.id)
        for flag in flags[:1] if first_only else flags:
            acknowledge(flag, clinician, "Phoned the patient.")
        db.session.commit()


def test_acknowledging_withdraws_what_has_not_gone_out_and_stops_escalation(
    app: Flask, world: World, plans, held_mail, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the mail server's messages still waiting, acknowledging every flag of the
    report marks its alert and escalation "not needed"; later runs post nothing new."""
    log_session(app, world.patient, plans["patient"], pain=9, sharp=True)
    flags_raised_at(app, FRIDAY_4PM)
    run_escalation_at(app, monkeypatch, FRIDAY_4PM + hours(24))
    assert {p.status for p in outbox(app)} == {MessageStatus.PENDING.value}
    acknowledge_all(app, world, first_only=True)
    # Part of the report still waits for someone: its messages stand.
    assert {p.status for p in outbox(app)} == {MessageStatus.PENDING.value}
    acknowledge_all(app, world)
    assert {p.status for p in outbox(app)} == {MessageStatus.CANCELLED.value}
    before = len(outbox(app))
    assert run_escalation_at(app, monkeypatch, FRIDAY_4PM + hours(200)) == 0
    assert len(outbox(app)) == before


def test_flags_acknowledged_in_time_never_escalate(
    app: Flask, world: World, plans, mail, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A report acknowledged before the first level is due sends no escalation."""
    log_session(app, world.patient, plans["patient"], sharp=True)
    flags_raised_at(app, FRIDAY_4PM)
    acknowledge_all(app, world)
    assert run_escalation_at(app, monkeypatch, FRIDAY_4PM + hours(100)) == 0
    assert outbox(app, MessageKind.RED_FLAG_ESCALATION) == []


def test_a_report_after_an_erasure_still_alerts_the_clinician(
    app: Flask, world: World, plans, mail
) -> None:
    """One patient reports (the alert is keyed by the report's first flag id) and is then
    erased, flags and all. The next report, by another patient of the same clinician, is
    announced: flag ids never come back (AUTOINCREMENT on SQLite), so its alert is not
    taken for the erased one's."""
    with app.app_context():
        db.session.get_one(
            Patient, world.other_patient.patient_id
        ).responsible_clinician_id = world.clinician.id
        db.session.commit()
    log_session(app, world.patient, plans["patient"], bleeding=Bleeding.MORE)
    with app.app_context():
        erase_patient(
            db.session.get_one(Patient, world.patient.patient_id),
            by=db.session.get_one(User, world.admin.id),
            request_reference="DP request 1",
            today=clinic_today("Europe/London"),
        )
        db.session.commit()
    mail.clear()
    log_session(app, world.other_patient, plans["other"], bleeding=Bleeding.MORE)
    assert [m.to for m in mail] == [world.clinician.email]


def test_with_no_clinician_to_tell_the_administrators_are_told(
    app: Flask, world: World, plans, mail
) -> None:
    """No clinician of the clinic can sign in and no duty address is set: the alert goes
    to the clinic's administrators (the patient is told the clinic was sent a message),
    with the sign-in page (they cannot open the dashboard) and nothing about the patient."""
    with app.app_context():
        for person in (world.clinician, world.colleague):
            db.session.get_one(User, person.id).active = False
        db.session.commit()
    log_session(app, world.patient, plans["patient"], sharp=True)
    (message,) = mail
    assert message.to == world.admin.email
    assert "make sure a clinician looks at it" in message.body
    assert "/dashboard/" not in message.body
    assert_discreet(message, also=secrets_of(app, world.patient.patient_id))


def test_with_a_duty_address_the_administrators_are_not_told(
    app: Flask, world: World, plans, mail
) -> None:
    """No clinician can sign in, but the duty address is set: it alone is told."""
    set_clinic(app, world.clinic_a, duty_email="duty@a.example")
    with app.app_context():
        for person in (world.clinician, world.colleague):
            db.session.get_one(User, person.id).active = False
        db.session.commit()
    log_session(app, world.patient, plans["patient"], sharp=True)
    assert [m.to for m in mail] == ["duty@a.example"]


def test_an_acknowledgement_while_the_escalation_runs_stops_it(
    app: Flask, world: World, plans, mail, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The escalation job has read the open flags when a clinician's acknowledgement is
    committed by another connection: the job records and posts nothing for that report
    (the level is written only on flags still open, in the same statement that reads
    them)."""
    log_session(app, world.patient, plans["patient"], bleeding=Bleeding.MORE)
    flags_raised_at(app, FRIDAY_4PM)
    mail.clear()
    real = services.escalation_level_due

    def acknowledged_meanwhile(flag: RedFlag, clinic: Clinic, now: datetime) -> int:
        with db.engine.connect() as other:  # the clinician's request, committed
            other.execute(update(RedFlag.__table__).values(acknowledged_at=now))
            other.commit()
        return real(flag, clinic, now)

    monkeypatch.setattr(services, "escalation_level_due", acknowledged_meanwhile)
    assert run_escalation_at(app, monkeypatch, FRIDAY_4PM + hours(25)) == 0
    assert mail == []
    with app.app_context():
        assert set(db.session.scalars(select(RedFlag.escalated_level))) == {0}

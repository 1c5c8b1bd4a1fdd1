"""The clinicians' daily digest: the right counts, at the clinic-local time each chose,
once a day, never to someone who turned it off or has nothing to hear about, never a
name or a health word; computed in a constant number of queries."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from flask import Flask

from clinic.core.mail import Message
from clinic.extensions import db
from clinic.models import Clinic, Patient, Role, User
from clinic.schedule.digest import digests_due
from tests.support.clock import Clock, frozen_at
from tests.support.factories import make_patient, make_user
from tests.support.measure_scores import answer_measure
from tests.support.measures import assign
from tests.support.privacy import assert_discreet
from tests.support.queries import count_queries
from tests.support.scheduled import run_at
from tests.support.world import World

# 12 January 2027: London is on UTC.
MORNING = datetime(2027, 1, 12, 8, 5, tzinfo=UTC)
DAY = timedelta(days=1)
CONFIDENCE = {"insert": 1, "on_own": 1, "discomfort": 2, "keep_going": 2, "next_size": 1}


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The app's clock, on 12 January 2027 at 08:05 UTC (08:05 in London)."""
    return frozen_at(monkeypatch, MORNING)


def needs_review(app: Flask, *patient_ids: int) -> None:
    """A planned review that came yesterday: each patient needs attention (a flag)."""
    with app.app_context():
        for pid in patient_ids:
            db.session.get(Patient, pid).review_on = MORNING.date() - DAY
        db.session.commit()


@pytest.fixture
def caseload(app: Flask, world: World, clock: Clock) -> World:
    """Clinic A: the clinician's two patients need attention (one answered a
    questionnaire yesterday), the colleague's one does, and one patient with nobody
    responsible does; so four in the clinic."""
    with app.app_context():
        clinic = db.session.get(Clinic, world.clinic_a)
        colleague = db.session.get(User, world.colleague.id)
        theirs = make_patient(clinic, full_name="Rowan Ashdown", responsible_clinician=colleague)
        mine = make_patient(
            clinic,
            full_name="Morgan Feltham",
            responsible_clinician=db.session.get(User, world.clinician.id),
        )
        # Real-looking names, for the privacy check to look for.
        db.session.get(Patient, world.patient.patient_id).full_name = "Avery Quinnell"
        db.session.get(Patient, world.other_patient.patient_id).full_name = "Jordan Blakemore"
        db.session.commit()
        extra = (theirs.id, mine.id)
    needs_review(app, world.patient.patient_id, world.other_patient.patient_id, *extra)
    assignment = assign(app, world.patient.patient_id, days_from_today=-1)
    answer_measure(app, assignment, "once", CONFIDENCE, occasion_days_ago=1)
    return world


def names(app: Flask) -> list[str]:
    """The names and identifiers of the patients who need attention (what the digest is
    about, and must never name)."""
    with app.app_context():
        return [
            part
            for patient in db.session.query(Patient).filter(Patient.review_on.is_not(None))
            for part in (patient.full_name, patient.clinic_identifier)
        ]


def by_recipient(mail: list[Message]) -> dict[str, Message]:
    return {m.to: m for m in mail}


def test_the_digest_counts_a_clinicians_own_caseload_and_the_clinic(
    app: Flask, caseload: World, clock: Clock, mail: list[Message]
) -> None:
    """At 08:05 (their default 08:00) the clinician hears of their two patients needing
    attention and the questionnaire answered; the colleague of their one; both of the four
    in the clinic. Clinic B's clinician has nothing and hears nothing. Nothing names a
    patient or says anything about their care."""
    assert run_at(app, clock, MORNING, "send_digests") == 2
    sent = by_recipient(mail)
    assert set(sent) == {caseload.clinician.email, caseload.colleague.email}
    mine = sent[caseload.clinician.email]
    assert mine.subject == "Your daily summary"
    assert "2 patients in your caseload need attention." in mine.body
    assert "1 questionnaire was answered by your patients in the last 24 hours." in mine.body
    assert "Across the clinic, 4 patients need attention." in mine.body
    assert "http://clinic.test/dashboard/" in mine.body
    theirs = sent[caseload.colleague.email]
    assert "1 patient in your caseload needs attention." in theirs.body
    assert "questionnaire" not in theirs.body.split("To see who")[0]
    for message in mail:
        assert_discreet(message, also=names(app))


def test_one_digest_a_day_at_the_chosen_local_time(
    app: Flask, caseload: World, clock: Clock, mail: list[Message]
) -> None:
    """The clinician chose 10:00, in a clinic in New York: nothing at 08:05 London time
    nor at 09:55 New York time; one at 10:05; none more that day however often the
    scheduler looks; the next day, another."""
    with app.app_context():
        db.session.get(Clinic, caseload.clinic_a).timezone = "America/New_York"
        db.session.get(User, caseload.clinician.id).digest_at = time(10, 0)
        db.session.get(User, caseload.colleague.id).digest_enabled = False
        db.session.commit()
    new_york_10 = datetime(2027, 1, 12, 15, 0, tzinfo=UTC)
    assert run_at(app, clock, MORNING, "send_digests") == 0
    assert run_at(app, clock, new_york_10 - timedelta(minutes=5), "send_digests") == 0
    assert run_at(app, clock, new_york_10 + timedelta(minutes=5), "send_digests") == 1
    for minutes in (20, 35, 50, 65, 80, 95):
        assert run_at(app, clock, new_york_10 + timedelta(minutes=minutes), "send_digests") == 0
    assert [m.to for m in mail] == [caseload.clinician.email]
    assert run_at(app, clock, new_york_10 + DAY + timedelta(minutes=5), "send_digests") == 1
    assert [m.to for m in mail] == [caseload.clinician.email] * 2


def test_opted_out_inactive_and_late_digests_are_not_sent(
    app: Flask, caseload: World, clock: Clock, mail: list[Message]
) -> None:
    """The colleague turned it off; the clinician's account was deactivated: nobody hears
    anything. A digest the scheduler missed by more than two hours is skipped for the
    day rather than sent in the afternoon."""
    with app.app_context():
        db.session.get(User, caseload.colleague.id).digest_enabled = False
        db.session.get(User, caseload.clinician.id).active = False
        db.session.commit()
    assert run_at(app, clock, MORNING, "send_digests") == 0
    with app.app_context():
        db.session.get(User, caseload.clinician.id).active = True
        db.session.commit()
    assert run_at(app, clock, MORNING + timedelta(hours=2), "send_digests") == 0
    assert mail == []


@pytest.mark.parametrize("extra", [0, 6])
def test_the_digests_of_a_clinic_take_a_fixed_number_of_queries(
    app: Flask, caseload: World, extra: int
) -> None:
    """Reading everything a clinic's digests need takes four queries, with three
    clinicians or nine, four patients needing attention or sixteen."""
    with app.app_context():
        clinic = db.session.get(Clinic, caseload.clinic_a)
        for _ in range(extra):
            clinician = make_user(clinic, Role.CLINICIAN)
            for _ in range(2):
                make_patient(
                    clinic, responsible_clinician=clinician, review_on=MORNING.date() - DAY
                )
        db.session.commit()
        clinic = db.session.get(Clinic, caseload.clinic_a)
        with count_queries(db.engine) as statements:
            found = digests_due(clinic, MORNING)
        assert len(found) == 2 + extra
        assert len(statements) == 4

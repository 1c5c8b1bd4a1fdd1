"""The `create-admin` and `seed-demo` commands."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import func, select

from clinic.auth.services import authenticate
from clinic.core.clock import clinic_today
from clinic.demo import DEMO_PASSWORD
from clinic.domain.progression import Suggestion
from clinic.domain.protocols import ProtocolStatus, in_force_on
from clinic.extensions import db
from clinic.models import (
    Clinic,
    DiaryEntry,
    Patient,
    PatientSummary,
    Protocol,
    RedFlag,
    Role,
    User,
)
from clinic.protocols import integrity
from clinic.protocols.queries import timeline, version
from tests.conftest import World


def run(app: Flask, *args: str):
    return app.test_cli_runner().invoke(args=list(args))


def test_create_admin_starts_a_clinic(app: Flask) -> None:
    """The command creates the clinic and an admin who can sign in."""
    result = run(
        app,
        "create-admin",
        "--clinic",
        "Harbour Physio",
        "--email",
        "Boss@Harbour.example",
        "--password",
        "a long enough passphrase",
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        admin = db.session.scalar(select(User).where(User.email == "boss@harbour.example"))
        assert admin.role is Role.ADMIN and admin.clinic.name == "Harbour Physio"
        assert authenticate("boss@harbour.example", "a long enough passphrase") == [admin]


def test_create_admin_prompts_for_the_password(app: Flask) -> None:
    """Without --password the command asks for it twice, hidden."""
    result = app.test_cli_runner().invoke(
        args=["create-admin", "--clinic", "Prompted", "--email", "p@prompted.example"],
        input="a long enough passphrase\na long enough passphrase\n",
    )
    assert result.exit_code == 0, result.output
    assert "a long enough passphrase" not in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--password", "short"], "Use at least 12 characters"),
        (["--password", "password1234"], "too common"),
        (["--email", "not-an-email"], "Give an email address"),
        (["--clinic", "Clinic A"], "already exists"),
    ],
)
def test_create_admin_refuses_bad_input(app: Flask, world: World, args: list, message: str) -> None:
    """Weak passwords, bad emails and existing clinics are refused with a reason."""
    base = {
        "--clinic": "New Clinic",
        "--email": "new@clinic.example",
        "--password": "a long enough passphrase",
    }
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    result = run(app, "create-admin", *[x for pair in base.items() for x in pair])
    assert result.exit_code != 0
    assert message in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Clinic)) == 2


def test_seed_demo_fills_an_empty_database(app: Flask) -> None:
    """Demo data has both clinics and every documented login working."""
    result = run(app, "seed-demo")
    assert result.exit_code == 0, result.output
    expected = {
        "admin@northside.example": Role.ADMIN,
        "physio@northside.example": Role.CLINICIAN,
        "physio2@northside.example": Role.CLINICIAN,
        "avery.quinn@example.org": Role.PATIENT,
        "sam.rivera@example.org": Role.PATIENT,
        "admin@riverside.example": Role.ADMIN,
        "physio@riverside.example": Role.CLINICIAN,
        "jordan.blake@example.org": Role.PATIENT,
    }
    with app.app_context():
        for email, role in expected.items():
            [user] = authenticate(email, DEMO_PASSWORD)
            assert user.role is role, email
        northside = db.session.scalar(
            select(Clinic).where(Clinic.name == "Northside Pelvic Health")
        )
        patients = db.session.scalars(
            select(Patient).where(Patient.clinic_id == northside.id)
        ).all()
        assert len(patients) >= 6
        assert len({p.indication for p in patients}) >= 6
        assert len({p.pronouns for p in patients}) >= 3  # not everyone is a woman
        avery = next(p for p in patients if p.full_name == "Avery Quinn")
        assert avery.indication.value == "vaginoplasty" and avery.user is not None


def test_seed_demo_refuses_a_non_empty_database(app: Flask, world: World) -> None:
    """Demo data never mixes with real data; --if-empty makes that a quiet no-op."""
    refused = run(app, "seed-demo")
    assert refused.exit_code != 0 and "not empty" in refused.output
    quiet = run(app, "seed-demo", "--if-empty")
    assert quiet.exit_code == 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Clinic)) == 2


def test_demo_protocols_are_realistic_and_intact(app: Flask) -> None:
    """Every demo patient has a protocol with a genuine history: Avery Quinn is in the
    maintenance phase after vaginoplasty with a revised plan, Sam Rivera is midway through
    graded exposure, Priya Natarajan is paused; every record's fingerprints verify (on
    this database engine, whatever it returns for stored numbers)."""
    assert run(app, "seed-demo").exit_code == 0
    with app.app_context():
        protocols = {p.patient.full_name: p for p in db.session.scalars(select(Protocol))}
        assert len(protocols) == 9
        assert all(integrity.verify(p) for p in protocols.values())
        today = clinic_today("Europe/London")
        avery = in_force_on(timeline(protocols["Avery Quinn"]), today)
        avery_stages = version(protocols["Avery Quinn"], avery.version).stages
        assert avery_stages[avery.stage - 1].is_maintenance and avery.version == 2
        sam = in_force_on(timeline(protocols["Sam Rivera"]), today)
        assert 1 < sam.stage < len(protocols["Sam Rivera"].versions[-1].stages)
        assert protocols["Priya Natarajan"].status is ProtocolStatus.PAUSED
        assert protocols["Alex Moreau"].status is ProtocolStatus.COMPLETED


def test_demo_diaries_have_history_and_a_red_flag_in_each_clinic(app: Flask) -> None:
    """The portal patients have weeks of entries (sessions and skips with reasons), each
    clinic has at least one red flag to show, and one patient is ready to move up."""
    assert run(app, "seed-demo").exit_code == 0
    with app.app_context():
        entries = db.session.scalars(select(DiaryEntry)).all()
        by_patient = {e.patient_id for e in entries}
        assert len(by_patient) == 4 and len(entries) > 100
        assert any(e.skipped and e.skip_reason for e in entries)
        flagged_clinics = {f.clinic_id for f in db.session.scalars(select(RedFlag))}
        assert flagged_clinics == {c.id for c in db.session.scalars(select(Clinic))}
        ready = db.session.scalars(
            select(Patient.full_name)
            .join(PatientSummary, PatientSummary.patient_id == Patient.id)
            .where(PatientSummary.suggestion == Suggestion.ADVANCE)
        ).all()
        assert ready == ["Morgan Ellis"]


def test_refresh_summaries_brings_every_clinic_up_to_today(app: Flask, world: World) -> None:
    """The scheduled command recomputes each clinic's summaries and marks the day."""
    with app.app_context():
        patient = db.session.get(Patient, world.patient.patient_id)
        patient.review_on = clinic_today(patient.clinic.timezone)
        db.session.commit()
    result = run(app, "refresh-summaries")
    assert result.exit_code == 0 and "2 clinic(s)" in result.output
    with app.app_context():
        for clinic in db.session.scalars(select(Clinic)):
            assert clinic.summaries_on == clinic_today(clinic.timezone)
        summary = db.session.get(PatientSummary, world.patient.patient_id)
        assert summary.open_flag_kinds == "review_due"

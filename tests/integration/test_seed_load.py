"""`flask seed-load`: synthetic clinics that the app reads as its own, refused where it
must not write, the same data again for the same seed."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select, text

from clinic.alerts.services import SECOND, escalate_due
from clinic.backup import migration_heads
from clinic.core.clock import clinic_today
from clinic.domain.protocols import EventKind, ProtocolStatus, in_force_on
from clinic.domain.starting import is_under_18_on
from clinic.extensions import db
from clinic.library.defaults import TEMPLATES
from clinic.loadgen.load import DOMAIN, SPECIALIST
from clinic.models import (
    Clinic,
    DiaryEntry,
    MeasureAssignment,
    MeasureResponse,
    Patient,
    PatientStatus,
    PatientSummary,
    Protocol,
    ProtocolTemplate,
    RedFlag,
    ReminderPlan,
    Role,
    User,
)
from clinic.models.types import utcnow
from clinic.protocols import integrity
from clinic.protocols.queries import timeline
from clinic.protocols.services import record_event, start_protocol
from tests.support.auth import sign_in
from tests.support.world import World

PASSWORD = "load-test-pass-2026"
LINE = re.compile(r"^clinic: (.+) \| clinician: (\S+) \| patient: (\S+)$", re.M)


def run(app: Flask, *args: str):
    return app.test_cli_runner().invoke(args=["seed-load", *args])


def small_load(app: Flask, seed: str = "s1", patients: int = 12):
    """Three clinics sharing `patients` patients, every account with PASSWORD."""
    return run(
        app, "--clinics", "3", "--patients", str(patients), "--password", PASSWORD, "--seed", seed
    )


def _stamp(heads: set[str]) -> None:
    # What `flask db upgrade` leaves behind; the suite builds its schema with create_all.
    db.session.execute(text("DROP TABLE IF EXISTS alembic_version"))
    db.session.execute(
        text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
    )
    for head in heads:
        db.session.execute(text("INSERT INTO alembic_version VALUES (:v)"), {"v": head})
    db.session.commit()


@pytest.fixture
def migrated(app: Flask) -> Iterator[Flask]:
    """The app, its database marked as at the latest migration (as `flask db upgrade`
    leaves it); unmarked afterwards."""
    with app.app_context():
        _stamp(migration_heads())
    yield app
    with app.app_context():
        db.session.rollback()
        db.session.execute(text("DROP TABLE IF EXISTS alembic_version"))
        db.session.commit()


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def test_small_load_fills_each_clinic_with_its_own_data(migrated: Flask) -> None:
    """Three clinics of four patients each, each with its admin, two clinicians and the
    library a new clinic gets; every patient has a portal account on the reserved domain,
    a protocol whose history verifies and reads back through the app's functions, a diary
    and red flags, questionnaires and reminders of their own clinic only (no row points
    across clinics), and a summary computed today."""
    started = utcnow()
    result = small_load(migrated)
    assert result.exit_code == 0, result.output
    assert len(LINE.findall(result.stdout)) == 3
    assert "12 patients" in result.stdout
    with migrated.app_context():
        clinics = db.session.scalars(select(Clinic).order_by(Clinic.id)).all()
        assert [c.name for c in clinics] == [f"Loadtest Clinic 0{k}" for k in (1, 2, 3)]
        for clinic in clinics:
            roles = Counter(
                db.session.scalars(select(User.role).where(User.clinic_id == clinic.id))
            )
            assert roles == {Role.ADMIN: 1, Role.CLINICIAN: 2, Role.PATIENT: 4}
            assert _count(ProtocolTemplate, ProtocolTemplate.clinic_id == clinic.id) == len(
                TEMPLATES
            )
            # The day the load ran in (it may have crossed midnight since).
            days = {clinic_today(clinic.timezone, started), clinic_today(clinic.timezone)}
            assert clinic.summaries_on in days
        assert not _count(User, ~User.email.endswith("@" + DOMAIN))

        patients = db.session.scalars(select(Patient)).all()
        assert len(patients) == 12
        assert all(p.full_name.startswith("Loadtest Patient ") for p in patients)
        assert _count(PatientSummary) == 12
        for patient in patients:
            assert patient.user is not None and patient.user.clinic_id == patient.clinic_id
            assert patient.responsible_clinician is not None
            assert patient.responsible_clinician.clinic_id == patient.clinic_id
            [protocol] = db.session.scalars(
                select(Protocol).where(Protocol.patient_id == patient.id)
            ).all()
            assert protocol.clinic_id == patient.clinic_id
            assert integrity.verify(protocol)
            events = timeline(protocol)
            state = in_force_on(events, clinic_today(patient.clinic.timezone))
            assert state is not None and state.status is protocol.status
            expected = {
                ProtocolStatus.ACTIVE: PatientStatus.ACTIVE,
                ProtocolStatus.PAUSED: PatientStatus.PAUSED,
                ProtocolStatus.COMPLETED: PatientStatus.DISCHARGED,
            }[protocol.status]
            assert patient.status is expected
            template = db.session.get(ProtocolTemplate, protocol.source_template_id)
            assert template is not None and template.clinic_id == patient.clinic_id
            assert template.indication is patient.indication

        # Nothing points across clinics: each row's clinic is its patient's.
        owner = {p.id: p.clinic_id for p in patients}
        protocol_of = {
            pid: patient
            for pid, patient in db.session.execute(select(Protocol.id, Protocol.patient_id))
        }
        entries = db.session.execute(
            select(DiaryEntry.clinic_id, DiaryEntry.patient_id, DiaryEntry.protocol_id)
        ).all()
        assert len(entries) > 12 * 10
        assert all(
            owner[patient] == clinic and protocol_of[protocol] == patient
            for clinic, patient, protocol in entries
        )
        for model in (RedFlag, MeasureAssignment, MeasureResponse, ReminderPlan):
            rows = db.session.execute(select(model.clinic_id, model.patient_id)).all()
            assert all(owner[patient] == clinic for clinic, patient in rows), model
        assert _count(MeasureResponse) and _count(ReminderPlan)
        still_open = _count(RedFlag, RedFlag.acknowledged_at.is_(None))
        assert 0 < still_open < _count(RedFlag, RedFlag.acknowledged_at.is_not(None))


def test_printed_accounts_sign_in_and_open_their_pages(migrated: Flask) -> None:
    """The clinician and the patient printed for each clinic sign in with --password; the
    clinician opens the dashboard, the caseload and the patient's timeline and protocol,
    the patient their Today and progress (the pages the benchmark measures)."""
    result = small_load(migrated)
    assert result.exit_code == 0, result.output
    assert "Password of every account" not in result.stdout  # it was given
    for _clinic, clinician, patient_email in LINE.findall(result.stdout):
        with migrated.app_context():
            patient_id = db.session.scalar(
                select(Patient.id)
                .join(User, Patient.user_id == User.id)
                .where(User.email == patient_email)
            )
            assert _count(DiaryEntry, DiaryEntry.patient_id == patient_id) > 10
        staff = migrated.test_client()
        assert sign_in(staff, clinician, PASSWORD).status_code == 302
        assert staff.get("/dashboard/").status_code == 200
        assert staff.get(f"/patients/{patient_id}/timeline").status_code == 200
        assert staff.get(f"/patients/{patient_id}/protocol/").status_code == 200
        assert staff.get("/patients/").status_code == 200
        portal = migrated.test_client()
        assert sign_in(portal, patient_email, PASSWORD).status_code == 302
        assert portal.get("/diary/").status_code == 200
        assert portal.get("/diary/progress").status_code == 200


def test_a_generated_password_is_printed_once_and_works(migrated: Flask) -> None:
    """Without --password, one random password is printed, and it signs in."""
    result = run(migrated, "--clinics", "1", "--patients", "2")
    assert result.exit_code == 0, result.output
    [password] = re.findall(r"Password of every account: (\S+)", result.stdout)
    [(_clinic, clinician, _patient)] = LINE.findall(result.stdout)
    client = migrated.test_client()
    assert sign_in(client, clinician, password).status_code == 302
    assert client.get("/dashboard/").status_code == 200


def test_refuses_a_database_with_real_data(migrated: Flask, world: World) -> None:
    """Accounts or clinics it did not make: refused, nothing written."""
    with migrated.app_context():
        before = _count(Clinic), _count(Patient)
    result = small_load(migrated)
    assert result.exit_code != 0
    assert "did not make" in result.output
    with migrated.app_context():
        assert (_count(Clinic), _count(Patient)) == before


def test_adds_to_its_own_data(migrated: Flask) -> None:
    """A second load adds clinics after the first load's (its own data is no refusal)."""
    assert small_load(migrated).exit_code == 0
    result = run(migrated, "--clinics", "1", "--patients", "2", "--password", PASSWORD)
    assert result.exit_code == 0, result.output
    assert "Loadtest Clinic 04" in result.stdout


def test_refuses_production_unless_allowed(migrated: Flask) -> None:
    """CLINIC_ENV=production: refused without --allow-production, done with it."""
    migrated.config["CLINIC_ENV"] = "production"
    try:
        refused = run(migrated, "--clinics", "1", "--patients", "2", "--password", PASSWORD)
        with migrated.app_context():
            assert _count(Clinic) == 0
        allowed = run(
            migrated,
            "--clinics",
            "1",
            "--patients",
            "2",
            "--password",
            PASSWORD,
            "--allow-production",
        )
    finally:
        migrated.config["CLINIC_ENV"] = "testing"
    assert refused.exit_code != 0
    assert "--allow-production" in refused.output
    assert allowed.exit_code == 0, allowed.output


@pytest.mark.parametrize("heads", [None, {"i14_fix"}])
def test_refuses_a_database_not_migrated(app: Flask, heads: set[str] | None) -> None:
    """No migration recorded, or an older one: "run flask db upgrade first", nothing
    written."""
    with app.app_context():
        if heads:
            _stamp(heads)
    try:
        result = small_load(app)
    finally:
        with app.app_context():
            db.session.execute(text("DROP TABLE IF EXISTS alembic_version"))
            db.session.commit()
    assert result.exit_code != 0
    assert "flask db upgrade" in result.output
    with app.app_context():
        assert _count(Clinic) == 0


def _fingerprint() -> list[tuple]:
    """The loaded data without ids and timestamps of the moment it was made."""
    patients = db.session.execute(
        select(
            Clinic.name,
            Patient.full_name,
            Patient.indication,
            Patient.pronouns,
            Patient.status,
            Patient.review_on,
            Patient.date_of_birth,
        ).join(Clinic, Clinic.id == Patient.clinic_id)
    ).all()
    entries = db.session.execute(
        select(
            Patient.full_name,
            DiaryEntry.occurred_on,
            DiaryEntry.skipped,
            DiaryEntry.pain_during,
            DiaryEntry.stage,
        ).join(Patient, Patient.id == DiaryEntry.patient_id)
    ).all()
    return sorted(map(tuple, patients)) + sorted(map(tuple, entries), key=repr)


def _empty() -> None:
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    db.session.commit()


def test_the_same_seed_makes_the_same_data(migrated: Flask) -> None:
    """--seed S twice gives the same patients and diaries; another seed, others."""
    prints = []
    for seed in ("same", "same", "other"):
        assert small_load(migrated, seed).exit_code == 0
        with migrated.app_context():
            prints.append(_fingerprint())
            _empty()
    assert prints[0] == prints[1]
    assert prints[0] != prints[2]


def test_seeded_protocols_are_what_the_services_record(migrated: Flask) -> None:
    """Each seeded protocol's history, replayed through `start_protocol` and
    `record_event` for a copy of its patient, gives the same protocol: status, plan,
    events (kind, day, stage, reason, planned resume), what pain going back suggests, the
    surgeon's direction, the specialist service's (none: no child in this load) and the
    lock version. Only ids, times and hashes differ."""
    assert small_load(migrated, patients=24).exit_code == 0
    with migrated.app_context():
        seeded = db.session.scalars(select(Protocol).order_by(Protocol.id)).all()
        kinds = Counter(e.kind for p in seeded for e in p.events)
        assert kinds[EventKind.ADVANCE] and kinds[EventKind.START] == 24
        for n, protocol in enumerate(seeded):
            original = protocol.patient
            clinic = original.clinic
            today = clinic_today(clinic.timezone)
            copy = Patient(
                clinic_id=original.clinic_id,
                full_name=original.full_name,
                date_of_birth=original.date_of_birth,
                clinic_identifier=f"COPY{n}",
                indication=original.indication,
                responsible_clinician_id=original.responsible_clinician_id,
                radiotherapy_ended_on=original.radiotherapy_ended_on,
            )
            db.session.add(copy)
            db.session.flush()
            template = db.session.get(ProtocolTemplate, protocol.source_template_id)
            assert template is not None
            by = protocol.events[0].created_by
            assert by is not None
            replayed = start_protocol(
                copy,
                by,
                name=template.name,
                route=template.route,
                stages=[s.stage_values() for s in template.stages],
                start_stage=1,
                start_on=protocol.events[0].effective_on,
                today=today,
                template=template,
                surgeon_direction=protocol.surgeon_direction,
                procedure_on=protocol.procedure_on,
                specialist_direction=protocol.specialist_direction,
            )
            for event in protocol.events[1:]:
                record_event(
                    replayed,
                    event.kind,
                    by,
                    expected_lock=str(replayed.lock_version),
                    effective_on=event.effective_on,
                    today=today,
                    reason=event.reason,
                    resume_on=event.resume_on,
                )
            db.session.flush()

            def shape(p: Protocol) -> tuple:
                return (
                    p.name,
                    p.indication,
                    p.route,
                    p.status,
                    p.going_back,
                    p.surgeon_direction,
                    p.procedure_on,
                    p.specialist_direction,
                    p.source_template_id,
                    p.lock_version,
                    [
                        (v.number, v.reason, [s.stage_values() for s in v.stages])
                        for v in p.versions
                    ],
                    [
                        (e.kind, e.effective_on, e.version_number, e.stage, e.reason, e.resume_on)
                        for e in p.events
                    ],
                )

            assert shape(replayed) == shape(protocol)
            assert integrity.verify(replayed)
        db.session.rollback()


def test_programs_loaded_from_before_the_18th_birthday_name_the_specialist_service(
    migrated: Flask,
) -> None:
    """Over ten years some loaded patients start young: each of those protocols names the
    specialist service that leads it (as `start_protocol` requires), no adult's does, and
    every chain still verifies."""
    result = run(
        migrated, "--clinics", "1", "--patients", "40", "--years", "10",
        "--password", PASSWORD, "--seed", "young",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    with migrated.app_context():
        protocols = db.session.scalars(select(Protocol)).all()
        young = [
            p
            for p in protocols
            if is_under_18_on(p.patient.date_of_birth, p.events[0].effective_on)
        ]
        assert young and len(young) < len(protocols)
        for protocol in protocols:
            assert (protocol.specialist_direction == SPECIALIST) == (protocol in young)
            assert integrity.verify(protocol)


def test_loaded_red_flags_are_never_announced(migrated: Flask) -> None:
    """Loaded flags, open ones included, count as escalated already: a worker started on
    the loaded database emails no clinician about them (found in review: the open ones
    were escalated to every clinician of every loaded clinic within minutes)."""
    result = run(migrated, "--clinics", "1", "--patients", "60", "--password", PASSWORD)
    assert result.exit_code == 0, result.output
    with migrated.app_context():
        assert _count(RedFlag, RedFlag.acknowledged_at.is_(None)) > 0
        levels = set(db.session.scalars(select(RedFlag.escalated_level)))
        assert levels == {SECOND}
        assert escalate_due(utcnow() + timedelta(days=2)) == 0

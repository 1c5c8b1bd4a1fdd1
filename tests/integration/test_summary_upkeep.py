"""The session keeps summaries current (clinic.monitoring.upkeep): a change committed by
any path, a plain ORM change, a bulk statement, is followed by its patients' refresh in
the same transaction; nothing else is refreshed, a rollback refreshes nothing, and an
erased patient is never refreshed back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import insert, select, update

from clinic.core.clock import clinic_today
from clinic.extensions import db
from clinic.models import (
    CareFlag,
    Clinic,
    DiaryEntry,
    Patient,
    PatientSummary,
    ProtocolEvent,
    RedFlag,
    User,
)
from clinic.models.types import utcnow
from clinic.monitoring import upkeep
from clinic.rights.erasure import erase_patient
from tests.support.diaries import add_entries, report_red_flag
from tests.support.protocols import ZONE, start_plan
from tests.support.world import World


def versions(app: Flask, clinic_id: int) -> dict[int, int]:
    """Each summary's version, by patient id."""
    with app.app_context():
        return dict(
            db.session.execute(
                select(PatientSummary.patient_id, PatientSummary.version).where(
                    PatientSummary.clinic_id == clinic_id
                )
            ).all()
        )


def test_every_model_about_a_patient_is_classified() -> None:
    """A model with a `patient_id` column is either an input of the summaries or listed as
    not one: a new model cannot be forgotten silently."""
    about_patients = {
        mapper.class_
        for mapper in db.Model.registry.mappers
        if "patient_id" in mapper.columns or mapper.class_ is Patient
    }
    assert about_patients - set(upkeep.INPUTS) - upkeep.NOT_INPUTS == set()
    assert upkeep.NOT_INPUTS.isdisjoint(upkeep.INPUTS)


def test_a_plain_change_flushed_many_times_is_refreshed_once_at_commit(
    app: Flask, world: World
) -> None:
    """A change made with no service and no call at all, flushed several times, refreshes
    the patient's summary and raises the flag it calls for when the transaction commits,
    once; the clinic's other patients are left alone."""
    before = versions(app, world.clinic_a)
    pid = world.patient.patient_id
    with app.app_context():
        patient = db.session.get(Patient, pid)
        patient.review_on = clinic_today(ZONE) - timedelta(days=1)
        db.session.flush()
        patient.pronouns = "she/her"
        db.session.flush()
        assert versions(app, world.clinic_a) == before  # nothing before the commit
        db.session.commit()
        assert db.session.scalar(select(CareFlag.kind).where(CareFlag.patient_id == pid))
    assert versions(app, world.clinic_a) == before | {pid: before[pid] + 1}


def test_a_new_patient_has_a_summary_from_the_start(app: Flask, world: World) -> None:
    """Adding a patient adds their summary in the same transaction."""
    with app.app_context():
        patient = Patient(
            clinic_id=world.clinic_a,
            full_name="New Patient",
            date_of_birth=clinic_today(ZONE) - timedelta(days=12_000),
            clinic_identifier="N-1",
            indication=db.session.get(Patient, world.patient.patient_id).indication,
        )
        db.session.add(patient)
        db.session.commit()
        assert db.session.get(PatientSummary, patient.id).version == 1


def test_a_bulk_update_is_followed(app: Flask, world: World) -> None:
    """A bulk UPDATE that acknowledges a red flag (no ORM object changed) refreshes the
    flag's patient: the summary no longer counts it."""
    pid = world.patient.patient_id
    report_red_flag(app, world.patient, start_plan(app, pid, world.clinician.id))
    with app.app_context():
        assert db.session.get(PatientSummary, pid).red_flags == 1
        db.session.execute(
            update(RedFlag)
            .where(RedFlag.patient_id == pid)
            .values(acknowledged_at=utcnow(), acknowledgement="Seen.")
        )
        db.session.commit()
        assert db.session.get(PatientSummary, pid).red_flags == 0


def test_a_bulk_insert_of_diary_rows_is_followed(app: Flask, world: World) -> None:
    """Rows inserted in bulk name their patients; those are refreshed at commit."""
    pid = world.patient.patient_id
    protocol_id = start_plan(app, pid, world.clinician.id)
    with app.app_context():
        today = clinic_today(ZONE)
        db.session.execute(
            insert(DiaryEntry),
            [
                {
                    "clinic_id": world.clinic_a,
                    "patient_id": pid,
                    "protocol_id": protocol_id,
                    "version_number": 1,
                    "stage": 1,
                    "skipped": True,
                    "skip_reason": "no_time",
                    "occurred_at": utcnow(),
                    "occurred_on": today,
                    "submission_key": "bulk-1",
                    "created_by_id": world.patient.id,
                }
            ],
        )
        db.session.commit()
        assert db.session.get(PatientSummary, pid).last_entry_on == today


def test_a_bulk_insert_that_names_no_patient_is_refused(app: Flask, world: World) -> None:
    """Rows of a model that reaches its patient through other rows cannot be inserted in
    bulk: the upkeep could not tell whose summary changed, so it says so."""
    protocol_id = start_plan(app, world.patient.patient_id, world.clinician.id)
    with app.app_context(), pytest.raises(upkeep.UnnoticedWrite):
        db.session.execute(
            insert(ProtocolEvent),
            [{"protocol_id": protocol_id, "kind": "hold", "effective_on": clinic_today(ZONE)}],
        )


def test_a_rollback_refreshes_nothing(app: Flask, world: World) -> None:
    """A change rolled back leaves no refresh behind for the next transaction."""
    before = versions(app, world.clinic_a)
    with app.app_context():
        db.session.get(Patient, world.patient.patient_id).pronouns = "they/them"
        db.session.flush()
        db.session.rollback()
        db.session.get(Clinic, world.clinic_a).phone = "0100 111 111"
        db.session.commit()
    assert versions(app, world.clinic_a) == before


def test_a_clinic_rule_change_refreshes_every_patient_of_the_clinic(
    app: Flask, world: World
) -> None:
    """The completion percentage applies to every patient: each summary is refreshed;
    another clinic's are not."""
    before_a, before_b = versions(app, world.clinic_a), versions(app, world.clinic_b)
    with app.app_context():
        db.session.get(Clinic, world.clinic_a).completion_pct = 60
        db.session.commit()
    assert versions(app, world.clinic_a) == {pid: v + 1 for pid, v in before_a.items()}
    assert versions(app, world.clinic_b) == before_b


def test_a_portal_password_refreshes_the_patient(app: Flask, world: World) -> None:
    """Choosing a portal password makes the patient one who keeps a diary."""
    pid = world.patient.patient_id
    with app.app_context():
        user = db.session.get(User, world.patient.id)
        user.password_hash = None
        db.session.commit()
        assert db.session.get(PatientSummary, pid).keeps_diary is False
        user.password_hash = "x"
        user.last_login_at = utcnow()
        db.session.commit()
        assert db.session.get(PatientSummary, pid).keeps_diary is True


def test_a_bulk_update_of_columns_no_summary_reads_refreshes_no_one(
    app: Flask, world: World, client
) -> None:
    """A wrong password on a patient's account is counted with a bulk UPDATE of the
    account's failure count, which no summary reads: the patient's summary (and with it
    every cached dashboard table of the clinic) stays as it was. A bulk UPDATE of the
    password itself, which decides whether the patient keeps a diary, is followed."""
    pid = world.patient.patient_id
    before = versions(app, world.clinic_a)[pid]
    response = client.post(
        "/login",
        data={
            "email": world.patient.email,
            "password": "not the password",
            "csrf_token": client.fetch_csrf_token(),
        },
    )
    assert response.status_code == 200
    with app.app_context():
        assert db.session.get(User, world.patient.id).failed_sign_ins == 1
    assert versions(app, world.clinic_a)[pid] == before
    with app.app_context():
        db.session.execute(
            update(User).where(User.id == world.patient.id).values(password_hash=None)
        )
        db.session.commit()
        assert db.session.get(PatientSummary, pid).keeps_diary is False
    assert versions(app, world.clinic_a)[pid] == before + 1


def test_a_patient_changed_then_erased_is_not_refreshed_back(app: Flask, world: World) -> None:
    """A patient changed and erased in one transaction: the commit refreshes nobody and
    leaves no summary of theirs behind."""
    pid = world.other_patient.patient_id
    protocol_id = start_plan(app, pid, world.clinician.id)
    add_entries(app, protocol_id, world.other_patient, [1, 2])
    with app.app_context():
        patient = db.session.get(Patient, pid)
        patient.pronouns = "he/him"
        db.session.flush()
        erase_patient(
            patient,
            by=db.session.get(User, world.admin.id),
            request_reference="REQ-1",
            today=clinic_today(ZONE),
        )
        db.session.commit()
        assert db.session.get(PatientSummary, pid) is None
        assert db.session.get(Patient, pid) is None

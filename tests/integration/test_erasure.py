"""Erasure on a documented request: administrators only, after a typed confirmation; every
row about the patient goes (with the portal account), de-identified aggregates and the
audit trail stay, and every page forgets the patient."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask

from clinic.core.clock import clinic_today
from clinic.dashboard.queries import caseload_state
from clinic.domain.indications import Indication
from clinic.extensions import db
from clinic.models import (
    AuditEvent,
    ClinicalNoteRevision,
    EntryRevision,
    Patient,
    PatientErasure,
    ProtocolEvent,
    ProtocolStage,
    ProtocolVersion,
    User,
)
from clinic.models.types import utcnow
from clinic.rights.aggregates import age_band, whole_weeks
from clinic.rights.erasure import KEPT_TABLES, ErasureRefused, erase_patient, erased_tables
from tests.support.auth import act_as
from tests.support.diaries import ZONE
from tests.support.factories import PASSWORD
from tests.support.html import forms_in
from tests.support.reauth import confirmed_recently
from tests.support.records import NOTE_TEXT, FullRecord, full_record
from tests.support.world import World

REFERENCE = "DP request 2026-014, letter of 20 Nov 2026"


def signed_in_and_confirmed(client, user_id: int) -> None:
    """Signed in, with the password entered again just now (erasure asks for it)."""
    act_as(client, user_id)
    confirmed_recently(client)


def erasure_url(patient_id: int) -> str:
    return f"/patients/{patient_id}/erasure"


def identifier_of(app: Flask, patient_id: int) -> str:
    with app.app_context():
        return db.session.get(Patient, patient_id).clinic_identifier


def erase(client, app: Flask, patient_id: int, **overrides: str):
    """Send the erasure form as an administrator would fill it in."""
    data = {
        "request_reference": REFERENCE,
        "confirmation": identifier_of(app, patient_id),
        **overrides,
    }
    return client.post(erasure_url(patient_id), data=data)


def rows_about(app: Flask, patient_id: int) -> dict[str, int]:
    """How many rows each table with a patient_id column holds about the patient."""
    with app.app_context():
        return {
            table.name: db.session.scalar(
                sa.select(sa.func.count())
                .select_from(table)
                .where(table.c.patient_id == patient_id)
            )
            for table in db.metadata.sorted_tables
            if "patient_id" in table.c
        }


@pytest.fixture
def record(app: Flask, world: World) -> FullRecord:
    return full_record(app, world.patient.patient_id, world.patient.id, world.clinician.id)


def test_every_table_about_patients_is_covered() -> None:
    """Each table with a patient_id column is emptied by an erasure or deliberately kept:
    a new table about patients fails here until the erasure knows about it."""
    with_patient_id = {t.name for t in db.metadata.sorted_tables if "patient_id" in t.c}
    assert with_patient_id, "the metadata lists no table with a patient_id"
    assert with_patient_id - erased_tables() - KEPT_TABLES == set()
    # And the accounts' own tables, which have no patient_id, go with the portal login.
    assert {"users", "invitations", "user_sessions", "recovery_codes"} <= erased_tables()


def test_erasure_removes_every_row_about_the_patient(
    app: Flask, client, world: World, record: FullRecord
) -> None:
    """After the erasure no table holds a row about the patient (the audit trail aside),
    the children of those rows and the portal account are gone too, and another
    patient's record is untouched."""
    other = full_record(
        app, world.other_patient.patient_id, world.other_patient.id, world.clinician.id
    )
    before_other = rows_about(app, other.patient_id)
    assert all(
        n > 0 for name, n in rows_about(app, record.patient_id).items() if name != "audit_events"
    )

    signed_in_and_confirmed(client, world.admin.id)
    response = erase(client, app, record.patient_id)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/admin/patient-data")

    remaining = rows_about(app, record.patient_id)
    assert {name: n for name, n in remaining.items() if n and name not in KEPT_TABLES} == {}
    with app.app_context():
        assert db.session.get(Patient, record.patient_id) is None
        assert db.session.get(User, record.user_id) is None
        for model, column, ids in (
            (EntryRevision, EntryRevision.entry_id, record.entry_ids),
            (ClinicalNoteRevision, ClinicalNoteRevision.note_id, [record.note_id]),
            (ProtocolVersion, ProtocolVersion.protocol_id, [record.protocol_id]),
            (ProtocolEvent, ProtocolEvent.protocol_id, [record.protocol_id]),
        ):
            assert (
                db.session.scalar(
                    sa.select(sa.func.count()).select_from(model).where(column.in_(ids))
                )
                == 0
            )
        assert (
            db.session.scalar(sa.select(sa.func.count()).select_from(ProtocolStage)) > 0
        )  # the other's
        # No row anywhere still points at the erased account.
        for table in db.metadata.sorted_tables:
            for column in table.c:
                if any(fk.column.table.name == "users" for fk in column.foreign_keys):
                    assert (
                        db.session.scalar(
                            sa.select(sa.func.count())
                            .select_from(table)
                            .where(column == record.user_id)
                        )
                        == 0
                    ), f"{table.name}.{column.name}"
    assert rows_about(app, other.patient_id) == before_other


def test_the_aggregates_are_right_and_identify_no_one(
    app: Flask, client, world: World, record: FullRecord
) -> None:
    """The erasure record keeps the indication, age band, start month, weeks in the
    program, stages reached, sessions, red flags and outcome measures, and nothing that
    names or dates the person."""
    with app.app_context():
        patient = db.session.get(Patient, record.patient_id)
        name, identifier = patient.full_name, patient.clinic_identifier
        birth = patient.date_of_birth
    signed_in_and_confirmed(client, world.admin.id)
    assert erase(client, app, record.patient_id).status_code == 302
    today = clinic_today(ZONE)
    with app.app_context():
        erasure = db.session.scalars(sa.select(PatientErasure)).one()
        assert erasure.erased_patient_id == record.patient_id
        assert erasure.erased_by_id == world.admin.id
        assert erasure.request_reference == REFERENCE
        aggregates = json.loads(erasure.aggregates)
    assert aggregates == {
        "aggregates_version": 1,
        "indication": "vaginismus",
        "age_band": age_band(birth, today),
        "status_at_erasure": "active",
        "program_start_month": (today - timedelta(days=30)).strftime("%Y-%m"),
        "weeks_in_program": 4,  # started 30 days ago, still open
        "protocols": 1,
        "stages_reached": 2,  # started at stage 1, advanced once
        "sessions_logged": len(record.entry_ids),
        "sessions_skipped": 0,
        "red_flags": 1,
        "outcome_measures_assigned": 1,
        "outcome_measures_completed": {"pain-nrs": 1},
    }
    text = erasure.aggregates
    for personal in (name, identifier, birth.isoformat(), NOTE_TEXT, "Phoned"):
        assert personal not in text


def test_the_audit_trail_stays_and_shows_the_erasure(
    app: Flask, client, world: World, record: FullRecord, as_clinician
) -> None:
    """Earlier audit events about the patient stay, and one "patient.erase" event names
    the erasure record, the patient's id and the administrator."""
    assert client.get(f"/patients/{record.patient_id}/export").status_code == 200
    signed_in_and_confirmed(client, world.admin.id)
    assert erase(client, app, record.patient_id).status_code == 302
    with app.app_context():
        events = db.session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.patient_id == record.patient_id)
            .order_by(AuditEvent.id)
        ).all()
        erasure_id = db.session.scalar(sa.select(PatientErasure.id))
    actions = [e.action for e in events]
    assert "patient.export" in actions
    [erased] = [e for e in events if e.action == "patient.erase"]
    assert (erased.object_type, erased.object_id) == ("patient_erasure", erasure_id)
    assert (erased.actor_id, erased.clinic_id, erased.outcome) == (
        world.admin.id,
        world.clinic_a,
        "ok",
    )
    removed = json.loads(erased.detail)["removed"]
    assert removed["patients"] == 1 and removed["users"] == 1
    assert removed["diary_entries"] == len(record.entry_ids) and removed["reports"] == 2


def test_after_erasure_the_patient_is_not_found_anywhere(
    app: Flask, client, world: World, record: FullRecord
) -> None:
    """The patient's pages answer 404, the portal account is signed out, the dashboard's
    cached table no longer lists them, and the requests page shows the erasure."""
    with app.app_context():
        name = db.session.get(Patient, record.patient_id).full_name
        version = caseload_state(world.clinic_a).version
    act_as(client, world.clinician.id)
    assert name in client.get("/dashboard/?who=all").get_data(as_text=True)

    signed_in_and_confirmed(client, world.admin.id)
    assert erase(client, app, record.patient_id).status_code == 302
    page = client.get("/admin/patient-data").get_data(as_text=True)
    assert REFERENCE in page and name not in page
    assert client.get(erasure_url(record.patient_id)).status_code == 404

    act_as(client, world.clinician.id)
    for url in ("", "/export", "/timeline", "/notes", "/reports", "/protocol/"):
        assert client.get(f"/patients/{record.patient_id}{url}").status_code == 404, url
    assert name not in client.get("/dashboard/?who=all").get_data(as_text=True)
    with app.app_context():
        assert caseload_state(world.clinic_a).version != version

    with client.session_transaction() as session:
        session["_user_id"] = f"{world.patient.id}:stale"
    response = client.get("/diary/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_wrong_confirmation_erases_nothing_and_keeps_what_was_typed(
    app: Flask, client, world: World, record: FullRecord
) -> None:
    """The clinic identifier must be typed exactly: otherwise the form comes back (400)
    with the problem next to the field and the reference as typed, nothing goes, and the
    audit trail keeps the refused attempt."""
    before = rows_about(app, record.patient_id)
    signed_in_and_confirmed(client, world.admin.id)
    identifier = identifier_of(app, record.patient_id)
    for typed in ("", identifier.lower() + "x", "MRN"):
        response = erase(client, app, record.patient_id, confirmation=typed)
        html = response.get_data(as_text=True)
        assert response.status_code == 400
        assert 'id="confirmation-error"' in html
        assert REFERENCE in html  # nothing typed is lost
    after = rows_about(app, record.patient_id)
    assert after.pop("audit_events") == before.pop("audit_events") + 3
    assert after == before
    with app.app_context():
        attempts = db.session.scalars(
            sa.select(AuditEvent.outcome).where(
                AuditEvent.action == "patient.erase", AuditEvent.patient_id == record.patient_id
            )
        ).all()
    assert attempts == ["invalid"] * 3  # each refused attempt is on the record


def test_the_request_reference_is_required_and_must_not_identify(
    app: Flask, client, world: World, record: FullRecord
) -> None:
    """No erasure without the request's reference; and since the reference is kept, it
    may not carry the patient's name or identifier."""
    signed_in_and_confirmed(client, world.admin.id)
    identifier = identifier_of(app, record.patient_id)
    with app.app_context():
        name = db.session.get(Patient, record.patient_id).full_name
    for reference, words in (
        ("   ", "Enter the reference"),
        (f"Request from {identifier}", "The reference is kept after the erasure"),
        (f"Letter from {name.upper()}", "The reference is kept after the erasure"),
        ("x" * 121, "at most 120"),
    ):
        response = erase(client, app, record.patient_id, request_reference=reference)
        html = response.get_data(as_text=True)
        assert response.status_code == 400
        assert 'id="request_reference-error"' in html and words in html
    with app.app_context():
        assert db.session.get(Patient, record.patient_id) is not None
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PatientErasure)) == 0


def test_only_the_clinics_administrators_may_erase(
    app: Flask, client, world: World, record: FullRecord
) -> None:
    """A clinician is refused (403), another clinic's administrator finds nothing (404,
    before being asked for a password), and the record stays."""
    act_as(client, world.clinician.id)
    assert erase(client, app, record.patient_id).status_code == 403
    act_as(client, world.other_admin.id)
    assert client.get(erasure_url(record.patient_id)).status_code == 404
    assert erase(client, app, record.patient_id).status_code == 404
    act_as(client, world.admin.id)
    assert client.get(erasure_url(world.other_clinic_patient.patient_id)).status_code == 404
    with app.app_context():
        assert db.session.get(Patient, record.patient_id) is not None
        assert db.session.get(Patient, world.other_clinic_patient.patient_id) is not None


def test_erasure_asks_to_confirm_it_is_you_first(
    app: Flask, client, world: World, record: FullRecord
) -> None:
    """Without the password entered in the last five minutes, the erasure page sends the
    administrator to confirm it is them before showing the form (so a screen left
    unlocked cannot erase anyone), then back to the form; nothing is erased meanwhile."""
    url = erasure_url(record.patient_id)
    act_as(client, world.admin.id)
    response = client.get(url)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/account/confirm?next={url}"
    assert "Erase" not in client.get(response.headers["Location"]).get_data(as_text=True)

    confirmed_recently(client, minutes_ago=6)  # too long ago
    assert client.get(url).headers["Location"].startswith("/account/confirm")
    response = client.post(url, data={})  # nothing typed: nothing to keep
    assert response.headers["Location"] == f"/account/confirm?next={url}"

    back = client.post(f"/account/confirm?next={url}", data={"password": PASSWORD})
    assert back.headers["Location"] == url
    assert "Erase this record permanently" in client.get(url).get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Patient, record.patient_id) is not None
    assert erase(client, app, record.patient_id).status_code == 302
    with app.app_context():
        assert db.session.get(Patient, record.patient_id) is None


def test_a_form_sent_after_the_five_minutes_is_kept_while_confirming(
    app: Flask, client, world: World, record: FullRecord
) -> None:
    """An erasure form sent once the five minutes have passed erases nothing: the answer
    asks for the password, keeping what was typed (a wrong password keeps it too), then
    offers to send it on unchanged; sent, it erases."""
    url = erasure_url(record.patient_id)
    signed_in_and_confirmed(client, world.admin.id)
    assert client.get(url).status_code == 200  # the form, shown within the five minutes
    confirmed_recently(client, minutes_ago=6)  # ... and sent after them
    response = erase(client, app, record.patient_id)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Confirm it is you" in page and "What you typed has not been sent yet" in page
    with app.app_context():
        assert db.session.get(Patient, record.patient_id) is not None
    [confirm] = [f for f in forms_in(page) if f.method == "post" and "confirm" in f.action]
    assert confirm.target(url) == f"/account/confirm?next={url}"
    assert ("kept-request_reference", REFERENCE) in confirm.values

    wrong = client.post(
        confirm.target(url), data={**dict(confirm.values), "password": "not my password"}
    )
    [again] = [f for f in forms_in(wrong.get_data(as_text=True)) if "confirm" in f.action]
    assert ("kept-request_reference", REFERENCE) in again.values

    sent_on = client.post(
        confirm.target(url), data={**dict(again.values), "password": PASSWORD}
    ).get_data(as_text=True)
    assert "Send what I typed" in sent_on
    [kept] = [f for f in forms_in(sent_on) if f.method == "post" and f.path(url) == url]
    assert ("request_reference", REFERENCE) in kept.values
    assert not any(name.startswith("kept-") or "password" in name for name in kept.names)
    assert client.post(url, data=dict(kept.values)).status_code == 302
    with app.app_context():
        assert db.session.get(Patient, record.patient_id) is None


def test_the_page_says_what_goes_and_what_stays(
    app: Flask, client, world: World, record: FullRecord
) -> None:
    """The erasure page names the record, counts what will be removed, explains what is
    kept, and links to the export first."""
    signed_in_and_confirmed(client, world.admin.id)
    html = client.get(erasure_url(record.patient_id)).get_data(as_text=True)
    assert identifier_of(app, record.patient_id) in html
    assert f"Diary entries (with their corrections): {len(record.entry_ids)}" in html
    assert "Progress reports (the stored PDFs): 2" in html
    assert "What is kept" in html and "age band by decade" in html
    assert "cannot be undone" in html
    assert f"/patients/{record.patient_id}/export" in html


def test_a_record_without_portal_or_program_can_be_erased(app: Flask, client, world: World) -> None:
    """A patient who never used the portal and has no program is erased too, with
    empty figures for what never happened."""
    signed_in_and_confirmed(client, world.admin.id)
    assert erase(client, app, world.offline_patient_id).status_code == 302
    with app.app_context():
        assert db.session.get(Patient, world.offline_patient_id) is None
        aggregates = json.loads(db.session.scalars(sa.select(PatientErasure.aggregates)).one())
    assert aggregates["program_start_month"] is None
    assert aggregates["weeks_in_program"] is None
    assert aggregates["stages_reached"] == 0 and aggregates["sessions_logged"] == 0


def test_the_requests_page_finds_patients_to_export_or_erase(
    app: Flask, client, world: World
) -> None:
    """The administrator finds a patient of their clinic by identifier, with links to
    the export and the erasure; another clinic's patients are never listed."""
    identifier = identifier_of(app, world.patient.patient_id)
    other = identifier_of(app, world.other_clinic_patient.patient_id)
    act_as(client, world.admin.id)
    html = client.get(f"/admin/patient-data?q={identifier}").get_data(as_text=True)
    assert erasure_url(world.patient.patient_id) in html
    assert f"/patients/{world.patient.patient_id}/export" in html
    html = client.get(f"/admin/patient-data?q={other}").get_data(as_text=True)
    assert f"/patients/{world.other_clinic_patient.patient_id}/" not in html
    assert "No patient" in html


@pytest.mark.parametrize(
    ("born", "on", "band"),
    [
        (date(1990, 6, 15), date(2026, 6, 14), "30-39"),
        (date(1986, 6, 15), date(2026, 6, 14), "30-39"),  # 40 tomorrow
        (date(1986, 6, 15), date(2026, 6, 15), "40-49"),
        (date(2008, 2, 29), date(2026, 2, 28), "10-19"),
        (date(1936, 1, 1), date(2026, 1, 1), "90+"),
    ],
)
def test_age_bands_are_decades_of_age_on_the_day(born: date, on: date, band: str) -> None:
    """The age band counts birthdays passed on the day of the erasure."""
    assert age_band(born, on) == band


def test_weeks_count_whole_weeks_only() -> None:
    """Weeks in the program are complete weeks, never negative."""
    start = date(2026, 1, 1)
    assert whole_weeks(start, start + timedelta(days=13)) == 1
    assert whole_weeks(start, start + timedelta(days=14)) == 2
    assert whole_weeks(start, start - timedelta(days=3)) == 0


def test_a_record_erased_meanwhile_is_not_erased_twice(app: Flask, world: World) -> None:
    """When two administrators erase the same record at once, the second finds it gone
    and is refused in plain words: one erasure record, one audit event."""
    with app.app_context():
        admin = db.session.get(User, world.admin.id)
        patient = db.session.get(Patient, world.offline_patient_id)
        # What the second administrator's request loaded before the first one committed.
        stale = Patient(id=patient.id, clinic_id=patient.clinic_id, user_id=None)
        today = clinic_today(ZONE)
        erase_patient(patient, by=admin, request_reference=REFERENCE, today=today)
        db.session.commit()
        with pytest.raises(ErasureRefused, match="erased meanwhile"):
            erase_patient(stale, by=admin, request_reference=REFERENCE, today=today)
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PatientErasure)) == 1
        assert (
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "patient.erase")
            )
            == 1
        )


def test_a_new_record_never_inherits_an_erased_records_trail(
    app: Flask, client, world: World, record: FullRecord
) -> None:
    """SQLite gives a new row the id of an erased one when it was the highest. The erased
    patient's trail is then never shown as the new patient's: not on the new patient's
    page, their full history or the audit search narrowed to them; there the old events
    read "erased patient"."""
    act_as(client, world.clinician.id)
    assert client.get(f"/patients/{record.patient_id}/export").status_code == 200
    signed_in_and_confirmed(client, world.admin.id)
    assert erase(client, app, record.patient_id).status_code == 302
    with app.app_context():
        newcomer = Patient(
            clinic_id=world.clinic_a,
            full_name="Robin Newcomer",
            date_of_birth=date(1990, 1, 1),
            clinic_identifier="NEW-1",
            indication=Indication.VAGINISMUS,
            created_at=utcnow() + timedelta(seconds=1),  # after the erasure, as in life
        )
        if db.engine.dialect.name == "sqlite":
            newcomer.id = record.patient_id  # what SQLite does when it was the highest id
        db.session.add(newcomer)
        db.session.commit()
        new_id = newcomer.id
    act_as(client, world.clinician.id)
    page = client.get(f"/patients/{new_id}").get_data(as_text=True)
    history = client.get(f"/patients/{new_id}/access").get_data(as_text=True)
    signed_in_and_confirmed(client, world.admin.id)
    filtered = client.get(f"/admin/audit?patient_id={new_id}").get_data(as_text=True)
    for html in (page, history, filtered):
        html = re.sub(r"<select.*?</select>", "", html, flags=re.S)  # the action filter
        assert "Robin Newcomer" in html
        assert "Exported the patient&#39;s data" not in html
        assert "Erased the patient" not in html
    everything = client.get("/admin/audit").get_data(as_text=True)
    assert f"erased patient #{record.patient_id}" in everything

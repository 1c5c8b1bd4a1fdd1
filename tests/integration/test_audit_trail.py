"""What the audit trail records: views of patient data (committed even by pages that
change nothing), changes together with their audit row, attempts that changed nothing,
the patient's own diary actions, invitations issued and accepted."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from flask import Flask
from sqlalchemy import select

from clinic.core.clock import clinic_today
from clinic.extensions import db
from clinic.models import AuditEvent, ClinicalNote, DiaryEntry, Patient, Role, User
from clinic.models.types import utcnow
from clinic.notes.services import write_note
from tests.support.audit import events
from tests.support.auth import act_as
from tests.support.diaries import saved_entry_id
from tests.support.forms import form_values
from tests.support.invitations import choose_password, invite_patient, link_in
from tests.support.mdt import ask_for_pack, download_pack
from tests.support.protocols import start_plan
from tests.support.world import World


def only(app: Flask, action: str, **where: object) -> AuditEvent:
    found = events(app, action=action, **where)
    assert len(found) == 1, [(e.action, e.outcome) for e in events(app)]
    return found[0]


def test_viewing_a_record_is_recorded_with_who_when_and_where(
    app: Flask, client, world: World, as_clinician
) -> None:
    """Opening a patient's page leaves one committed "patient.view" event: the clinician,
    their role and clinic, the patient, the address, the time, the outcome."""
    before = utcnow()
    assert client.get(f"/patients/{world.patient.patient_id}").status_code == 200
    event = only(app, "patient.view")
    assert (event.actor_id, event.actor_role, event.clinic_id) == (
        world.clinician.id,
        "clinician",
        world.clinic_a,
    )
    assert (event.patient_id, event.outcome, event.ip) == (
        world.patient.patient_id,
        "ok",
        "127.0.0.1",
    )
    assert before <= event.at <= utcnow()


def test_pages_that_commit_nothing_still_commit_their_event(
    app: Flask, client, world: World, as_clinician
) -> None:
    """The timeline and the notes page change nothing, yet their events are in the
    database once the response is sent (read back through a new connection)."""
    client.get(f"/patients/{world.patient.patient_id}/timeline")
    client.get(f"/patients/{world.patient.patient_id}/notes")
    # Read in a fresh session: an uncommitted row would have been rolled back at the end
    # of its request.
    assert [e.action for e in events(app, patient_id=world.patient.patient_id)] == [
        "timeline.view",
        "note.list",
    ]


def test_another_clinics_patient_is_not_found_and_no_view_is_recorded(
    app: Flask, client, world: World
) -> None:
    """A refused page showed nothing, so it records no view of the patient: only the
    refusal itself, attached to no patient."""
    act_as(client, world.other_clinician.id)
    assert client.get(f"/patients/{world.patient.patient_id}").status_code == 404
    assert [(e.action, e.patient_id) for e in events(app)] == [("access.refused", None)]


def test_a_change_and_its_event_are_saved_together(
    app: Flask, client, world: World, as_clinician
) -> None:
    """Writing a note records "note.write" naming the note, in the same transaction."""
    response = client.post(f"/patients/{world.patient.patient_id}/notes", data={"body": "Seen."})
    assert response.status_code == 302
    with app.app_context():
        note_id = db.session.scalar(select(ClinicalNote.id))
    event = only(app, "note.write")
    assert (event.patient_id, event.object_type, event.object_id, event.outcome) == (
        world.patient.patient_id,
        "note",
        note_id,
        "ok",
    )


def test_a_refused_change_is_recorded_as_an_attempt(
    app: Flask, client, world: World, as_clinician
) -> None:
    """A form with errors and a change the rules refuse leave an event with that outcome,
    and no event claims the change was made."""
    url = f"/patients/{world.patient.patient_id}/notes"
    assert client.post(url, data={"body": "  "}).status_code == 400
    with app.app_context():
        note = write_note(
            db.session.get(Patient, world.patient.patient_id),
            db.session.get(User, world.clinician.id),
            "Written long ago.",
            now=utcnow() - timedelta(hours=30),
        )
        db.session.commit()
        note_id = note.id
    assert client.post(f"{url}/{note_id}/edit", data={"body": "Changed."}).status_code == 403
    notes = [
        (e.action, e.outcome, e.object_id)
        for e in events(app, actor_id=world.clinician.id)
        if e.action.startswith("note.")
    ]
    assert notes == [
        ("note.write", "invalid", None),  # the empty form
        ("note.write", "ok", note_id),  # the old note, written above
        ("note.edit", "refused", note_id),  # its 24 hours are over
    ]


def test_patient_update_records_which_fields_changed_not_their_values(
    app: Flask, client, world: World, as_clinician
) -> None:
    """The event says which details changed; the new values stay out of the trail."""
    url = f"/patients/{world.patient.patient_id}/edit"
    values = form_values(client.get(url).get_data(as_text=True))
    values["full_name"] = "Renamed Person"
    assert client.post(url, data=values).status_code == 302
    update = only(app, "patient.update")
    assert json.loads(update.detail) == {"fields": ["full_name"]}
    assert "Renamed" not in update.detail
    assert only(app, "patient.edit_form").patient_id == world.patient.patient_id


def test_the_patients_diary_actions_are_recorded_with_the_patient_as_actor(
    app: Flask, client, world: World
) -> None:
    """Logging, correcting and withdrawing an entry, and noting a skip, are changes to the
    patient's record made by the patient: each event names the patient's own account."""
    start_plan(app, world.patient.patient_id, world.clinician.id)
    act_as(client, world.patient.id)
    values = form_values(client.get("/diary/log").get_data(as_text=True))
    values |= {"pain_during": "2", "pain_after": "1", "bleeding": "none", "sharp_pain": "no"}
    entry_id = saved_entry_id(client.post("/diary/log", data=values).headers["Location"])
    edit_url = f"/diary/entries/{entry_id}/edit"
    corrected = form_values(client.get(edit_url).get_data(as_text=True)) | {"pain_after": "3"}
    assert client.post(edit_url, data=corrected).status_code == 302
    assert client.post(f"/diary/entries/{entry_id}/withdraw").status_code == 302
    skip = form_values(client.get("/diary/skip").get_data(as_text=True))
    assert client.post("/diary/skip", data=skip | {"skip_reason": "forgot"}).status_code == 302
    with app.app_context():
        skip_id = db.session.scalar(select(DiaryEntry.id).where(DiaryEntry.skipped))

    changes = [
        (e.action, e.object_id)
        for e in events(app, actor_id=world.patient.id)
        if e.action.startswith("diary.")
    ]
    assert changes == [
        ("diary.log", entry_id),
        ("diary.correct", entry_id),
        ("diary.withdraw", entry_id),
        ("diary.skip", skip_id),
    ]
    for event in events(app, actor_id=world.patient.id):
        assert (event.actor_role, event.patient_id, event.clinic_id) == (
            "patient",
            world.patient.patient_id,
            world.clinic_a,
        )


def test_invitations_issued_and_accepted(app: Flask, client, world: World) -> None:
    """A portal invitation is recorded against the patient by the clinician who issued
    it; accepting it is recorded by the patient's new account; a staff invitation by the
    administrator."""
    act_as(client, world.clinician.id)
    link = link_in(invite_patient(client, world.offline_patient_id, "new.person@example.org"))
    issued = only(app, "patient.invite")
    assert (issued.actor_id, issued.patient_id) == (world.clinician.id, world.offline_patient_id)

    assert choose_password(app.test_client(), link).status_code == 302
    with app.app_context():
        account_id = db.session.get(Patient, world.offline_patient_id).user_id
    accepted = only(app, "invitation.accept")
    assert (accepted.actor_id, accepted.actor_role, accepted.patient_id) == (
        account_id,
        "patient",
        world.offline_patient_id,
    )

    act_as(client, world.admin.id)
    response = client.post(
        "/admin/staff/new",
        data={"full_name": "New Colleague", "email": "colleague@example.org", "role": "clinician"},
        follow_redirects=True,
    )
    assert response.status_code == 200
    with app.app_context():
        colleague_id = db.session.scalar(
            select(User.id).where(User.email == "colleague@example.org")
        )
    staff = only(app, "staff.invite")
    assert (staff.actor_id, staff.object_type, staff.object_id, staff.patient_id) == (
        world.admin.id,
        "user",
        colleague_id,
        None,
    )


def test_the_dashboard_is_one_event_without_a_patient(
    app: Flask, client, world: World, as_clinician
) -> None:
    """The caseload lists many patients: one "dashboard.view" per visit, naming none."""
    assert client.get("/dashboard/").status_code == 200
    event = only(app, "dashboard.view")
    assert event.patient_id is None and event.clinic_id == world.clinic_a


def test_an_mdt_pack_records_each_patient_in_it(app: Flask, client, world: World) -> None:
    """Asking for a pack is recorded once ("mdt.request", the run as its object); each
    download of the made PDF records every patient in it ("mdt.export"), so who took
    which patients' data away is kept although the pack is made in the background."""
    chosen = [world.patient.patient_id, world.offline_patient_id]
    act_as(client, world.clinician.id)
    answer = ask_for_pack(client, chosen, clinic_today("Europe/London"))
    asked = only(app, "mdt.request")
    assert (asked.actor_id, asked.object_type, asked.patient_id) == (
        world.clinician.id,
        "job_run",
        None,
    )
    assert events(app, action="mdt.export") == []  # made, not yet downloaded

    for _ in range(2):
        response = download_pack(client, answer)
        assert response.status_code == 200 and response.mimetype == "application/pdf"
    exported = events(app, action="mdt.export")
    assert sorted(e.patient_id for e in exported) == sorted(chosen * 2)
    assert {(e.actor_id, e.outcome, e.object_type, e.object_id) for e in exported} == {
        (world.clinician.id, "ok", "mdt_pack", asked.object_id)
    }


def test_stage_decisions_record_their_kind(app: Flask, client, world: World) -> None:
    """A protocol decision says which one it was (advance, pause ...) in its detail."""
    protocol_id = start_plan(app, world.patient.patient_id, world.clinician.id)
    act_as(client, world.clinician.id)
    url = f"/patients/{world.patient.patient_id}/protocol/{protocol_id}/pause"
    values = form_values(client.get(url).get_data(as_text=True)) | {"reason": "Holiday"}
    assert client.post(url, data=values).status_code == 302
    change = only(app, "protocol.change")
    assert (change.object_type, change.object_id) == ("protocol", protocol_id)
    assert json.loads(change.detail) == {"kind": "pause"}
    assert "Holiday" not in change.detail


def test_events_outside_requests_name_the_acting_account(app: Flask, world: World) -> None:
    """Services used from the command line or the demo record the account they were
    given, in that account's clinic."""
    with app.app_context():
        clinician = db.session.get(User, world.clinician.id)
        assert clinician.role is Role.CLINICIAN
        write_note(db.session.get(Patient, world.patient.patient_id), clinician, "From a script.")
        db.session.commit()
    event = only(app, "note.write")
    assert (event.actor_id, event.clinic_id, event.ip) == (world.clinician.id, world.clinic_a, "")


def test_refused_and_not_found_pages_are_recorded(app: Flask, client, world: World) -> None:
    """Probing leaves a trace: another clinic's clinician asking for this clinic's patient
    (404) and a patient opening a staff page (403) each leave an "access.refused" event in
    their own clinic's trail, with the id asked for as a number and no patient attached."""
    act_as(client, world.other_clinician.id)
    assert client.get(f"/patients/{world.patient.patient_id}").status_code == 404
    act_as(client, world.patient.id)
    assert client.get("/dashboard/").status_code == 403
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "access.refused").order_by(AuditEvent.id)
        ).all()
        assert [(e.actor_id, e.clinic_id, e.patient_id, e.outcome) for e in events] == [
            (world.other_clinician.id, world.clinic_b, None, "refused"),
            (world.patient.id, world.clinic_a, None, "refused"),
        ]
        assert json.loads(events[0].detail) == {
            "status": 404,
            "endpoint": "patients.show",
            "patient_id": world.patient.patient_id,
        }
        assert json.loads(events[1].detail) == {"status": 403, "endpoint": "dashboard.index"}


def _audit_rows(html: str, action: int = 2, outcome: int = 5) -> list[tuple[str, str]]:
    """(action, outcome) of each row of an audit table, in its order (the columns' places
    differ: the patient's own history has no patient column)."""
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", html, re.S):
        cells = [
            re.sub(r"<[^>]+>", " ", c).strip()
            for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        if len(cells) > max(action, outcome):
            rows.append((cells[action], cells[outcome]))
    return rows


def test_a_refused_form_reads_as_what_happened_on_the_audit_page(
    app: Flask, client, world: World
) -> None:
    """Issue 17: a skipped-session form sent with an error, and a session the diary rules
    refuse (a time in the future), are kept as attempts that say so: "Skipped session not
    saved" / "Not done: the form had errors" and "Session not saved" / "Refused", never
    "Noted a skipped session" or "Logged a session" with "Nothing changed"."""
    start_plan(app, world.patient.patient_id, world.clinician.id)
    act_as(client, world.patient.id)
    skip = form_values(client.get("/diary/skip").get_data(as_text=True))
    assert client.post("/diary/skip", data=skip | {"skip_reason": ""}).status_code == 200
    log = form_values(client.get("/diary/log").get_data(as_text=True))
    log |= {"pain_during": "2", "pain_after": "1", "bleeding": "none", "sharp_pain": "no"}
    future = (utcnow() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    page = client.post("/diary/log", data=log | {"when": future}).get_data(as_text=True)
    assert "The time is in the future" in page
    attempts = [
        (e.action, e.outcome)
        for e in events(app, actor_id=world.patient.id)
        if e.action.startswith("diary.")
    ]
    assert attempts == [("diary.skip", "invalid"), ("diary.log", "refused")]

    act_as(client, world.admin.id)
    rows = _audit_rows(client.get("/admin/audit").get_data(as_text=True))
    assert ("Skipped session not saved", "Not done: the form had errors") in rows
    assert ("Session not saved", "Refused") in rows
    assert not any(action in ("Noted a skipped session", "Logged a session") for action, _ in rows)
    # The patient's access history, on the clinician's side, reads the same.
    act_as(client, world.clinician.id)
    history = client.get(f"/patients/{world.patient.patient_id}/access").get_data(as_text=True)
    assert ("Skipped session not saved", "Not done: the form had errors") in _audit_rows(
        history, action=2, outcome=4
    )


def test_a_change_made_keeps_its_words(app: Flask, client, world: World) -> None:
    """A skip that is saved still reads "Noted a skipped session", "Done"."""
    start_plan(app, world.patient.patient_id, world.clinician.id)
    act_as(client, world.patient.id)
    skip = form_values(client.get("/diary/skip").get_data(as_text=True))
    assert client.post("/diary/skip", data=skip | {"skip_reason": "forgot"}).status_code == 302
    act_as(client, world.admin.id)
    rows = _audit_rows(client.get("/admin/audit").get_data(as_text=True))
    assert ("Noted a skipped session", "Done") in rows

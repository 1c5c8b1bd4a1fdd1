"""A copy of everything held about a patient: a ZIP of patient.json (versioned, matching the
database), a readable page of the same data (self-contained, neutral name and title, fit
for a phone), the stored reports byte for byte and a README; for the clinic's clinicians
and administrators, and for the patient (only their own) from the portal, where the
readable page also opens on screen; no secrets; audited; a fixed number of queries
whatever the record holds."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import zipfile
from html import unescape
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from clinic.core.clock import clinic_today
from clinic.extensions import db
from clinic.models import (
    AuditEvent,
    CareFlag,
    DiaryEntry,
    Invitation,
    Letter,
    Patient,
    ProtocolEvent,
    ProtocolStage,
    ProtocolVersion,
    Report,
    User,
    UserSession,
)
from clinic.notes.services import write_note
from clinic.rights.export import SCHEMA_VERSION
from tests.support.auth import act_as
from tests.support.diaries import ZONE
from tests.support.privacy import denied_words
from tests.support.queries import count_queries
from tests.support.records import (
    DEVICE_AUTH,
    DEVICE_ENDPOINT,
    DEVICE_KEY,
    NOTE_TEXT,
    RECOVERY_CODE_HASH,
    TOTP_SECRET,
    FullRecord,
    full_record,
)
from tests.support.world import World

ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")


def export_url(patient_id: int) -> str:
    return f"/patients/{patient_id}/export"


def unzip(response: Any) -> tuple[dict[str, Any], zipfile.ZipFile]:
    """The bundle and the archive of an export download."""
    assert response.status_code == 200, response.status_code
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    return json.loads(archive.read("patient.json")), archive


@pytest.fixture
def record(app: Flask, world: World) -> FullRecord:
    return full_record(app, world.patient.patient_id, world.patient.id, world.clinician.id)


def test_the_bundle_matches_the_database(
    app: Flask, client, world: World, record, as_clinician
) -> None:
    """patient.json holds the record as the database has it: the patient, the portal
    account, each protocol with its versions, stages and events, the entries with their
    corrections, the flags with their acknowledgements, the notes with their earlier
    wording and addenda, the outcome measures and the reports' details."""
    bundle, archive = unzip(client.get(export_url(record.patient_id)))

    assert bundle["format"] == "patient-data-export"
    assert bundle["schema_version"] == SCHEMA_VERSION == 1
    with app.app_context():
        patient = db.session.get(Patient, record.patient_id)
        assert bundle["patient"]["full_name"] == patient.full_name
        assert bundle["patient"]["date_of_birth"] == patient.date_of_birth.isoformat()
        assert bundle["patient"]["clinic_identifier"] == patient.clinic_identifier
        assert bundle["patient"]["indication"] == patient.indication.value
        assert "clinic_id" not in bundle["patient"]
        assert bundle["clinic"]["name"] == patient.clinic.name
        user = db.session.get(User, record.user_id)
        account = bundle["portal_account"]
        assert account["email"] == user.email
        assert account["created_at"] == user.created_at.isoformat().replace("+00:00", "Z")
        assert ISO_UTC.match(account["last_login_at"])
        assert len(account["invitations"]) == 1 and len(account["sign_in_sessions"]) == 1

        [protocol] = bundle["protocols"]
        assert protocol["id"] == record.protocol_id
        versions = db.session.scalars(
            select(ProtocolVersion).where(ProtocolVersion.protocol_id == record.protocol_id)
        ).all()
        assert [v["number"] for v in protocol["versions"]] == sorted(v.number for v in versions)
        stage_count = len(
            db.session.scalars(
                select(ProtocolStage).where(ProtocolStage.version_id.in_([v.id for v in versions]))
            ).all()
        )
        assert sum(len(v["stages"]) for v in protocol["versions"]) == stage_count > 0
        events = db.session.scalars(
            select(ProtocolEvent)
            .where(ProtocolEvent.protocol_id == record.protocol_id)
            .order_by(ProtocolEvent.id)
        ).all()
        assert [e["kind"] for e in protocol["events"]] == [e.kind.value for e in events]
        assert [e["effective_on"] for e in protocol["events"]] == [
            e.effective_on.isoformat() for e in events
        ]

        entries = db.session.scalars(
            select(DiaryEntry)
            .where(DiaryEntry.patient_id == record.patient_id)
            .order_by(DiaryEntry.occurred_at, DiaryEntry.id)
        ).all()
        assert [e["id"] for e in bundle["diary_entries"]] == [e.id for e in entries]
        first = next(e for e in bundle["diary_entries"] if e["id"] == record.entry_ids[0])
        assert first["revisions"][0]["previous"] == {"minutes": 5, "pain_during": 4}
        assert all(ISO_UTC.match(e["occurred_at"]) for e in bundle["diary_entries"])

    [red_flag] = bundle["red_flags"]
    assert red_flag["pain"] == 8 and red_flag["acknowledgement"] == "Phoned; settled with rest."
    with app.app_context():
        flags = db.session.scalars(
            select(CareFlag).where(CareFlag.patient_id == record.patient_id).order_by(CareFlag.id)
        ).all()
    assert sorted(f["id"] for f in bundle["care_flags"]) == [f.id for f in flags]
    [review] = [f for f in bundle["care_flags"] if f["kind"] == "review_due"]
    assert review["acknowledgement"] == "Booked." and ISO_UTC.match(review["acknowledged_at"])
    assert bundle["dashboard_summary"]["patient_id"] == record.patient_id
    assert bundle["reminder_settings"]["slots_text"] == "1@07:30"

    [note] = bundle["clinical_notes"]
    assert note["id"] == record.note_id and note["body"] == NOTE_TEXT
    assert [r["body"] for r in note["revisions"]] == ["First wording."]
    assert [a["id"] for a in note["addenda"]] == [record.addendum_id]

    [assignment] = bundle["outcome_measures"]
    assert assignment["id"] == record.assignment_id and assignment["cadence"] == "repeating"
    [response] = assignment["responses"]
    assert response["id"] == record.response_id
    assert response["answers"] == {"pain": 6} and response["total"] == 6.0

    people = {p["id"]: p for p in bundle["people"]}
    assert people[world.clinician.id]["name"] == world.clinician.name
    assert set(people[world.clinician.id]) == {"id", "name", "role"}
    assert bundle["dilator_sizes"] and all("display" in s for s in bundle["dilator_sizes"])

    assert "README.txt" in archive.namelist()
    assert "patient.json" in archive.read("README.txt").decode()


def test_each_report_is_in_the_zip_exactly_as_kept(
    app: Flask, client, world: World, record, as_clinician
) -> None:
    """Every stored report is in reports/ byte for byte, even two with the same file
    name, and its entry in patient.json names its file and checksum; every letter is in
    letters/ the same way."""
    bundle, archive = unzip(client.get(export_url(record.patient_id)))
    assert len(bundle["reports"]) == 2
    paths = {r["file"] for r in bundle["reports"]}
    assert len(paths) == 2 and all(p.startswith("reports/") for p in paths)
    with app.app_context():
        for entry in bundle["reports"]:
            stored = db.session.get(Report, entry["id"])
            assert archive.read(entry["file"]) == stored.pdf
            assert entry["sha256"] == stored.sha256
            assert "pdf" not in entry
    # And each letter in letters/, byte for byte, with whom it went to.
    [letter] = bundle["letters"]
    assert letter["file"] == "letters/letter-x.pdf" and "pdf" not in letter
    assert [r["name"] for r in letter["recipients"]] == ["Dr Record"]
    with app.app_context():
        assert archive.read(letter["file"]) == db.session.get(Letter, letter["id"]).pdf
    readable = f"my-data-{clinic_today(ZONE).isoformat()}.html"
    assert sorted(archive.namelist()) == sorted(
        ["README.txt", readable, "patient.json", *paths, letter["file"]]
    )


def test_no_secret_leaves_in_the_bundle(app: Flask, client, world: World, record) -> None:
    """Password hash, two-factor secret, session token, invitation and session token
    hashes, recovery codes and the entries' submission keys are never exported."""
    with app.app_context():
        user = db.session.get(User, record.user_id)
        secrets = {
            user.password_hash,
            user.session_token,
            TOTP_SECRET,
            RECOVERY_CODE_HASH,
            *db.session.scalars(select(UserSession.token_hash)),
            *db.session.scalars(select(Invitation.token_hash)),
            *db.session.scalars(select(DiaryEntry.submission_key)),
            DEVICE_ENDPOINT.rsplit("/", 1)[1],
            DEVICE_KEY,
            DEVICE_AUTH,
        }
    act_as(client, world.clinician.id)
    bundle, archive = unzip(client.get(export_url(record.patient_id)))
    everything = b"".join(archive.read(name) for name in archive.namelist()).decode("latin-1")
    for secret in secrets:
        assert secret and secret not in everything
    account = bundle["portal_account"]
    for field in ("password_hash", "totp_secret", "session_token", "totp_last_step"):
        assert field not in account
    assert account["password_set"] is True
    # The device is listed by its push service's name and dates only.
    [device] = account["notification_devices"]
    assert device["push_service"] == "fcm.googleapis.com"
    assert set(device) == {"id", "created_at", "last_used_at", "last_failed_at", "push_service"}


def test_file_name_and_readme_are_neutral(
    app: Flask, client, world: World, record, as_clinician
) -> None:
    """The download is named by the clinic's identifier and the day, never by name or
    diagnosis, and no copy may be kept by a cache."""
    response = client.get(export_url(record.patient_id))
    with app.app_context():
        patient = db.session.get(Patient, record.patient_id)
        expected = f"export-{patient.clinic_identifier}-{clinic_today(ZONE).isoformat()}.zip"
        name, indication = patient.full_name, patient.indication.value
    disposition = response.headers["Content-Disposition"]
    assert disposition == f"attachment; filename={expected}"
    assert name.split()[0] not in disposition and indication not in disposition
    assert response.mimetype == "application/zip"
    assert response.headers["Cache-Control"] == "no-store"


def test_the_export_is_audited(app: Flask, client, world: World, record) -> None:
    """Each download adds a "patient.export" event naming the patient, by whom and how."""
    act_as(client, world.admin.id)
    assert client.get(export_url(record.patient_id)).status_code == 200
    act_as(client, world.patient.id)
    assert client.get("/diary/my-data").status_code == 200
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "patient.export").order_by(AuditEvent.id)
        ).all()
        assert [(e.actor_id, e.patient_id) for e in events] == [
            (world.admin.id, record.patient_id),
            (world.patient.id, record.patient_id),
        ]
        assert [json.loads(e.detail) for e in events] == [
            {"via": "clinic", "reports": 2},
            {"via": "portal", "reports": 2},
        ]


def test_administrators_export_too(client, world: World, record, as_admin) -> None:
    """The clinic's administrators download the same bundle as its clinicians."""
    bundle, _ = unzip(client.get(export_url(record.patient_id)))
    assert bundle["patient"]["id"] == record.patient_id


def test_another_clinics_patient_is_not_found(client, world: World, record) -> None:
    """Staff of one clinic find nothing at another clinic's patient's export (404)."""
    for staff in (world.other_clinician.id, world.other_admin.id):
        act_as(client, staff)
        assert client.get(export_url(record.patient_id)).status_code == 404
    act_as(client, world.clinician.id)
    assert client.get(export_url(world.other_clinic_patient.patient_id)).status_code == 404


def test_a_patient_downloads_only_their_own(app: Flask, client, world: World, record) -> None:
    """From the portal the patient gets their own bundle, whatever the URL says; another
    patient gets theirs, without a trace of the first one's record."""
    act_as(client, world.patient.id)
    home = client.get("/diary/").get_data(as_text=True)
    assert "/diary/my-data" in home and "Download my data" in home
    bundle, archive = unzip(
        client.get(f"/diary/my-data?patient_id={world.other_patient.patient_id}")
    )
    assert bundle["patient"]["id"] == world.patient.patient_id
    assert len(bundle["diary_entries"]) == len(record.entry_ids)

    act_as(client, world.other_patient.id)
    bundle, archive = unzip(client.get("/diary/my-data"))
    assert bundle["patient"]["id"] == world.other_patient.patient_id
    assert bundle["diary_entries"] == [] and bundle["reports"] == []
    assert bundle["protocols"] == [] and bundle["clinical_notes"] == []
    text = archive.read("patient.json").decode()
    assert world.patient.name not in text and NOTE_TEXT not in text
    readable = f"my-data-{clinic_today(ZONE).isoformat()}.html"
    assert archive.namelist() == ["README.txt", readable, "patient.json"]
    page = archive.read(readable).decode()
    assert world.patient.name not in page and NOTE_TEXT not in page


def test_the_patient_page_offers_the_download(client, world: World, as_clinician) -> None:
    """The patient's page links to the export; erasure is left to administrators."""
    html = client.get(f"/patients/{world.patient.patient_id}").get_data(as_text=True)
    assert export_url(world.patient.patient_id) in html
    assert f"/patients/{world.patient.patient_id}/erasure" not in html
    assert "administrator" in html


def test_queries_do_not_grow_with_the_record(app: Flask, client, world: World) -> None:
    """A small record and a large one (more entries, notes and reports) cost the same
    number of queries: one per table, never one per row."""
    full_record(app, world.patient.patient_id, world.patient.id, world.clinician.id, entries=1)
    large = full_record(
        app, world.other_patient.patient_id, world.other_patient.id, world.clinician.id, entries=12
    )
    with app.app_context():
        patient = db.session.get(Patient, large.patient_id)
        for author in (world.clinician.id, world.colleague.id, world.colleague.id):
            write_note(patient, db.session.get(User, author), "Another note.")
        db.session.commit()
        engine = db.engine
    act_as(client, world.clinician.id)

    def queries(patient_id: int) -> int:
        with count_queries(engine) as statements:
            bundle, _ = unzip(client.get(export_url(patient_id)))
        return len(statements), bundle

    small_count, small = queries(world.patient.patient_id)
    large_count, large_bundle = queries(large.patient_id)
    assert len(large_bundle["diary_entries"]) == 12 > len(small["diary_entries"])
    assert len(large_bundle["clinical_notes"]) == 4 > len(small["clinical_notes"])
    # 27: one more each for letters and their recipients (issue 19).
    assert large_count == small_count <= 27


# The readable page ------------------------------------------------------------------------


def readable_page(archive: zipfile.ZipFile) -> str:
    """The readable page in an export's ZIP (exactly one, named my-data-<day>.html)."""
    [name] = [n for n in archive.namelist() if n.endswith(".html")]
    assert name == f"my-data-{clinic_today(ZONE).isoformat()}.html"
    return archive.read(name).decode()


def visible_text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def test_the_zip_holds_a_readable_page_of_the_same_data(
    app: Flask, client, world: World, record, as_clinician
) -> None:
    """Beside patient.json, my-data-<day>.html says the same in plain words: the details,
    the program with its stages and decisions, every diary entry (sessions and skips
    counted as the bundle has them, the corrected one marked), the flag and how it was
    handled (by whom, the note), the questionnaire's answer and score, the reminders set
    and the devices with notifications on (by push service only). The README points to
    it."""
    bundle, archive = unzip(client.get(export_url(record.patient_id)))
    page = readable_page(archive)
    text = visible_text(page)
    with app.app_context():
        patient = db.session.get(Patient, record.patient_id)
        born = patient.date_of_birth
        identifier = patient.clinic_identifier
    assert "<title>My data</title>" in page
    assert bundle["patient"]["full_name"] in text and identifier in text
    assert f"Date of birth {born.day} {born:%B %Y}" in text
    [protocol] = bundle["protocols"]
    assert protocol["name"] in text and "Moved up a stage, stage 2" in text
    assert "By " + world.clinician.name + ": Agreed at the appointment" in text
    stages = protocol["versions"][-1]["stages"]
    assert all(f"Stage {s['position']}:" in text for s in stages)

    entries = bundle["diary_entries"]
    done = sum(1 for e in entries if not e["skipped"] and not e["withdrawn_at"])
    assert f"{done} sessions logged and 0 skipped." in text
    assert page.count('<th scope="row">') == len(entries)
    assert text.count("You corrected this entry.") == 1
    assert re.search(
        rf"High pain \(8/10\) From a session you logged\. Seen by "
        rf"{re.escape(world.clinician.name)} on [^:]+:\d\d: Phoned; settled with rest\.",
        text,
    )
    assert "Review due Review planned for today. Seen by" in text and "Booked." in text
    assert "Pain numeric rating scale" in text and "score 6 (Moderate)" in text
    assert "2 reports from your clinic" in text
    assert re.search(r"Reminders On since \d+ \w+ \d{4}: Monday 07:30 \(by email\)", text)
    assert re.search(r"Devices with notifications on fcm\.googleapis\.com, since \d+", text)
    assert DEVICE_KEY not in page and "record-device-address" not in page
    assert "my-data-" in archive.read("README.txt").decode()


def test_the_readable_page_is_self_contained_and_discreet(
    app: Flask, client, world: World, record, as_clinician
) -> None:
    """The page loads nothing (its style inside it; no script, image, frame, external
    link or stylesheet), fits a phone's width (a viewport, no fixed widths), and its title
    and file name say nothing about the person or the therapy."""
    _, archive = unzip(client.get(export_url(record.patient_id)))
    page = readable_page(archive)
    for tag in ("<script", "<img", "<iframe", "<link", "<object", "<embed", "@import", "url("):
        assert tag not in page.lower(), tag
    assert not re.search(r'(src|href)="(https?:)?//', page)
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert "<style>" in page and not re.search(r"width:\s*\d{3,}px", page)
    title = re.search(r"<title>(.*?)</title>", page).group(1)
    name = next(n for n in archive.namelist() if n.endswith(".html"))
    words = set(re.findall(r"[a-z-]+", f"{title} {name}".lower()))
    assert not words & denied_words(), words & denied_words()
    assert world.patient.name.split()[0].lower() not in name.lower()


def test_a_patient_reads_their_data_on_screen(app: Flask, client, world: World, record) -> None:
    """From the portal, "Read my data" opens the same page, only ever the patient's own
    whatever the URL says, under a policy that allows its own style and nothing else,
    named as in the ZIP if saved, not cached, and audited."""
    act_as(client, world.patient.id)
    home = client.get("/diary/").get_data(as_text=True)
    assert "/diary/my-data/read" in home and "Read my data" in home
    response = client.get(f"/diary/my-data/read?patient_id={world.other_patient.patient_id}")
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert world.patient.name in page and "Back to your diary" in page
    style = re.search(r"<style>(.*?)</style>", page, re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(unescape(style).encode()).digest()).decode()
    policy = response.headers["Content-Security-Policy"]
    assert f"style-src 'sha256-{digest}'" in policy and "default-src 'none'" in policy
    assert "script-src" not in policy and "'unsafe-inline'" not in policy
    today = clinic_today(ZONE).isoformat()
    assert response.headers["Content-Disposition"] == f"inline; filename=my-data-{today}.html"
    assert response.headers["Cache-Control"] == "no-store"

    act_as(client, world.other_patient.id)
    other = client.get("/diary/my-data/read").get_data(as_text=True)
    assert world.other_patient.name in other
    assert world.patient.name not in other and "Phoned; settled with rest." not in other
    assert "No diary entries yet." in other and "No program has been started yet." in other
    with app.app_context():
        vias = [
            json.loads(e.detail)["via"]
            for e in db.session.scalars(
                select(AuditEvent)
                .where(AuditEvent.action == "patient.export")
                .order_by(AuditEvent.id)
            )
        ]
    assert vias == ["portal-page", "portal-page"]


def test_staff_cannot_open_the_patients_page(client, world: World, record) -> None:
    """The on-screen page is the patient's own: staff use the export."""
    for staff in (world.clinician.id, world.admin.id):
        act_as(client, staff)
        assert client.get("/diary/my-data/read").status_code == 403

"""The FHIR record leaving the clinic by hand: `flask fhir-export` writes a patient's bundle
to a file (found by portal email or clinic identifier; ambiguity and unknowns refused in
plain words), and the chart offers the same bundle as a discreet JSON download to the
clinic's staff; both are recorded in the audit trail."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from clinic.extensions import db
from clinic.models import AuditEvent, Patient
from tests.support.auth import act_as
from tests.support.fhir import resources, round_trips, unresolved
from tests.support.records import FullRecord, full_record
from tests.support.world import World

BASE = "https://diary.example.org"


@pytest.fixture
def record(app: Flask, world: World) -> FullRecord:
    return full_record(app, world.patient.patient_id, world.patient.id, world.clinician.id)


def run(app: Flask, *args: str):
    return app.test_cli_runner().invoke(args=list(args))


def fhir_events(app: Flask) -> list[tuple[int | None, int | None, int | None, dict[str, Any]]]:
    """(actor, patient, clinic, detail) of each FHIR export recorded, oldest first."""
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "patient.fhir_export")
            .order_by(AuditEvent.id)
        ).all()
        return [(e.actor_id, e.patient_id, e.clinic_id, json.loads(e.detail)) for e in events]


def test_the_command_writes_the_bundle_and_records_it(
    app: Flask, world: World, record: FullRecord, tmp_path: Path
) -> None:
    """Found by portal email (any case, stray spaces), the patient's bundle is written to
    --out readable by its owner only, valid, every reference resolved, with the URLs of the
    given public address; the export is in the audit trail (no actor: the command line)."""
    out = tmp_path / "record.json"
    who = f"  {world.patient.email.upper()} "
    result = run(app, "fhir-export", "--patient", who, "--out", str(out), "--base-url", BASE)
    assert result.exit_code == 0, result.output
    bundle = json.loads(out.read_text())
    round_trips(bundle)
    assert bundle["type"] == "collection" and unresolved(bundle) == set()
    [patient] = resources(bundle, "Patient")
    assert patient["id"] == f"patient-{record.patient_id}"
    assert all(e["fullUrl"].startswith(f"{BASE}/fhir/r4/") for e in bundle["entry"])
    assert out.stat().st_mode & 0o077 == 0
    assert f"{len(bundle['entry'])} resources" in result.output and str(out) in result.output
    assert fhir_events(app) == [
        (
            None,
            record.patient_id,
            world.clinic_a,
            {"via": "command", "resources": len(bundle["entry"])},
        )
    ]


def test_the_command_finds_by_identifier_and_the_clinic_chooses(
    app: Flask, world: World, tmp_path: Path
) -> None:
    """An identifier two clinics use is refused without --clinic (saying to add it, naming
    no clinic); with --clinic the one patient there is exported."""
    with app.app_context():
        mine = db.session.get_one(Patient, world.patient.patient_id)
        theirs = db.session.get_one(Patient, world.other_clinic_patient.patient_id)
        theirs.clinic_identifier = mine.clinic_identifier
        identifier, clinic_b = mine.clinic_identifier, theirs.clinic.name
        db.session.commit()
    out = tmp_path / "record.json"
    args = ["fhir-export", "--patient", identifier, "--out", str(out), "--base-url", BASE]

    ambiguous = run(app, *args)
    assert ambiguous.exit_code == 1
    assert "More than one clinic" in ambiguous.output and "--clinic" in ambiguous.output
    assert clinic_b not in ambiguous.output and not out.exists()

    chosen = run(app, *args, "--clinic", clinic_b)
    assert chosen.exit_code == 0, chosen.output
    [patient] = resources(json.loads(out.read_text()), "Patient")
    assert patient["id"] == f"patient-{world.other_clinic_patient.patient_id}"
    assert [e[1] for e in fhir_events(app)] == [world.other_clinic_patient.patient_id]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--patient", "nobody@example.org"], "no patient in any clinic"),
        (["--patient", "MRN-NONE", "--clinic", "Clinic A"], "no patient at 'Clinic A'"),
        (["--patient", "MRN-NONE", "--clinic", "No Such Clinic"], "no clinic is named"),
    ],
)
def test_the_command_refuses_unknowns_in_plain_words(
    app: Flask, world: World, tmp_path: Path, args: list[str], message: str
) -> None:
    """An unknown patient or clinic fails with a message saying which, writes nothing and
    records nothing."""
    out = tmp_path / "record.json"
    result = run(app, "fhir-export", *args, "--out", str(out), "--base-url", BASE)
    assert result.exit_code != 0
    assert message in result.output
    assert not out.exists() and fhir_events(app) == []


def test_the_command_needs_a_folder_and_an_address(
    app: Flask, world: World, tmp_path: Path
) -> None:
    """A folder that does not exist, or no public address (none configured, none given),
    is refused before anything is read."""
    missing = run(
        app,
        "fhir-export",
        "--patient",
        world.patient.email,
        "--out",
        str(tmp_path / "nowhere" / "record.json"),
        "--base-url",
        BASE,
    )
    assert missing.exit_code != 0 and "does not exist" in missing.output
    no_address = run(
        app,
        "fhir-export",
        "--patient",
        world.patient.email,
        "--out",
        str(tmp_path / "record.json"),
        "--base-url",
        "diary.example.org",
    )
    assert no_address.exit_code != 0 and "CLINIC_BASE_URL" in no_address.output
    assert fhir_events(app) == []


def download_url(patient_id: int) -> str:
    return f"/patients/{patient_id}/fhir-record"


def test_the_chart_download_is_a_discreet_audited_json_file(
    app: Flask, client, world: World, record: FullRecord, as_clinician
) -> None:
    """A clinician downloads the bundle from the chart: FHIR JSON, an attachment with a
    neutral name (the day only), never cached, valid, the same resources the command
    writes; the download is in the audit trail under the clinician's name."""
    response = client.get(download_url(record.patient_id))
    assert response.status_code == 200
    assert response.mimetype == "application/fhir+json"
    disposition = response.headers["Content-Disposition"]
    assert re.fullmatch(r'attachment; filename="?record-\d{4}-\d{2}-\d{2}\.json"?', disposition)
    assert response.headers["Cache-Control"] == "no-store"
    bundle = json.loads(response.data)
    round_trips(bundle)
    assert unresolved(bundle) == set()
    assert {r["resourceType"] for r in resources(bundle)} >= {
        "Patient",
        "CarePlan",
        "Observation",
        "DocumentReference",
        "Provenance",
    }
    assert fhir_events(app) == [
        (
            world.clinician.id,
            record.patient_id,
            world.clinic_a,
            {"via": "chart", "resources": len(bundle["entry"])},
        )
    ]


def test_the_chart_offers_the_download(client, world: World, as_clinician) -> None:
    """The patient's record page links to the download, beside the other exports."""
    page = client.get(f"/patients/{world.patient.patient_id}").get_data(as_text=True)
    assert download_url(world.patient.patient_id) in page
    assert "Download FHIR record (JSON)" in page


def test_no_one_else_downloads_it(app: Flask, client, world: World, record: FullRecord) -> None:
    """Staff of another clinic get 404 (the patient does not exist for them), patients get
    no download of anyone's, their own included; nothing is recorded as exported."""
    for actor in (world.other_clinician.id, world.other_admin.id):
        act_as(client, actor)
        assert client.get(download_url(record.patient_id)).status_code == 404
    for actor in (world.patient.id, world.other_patient.id):
        act_as(client, actor)
        assert client.get(download_url(record.patient_id)).status_code in (403, 404)
    assert fhir_events(app) == []

"""A patient's record as FHIR R4 (clinic.fhir): every resource valid by the R4B models
(round trip), every reference resolving inside the bundle, the values equal to what the
record holds (pain, skips, scores, the stored PDF), reads and identifier searches confined
to the clinic, and a fixed number of queries whatever the diary holds."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update

from clinic.domain.diary import SkipReason
from clinic.extensions import db
from clinic.fhir import (
    RESOURCE_TYPES,
    everything,
    find_patients,
    patient_bundle,
    read_resource,
)
from clinic.fhir.codes import LETTER_LOINC, patient_identifier_system
from clinic.models import DiaryEntry, Letter, LetterKind, MeasureResponse, Patient, Report
from tests.support.diaries import add_entries
from tests.support.fhir import (
    LOINC,
    PAIN,
    PAIN_DISPLAY,
    component,
    pains,
    resources,
    round_trips,
    unresolved,
)
from tests.support.letters import stored_letter
from tests.support.measure_scores import answer_measure, assign_measure
from tests.support.protocols import start_plan
from tests.support.queries import count_queries
from tests.support.records import FullRecord, full_record
from tests.support.world import World

BASE = "https://diary.example.org"
FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")


@pytest.fixture
def record(app: Flask, world: World) -> FullRecord:
    built = full_record(app, world.patient.patient_id, world.patient.id, world.clinician.id)
    add_entries(
        app,
        built.protocol_id,
        world.patient,
        [5, 6],
        skipped=True,
        skip_reason=SkipReason.PAIN_OR_FEAR,
    )
    return built


def bundle_of(app: Flask, patient_id: int, base: str = BASE) -> dict[str, Any]:
    with app.app_context():
        return patient_bundle(db.session.get_one(Patient, patient_id), base)


def test_every_resource_is_valid_r4_and_every_reference_resolves(
    app: Flask, world: World, record: FullRecord
) -> None:
    """The bundle is a `collection` whose resources each parse with the R4B models and
    serialise back unchanged; ids are unique FHIR ids, full URLs are the API's read
    addresses, every reference names a resource of the bundle, and it holds every kind
    of resource the mapping promises."""
    bundle = bundle_of(app, record.patient_id)

    round_trips(bundle)
    assert bundle["type"] == "collection"
    for entry in bundle["entry"]:
        resource = entry["resource"]
        round_trips(resource)
        assert FHIR_ID.match(resource["id"])
        assert entry["fullUrl"] == f"{BASE}/fhir/r4/{resource['resourceType']}/{resource['id']}"
    keys = [(r["resourceType"], r["id"]) for r in resources(bundle)]
    assert len(keys) == len(set(keys))
    assert unresolved(bundle) == set()
    kinds = {r["resourceType"] for r in resources(bundle)}
    assert kinds == set(RESOURCE_TYPES)


def test_the_patient_is_identified_by_the_clinic_and_no_gender_is_made_up(
    app: Flask, world: World, record: FullRecord
) -> None:
    """Patient: the clinic identifier under the clinic's own system, the legal name and the
    name to use, the date of birth, the pronouns in the standard extension, and no gender
    (the record holds none)."""
    with app.app_context():
        patient = db.session.get_one(Patient, record.patient_id)
        patient.name_to_use = "Sam"
        patient.pronouns = "they/them"
        db.session.commit()
        identifier, born = patient.clinic_identifier, patient.date_of_birth.isoformat()
    [resource] = resources(bundle_of(app, record.patient_id), "Patient")

    assert resource["identifier"] == [
        {
            "use": "usual",
            "system": f"{BASE}/fhir/identifier/{world.clinic_a}/patient",
            "value": identifier,
        }
    ]
    assert [n["use"] for n in resource["name"]] == ["official", "usual"]
    assert resource["name"][1]["text"] == "Sam"
    assert resource["birthDate"] == born
    assert "gender" not in resource
    [pronouns] = resource["extension"]
    assert pronouns["url"] == "http://hl7.org/fhir/StructureDefinition/individual-pronouns"
    assert pronouns["extension"] == [
        {"url": "value", "valueCodeableConcept": {"text": "they/them"}}
    ]


def test_sessions_carry_the_diary_values(app: Flask, world: World, record: FullRecord) -> None:
    """Each diary entry is an Observation: pain during and after under LOINC 72514-3 with
    the diary's values, the minutes, the dilator (its diameter and a Device reference),
    bleeding and sharp pain; a skip says it was skipped and why."""
    bundle = bundle_of(app, record.patient_id)
    sessions = {
        r["id"]: r for r in resources(bundle, "Observation") if r["id"].startswith("session-")
    }
    devices = {r["id"]: r for r in resources(bundle, "Device")}
    with app.app_context():
        entries = db.session.scalars(
            select(DiaryEntry).where(DiaryEntry.patient_id == record.patient_id)
        ).all()
        sizes = {e.id: e.dilator_size for e in entries}
    assert set(sessions) == {f"session-{e.id}" for e in entries}
    skips = 0
    for entry in entries:
        observation = sessions[f"session-{entry.id}"]
        skipped = component(observation, "skipped")
        assert skipped is not None and skipped["valueBoolean"] is entry.skipped
        if entry.skipped:
            skips += 1
            reason = component(observation, "skip-reason")
            assert reason is not None
            assert reason["valueCodeableConcept"]["coding"][0]["code"] == entry.skip_reason
            assert pains(observation) == [] and "device" not in observation
            assert observation["dataAbsentReason"]["coding"][0]["code"] == "not-performed"
            continue
        assert observation["code"]["coding"] == [
            {"system": LOINC, "code": PAIN, "display": PAIN_DISPLAY}
        ]
        assert observation["valueInteger"] == entry.pain_during
        assert pains(observation) == [entry.pain_during, entry.pain_after]
        minutes = component(observation, "session-minutes")
        assert minutes is not None and minutes["valueQuantity"]["value"] == entry.minutes
        diameter = component(observation, "dilator-diameter")
        assert diameter is not None
        assert diameter["valueQuantity"]["value"] == sizes[entry.id].diameter_mm
        device = devices[observation["device"]["reference"].removeprefix("Device/")]
        assert device["property"][0]["valueQuantity"][0] == {
            "value": sizes[entry.id].diameter_mm,
            "unit": "mm",
            "system": "http://unitsofmeasure.org",
            "code": "mm",
        }
        bleeding = component(observation, "bleeding")
        assert bleeding is not None
        assert bleeding["valueCodeableConcept"]["coding"][0]["code"] == entry.bleeding
        sharp = component(observation, "sharp-pain")
        assert sharp is not None and sharp["valueBoolean"] is entry.sharp_pain
    assert skips == 2


def test_the_programme_is_a_care_plan_with_a_device_request_per_stage(
    app: Flask, world: World, record: FullRecord
) -> None:
    """The protocol is a CarePlan with one activity per stage of its current plan; each is
    a DeviceRequest naming the stage's dilator and its schedule (sessions, minutes), the
    stage in force active and the earlier ones completed."""
    bundle = bundle_of(app, record.patient_id)
    [plan] = resources(bundle, "CarePlan")
    requests = {r["id"]: r for r in resources(bundle, "DeviceRequest")}
    assert plan["status"] == "active" and plan["intent"] == "plan"
    assert [a["reference"]["reference"] for a in plan["activity"]] == [
        f"DeviceRequest/{key}" for key in requests
    ]
    statuses = [r["status"] for r in requests.values()]
    # full_record advances once: stage 1 done, stage 2 in force, the rest to come.
    assert statuses[:2] == ["completed", "active"]
    assert set(statuses[2:]) == {"draft"}
    first = next(iter(requests.values()))
    assert first["codeReference"]["reference"].startswith("Device/dilator-")
    assert first["occurrenceTiming"]["repeat"]["durationUnit"] == "min"


def test_scores_equal_the_scoring_rules(app: Flask, world: World) -> None:
    """Measures answered become a Questionnaire per instrument, a QuestionnaireResponse (the
    answers given) and a score Observation derived from it, whose total and domain scores
    are what the domain's scoring function gives for those answers; a response the rules
    find not valid has no value and says why."""
    start_plan(app, world.patient.patient_id, world.clinician.id)
    confidence = {"insert": 3, "on_own": 2, "discomfort": 4, "keep_going": 1, "next_size": 0}
    fsfi = {f"q{i}": 3 for i in range(1, 20)}
    no_activity = {f"q{i}": 1 if i in (1, 2, 15, 16) else 0 for i in range(1, 20)}
    scored = {}
    for key, answers, ago in (
        ("dilator-confidence", confidence, 3),
        ("fsfi", fsfi, 2),
        ("fsfi", no_activity, 1),
    ):
        assignment = assign_measure(app, world.patient.patient_id, key, on_days_ago=ago)
        scored[(key, ago)] = (
            answers,
            answer_measure(app, assignment, "once", answers, occasion_days_ago=ago),
        )
    bundle = bundle_of(app, world.patient.patient_id)
    for resource in resources(bundle):
        round_trips(resource)
    questionnaires = {q["url"].rsplit("/", 1)[1]: q for q in resources(bundle, "Questionnaire")}
    assert set(questionnaires) == {"dilator-confidence", "fsfi"}
    responses = resources(bundle, "QuestionnaireResponse")
    scores = [r for r in resources(bundle, "Observation") if r["id"].startswith("score-")]
    assert len(responses) == len(scores) == 3
    for (key, _ago), (answers, expected), qr, observation in zip(
        scored.items(), scored.values(), responses, scores, strict=True
    ):
        questionnaire = questionnaires[key[0]]
        assert qr["questionnaire"] == f"{questionnaire['url']}|{questionnaire['version']}"
        given = {i["linkId"]: int(i["answer"][0]["valueCoding"]["code"]) for i in qr["item"]}
        assert given == {k: v for k, v in answers.items() if v is not None}
        assert observation["derivedFrom"] == [{"reference": f"QuestionnaireResponse/{qr['id']}"}]
        if expected.valid and expected.total is not None:
            assert observation["valueQuantity"]["value"] == float(expected.total)
        else:
            assert "valueQuantity" not in observation
            assert observation["dataAbsentReason"]["text"] == "; ".join(expected.reasons)
        domains = {
            part["code"]["coding"][0]["code"].split(".", 1)[1]: part.get("valueQuantity", {}).get(
                "value"
            )
            for part in observation.get("component", [])
        }
        assert domains == {
            d.key: float(d.score) if d.score is not None else None for d in expected.domains
        }
    assert len(domains) == 6  # FSFI's


def test_reports_and_letters_are_attached_with_their_hash_and_size(
    app: Flask, world: World, record: FullRecord
) -> None:
    """Each stored report and letter is a DocumentReference carrying the PDF exactly: its
    bytes in base64, application/pdf, its size, and its SHA-1 in base64 (FHIR's
    Attachment.hash); a letter is typed by its kind's LOINC document code and authored by
    the clinician who signed it."""
    bundle = bundle_of(app, record.patient_id)
    documents = {r["id"]: r for r in resources(bundle, "DocumentReference")}
    with app.app_context():
        stored = db.session.scalars(
            select(Report).where(Report.patient_id == record.patient_id)
        ).all()
        pdfs = {f"report-{r.id}": (r.pdf, r.sha256, r.size_bytes) for r in stored}
        letters = db.session.scalars(
            select(Letter).where(Letter.patient_id == record.patient_id)
        ).all()
        assert letters
        pdfs |= {f"letter-{x.id}": (x.pdf, x.sha256, x.size_bytes) for x in letters}
        authors = {f"letter-{x.id}": (x.author_id, x.kind) for x in letters}
    assert set(documents) == set(pdfs)
    for key, (pdf, sha256, size) in pdfs.items():
        [content] = documents[key]["content"]
        attachment = content["attachment"]
        data = base64.b64decode(attachment["data"])
        assert data == pdf and hashlib.sha256(data).hexdigest() == sha256
        assert attachment["contentType"] == "application/pdf"
        assert attachment["size"] == size == len(pdf)
        assert attachment["hash"] == base64.b64encode(hashlib.sha1(pdf).digest()).decode()  # noqa: S324
    expected = {LetterKind.REFERRAL: "57133-1", LetterKind.UPDATE: "11488-4"}
    expected[LetterKind.DISCHARGE] = "18842-5"
    for key, (author_id, kind) in authors.items():
        document = documents[key]
        assert document["type"]["coding"][0] == {
            "system": LOINC,
            "code": expected[kind],
            "display": LETTER_LOINC[kind.value][1],
        }
        assert document["author"] == [{"reference": f"Practitioner/practitioner-{author_id}"}]
        signed = [
            p
            for p in resources(bundle, "Provenance")
            if {"reference": f"DocumentReference/{key}"} in p["target"]
        ]
        assert [p["agent"][0]["who"]["reference"] for p in signed] == [
            f"Practitioner/practitioner-{author_id}"
        ]


def test_every_kind_of_letter_has_its_document_type(app: Flask, world: World) -> None:
    """A referral, an update and a discharge letter each carry their own LOINC type
    (Referral note, Consult note, Discharge summary), valid R4 by round trip."""
    with app.app_context():
        made = {}
        for kind in LetterKind:
            _, letter = stored_letter(
                world.clinic_a, world.patient.patient_id, world.clinician.id, f"Dr {kind}"
            )
            db.session.flush()
            made[f"letter-{letter.id}"] = kind
            db.session.execute(  # the kind, set where the ORM may not change a kept letter
                update(Letter).where(Letter.id == letter.id).values(kind=kind)
            )
        db.session.commit()
    bundle = bundle_of(app, world.patient.patient_id)
    documents = {r["id"]: r for r in resources(bundle, "DocumentReference")}
    assert {documents[key]["type"]["coding"][0]["code"] for key in made} == {
        "57133-1",
        "11488-4",
        "18842-5",
    }
    for key, kind in made.items():
        assert documents[key]["type"]["coding"][0]["code"] == LETTER_LOINC[kind.value][0]
        round_trips(documents[key])
    assert unresolved(bundle) == set()


def test_provenance_names_who_recorded_what(app: Flask, world: World, record: FullRecord) -> None:
    """Provenance: the patient recorded the diary and the answers, the clinician the plan
    and the report they made, the clinic (its rules) the flags and scores; the clinician
    who acknowledged flags, the acknowledgements."""
    bundle = bundle_of(app, record.patient_id)
    made = [p for p in resources(bundle, "Provenance") if "activity" not in p]
    by_agent = {
        p["agent"][0]["who"]["reference"]: {t["reference"] for t in p["target"]} for p in made
    }
    [acknowledgements] = [p for p in resources(bundle, "Provenance") if "activity" in p]
    assert acknowledgements["id"] == f"provenance-{record.patient_id}-user-{world.clinician.id}-ack"
    assert acknowledgements["activity"]["text"] == "Acknowledged"
    assert acknowledgements["agent"][0]["who"] == {
        "reference": f"Practitioner/practitioner-{world.clinician.id}"
    }
    # full_record's red flag and its review-due flag were both acknowledged.
    assert len(acknowledgements["target"]) == 2
    sessions = {
        f"Observation/{r['id']}"
        for r in resources(bundle, "Observation")
        if r["id"].startswith("session-")
    }
    assert sessions <= by_agent[f"Patient/patient-{record.patient_id}"]
    clinician = by_agent[f"Practitioner/practitioner-{world.clinician.id}"]
    assert f"CarePlan/careplan-{record.protocol_id}" in clinician
    assert f"DocumentReference/report-{record.report_ids[0]}" in clinician
    [high_pain] = [f for f in resources(bundle, "Flag") if f["id"].startswith("flag-")]
    assert high_pain["code"]["text"] == "High pain (8/10)"
    rules = by_agent[f"Organization/clinic-{world.clinic_a}"]
    assert {f"Flag/{r['id']}" for r in resources(bundle, "Flag")} <= rules
    everything_recorded = set().union(*by_agent.values())
    kinds = {ref.split("/")[0] for ref in everything_recorded}
    assert kinds >= {
        "Observation",
        "CarePlan",
        "DeviceRequest",
        "Flag",
        "QuestionnaireResponse",
        "DocumentReference",
    }


def test_everything_is_the_same_resources_as_a_searchset(
    app: Flask, world: World, record: FullRecord
) -> None:
    """$everything answers a `searchset` with the bundle's resources, the patient as the
    match and the rest included."""
    collection = bundle_of(app, record.patient_id)
    with app.app_context():
        found = everything(db.session.get_one(Patient, record.patient_id), BASE)
    round_trips(found)
    assert found["type"] == "searchset" and found["total"] == 1
    assert [e["resource"] for e in found["entry"]] == [e["resource"] for e in collection["entry"]]
    assert [e["search"]["mode"] for e in found["entry"]].count("match") == 1
    assert unresolved(found) == set()


def test_read_resource_serves_the_clinic_its_own_and_nothing_else(
    app: Flask, world: World, record: FullRecord
) -> None:
    """Every resource of the bundle reads back, equal, for its clinic; another clinic
    reads none of them (None, never an error) but the questionnaires shipped with the
    product, which every clinic has and which hold no patient data.
    Junk ids and unknown types read None."""
    bundle = bundle_of(app, record.patient_id)
    with app.app_context():
        for resource in resources(bundle):
            kind, key = resource["resourceType"], resource["id"]
            assert read_resource(world.clinic_a, kind, key, BASE) == resource, key
            if kind != "Questionnaire":  # shipped instruments: every clinic has them
                assert read_resource(world.clinic_b, kind, key, BASE) is None, key
        session = next(r["id"] for r in resources(bundle, "Observation"))
        junk = [
            ("Observation", "flag-1"),  # a kind the type does not have
            ("Flag", session),
            ("Observation", "session-999999"),
            ("Observation", "session-99999999999999999999999999"),
            ("Observation", "session--1"),
            ("Observation", "../session-1"),
            ("Observation", ""),
            ("Patient", "patient-1 OR 1=1"),
            ("Provenance", "provenance-x-patient"),
            ("Questionnaire", "instrument-nothing-9"),
            ("Questionnaire", "é" * 70),
            ("Encounter", "encounter-1"),
            ("patient", f"patient-{record.patient_id}"),
            ("Organization", f"clinic-{world.clinic_b}"),
            ("Practitioner", f"practitioner-{world.patient.id}"),  # a patient's login
        ]
        for kind, key in junk:
            assert read_resource(world.clinic_a, kind, key, BASE) is None, (kind, key)
        assert read_resource(world.clinic_a, None, "patient-1", BASE) is None  # type: ignore[arg-type]
        assert read_resource(world.clinic_a, "Patient", ["patient-1"], BASE) is None  # type: ignore[arg-type]
        assert read_resource(10**9, "Organization", "clinic-1", BASE) is None
        assert read_resource(world.clinic_a, "Organization", f"clinic-{world.clinic_a}", BASE)


def test_find_patients_by_identifier_within_the_clinic(app: Flask, world: World) -> None:
    """Identifier search finds the clinic's patient by value, with or without the clinic's
    system (whatever address it is given under); another clinic's system, another
    clinic's patient and junk find nobody."""
    with app.app_context():
        mine = db.session.get_one(Patient, world.patient.patient_id)
        theirs = db.session.get_one(Patient, world.other_clinic_patient.patient_id)
        value = mine.clinic_identifier
        own_system = patient_identifier_system(BASE, world.clinic_a)
        assert find_patients(world.clinic_a, None, value) == [mine]
        assert find_patients(world.clinic_a, own_system, value) == [mine]
        assert find_patients(
            world.clinic_a, patient_identifier_system("http://localhost", world.clinic_a), value
        ) == [mine]
        assert (
            find_patients(world.clinic_a, patient_identifier_system(BASE, world.clinic_b), value)
            == []
        )
        assert find_patients(world.clinic_a, "urn:oid:1.2.3", value) == []
        # Where the base URL is known (the API), the system is compared in full: the
        # clinic's ending under another address is a foreign system.
        assert find_patients(world.clinic_a, own_system, value, BASE) == [mine]
        assert find_patients(world.clinic_a, own_system, value, BASE + "/") == [mine]
        assert find_patients(world.clinic_a, None, value, BASE) == [mine]
        for foreign in (
            patient_identifier_system("https://evil.example", world.clinic_a),
            patient_identifier_system(BASE + "/x", world.clinic_a),
            patient_identifier_system("http://diary.example.org", world.clinic_a),
            own_system + "/",
            patient_identifier_system(BASE, world.clinic_b),
        ):
            assert find_patients(world.clinic_a, foreign, value, BASE) == [], foreign
        assert find_patients(world.clinic_a, None, theirs.clinic_identifier) == []
        assert find_patients(world.clinic_b, None, value) == []
        assert find_patients(world.clinic_a, None, "") == []
        assert find_patients(world.clinic_a, None, "x" * 500) == []


def _queries_for_bundle(app: Flask, patient_id: int) -> int:
    with app.app_context():
        patient = db.session.get_one(Patient, patient_id)
        with count_queries(db.engine) as statements:
            bundle = patient_bundle(patient, BASE)
        json.dumps(bundle)
    return len(statements)


def test_a_bundle_takes_the_same_queries_for_a_short_and_a_long_diary(
    app: Flask, world: World
) -> None:
    """The bundle reads one query per table: a diary of 3 entries and one of 56 (with
    flags, measures, reports) take the same number of queries."""
    short = full_record(
        app, world.patient.patient_id, world.patient.id, world.clinician.id, entries=3
    )
    long = full_record(
        app, world.other_patient.patient_id, world.other_patient.id, world.clinician.id, entries=28
    )
    add_entries(app, long.protocol_id, world.other_patient, range(1, 29), skipped=True)
    with app.app_context():
        counted = db.session.scalars(
            select(DiaryEntry.id).where(DiaryEntry.patient_id == world.other_patient.patient_id)
        ).all()
        assert len(counted) == 56
        assert db.session.scalar(select(MeasureResponse.id).limit(1)) is not None
    few = _queries_for_bundle(app, short.patient_id)
    assert few == _queries_for_bundle(app, long.patient_id)
    assert few <= 14


def test_a_record_with_nothing_yet_is_still_a_valid_bundle(app: Flask, world: World) -> None:
    """A patient with no protocol, diary, measure or report: the patient and the clinic,
    valid, every reference resolved."""
    bundle = bundle_of(app, world.offline_patient_id)
    for resource in resources(bundle):
        round_trips(resource)
    assert {r["resourceType"] for r in resources(bundle)} == {"Patient", "Organization"}
    assert unresolved(bundle) == set()


def test_withdrawn_and_corrected_entries_say_so(app: Flask, world: World) -> None:
    """A withdrawn entry is `entered-in-error`; a corrected one `amended`."""
    protocol = start_plan(app, world.patient.patient_id, world.clinician.id)
    add_entries(app, protocol, world.patient, [1], withdrawn=True)
    add_entries(app, protocol, world.patient, [2])
    with app.app_context():
        entry = db.session.scalars(
            select(DiaryEntry).where(DiaryEntry.withdrawn_at.is_(None))
        ).one()
        entry.updated_at = entry.created_at + timedelta(minutes=5)
        db.session.commit()
    statuses = sorted(
        r["status"] for r in resources(bundle_of(app, world.patient.patient_id), "Observation")
    )
    assert statuses == ["amended", "entered-in-error"]

"""A patient's record as FHIR R4, and the scoped reads the FHIR API serves.

The interface (stable: the HTTP API and the chart download are built on it):

- `patient_bundle(patient, base_url)`: a Bundle of type `collection` holding the patient,
  the clinic (Organization), the staff the record names (Practitioner), the dilator sizes
  it uses (Device), each protocol (CarePlan, an activity per stage of its current plan as a
  DeviceRequest naming the Device), each diary entry (Observation), the red flags and rule
  flags (Flag), the measures answered (Questionnaire, QuestionnaireResponse and a score
  Observation), the stored reports and letters (DocumentReference with the PDF) and who
  recorded what (Provenance). Every reference resolves inside it; each entry's fullUrl is
  `{base_url}/fhir/r4/{Type}/{id}`.
- `everything(patient, base_url)`: the same resources as a `searchset` (Patient/$everything).
- `read_resource(clinic_id, resource_type, resource_id, base_url)`: one resource, only if
  it belongs to that clinic; None otherwise (unknown type, malformed or unknown id).
- `find_patients(clinic_id, system, value, base_url)`: the clinic's patients with that
  identifier (the system compared in full when the base URL is known).
- `RESOURCE_TYPES`: the types `read_resource` serves.

Reads are scoped by clinic inside every query, and a bundle is read with a fixed number of
queries whatever the record holds (one per table; no lazy loads per row).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager, selectinload, undefer

from clinic.core.requests import MAX_ID
from clinic.domain.questionnaires import Instrument
from clinic.extensions import db
from clinic.fhir import codes
from clinic.fhir import resources as build
from clinic.fhir.resources import Context, Recorded, Resource
from clinic.measures.instruments import versions as instrument_versions
from clinic.models import (
    CareFlag,
    Clinic,
    DiaryEntry,
    DilatorSet,
    DilatorSize,
    Letter,
    MeasureResponse,
    Patient,
    Protocol,
    ProtocolStage,
    ProtocolVersion,
    RedFlag,
    Report,
    Role,
    User,
)

# The types `read_resource` serves (the API's CapabilityStatement lists these).
RESOURCE_TYPES: tuple[str, ...] = (
    "Patient",
    "Organization",
    "Practitioner",
    "Device",
    "CarePlan",
    "DeviceRequest",
    "Observation",
    "Flag",
    "Questionnaire",
    "QuestionnaireResponse",
    "DocumentReference",
    "Provenance",
)

STAFF_ROLES = (Role.CLINICIAN, Role.ADMIN)


@dataclass(frozen=True)
class PatientRecord:
    """What a patient's FHIR resources are made of, loaded in bulk."""

    patient: Patient
    clinic: Clinic
    protocols: list[Protocol]
    entries: list[DiaryEntry]
    red_flags: list[RedFlag]
    care_flags: list[CareFlag]
    responses: list[MeasureResponse]
    reports: list[Report]
    letters: list[Letter]
    staff: dict[int, User]
    sizes: dict[int, DilatorSize]
    instruments: dict[tuple[str, str], Instrument]


def load_record(patient: Patient) -> PatientRecord:
    """Everything the bundle holds, one query per table, each scoped to the patient's
    clinic and the patient inside the query."""
    pid, cid = patient.id, patient.clinic_id

    def mine(model: Any) -> tuple[sa.ColumnElement[bool], ...]:
        return (model.patient_id == pid, model.clinic_id == cid)

    clinic = db.session.get_one(Clinic, cid)
    protocols = list(
        db.session.scalars(
            sa.select(Protocol)
            .where(*mine(Protocol))
            .options(
                selectinload(Protocol.versions).selectinload(ProtocolVersion.stages),
                selectinload(Protocol.events),
            )
            .order_by(Protocol.id)
        )
    )
    entries = list(
        db.session.scalars(
            sa.select(DiaryEntry)
            .where(*mine(DiaryEntry))
            .order_by(DiaryEntry.occurred_at, DiaryEntry.id)
        )
    )
    red_flags = list(
        db.session.scalars(
            sa.select(RedFlag).where(*mine(RedFlag)).order_by(RedFlag.raised_at, RedFlag.id)
        )
    )
    care_flags = list(
        db.session.scalars(
            sa.select(CareFlag).where(*mine(CareFlag)).order_by(CareFlag.raised_at, CareFlag.id)
        )
    )
    responses = list(
        db.session.scalars(
            sa.select(MeasureResponse)
            .where(*mine(MeasureResponse), MeasureResponse.submitted_at.is_not(None))
            .order_by(MeasureResponse.submitted_at, MeasureResponse.id)
        )
    )
    reports = list(
        db.session.scalars(
            sa.select(Report)
            .where(*mine(Report))
            .options(undefer(Report.pdf))
            .order_by(Report.created_at, Report.id)
        )
    )
    letters = list(
        db.session.scalars(
            sa.select(Letter)
            .where(*mine(Letter))
            .options(undefer(Letter.pdf))
            .order_by(Letter.created_at, Letter.id)
        )
    )
    people = {p.created_by_id for p in protocols}
    people |= {e.created_by_id for e in entries}
    people |= {r.author_id for r in reports}
    people |= {letter.author_id for letter in letters}
    people |= {f.acknowledged_by_id for f in red_flags}
    people |= {f.acknowledged_by_id for f in care_flags}
    people.add(patient.responsible_clinician_id)
    people.discard(None)
    staff = _staff(cid, {p for p in people if p is not None})
    size_ids = {e.dilator_size_id for e in entries if e.dilator_size_id is not None}
    size_ids |= {s.dilator_size_id for p in protocols for s in p.versions[-1].stages if p.versions}
    instruments = instrument_versions(cid) if responses else {}
    return PatientRecord(
        patient=patient,
        clinic=clinic,
        protocols=protocols,
        entries=entries,
        red_flags=red_flags,
        care_flags=care_flags,
        responses=responses,
        reports=reports,
        letters=letters,
        staff=staff,
        sizes=_sizes(cid, size_ids),
        instruments=instruments,
    )


def _staff(clinic_id: int, ids: set[int]) -> dict[int, User]:
    if not ids:
        return {}
    users = db.session.scalars(
        sa.select(User)
        .where(User.id.in_(sorted(ids)), User.clinic_id == clinic_id, User.role.in_(STAFF_ROLES))
        .order_by(User.id)
    )
    return {u.id: u for u in users}


def _sizes(clinic_id: int, ids: set[int]) -> dict[int, DilatorSize]:
    if not ids:
        return {}
    sizes = db.session.scalars(
        sa.select(DilatorSize)
        .join(DilatorSet, DilatorSet.id == DilatorSize.set_id)
        .where(DilatorSize.id.in_(sorted(ids)), DilatorSet.clinic_id == clinic_id)
        .options(contains_eager(DilatorSize.dilator_set))
        .order_by(DilatorSize.id)
    )
    return {s.id: s for s in sizes}


def record_resources(record: PatientRecord, base_url: str) -> list[Resource]:
    """The patient's resources, in reading order (see the module docstring)."""
    patient = record.patient
    ctx = Context(
        base_url=base_url.rstrip("/"), clinic=record.clinic, staff=record.staff, patient=patient
    )
    made_by: dict[tuple[str, bool], Recorded] = {}

    def recorded(agent: Resource, target: Resource, at: datetime, ack: bool = False) -> None:
        made_by.setdefault((agent["reference"], ack), Recorded(agent, ack)).add(target, at)

    def acknowledged(flag: RedFlag | CareFlag, resource: Resource) -> None:
        if flag.acknowledged_at is not None and flag.acknowledged_by_id is not None:
            recorded(ctx.agent(flag.acknowledged_by_id), resource, flag.acknowledged_at, True)

    plans: list[Resource] = []
    plan_of: dict[int, str] = {}
    for protocol in record.protocols:
        if not protocol.versions:
            continue
        made = build.careplan_resources(ctx, protocol)
        plan_of[protocol.id] = made[0]["id"]
        for resource in made:
            recorded(ctx.agent(protocol.created_by_id), resource, protocol.created_at)
        plans.extend(made)

    sessions = []
    for entry in record.entries:
        size = record.sizes.get(entry.dilator_size_id) if entry.dilator_size_id else None
        observation = build.session_observation(ctx, entry, size, plan_of.get(entry.protocol_id))
        recorded(ctx.agent(entry.created_by_id), observation, entry.created_at)
        sessions.append(observation)

    flags = []
    for red in record.red_flags:
        flags.append(build.red_flag_resource(ctx, red))
        recorded(ctx.organization, flags[-1], red.raised_at)
        acknowledged(red, flags[-1])
    for care in record.care_flags:
        flags.append(build.care_flag_resource(ctx, care))
        recorded(ctx.organization, flags[-1], care.raised_at)
        acknowledged(care, flags[-1])

    questionnaires: dict[str, Resource] = {}
    answers: list[Resource] = []
    for response in record.responses:
        instrument = record.instruments.get((response.instrument_key, response.instrument_version))
        if instrument is not None:
            questionnaire = build.questionnaire_resource(ctx, instrument)
            questionnaires.setdefault(questionnaire["id"], questionnaire)
        qr, score = build.response_resources(ctx, response, instrument)
        recorded(ctx.subject, qr, response.sent_at)
        recorded(ctx.organization, score, response.sent_at)  # scored by the rules
        answers.extend((qr, score))

    documents = []
    for report in record.reports:
        documents.append(build.report_document(ctx, report))
        recorded(ctx.agent(report.author_id), documents[-1], report.created_at)
    for letter in record.letters:
        documents.append(build.letter_document(ctx, letter))
        recorded(ctx.agent(letter.author_id), documents[-1], letter.created_at)

    return [
        build.patient_resource(ctx, patient),
        build.organization_resource(record.clinic),
        *(build.practitioner_resource(u) for u in record.staff.values()),
        *(build.device_resource(ctx, s) for s in record.sizes.values()),
        *plans,
        *sessions,
        *flags,
        *questionnaires.values(),
        *answers,
        *documents,
        *build.provenance_resources(patient, made_by.values()),
    ]


def full_url(base_url: str, resource: Resource) -> str:
    """Where the resource is read in the API: `{base_url}/fhir/r4/{Type}/{id}`."""
    return f"{base_url.rstrip('/')}/fhir/r4/{resource['resourceType']}/{resource['id']}"


def _bundle(kind: str, resources: Iterable[Resource], base_url: str) -> dict[str, Any]:
    entries = []
    for resource in resources:
        entry: dict[str, Any] = {"fullUrl": full_url(base_url, resource), "resource": resource}
        if kind == "searchset":
            mode = "match" if resource["resourceType"] == "Patient" else "include"
            entry["search"] = {"mode": mode}
        entries.append(entry)
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": kind,
        "timestamp": build.fhir_instant(datetime.now(UTC)),
    }
    if kind == "searchset":
        bundle["total"] = 1
    bundle["entry"] = entries
    return bundle


def patient_bundle(patient: Patient, base_url: str) -> dict[str, Any]:
    """The patient's record as a FHIR R4 Bundle of type `collection` (see the module
    docstring for what it holds)."""
    return _bundle("collection", record_resources(load_record(patient), base_url), base_url)


def everything(patient: Patient, base_url: str) -> dict[str, Any]:
    """The same resources as `patient_bundle`, as the `searchset` Bundle that
    Patient/<id>/$everything answers (total: the one patient matched)."""
    return _bundle("searchset", record_resources(load_record(patient), base_url), base_url)


def find_patients(
    clinic_id: int, system: str | None, value: str, base_url: str | None = None
) -> list[Patient]:
    """The clinic's patients whose clinic identifier is `value`. With a `system`, only
    the clinic's own identifier system matches: with `base_url` (the API always knows the
    address it answers at) the system must be exactly `{base_url}/fhir/identifier/<clinic
    id>/patient`; without it, a system with that ending under any address."""
    value = value.strip()
    if not value or len(value) > 40:
        return []
    if system is not None:
        if base_url is not None:
            if system != codes.patient_identifier_system(base_url.rstrip("/"), clinic_id):
                return []
        elif not system.endswith(codes.identifier_system_suffix(clinic_id)):
            return []
    return list(
        db.session.scalars(
            sa.select(Patient)
            .where(Patient.clinic_id == clinic_id, Patient.clinic_identifier == value)
            .order_by(Patient.id)
        )
    )


# Reading one resource by id.

_NUMBERED = re.compile(r"^([a-z]+)-([0-9]{1,18})$")
_PROVENANCE = re.compile(r"^provenance-([0-9]{1,18})-(patient|clinic|user-[0-9]{1,18})(-ack)?$")

# (type, id prefix) -> the query of the patient a patient-level resource belongs to.
_OWNER: dict[tuple[str, str], Any] = {
    ("Patient", "patient"): lambda pk: sa.select(Patient.id).where(Patient.id == pk),
    ("CarePlan", "careplan"): lambda pk: sa.select(Protocol.patient_id).where(Protocol.id == pk),
    ("Observation", "session"): lambda pk: sa.select(DiaryEntry.patient_id).where(
        DiaryEntry.id == pk
    ),
    ("Observation", "score"): lambda pk: sa.select(MeasureResponse.patient_id).where(
        MeasureResponse.id == pk
    ),
    ("QuestionnaireResponse", "response"): lambda pk: sa.select(MeasureResponse.patient_id).where(
        MeasureResponse.id == pk
    ),
    ("Flag", "flag"): lambda pk: sa.select(RedFlag.patient_id).where(RedFlag.id == pk),
    ("Flag", "careflag"): lambda pk: sa.select(CareFlag.patient_id).where(CareFlag.id == pk),
    ("DocumentReference", "report"): lambda pk: sa.select(Report.patient_id).where(Report.id == pk),
    ("DocumentReference", "letter"): lambda pk: sa.select(Letter.patient_id).where(Letter.id == pk),
    ("DeviceRequest", "stage"): lambda pk: (
        sa.select(Protocol.patient_id)
        .join(ProtocolVersion, ProtocolVersion.protocol_id == Protocol.id)
        .join(ProtocolStage, ProtocolStage.version_id == ProtocolVersion.id)
        .where(ProtocolStage.id == pk)
    ),
}


def read_resource(
    clinic_id: int, resource_type: str, resource_id: str, base_url: str
) -> Resource | None:
    """One resource of the clinic, as the bundle holds it; None when the type is not
    served, the id is malformed or unknown, or it belongs to another clinic. A resource
    about a patient is taken from that patient's resources, built whole (the same fixed
    number of queries as a bundle): what it says is always what the bundle says."""
    if not isinstance(resource_type, str) or not isinstance(resource_id, str):
        return None
    if resource_type not in RESOURCE_TYPES:
        return None
    clinic = db.session.get(Clinic, clinic_id)
    if clinic is None:
        return None
    ctx = Context(base_url=base_url.rstrip("/"), clinic=clinic)
    if resource_type == "Questionnaire":
        return _questionnaire(ctx, resource_id)
    if resource_type == "Provenance":
        found = _PROVENANCE.match(resource_id)
        owner = int(found.group(1)) if found else None
        if owner is not None and owner > MAX_ID:
            return None
    else:
        found = _NUMBERED.match(resource_id)
        # Beyond the columns' range no row can match, and PostgreSQL refuses the query.
        if found is None or int(found.group(2)) > MAX_ID:
            return None
        prefix, pk = found.group(1), int(found.group(2))
        if (resource_type, prefix) == ("Organization", "clinic"):
            return build.organization_resource(clinic) if pk == clinic_id else None
        if (resource_type, prefix) == ("Practitioner", "practitioner"):
            staff = _staff(clinic_id, {pk})
            return build.practitioner_resource(staff[pk]) if pk in staff else None
        if (resource_type, prefix) == ("Device", "dilator"):
            sizes = _sizes(clinic_id, {pk})
            return build.device_resource(ctx, sizes[pk]) if pk in sizes else None
        query = _OWNER.get((resource_type, prefix))
        owner = db.session.scalar(query(pk)) if query is not None else None
    if owner is None:
        return None
    patient = db.session.scalar(
        sa.select(Patient).where(Patient.id == owner, Patient.clinic_id == clinic_id)
    )
    if patient is None:
        return None
    wanted = (resource_type, resource_id)
    return build.by_kind(record_resources(load_record(patient), base_url)).get(wanted)


def _questionnaire(ctx: Context, resource_id: str) -> Resource | None:
    if not re.fullmatch(r"[A-Za-z0-9.-]{1,64}", resource_id):
        return None
    for (key, version), instrument in instrument_versions(ctx.clinic.id).items():
        if build.questionnaire_id(key, version) == resource_id:
            return build.questionnaire_resource(ctx, instrument)
    return None

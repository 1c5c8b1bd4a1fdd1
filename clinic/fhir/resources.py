"""Builders of FHIR R4 resources from our records: plain functions from loaded rows to
JSON-ready dicts, with no queries of their own (clinic.fhir.records loads what they need).

Ids encode the kind of record, so one id never names two things: `patient-12`,
`clinic-1`, `practitioner-4`, `dilator-9` (a catalogue size), `careplan-3` (a protocol),
`stage-17` (a stage of its current plan), `session-123` (a diary entry), `flag-7` (a red
flag), `careflag-5` (a rule flag), `instrument-pain-nrs-1` (a questionnaire version),
`response-8` and `score-8` (a measure's answers and their score), `report-2` (a stored
progress report), `letter-3` (a stored letter), `provenance-12-patient` /
`provenance-12-user-4` / `provenance-12-clinic` (who recorded what for patient 12;
`provenance-12-user-4-ack` for the flags user 4 acknowledged). References are relative
(`Patient/patient-12`): they resolve against the base of the bundle's full URLs,
`{base_url}/fhir/r4`.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from clinic.domain.diary import Concern, FlagReason
from clinic.domain.protocols import Period, ProtocolStatus
from clinic.domain.questionnaires import Instrument
from clinic.fhir import codes
from clinic.fhir.codes import system
from clinic.models import (
    CareFlag,
    Clinic,
    DiaryEntry,
    DilatorSize,
    Letter,
    MeasureResponse,
    Patient,
    Protocol,
    ProtocolStage,
    ProtocolVersion,
    RedFlag,
    Report,
    User,
)

Resource = dict[str, Any]


def fhir_instant(moment: datetime) -> str:
    """A timestamp as FHIR writes it: UTC, with a Z."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def reference(resource_type: str, resource_id: str, display: str | None = None) -> Resource:
    """A relative reference, `Type/id`, with an optional display."""
    ref: Resource = {"reference": f"{resource_type}/{resource_id}"}
    if display:
        ref["display"] = display
    return ref


def ref_to(resource: Resource) -> Resource:
    """A reference to a built resource."""
    return reference(resource["resourceType"], resource["id"])


def coding(system_url: str, code: str, display: str | None = None) -> Resource:
    found: Resource = {"system": system_url, "code": code}
    if display:
        found["display"] = display
    return found


def concept(*codings: Resource, text: str | None = None) -> Resource:
    found: Resource = {}
    if codings:
        found["coding"] = list(codings)
    if text:
        found["text"] = text
    return found


def quantity(value: float, unit: str) -> Resource:
    """A UCUM quantity (`unit` is both the human unit and the UCUM code)."""
    return {"value": value, "unit": unit, "system": codes.UCUM, "code": unit}


@dataclass(frozen=True)
class Context:
    """What the builders of one clinic's resources share: the base URL, the clinic, the
    staff accounts they may name and, for a patient's resources, the patient."""

    base_url: str
    clinic: Clinic
    staff: Mapping[int, User] = field(default_factory=dict)
    patient: Patient | None = None

    def our(self, name: str) -> str:
        return system(self.base_url, name)

    @property
    def organization(self) -> Resource:
        return reference("Organization", organization_id(self.clinic.id), self.clinic.name)

    @property
    def subject(self) -> Resource:
        if self.patient is None:
            raise ValueError("these resources need the patient")
        return reference("Patient", patient_id(self.patient.id))

    def agent(self, user_id: int | None) -> Resource:
        """Who did something: the patient (their portal login), a member of staff, or,
        for the rules and the command line, the clinic."""
        if user_id is not None and self.patient is not None and user_id == self.patient.user_id:
            return self.subject
        if user_id is not None and user_id in self.staff:
            return reference("Practitioner", practitioner_id(user_id))
        return self.organization

    def diary_code(self, code: str) -> Resource:
        return coding(self.our(codes.DIARY), code, codes.DIARY_CODES[code])


# Ids, one function per kind.


def patient_id(pk: int) -> str:
    return f"patient-{pk}"


def organization_id(pk: int) -> str:
    return f"clinic-{pk}"


def practitioner_id(pk: int) -> str:
    return f"practitioner-{pk}"


def device_id(pk: int) -> str:
    return f"dilator-{pk}"


def careplan_id(pk: int) -> str:
    return f"careplan-{pk}"


def stage_id(pk: int) -> str:
    return f"stage-{pk}"


def session_id(pk: int) -> str:
    return f"session-{pk}"


def flag_id(pk: int) -> str:
    return f"flag-{pk}"


def care_flag_id(pk: int) -> str:
    return f"careflag-{pk}"


def questionnaire_id(key: str, version: str) -> str:
    return codes.safe_id(f"instrument-{key}-{version}")[:64]


def response_id(pk: int) -> str:
    return f"response-{pk}"


def score_id(pk: int) -> str:
    return f"score-{pk}"


def report_id(pk: int) -> str:
    return f"report-{pk}"


def letter_id(pk: int) -> str:
    return f"letter-{pk}"


# The clinic, its people and its devices.


def patient_resource(ctx: Context, patient: Patient) -> Resource:
    """The patient: the clinic's identifier, names, date of birth. No gender (the record
    holds none, and it is never guessed); pronouns in the standard extension."""
    names = [{"use": "official", "text": patient.full_name}]
    if patient.greeting_name:
        names.append({"use": "usual", "text": patient.greeting_name})
    resource: Resource = {
        "resourceType": "Patient",
        "id": patient_id(patient.id),
        "identifier": [
            {
                "use": "usual",
                "system": codes.patient_identifier_system(ctx.base_url, patient.clinic_id),
                "value": patient.clinic_identifier,
            }
        ],
        "active": True,
        "name": names,
        "birthDate": patient.date_of_birth.isoformat(),
        "managingOrganization": ctx.organization,
    }
    if patient.pronouns.strip():
        resource["extension"] = [
            {
                "url": codes.PRONOUNS_EXTENSION,
                "extension": [
                    {"url": "value", "valueCodeableConcept": {"text": patient.pronouns.strip()}}
                ],
            }
        ]
    return resource


def organization_resource(clinic: Clinic) -> Resource:
    """The clinic, with its phone and email where recorded."""
    telecom = [
        {"system": kind, "value": value, "use": "work"}
        for kind, value in (("phone", clinic.phone), ("email", clinic.email))
        if value
    ]
    resource: Resource = {
        "resourceType": "Organization",
        "id": organization_id(clinic.id),
        "active": True,
        "name": clinic.name,
    }
    if telecom:
        resource["telecom"] = telecom
    if clinic.address.strip():
        resource["address"] = [{"text": clinic.address.strip()}]
    return resource


def practitioner_resource(user: User) -> Resource:
    """A member of the clinic's staff: name (as written, never split) and whether the
    account is active."""
    return {
        "resourceType": "Practitioner",
        "id": practitioner_id(user.id),
        "active": user.active,
        "name": [{"text": user.full_name}],
    }


def device_resource(ctx: Context, size: DilatorSize) -> Resource:
    """A dilator size of the clinic's catalogue, with its diameter (and insertable length)
    in mm, owned by the clinic."""
    properties = [
        {
            "type": concept(
                coding(ctx.our(codes.DEVICE_PROPERTY), "diameter", "Diameter"), text="Diameter"
            ),
            "valueQuantity": [quantity(size.diameter_mm, "mm")],
        }
    ]
    if size.insertable_length_mm is not None:
        properties.append(
            {
                "type": concept(
                    coding(
                        ctx.our(codes.DEVICE_PROPERTY), "insertable-length", "Insertable length"
                    ),
                    text="Insertable length",
                ),
                "valueQuantity": [quantity(size.insertable_length_mm, "mm")],
            }
        )
    return {
        "resourceType": "Device",
        "id": device_id(size.id),
        "status": "inactive" if size.retired_at else "active",
        "deviceName": [
            {"name": f"{size.dilator_set.name}: {size.display}", "type": "user-friendly-name"}
        ],
        "type": concept(text="Dilator"),
        "property": properties,
        "owner": ctx.organization,
    }


# The programme.

_CAREPLAN_STATUS = {
    ProtocolStatus.ACTIVE: "active",
    ProtocolStatus.PAUSED: "on-hold",
    ProtocolStatus.COMPLETED: "completed",
    ProtocolStatus.REPLACED: "revoked",
}


def careplan_resources(ctx: Context, protocol: Protocol) -> list[Resource]:
    """The protocol as a CarePlan, with an activity per stage of its current plan, each a
    DeviceRequest naming the dilator (Device) and its schedule."""
    current: ProtocolVersion = protocol.versions[-1]
    events = protocol.events
    in_force = events[-1].stage if events and events[-1].version_number == current.number else 1
    plan_id = careplan_id(protocol.id)
    requests = [
        _stage_request(ctx, protocol, plan_id, stage, _stage_status(protocol, stage, in_force))
        for stage in current.stages
    ]
    period: Resource = {}
    if events:
        period["start"] = events[0].effective_on.isoformat()
        if protocol.status in (ProtocolStatus.COMPLETED, ProtocolStatus.REPLACED):
            period["end"] = events[-1].effective_on.isoformat()
    plan: Resource = {
        "resourceType": "CarePlan",
        "id": plan_id,
        "status": _CAREPLAN_STATUS[protocol.status],
        "intent": "plan",
        "category": [concept(text=protocol.indication.label)],
        "title": protocol.name,
        "description": (
            f"Graded dilator programme ({protocol.route.label.lower()}), plan version "
            f"{current.number}, stage {in_force} of {len(current.stages)}."
        ),
        "subject": ctx.subject,
        "created": fhir_instant(protocol.created_at),
        "author": ctx.agent(protocol.created_by_id),
        "activity": [{"reference": ref_to(request)} for request in requests],
    }
    if period:
        plan["period"] = period
    if (
        ctx.patient is not None
        and ctx.patient.responsible_clinician_id is not None
        and ctx.patient.responsible_clinician_id in ctx.staff
    ):
        plan["contributor"] = [ctx.agent(ctx.patient.responsible_clinician_id)]
    notes = []
    if protocol.surgeon_direction:
        notes.append({"text": f"Directed by {protocol.surgeon_direction}."})
    if protocol.specialist_direction:
        notes.append(
            {
                "text": f"Led by {protocol.specialist_direction} (specialist service for "
                "children and young people)."
            }
        )
    if notes:
        plan["note"] = notes
    return [plan, *requests]


def _stage_status(protocol: Protocol, stage: ProtocolStage, in_force: int) -> str:
    if protocol.status in (ProtocolStatus.COMPLETED, ProtocolStatus.REPLACED):
        return "completed" if stage.position <= in_force else "revoked"
    if stage.position < in_force:
        return "completed"
    if stage.position > in_force:
        return "draft"  # planned, not yet prescribed
    return "on-hold" if protocol.status is ProtocolStatus.PAUSED else "active"


def _stage_request(
    ctx: Context, protocol: Protocol, plan_id: str, stage: ProtocolStage, status: str
) -> Resource:
    repeat: Resource = {
        "frequency": stage.sessions,
        "period": 1,
        "periodUnit": "d" if stage.period is Period.DAY else "wk",
        "duration": stage.minutes,
        "durationUnit": "min",
    }
    parameters = [
        {
            "code": concept(
                coding(ctx.our(codes.STAGE_PARAMETER), "minimum-days", "Minimum days at the stage")
            ),
            "valueQuantity": quantity(stage.min_days, "d"),
        }
    ]
    if stage.target_depth_cm is not None:
        parameters.append(
            {
                "code": concept(
                    coding(ctx.our(codes.STAGE_PARAMETER), "target-depth", "Target depth")
                ),
                "valueQuantity": quantity(stage.target_depth_cm, "cm"),
            }
        )
    request: Resource = {
        "resourceType": "DeviceRequest",
        "id": stage_id(stage.id),
        "basedOn": [reference("CarePlan", plan_id)],
        "status": status,
        "intent": "plan",
        "codeReference": reference("Device", device_id(stage.dilator_size_id)),
        "parameter": parameters,
        "subject": ctx.subject,
        "occurrenceTiming": {
            "repeat": repeat,
            "code": concept(text=f"Stage {stage.position}: {stage.frequency}, {stage.minutes} min"),
        },
        "authoredOn": fhir_instant(protocol.created_at),
        "requester": ctx.agent(protocol.created_by_id),
    }
    notes = [text for text in (stage.technique_notes.strip(),) if text]
    if stage.is_maintenance:
        notes.insert(0, "Maintenance stage.")
    if notes:
        request["note"] = [{"text": text} for text in notes]
    return request


# The diary.


def session_observation(
    ctx: Context, entry: DiaryEntry, size: DilatorSize | None, plan_id: str | None
) -> Resource:
    """A diary entry as one Observation of pain (LOINC 72514-3) in the category
    `dilator-session`: for a session done, the pain during it as the value and the rest
    (pain after, minutes, dilator, depth, bleeding, sharp pain, concerns) as components;
    for a skip, no value (data absent: not performed) and the reason as a component.
    Corrected entries are `amended`; withdrawn ones `entered-in-error`."""
    components: list[Resource] = []

    def part(code: str, value_key: str, value: Any, *more: Resource) -> None:
        components.append({"code": concept(*more, ctx.diary_code(code)), value_key: value})

    pain = coding(codes.LOINC, codes.PAIN_LOINC, codes.PAIN_LOINC_DISPLAY)
    if entry.skipped:
        part("skipped", "valueBoolean", True)
        reason = entry.reason_skipped
        part(
            "skip-reason",
            "valueCodeableConcept",
            concept(
                coding(ctx.our(codes.SKIP_REASON), reason.value, reason.label),
                text=entry.skip_other.strip() or reason.label,
            ),
        )
    else:
        report = entry.report
        part("skipped", "valueBoolean", False)
        part("pain-after", "valueInteger", report.pain_after, pain)
        if entry.minutes is not None:
            part("session-minutes", "valueQuantity", quantity(entry.minutes, "min"))
        if size is not None:
            part("dilator-diameter", "valueQuantity", quantity(size.diameter_mm, "mm"))
        if entry.depth_cm is not None:
            part("insertion-depth", "valueQuantity", quantity(entry.depth_cm, "cm"))
        part(
            "bleeding",
            "valueCodeableConcept",
            concept(coding(ctx.our(codes.BLEEDING), report.bleeding.value, report.bleeding.label)),
        )
        part("sharp-pain", "valueBoolean", report.sharp_pain)
        for worry in sorted(report.concerns, key=list(Concern).index):
            part(
                "concern",
                "valueCodeableConcept",
                concept(coding(ctx.our(codes.CONCERN), worry.value, worry.reason.label)),
            )
    status = "final"
    if entry.withdrawn_at is not None:
        status = "entered-in-error"
    elif entry.updated_at is not None:
        status = "amended"
    observation: Resource = {
        "resourceType": "Observation",
        "id": session_id(entry.id),
        "status": status,
        "category": [
            concept(coding(codes.OBSERVATION_CATEGORY, "survey", "Survey")),
            concept(ctx.diary_code("dilator-session"), text="Patient diary"),
        ],
        "code": concept(pain, text="Pain during the dilator session (0-10)"),
        "subject": ctx.subject,
        "effectiveDateTime": fhir_instant(entry.occurred_at),
        "issued": fhir_instant(entry.updated_at or entry.created_at),
        "performer": [ctx.subject],
    }
    if entry.skipped:
        observation["dataAbsentReason"] = concept(
            coding(codes.DATA_ABSENT_REASON, "not-performed", "Not Performed"),
            text="Session skipped",
        )
    else:
        observation["valueInteger"] = entry.report.pain_during
    observation["component"] = components
    if plan_id is not None:
        observation["basedOn"] = [reference("CarePlan", plan_id)]
    if size is not None and not entry.skipped:
        observation["device"] = reference("Device", device_id(size.id))
    if entry.note.strip():
        observation["note"] = [{"text": entry.note.strip()}]
    return observation


def red_flag_resource(ctx: Context, flag: RedFlag) -> Resource:
    """A red flag raised by a diary entry: why, when, and whether a clinician has
    acknowledged it (inactive from then on); the entry is its detail."""
    reason: FlagReason = flag.reason
    # The pain is the flag's reason only for high pain (other flags keep the session's).
    shows_pain = reason.is_high_pain and flag.pain is not None
    text = f"{reason.label} ({flag.pain}/10)" if shows_pain else reason.label
    resource: Resource = {
        "resourceType": "Flag",
        "id": flag_id(flag.id),
        "extension": [
            {
                "url": codes.FLAG_DETAIL_EXTENSION,
                "valueReference": reference("Observation", session_id(flag.entry_id)),
            }
        ],
        "status": "inactive" if flag.acknowledged_at else "active",
        "category": [concept(coding(codes.FLAG_CATEGORY, "clinical", "Clinical"))],
        "code": concept(coding(ctx.our(codes.FLAG_REASON), reason.value, reason.label), text=text),
        "subject": ctx.subject,
        "period": _period(flag.raised_at, flag.acknowledged_at),
        "author": ctx.organization,
    }
    return resource


def care_flag_resource(ctx: Context, flag: CareFlag) -> Resource:
    """A flag the rules raised (not logging, pain rising, review due, ...)."""
    return {
        "resourceType": "Flag",
        "id": care_flag_id(flag.id),
        "status": "inactive" if flag.acknowledged_at else "active",
        "category": [concept(coding(codes.FLAG_CATEGORY, "clinical", "Clinical"))],
        "code": concept(
            coding(ctx.our(codes.CARE_FLAG), flag.kind.value, flag.kind.label), text=flag.detail
        ),
        "subject": ctx.subject,
        "period": _period(flag.raised_at, flag.acknowledged_at),
        "author": ctx.organization,
    }


def _period(start: datetime, end: datetime | None) -> Resource:
    period = {"start": fhir_instant(start)}
    if end is not None:
        period["end"] = fhir_instant(end)
    return period


# Outcome measures.


def questionnaire_resource(ctx: Context, instrument: Instrument) -> Resource:
    """An instrument as a Questionnaire: its items, each answer option coded with the
    value it scores (also as the standard ordinalValue). Wording the product may not ship
    stays out (the item has its key only)."""
    items = []
    for item in instrument.items:
        entry: Resource = {"linkId": item.key, "type": "choice", "required": False}
        if item.text is not None:
            entry["text"] = item.text
        entry["answerOption"] = [
            {"valueCoding": _option_coding(item.key, option.value, option.label)}
            for option in item.options
        ]
        items.append(entry)
    resource: Resource = {
        "resourceType": "Questionnaire",
        "id": questionnaire_id(instrument.key, instrument.version),
        "url": questionnaire_url(ctx.base_url, instrument.key),
        "version": instrument.version,
        "title": instrument.title,
        "status": "active",
        "subjectType": ["Patient"],
        "item": items,
    }
    if instrument.licence.note:
        resource["copyright"] = instrument.licence.note
    return resource


def questionnaire_url(base_url: str, key: str) -> str:
    return f"{base_url}/fhir/Questionnaire/{key}"


def _option_coding(item_key: str, value: int, label: str | None) -> Resource:
    found: Resource = {
        "extension": [{"url": codes.ORDINAL_VALUE_EXTENSION, "valueDecimal": value}],
        "code": str(value),
    }
    if label:
        found["display"] = label
    return found


def response_resources(
    ctx: Context, response: MeasureResponse, instrument: Instrument | None
) -> list[Resource]:
    """A submitted measure: the answers (QuestionnaireResponse) and their score, as
    recorded at submission (an Observation derived from the answers, the domains as
    components; an invalid response says why instead of a value)."""
    answers = _answers(response.answers)
    items = []
    for key, value in answers.items():
        if value is None:
            continue
        label = None
        if instrument is not None:
            try:
                label = next(o.label for o in instrument.item(key).options if o.value == value)
            except (KeyError, StopIteration):
                label = None
        items.append(
            {"linkId": key, "answer": [{"valueCoding": _option_coding(key, value, label)}]}
        )
    title = instrument.title if instrument is not None else response.instrument_key
    qr: Resource = {
        "resourceType": "QuestionnaireResponse",
        "id": response_id(response.id),
        "status": "completed",
        "subject": ctx.subject,
        "authored": fhir_instant(response.sent_at),
        "author": ctx.subject,
        "source": ctx.subject,
    }
    if instrument is not None:
        qr["questionnaire"] = (
            f"{questionnaire_url(ctx.base_url, instrument.key)}|{instrument.version}"
        )
    if items:
        qr["item"] = items
    measure = ctx.our(codes.MEASURE)
    score: Resource = {
        "resourceType": "Observation",
        "id": score_id(response.id),
        "status": "final",
        "category": [concept(coding(codes.OBSERVATION_CATEGORY, "survey", "Survey"))],
        "code": concept(
            coding(measure, response.instrument_key, f"{title}: total"), text=f"{title}: total"
        ),
        "subject": ctx.subject,
        "effectiveDateTime": fhir_instant(response.sent_at),
        "issued": fhir_instant(response.sent_at),
        "performer": [ctx.subject],
        "derivedFrom": [reference("QuestionnaireResponse", qr["id"])],
    }
    if response.total is not None and response.valid is not False:
        score["valueQuantity"] = quantity(response.total, "{score}")
        if response.band_label:
            score["interpretation"] = [concept(text=response.band_label)]
    else:
        score["dataAbsentReason"] = concept(
            coding(codes.DATA_ABSENT_REASON, "as-text", "As Text"),
            text=response.invalid_reason or "Not scored",
        )
    components = []
    labels = {d.key: d.label for d in instrument.domains} if instrument is not None else {}
    for key, value in _answers(response.domains).items():
        label = labels.get(key, key)
        part: Resource = {
            "code": concept(
                coding(measure, f"{response.instrument_key}.{key}", str(label)), text=str(label)
            )
        }
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            part["valueQuantity"] = quantity(value, "{score}")
        else:
            part["dataAbsentReason"] = concept(
                coding(codes.DATA_ABSENT_REASON, "unknown", "Unknown")
            )
        components.append(part)
    if components:
        score["component"] = components
    return [qr, score]


def _answers(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


# Documents.


def document_reference(
    *,
    resource_id: str,
    subject: Resource,
    pdf: bytes,
    created_at: datetime,
    author: Resource,
    custodian: Resource,
    title: str,
    description: str,
    doc_type: Resource,
    period: tuple[date, date] | None = None,
) -> Resource:
    """A stored PDF as a DocumentReference with the file attached: base64 data,
    application/pdf, its size and its SHA-1 in base64 (what FHIR's Attachment.hash
    holds). For any kept document (progress reports here; letters can use it too)."""
    resource: Resource = {
        "resourceType": "DocumentReference",
        "id": resource_id,
        "status": "current",
        "docStatus": "final",
        "type": doc_type,
        "subject": subject,
        "date": fhir_instant(created_at),
        "author": [author],
        "custodian": custodian,
        "description": description,
        "content": [
            {
                "attachment": {
                    "contentType": "application/pdf",
                    "data": base64.b64encode(pdf).decode("ascii"),
                    "size": len(pdf),
                    "hash": base64.b64encode(hashlib.sha1(pdf).digest()).decode("ascii"),  # noqa: S324 (FHIR's Attachment.hash is SHA-1 by definition)
                    "title": title,
                    "creation": fhir_instant(created_at),
                }
            }
        ],
    }
    if period is not None:
        resource["context"] = {
            "period": {"start": period[0].isoformat(), "end": period[1].isoformat()}
        }
    return resource


def report_document(ctx: Context, report: Report) -> Resource:
    """A stored progress report, exactly as sent."""
    return document_reference(
        resource_id=report_id(report.id),
        subject=ctx.subject,
        pdf=report.pdf,
        created_at=report.created_at,
        author=ctx.agent(report.author_id),
        custodian=ctx.organization,
        title=report.file_name,
        description=f"Progress report, {report.period_from.isoformat()} to "
        f"{report.period_to.isoformat()}",
        doc_type=concept(
            coding(codes.LOINC, codes.PROGRESS_NOTE_LOINC, codes.PROGRESS_NOTE_DISPLAY),
            text="Progress report",
        ),
        period=(report.period_from, report.period_to),
    )


def letter_document(ctx: Context, letter: Letter) -> Resource:
    """A letter to another service, exactly as sent; typed by its kind (LOINC Referral
    note, Consult note or Discharge summary) and authored by the clinician who signed it."""
    code, display = codes.LETTER_LOINC[letter.kind.value]
    return document_reference(
        resource_id=letter_id(letter.id),
        subject=ctx.subject,
        pdf=letter.pdf,
        created_at=letter.created_at,
        author=ctx.agent(letter.author_id),
        custodian=ctx.organization,
        title=letter.file_name,
        description=letter.kind.heading,
        doc_type=concept(coding(codes.LOINC, code, display), text=letter.kind.heading),
    )


# Who recorded what.


@dataclass
class Recorded:
    """What one agent recorded for the patient, and when (earliest, latest); with
    `acknowledged`, the flags they acknowledged instead."""

    agent: Resource
    acknowledged: bool = False
    targets: list[Resource] = field(default_factory=list)
    first: datetime | None = None
    last: datetime | None = None

    def add(self, target: Resource, at: datetime) -> None:
        self.targets.append(ref_to(target))
        self.first = at if self.first is None or at < self.first else self.first
        self.last = at if self.last is None or at > self.last else self.last


def provenance_resources(patient: Patient, recorded: Iterable[Recorded]) -> list[Resource]:
    """One Provenance per agent (the patient, a clinician, or the clinic for what its rules
    and commands made): the records they made, when; and one per clinician who
    acknowledged flags (activity UPDATE, "Acknowledged")."""
    found = []
    for item in recorded:
        if not item.targets or item.first is None or item.last is None:
            continue
        kind, _, key = item.agent["reference"].partition("/")
        suffix = {
            "Patient": "patient",
            "Practitioner": f"user-{key.removeprefix('practitioner-')}",
            "Organization": "clinic",
        }[kind]
        provenance: Resource = {
            "resourceType": "Provenance",
            "id": f"provenance-{patient.id}-{suffix}{'-ack' if item.acknowledged else ''}",
            "target": item.targets,
            "occurredPeriod": {
                "start": fhir_instant(item.first),
                "end": fhir_instant(item.last),
            },
            "recorded": fhir_instant(item.last),
        }
        if item.acknowledged:
            provenance["activity"] = concept(
                coding(codes.DATA_OPERATION, "UPDATE", "revise"), text="Acknowledged"
            )
        found.append(
            {
                **provenance,
                "agent": [
                    {
                        "type": concept(coding(codes.PROVENANCE_PARTICIPANT, "author", "Author")),
                        "who": item.agent,
                    }
                ],
            }
        )
    return found


def by_kind(resources: Sequence[Resource]) -> dict[tuple[str, str], Resource]:
    """The resources by (type, id)."""
    return {(r["resourceType"], r["id"]): r for r in resources}

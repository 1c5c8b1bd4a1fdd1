"""Referrals arriving as FHIR: reading what was posted, keeping it, and the administrator's
decision on it.

A referral is a ServiceRequest whose subject is the patient: either a Patient contained
in it (`"subject": {"reference": "#p1"}`), or a transaction/batch Bundle holding the
ServiceRequest and its Patient (`"subject": {"reference": "urn:uuid:..."}` naming the
Patient's entry). Both are validated with the fhir.resources R4B models; then the
clinic's own needs are checked (a name and a full birth date for the patient). What is
wrong is told back in plain words with where it is (`ImportProblem`), never a 500.

Functions that change data flush; the unit of work commits.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pydantic
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.patient import Patient as FhirPatient
from fhir.resources.R4B.servicerequest import ServiceRequest
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from clinic.audit.log import record
from clinic.core.forms import is_plausible_birth_date
from clinic.core.refusals import Refusal
from clinic.core.statements import affected_rows
from clinic.domain.referral_reasons import indication_for_reason
from clinic.domain.text import N_
from clinic.extensions import db
from clinic.models import ApiToken, Patient, PendingReferral, ReferralStatus, User
from clinic.models.types import utcnow

# The most problems told back at once: enough to fix a message, short enough to read.
MAX_ISSUES = 10


@dataclass
class ImportProblem(Exception):
    """What is wrong with a posted referral: each issue's words and where it is (a FHIRPath
    -like location, "" for the body as a whole)."""

    issues: list[tuple[str, str]] = field(default_factory=list)

    def __str__(self) -> str:
        return "; ".join(text for text, _ in self.issues)


@dataclass(frozen=True)
class ReferralDraft:
    """What was read from a valid referral, ready to keep."""

    full_name: str
    date_of_birth: date
    identifier: str
    referrer: str
    reason: str
    indication: str
    note: str
    # What makes a retry of this referral the same one (see `dedup_key`).
    dedup_key: str


def _problem(text: str, where: str = "") -> ImportProblem:
    return ImportProblem([(text, where)])


def _location(root: str, loc: tuple[Any, ...]) -> str:
    """("contained", 0, "birthDate") -> "ServiceRequest.contained[0].birthDate"."""
    path = root
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


_PLAIN_MESSAGES = {
    "missing": "is required but missing",
    "extra_forbidden": "is not an element of this resource",
    "string_type": "must be text",
    "list_type": "must be a list",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "bool_type": "must be true or false",
    "int_type": "must be a whole number",
    "enum": "is not one of the allowed codes",
    "literal_error": "is not one of the allowed values",
}


def _plain(item: Any) -> str:
    """A validation error's message in plain words (the library's, tidied, otherwise)."""
    words = _PLAIN_MESSAGES.get(item.get("type", ""))
    if words is not None:
        return words
    message = str(item.get("msg", "")).removeprefix("Value error, ").rstrip(". ")
    if "is required" in message:
        return "is required but missing"
    if "does not match spec regex" in message:
        return "is not valid: not in the format FHIR sets for it"
    return f"is not valid: {message[:1].lower()}{message[1:]}" if message else "is not valid"


def _validation_problem(error: pydantic.ValidationError, root: str) -> ImportProblem:
    issues = []
    for item in error.errors()[:MAX_ISSUES]:
        where = _location(root, tuple(item.get("loc", ())))
        issues.append((f"{where} {_plain(item)}.", where))
    return ImportProblem(issues)


def _validate(model: type[pydantic.BaseModel], data: dict[str, Any], root: str) -> None:
    try:
        model.model_validate(data)
    except pydantic.ValidationError as error:
        raise _validation_problem(error, root) from None
    except LookupError:
        # fhir.resources looks a contained or entry resource's model up by its
        # resourceType, and raises KeyError for a name it does not know.
        raise _problem(
            f"{root} holds a resource whose resourceType is not a FHIR R4 resource type.",
            root,
        ) from None
    except (ValueError, TypeError, RecursionError) as error:  # the library's own checks
        raise _problem(f"{root} is not valid FHIR: {error}", root) from None


def parse_body(body: bytes) -> dict[str, Any]:
    """The posted JSON object (refused: not UTF-8, not JSON, not an object)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise _problem("The body is not UTF-8 text.") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise _problem(
            f"The body is not JSON ({error.msg} at line {error.lineno}, column {error.colno})."
        ) from None
    except RecursionError:
        raise _problem("The body is nested too deeply to read.") from None
    if not isinstance(data, dict):
        raise _problem("The body must be a FHIR resource (a JSON object).")
    where = _control_character_in(data)
    if where is not None:
        raise _problem(
            "Text in FHIR may not hold control characters (other than tab and line "
            f"breaks): {where} has one.",
            where,
        )
    return data


# FHIR strings hold no characters below U+0020 but tab, CR and LF (and PostgreSQL text
# can hold no NUL at all: one kept would fail the insert).
_CONTROL = frozenset(chr(c) for c in range(32)) - {"\t", "\n", "\r"}
# A step of a path through the JSON: (the parent's link, this step's text).
_Link = tuple[Any, str] | None


def _control_character_in(data: dict[str, Any]) -> str | None:
    """Where the first key or text holding a control character is, or None. Walked
    without recursion (the JSON may be as deep as the parser allows); each node keeps a
    link to its parent, so the path is spelt out only for the one found."""

    def spelt(link: _Link) -> str:
        steps: list[str] = []
        while link is not None:
            link, step = link
            steps.append(step)
        return "".join(reversed(steps))[:200]

    stack: list[tuple[_Link, Any]] = [((None, str(data.get("resourceType", ""))[:40]), data)]
    while stack:
        link, node = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if not _CONTROL.isdisjoint(key):
                    return spelt(link)
                stack.append(((link, f".{key}"), value))
        elif isinstance(node, list):
            stack.extend(((link, f"[{i}]"), value) for i, value in enumerate(node))
        elif isinstance(node, str) and not _CONTROL.isdisjoint(node):
            return spelt(link)
    return None


# ServiceRequest.status and .intent are bound to these codes ("required"); the library
# checks only that a code is a code. A referral the clinic can act on is `active`.
_STATUSES = ("draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown")
_INTENTS = (
    "proposal",
    "plan",
    "directive",
    "order",
    "original-order",
    "reflex-order",
    "filler-order",
    "instance-order",
    "option",
)


def _check_request_codes(request: dict[str, Any], where: str) -> None:
    """Refuse a ServiceRequest whose status or intent is no code of FHIR's, or that is
    not active (a draft, revoked, completed or entered-in-error request is no referral)."""
    status, intent = request.get("status"), request.get("intent")
    if status not in _STATUSES:
        raise _problem(
            f"{where}.status is not one of FHIR's request status codes.", f"{where}.status"
        )
    if status != "active":
        raise _problem(
            f"Only an active referral can be received; this one's status is {status}.",
            f"{where}.status",
        )
    if intent not in _INTENTS:
        raise _problem(
            f"{where}.intent is not one of FHIR's request intent codes.", f"{where}.intent"
        )


def split_referral(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], str]:
    """The ServiceRequest, its Patient and where the Patient is (for messages), from a
    posted ServiceRequest (Patient contained) or Bundle (transaction or batch)."""
    kind = data.get("resourceType")
    if kind == "ServiceRequest":
        _validate(ServiceRequest, data, "ServiceRequest")
        request = data
        _check_request_codes(request, "ServiceRequest")
        reference = _subject_reference(request, "ServiceRequest")
        if not reference.startswith("#"):
            raise _problem(
                "The subject must be the Patient contained in the ServiceRequest "
                '("reference": "#id"), or post a Bundle with the Patient in it.',
                "ServiceRequest.subject.reference",
            )
        for index, contained in enumerate(request.get("contained") or []):
            if (
                isinstance(contained, dict)
                and contained.get("resourceType") == "Patient"
                and contained.get("id") == reference[1:]
            ):
                return request, contained, f"ServiceRequest.contained[{index}]"
        raise _problem(
            f"The subject {reference} names no Patient contained in the ServiceRequest.",
            "ServiceRequest.subject.reference",
        )
    if kind == "Bundle":
        _validate(Bundle, data, "Bundle")
        if data.get("type") not in ("transaction", "batch"):
            raise _problem("Post a transaction or batch Bundle.", "Bundle.type")
        entries = [e for e in data.get("entry") or [] if isinstance(e, dict)]
        requests = [(i, e) for i, e in enumerate(entries) if _type_of(e) == "ServiceRequest"]
        if len(requests) != 1:
            raise _problem("The Bundle must hold exactly one ServiceRequest.", "Bundle.entry")
        index, entry = requests[0]
        request = entry["resource"]
        where = f"Bundle.entry[{index}].resource"
        _check_request_codes(request, where)
        reference = _subject_reference(request, where)
        for patient_index, candidate in enumerate(entries):
            if _type_of(candidate) == "Patient" and reference in _names_of(candidate):
                return request, candidate["resource"], f"Bundle.entry[{patient_index}].resource"
        raise _problem(
            f"The subject {reference} names no Patient entry of the Bundle.",
            f"{where}.subject.reference",
        )
    raise _problem(
        "Post a ServiceRequest (with its Patient contained) or a transaction Bundle "
        "holding a ServiceRequest and its Patient.",
        "resourceType",
    )


def _type_of(entry: dict[str, Any]) -> str | None:
    resource = entry.get("resource")
    return resource.get("resourceType") if isinstance(resource, dict) else None


def _names_of(entry: dict[str, Any]) -> set[str]:
    """The references that name a Bundle entry: its fullUrl, and Type/id."""
    names = set()
    if isinstance(entry.get("fullUrl"), str):
        names.add(entry["fullUrl"])
    resource = entry["resource"]
    if isinstance(resource.get("id"), str):
        names.add(f"{resource['resourceType']}/{resource['id']}")
    return names


def _subject_reference(request: dict[str, Any], where: str) -> str:
    subject = request.get("subject")
    reference = subject.get("reference") if isinstance(subject, dict) else None
    if not isinstance(reference, str) or not reference:
        raise _problem("The ServiceRequest must name its patient.", f"{where}.subject.reference")
    return reference


def read_referral(data: dict[str, Any], today: date) -> ReferralDraft:
    """Check a posted referral and read what the clinic keeps from it."""
    request, patient, where = split_referral(data)
    _validate(FhirPatient, patient, where)
    full_name = _patient_name(patient)
    if not full_name:
        raise _problem("The patient's name is required.", f"{where}.name")
    born = patient.get("birthDate")
    if not isinstance(born, str) or len(born) != 10:
        raise _problem(
            "The patient's birth date is required, as a full date (YYYY-MM-DD).",
            f"{where}.birthDate",
        )
    try:
        date_of_birth = date.fromisoformat(born)
    except ValueError:
        raise _problem("The patient's birth date is not a date.", f"{where}.birthDate") from None
    if not is_plausible_birth_date(date_of_birth, today):
        raise _problem(
            "The patient's birth date must be in the past (and after 1900).",
            f"{where}.birthDate",
        )
    reason = _reason(request)
    indication = indication_for_reason(reason)
    return ReferralDraft(
        full_name=full_name[:120],
        date_of_birth=date_of_birth,
        identifier=_identifier(patient)[:300],
        referrer=_referrer(request)[:200],
        reason=reason[:500],
        indication=indication.value if indication else "",
        note="\n".join(
            n["text"] for n in request.get("note") or [] if isinstance(n.get("text"), str)
        ),
        dedup_key=dedup_key(request, data),
    )


def dedup_key(request: dict[str, Any], data: dict[str, Any]) -> str:
    """What makes a retry the same referral: the ServiceRequest's identifier
    (system|value, the first with a value) when it has one, else the whole body in
    canonical JSON (keys sorted, no spaces); hashed (SHA-256) to a fixed length."""
    for identifier in request.get("identifier") or []:
        if isinstance(identifier, dict) and identifier.get("value"):
            named = f"{identifier.get('system') or ''}|{identifier['value']}"
            return (
                "identifier:" + hashlib.sha256(named.encode("utf-8", "surrogatepass")).hexdigest()
            )
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "body:" + hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def _patient_name(patient: dict[str, Any]) -> str:
    """The name to record: the official one if marked, else the first; its text, else
    its given names and family name."""
    names = [n for n in patient.get("name") or [] if isinstance(n, dict)]
    names.sort(key=lambda n: n.get("use") != "official")
    for name in names:
        text = name.get("text") or " ".join([*(name.get("given") or []), name.get("family") or ""])
        if text.strip():
            return " ".join(text.split())
    return ""


def _identifier(patient: dict[str, Any]) -> str:
    for identifier in patient.get("identifier") or []:
        if identifier.get("value"):
            system = identifier.get("system") or ""
            return f"{system}|{identifier['value']}" if system else identifier["value"]
    return ""


def _referrer(request: dict[str, Any]) -> str:
    """Who refers: the requester's display, or the name of the contained Practitioner,
    PractitionerRole's practitioner or Organization it points to."""
    requester = request.get("requester") or {}
    if requester.get("display"):
        return " ".join(str(requester["display"]).split())
    reference = requester.get("reference") or ""
    if reference.startswith("#"):
        for contained in request.get("contained") or []:
            if contained.get("id") == reference[1:]:
                if contained.get("resourceType") == "Organization" and contained.get("name"):
                    return str(contained["name"])
                if names := contained.get("name"):
                    return _patient_name({"name": names})
    return reference


def _reason(request: dict[str, Any]) -> str:
    """The reason in words: each reasonCode's text, else its codings' displays."""
    parts: list[str] = []
    for concept in request.get("reasonCode") or []:
        if concept.get("text"):
            parts.append(concept["text"])
        else:
            parts.extend(c["display"] for c in concept.get("coding") or [] if c.get("display"))
    for reference in request.get("reasonReference") or []:
        if reference.get("display"):
            parts.append(reference["display"])
    return "; ".join(" ".join(p.split()) for p in parts)


def service_request_of(stored: str) -> dict[str, Any]:
    """The ServiceRequest as it arrived (from a Bundle, its entry), from a referral's JSON."""
    data = json.loads(stored)
    if data.get("resourceType") == "Bundle":
        for entry in data.get("entry") or []:
            if _type_of(entry) == "ServiceRequest":
                return dict(entry["resource"])
    return dict(data)


# Keeping and deciding -------------------------------------------------------------------


class ReferralDecisionError(Refusal):
    """The referral cannot be accepted or declined (decided meanwhile)."""


DECIDED_MEANWHILE = N_("This referral was decided meanwhile, perhaps by a colleague.")


def received_before(clinic_id: int, key: str) -> PendingReferral | None:
    """The clinic's referral kept under this de-duplication key, if any."""
    return db.session.scalar(
        select(PendingReferral).where(
            PendingReferral.clinic_id == clinic_id, PendingReferral.dedup_key == key
        )
    )


def keep_referral(
    token: ApiToken, draft: ReferralDraft, data: dict[str, Any]
) -> tuple[PendingReferral, bool]:
    """Keep a valid referral as pending (the posted JSON exactly as read); or, when the
    clinic has it already (a retry: the same ServiceRequest identifier, else the same
    body), that one. Returns the referral and whether it is new."""
    earlier = received_before(token.clinic_id, draft.dedup_key)
    if earlier is not None:
        return earlier, False
    referral = PendingReferral(
        clinic_id=token.clinic_id,
        token_id=token.id,
        resource=json.dumps(data, ensure_ascii=False, sort_keys=True),
        full_name=draft.full_name,
        date_of_birth=draft.date_of_birth,
        identifier=draft.identifier,
        referrer=draft.referrer,
        reason=draft.reason,
        indication=draft.indication,
        note=draft.note,
        dedup_key=draft.dedup_key,
    )
    try:
        # In a savepoint: a retry racing this one may have kept it a moment ago (the
        # unique index refuses the second), and then it is that one.
        with db.session.begin_nested():
            db.session.add(referral)
    except IntegrityError:
        earlier = received_before(token.clinic_id, draft.dedup_key)
        if earlier is None:
            raise
        return earlier, False
    return referral, True


def possibly_known(referral: PendingReferral) -> list[Patient]:
    """The clinic's patients with the referral's name (ignoring case and spacing) and date
    of birth: perhaps the same person, whom the administrator should not add twice."""
    name = " ".join(referral.full_name.split()).lower()
    return list(
        db.session.scalars(
            select(Patient)
            .where(
                Patient.clinic_id == referral.clinic_id,
                Patient.date_of_birth == referral.date_of_birth,
                func.lower(Patient.full_name) == name,
            )
            .order_by(Patient.id)
        )
    )


def pending_referrals(clinic_id: int) -> list[PendingReferral]:
    """The clinic's referrals waiting for a decision, oldest first, with the token each
    came through (one query)."""
    return list(
        db.session.scalars(
            select(PendingReferral)
            .where(
                PendingReferral.clinic_id == clinic_id,
                PendingReferral.status == ReferralStatus.PENDING,
            )
            .options(db.joinedload(PendingReferral.token))
            .order_by(PendingReferral.received_at, PendingReferral.id)
        )
    )


def get_referral_or_404(clinic_id: int, referral_id: int) -> PendingReferral:
    """The clinic's referral; 404 for another clinic's (or none)."""
    return db.first_or_404(
        select(PendingReferral)
        .where(PendingReferral.id == referral_id, PendingReferral.clinic_id == clinic_id)
        .options(db.joinedload(PendingReferral.token))
    )


def accept_referral(referral: PendingReferral, patient: Patient, by: User) -> None:
    """Mark the referral accepted into `patient` (a record the patient-creation service
    has just made)."""
    if referral.status is not ReferralStatus.PENDING:
        raise ReferralDecisionError(_(DECIDED_MEANWHILE))
    _decide(referral, ReferralStatus.ACCEPTED, by)
    referral.patient_id = patient.id
    db.session.flush()
    record(
        "referral.accept",
        patient_id=patient.id,
        object_type="pending_referral",
        object_id=referral.id,
        clinic_id=referral.clinic_id,
    )


def decline_referral(referral: PendingReferral, reason: str, by: User) -> None:
    """Decline the referral, saying why (told to no one automatically: the sending
    system is not written back to)."""
    if referral.status is not ReferralStatus.PENDING:
        raise ReferralDecisionError(_(DECIDED_MEANWHILE))
    _decide(referral, ReferralStatus.DECLINED, by)
    referral.decline_reason = reason
    db.session.flush()
    record(
        "referral.decline",
        object_type="pending_referral",
        object_id=referral.id,
        clinic_id=referral.clinic_id,
    )


def _decide(referral: PendingReferral, status: ReferralStatus, by: User) -> None:
    # Taking the row first: two administrators deciding at once, the second finds it
    # decided (the UPDATE waits for the first's commit).
    table = PendingReferral.__table__
    taken = affected_rows(
        table.update()
        .where(table.c.id == referral.id, table.c.status == ReferralStatus.PENDING.value)
        .values(status=status.value, decided_at=utcnow(), decided_by_id=by.id)
    )
    if taken != 1:
        raise ReferralDecisionError(_(DECIDED_MEANWHILE))
    db.session.refresh(referral)

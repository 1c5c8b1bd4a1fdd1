"""The codes and addresses the FHIR resources use: standard terminologies where a real code
exists (LOINC 72514-3 for pain, UCUM units, HL7's own code systems), and code systems of
ours, under the app's base URL, for what no standard code names (the parts of a dilator
session, skip reasons, red-flag reasons). README.md ("FHIR R4") lists them all.

A system of ours is `{base_url}/fhir/CodeSystem/<name>`; a patient's clinic identifier is
under `{base_url}/fhir/identifier/<clinic id>/patient` (one system per clinic: two clinics
may give the same number to different people).
"""

from __future__ import annotations

import re

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
FLAG_CATEGORY = "http://terminology.hl7.org/CodeSystem/flag-category"
PROVENANCE_PARTICIPANT = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
DATA_OPERATION = "http://terminology.hl7.org/CodeSystem/v3-DataOperation"
DATA_ABSENT_REASON = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
# Standard extensions: the pronouns a person uses (HL7 extensions pack, usable with R4),
# the resource a flag is about, and the score an answer option carries.
PRONOUNS_EXTENSION = "http://hl7.org/fhir/StructureDefinition/individual-pronouns"
FLAG_DETAIL_EXTENSION = "http://hl7.org/fhir/StructureDefinition/flag-detail"
ORDINAL_VALUE_EXTENSION = "http://hl7.org/fhir/StructureDefinition/ordinalValue"

# Pain severity - 0-10 verbal numeric rating [Score] - Reported.
PAIN_LOINC = "72514-3"
PAIN_LOINC_DISPLAY = "Pain severity - 0-10 verbal numeric rating [Score] - Reported"
# Provider-unspecified progress note: the type of our stored progress reports.
PROGRESS_NOTE_LOINC = "11506-3"
PROGRESS_NOTE_DISPLAY = "Progress note"
# The LOINC document types of our letters, by letter kind: a referral onward is a
# "Referral note"; an update to the referrer answers their request, a "Consult note"; a
# discharge letter is a "Discharge summary".
LETTER_LOINC: dict[str, tuple[str, str]] = {
    "referral": ("57133-1", "Referral note"),
    "update": ("11488-4", "Consult note"),
    "discharge": ("18842-5", "Discharge summary"),
}

# Our code systems (the names after /fhir/CodeSystem/).
DIARY = "dilator-diary"  # the session panel and its parts
BLEEDING = "bleeding"
SKIP_REASON = "skip-reason"
CONCERN = "session-concern"
FLAG_REASON = "red-flag-reason"
CARE_FLAG = "care-flag-kind"
MEASURE = "measure-score"
DEVICE_PROPERTY = "dilator-property"
STAGE_PARAMETER = "stage-parameter"

# The codes of the `dilator-diary` system, with their displays.
DIARY_CODES: dict[str, str] = {
    "dilator-session": "Dilator session",
    "pain-after": "Pain after the session (0-10)",
    "session-minutes": "Minutes of dilation",
    "dilator-diameter": "Diameter of the dilator used",
    "insertion-depth": "Depth of insertion",
    "bleeding": "Bleeding",
    "sharp-pain": "Sharp pain during the session",
    "concern": "Something else reported with the session",
    "skipped": "Session skipped",
    "skip-reason": "Why the session was skipped",
}

_ID_UNSAFE = re.compile(r"[^A-Za-z0-9.-]+")


def system(base_url: str, name: str) -> str:
    """The address of our code system `name`."""
    return f"{base_url}/fhir/CodeSystem/{name}"


def patient_identifier_system(base_url: str, clinic_id: int) -> str:
    """The identifier system of one clinic's patient numbers."""
    return f"{base_url}/fhir/identifier/{clinic_id}/patient"


def identifier_system_suffix(clinic_id: int) -> str:
    """How a clinic's identifier system ends, whatever address the app is reached at."""
    return f"/fhir/identifier/{clinic_id}/patient"


def safe_id(text: str) -> str:
    """`text` made fit for a FHIR id ([A-Za-z0-9-.]): other characters become '-'."""
    return _ID_UNSAFE.sub("-", text).strip("-") or "x"

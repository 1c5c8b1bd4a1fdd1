"""Typed SQLAlchemy 2 models, one module per aggregate. Importing this registers them all."""

from clinic.models.care import (
    CareFlag,
    ClinicalNote,
    ClinicalNoteRevision,
    PatientSummary,
    Report,
)
from clinic.models.catalogue import DilatorSet, DilatorSize
from clinic.models.clinics import Clinic
from clinic.models.diary import DiaryEntry, EntryRevision, RedFlag
from clinic.models.invitations import Invitation
from clinic.models.patients import Patient, PatientStatus
from clinic.models.protocols import (
    Protocol,
    ProtocolEvent,
    ProtocolStage,
    ProtocolTemplate,
    ProtocolVersion,
    TemplateStage,
)
from clinic.models.users import Role, User

__all__ = [
    "CareFlag",
    "Clinic",
    "ClinicalNote",
    "ClinicalNoteRevision",
    "DiaryEntry",
    "DilatorSet",
    "DilatorSize",
    "EntryRevision",
    "Invitation",
    "Patient",
    "PatientStatus",
    "PatientSummary",
    "Protocol",
    "ProtocolEvent",
    "ProtocolStage",
    "ProtocolTemplate",
    "ProtocolVersion",
    "RedFlag",
    "Report",
    "Role",
    "TemplateStage",
    "User",
]

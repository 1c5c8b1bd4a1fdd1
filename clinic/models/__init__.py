"""Typed SQLAlchemy 2 models, one module per aggregate. Importing this registers them all."""

from clinic.models.api import ApiToken, PendingReferral, ReferralStatus
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
from clinic.models.jobs import JobRun, JobStatus
from clinic.models.letters import (
    Delivery,
    Letter,
    LetterAddressee,
    LetterKind,
    LetterTemplate,
    Recipient,
    RecipientRole,
)
from clinic.models.measures import ClinicInstrument, MeasureAssignment, MeasureResponse
from clinic.models.outbox import MessageStatus, OutboxMessage
from clinic.models.patients import Patient, PatientStatus
from clinic.models.protocols import (
    Protocol,
    ProtocolEvent,
    ProtocolStage,
    ProtocolTemplate,
    ProtocolVersion,
    TemplateStage,
)
from clinic.models.push import PushSubscription
from clinic.models.reminders import ReminderPlan
from clinic.models.security import AuditEvent, PatientErasure, RecoveryCode, UserSession
from clinic.models.users import Role, User

__all__ = [
    "ApiToken",
    "AuditEvent",
    "CareFlag",
    "Clinic",
    "ClinicInstrument",
    "ClinicalNote",
    "ClinicalNoteRevision",
    "Delivery",
    "DiaryEntry",
    "DilatorSet",
    "DilatorSize",
    "EntryRevision",
    "Invitation",
    "JobRun",
    "JobStatus",
    "Letter",
    "LetterAddressee",
    "LetterKind",
    "LetterTemplate",
    "MeasureAssignment",
    "MeasureResponse",
    "MessageStatus",
    "OutboxMessage",
    "Patient",
    "PatientErasure",
    "PatientStatus",
    "PatientSummary",
    "PendingReferral",
    "Protocol",
    "ProtocolEvent",
    "ProtocolStage",
    "ProtocolTemplate",
    "ProtocolVersion",
    "PushSubscription",
    "Recipient",
    "RecipientRole",
    "RecoveryCode",
    "RedFlag",
    "ReferralStatus",
    "ReminderPlan",
    "Report",
    "Role",
    "TemplateStage",
    "User",
    "UserSession",
]

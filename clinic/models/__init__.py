"""Typed SQLAlchemy 2 models, one module per aggregate. Importing this registers them all."""

import sqlalchemy as sa
import sqlalchemy.orm as so

from clinic.models.api import ApiToken, PendingReferral, ReferralStatus
from clinic.models.care import (
    CareFlag,
    ClinicalNote,
    ClinicalNoteRevision,
    PatientSummary,
    Report,
)
from clinic.models.catalogue import DilatorSet, DilatorSize
from clinic.models.clinics import Clinic, ClinicLanguage
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
    "ClinicLanguage",
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


# The language a signed-in patient's pages are served in (clinic.i18n.select_locale):
# their record's language when their clinic has turned it on, else NULL (English). A
# correlated subquery loaded with the account, so choosing the language costs no query.
User.language = so.column_property(
    sa.select(Patient.language)
    .join(
        ClinicLanguage,
        sa.and_(
            ClinicLanguage.clinic_id == Patient.clinic_id,
            ClinicLanguage.code == Patient.language,
        ),
    )
    .where(Patient.user_id == User.id)
    .correlate_except(Patient, ClinicLanguage)
    .scalar_subquery()
)

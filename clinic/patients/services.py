"""Changes to patient records. Functions flush; the unit of work commits once."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date

from flask_babel import gettext as _

from clinic.audit.log import record
from clinic.auth.invitations import email_invitation
from clinic.auth.services import issue_invitation
from clinic.domain.indications import Indication
from clinic.domain.text import N_
from clinic.extensions import db
from clinic.models import Patient, PatientStatus, Role, User
from clinic.models.users import normalise_email
from clinic.patients.queries import email_in_use


@dataclass(frozen=True)
class PatientDetails:
    """What a clinician records about a patient, validated."""

    full_name: str  # the legal name, for documents that need it
    name_to_use: str  # what the patient is called in everything patient-facing ("" if none)
    date_of_birth: date
    clinic_identifier: str
    pronouns: str
    indication: Indication
    indication_other: str
    referring_clinician: str
    status: PatientStatus
    responsible_clinician_id: int | None
    review_on: date | None  # the next planned review; "review due" is flagged from then
    radiotherapy_ended_on: date | None = None  # counts the interval before dilation starts
    language: str = "en"  # a code of clinic.i18n.LANGUAGES: what the patient reads


class PortalInvitationError(ValueError):
    """The invitation cannot be issued; the message says why in plain words."""


# Patients are told to phone the clinic (about a link that stopped working, and in the
# guidance on what to do when something is wrong): no number, no invitation.
# Marked here, translated where they are raised.
NO_CLINIC_PHONE = N_(
    "Your clinic has no phone number in its settings yet, and patients are told to phone "
    "the clinic. Ask an administrator to add it in Clinic settings, then invite the patient."
)

EMAIL_UNAVAILABLE = N_(
    "Another account at this clinic already uses this email address. "
    "Ask the patient for another address."
)


def create_patient(clinic_id: int, details: PatientDetails) -> Patient:
    """Add a patient record to the clinic."""
    patient = Patient(clinic_id=clinic_id, **asdict(details))
    db.session.add(patient)
    db.session.flush()
    record(
        "patient.create",
        patient_id=patient.id,
        object_type="patient",
        object_id=patient.id,
        clinic_id=clinic_id,
    )
    return patient


def update_patient(patient: Patient, details: PatientDetails) -> None:
    """Replace the record's details with the validated input."""
    changed = sorted(
        name for name, value in asdict(details).items() if getattr(patient, name) != value
    )
    record(
        "patient.update",
        patient_id=patient.id,
        object_type="patient",
        object_id=patient.id,
        detail={"fields": changed},
    )
    for name, value in asdict(details).items():
        setattr(patient, name, value)
    if patient.user is not None:
        # The login keeps the legal name in step (accounts and audit read it); the portal
        # itself greets by the name to use, never by this one.
        patient.user.full_name = details.full_name
    db.session.flush()


def invite_to_portal(patient: Patient, email: str, invited_by: User) -> str:
    """Give the patient a portal login (if they have none) and a fresh invitation token,
    and email them the link (the earlier link, if any, stops working). Refused while the
    clinic has no phone number."""
    if not patient.clinic.phone.strip():
        raise PortalInvitationError(_(NO_CLINIC_PHONE))
    user = patient.user
    if user is None:
        if email_in_use(email, patient.clinic_id):
            raise PortalInvitationError(_(EMAIL_UNAVAILABLE))
        user = User(
            clinic_id=patient.clinic_id,
            email=email,
            full_name=patient.full_name,
            role=Role.PATIENT,
        )
        patient.user = user
        db.session.add(user)
        db.session.flush()
    elif user.has_password:
        raise PortalInvitationError(_("This patient already uses the portal."))
    elif user.email != normalise_email(email):
        if email_in_use(email, patient.clinic_id):
            raise PortalInvitationError(_(EMAIL_UNAVAILABLE))
        user.email = email  # a corrected address before the patient has signed in
    record(
        "patient.invite",
        patient_id=patient.id,
        object_type="user",
        object_id=user.id,
        actor=invited_by,
    )
    token = issue_invitation(user, created_by=invited_by)
    email_invitation(user, token)
    return token

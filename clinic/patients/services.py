"""Changes to patient records. Functions flush; the view commits once."""

from __future__ import annotations

from dataclasses import asdict

from clinic.auth.services import issue_invitation
from clinic.extensions import db
from clinic.models import Patient, Role, User
from clinic.patients.forms import PatientDetails
from clinic.patients.queries import email_in_use


class PortalInvitationError(ValueError):
    """The invitation cannot be issued; the message says why in plain words."""


def create_patient(clinic_id: int, details: PatientDetails) -> Patient:
    """Add a patient record to the clinic."""
    patient = Patient(clinic_id=clinic_id, **asdict(details))
    db.session.add(patient)
    db.session.flush()
    return patient


def update_patient(patient: Patient, details: PatientDetails) -> None:
    """Replace the record's details with the validated input."""
    for name, value in asdict(details).items():
        setattr(patient, name, value)
    db.session.flush()


def invite_to_portal(patient: Patient, email: str, invited_by: User) -> str:
    """Give the patient a portal login (if they have none) and a fresh invitation token."""
    user = patient.user
    if user is None:
        if email_in_use(email):
            # Emails sign in across clinics, so say no more than that this one cannot be used.
            raise PortalInvitationError(
                "This email address cannot be used for a new portal account. "
                "Ask the patient for another address."
            )
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
        raise PortalInvitationError("This patient already uses the portal.")
    elif user.email != email.strip().lower():
        if email_in_use(email):
            raise PortalInvitationError(
                "This email address cannot be used for a new portal account. "
                "Ask the patient for another address."
            )
        user.email = email  # a corrected address before the patient has signed in
    return issue_invitation(user, created_by=invited_by)

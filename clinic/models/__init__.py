"""Typed SQLAlchemy 2 models, one module per aggregate. Importing this registers them all."""

from clinic.models.clinics import Clinic
from clinic.models.invitations import Invitation
from clinic.models.patients import Patient, PatientStatus
from clinic.models.users import Role, User

__all__ = ["Clinic", "Invitation", "Patient", "PatientStatus", "Role", "User"]

"""The people most tests need: two clinics with staff and patients (`World`), as plain ids
and emails that outlive the app context they were made in."""

from __future__ import annotations

from dataclasses import dataclass

from clinic.models import Patient, Role, User
from tests.support.factories import make_clinic, make_patient, make_user


@dataclass(frozen=True)
class Person:
    """An account as tests use it: ids and sign-in email, no live ORM object."""

    id: int
    email: str
    name: str
    patient_id: int | None = None


@dataclass(frozen=True)
class World:
    """Two clinics. A: admin, two clinicians, patients with and without portal logins.
    B: admin, clinician, one patient with a portal login."""

    clinic_a: int
    clinic_b: int
    admin: Person
    clinician: Person
    colleague: Person
    patient: Person
    other_patient: Person
    offline_patient_id: int
    other_admin: Person
    other_clinician: Person
    other_clinic_patient: Person


def _person(user: User, patient: Patient | None = None) -> Person:
    return Person(user.id, user.email, user.full_name, patient.id if patient else None)


def build_world() -> World:
    """Make the world's clinics and accounts (flushed, not committed; in an app context)."""
    a, b = make_clinic(name="Clinic A"), make_clinic(name="Clinic B")
    clinician = make_user(a, Role.CLINICIAN)
    p1 = make_patient(a, portal=True, responsible_clinician=clinician)
    p2 = make_patient(a, portal=True)
    p3 = make_patient(a)
    pb = make_patient(b, portal=True)
    return World(
        clinic_a=a.id,
        clinic_b=b.id,
        admin=_person(make_user(a, Role.ADMIN)),
        clinician=_person(clinician),
        colleague=_person(make_user(a, Role.CLINICIAN)),
        patient=_person(p1.user, p1),
        other_patient=_person(p2.user, p2),
        offline_patient_id=p3.id,
        other_admin=_person(make_user(b, Role.ADMIN)),
        other_clinician=_person(make_user(b, Role.CLINICIAN)),
        other_clinic_patient=_person(pb.user, pb),
    )

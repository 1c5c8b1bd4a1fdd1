"""Factories for test data: small functions with sensible defaults, flushed not committed."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

from clinic.auth.hashing import hash_password
from clinic.domain.indications import Indication
from clinic.extensions import db
from clinic.models import Clinic, Patient, Role, User

PASSWORD = "correct horse battery staple"
_sequence = itertools.count(1)


def make_clinic(**overrides: Any) -> Clinic:
    n = next(_sequence)
    clinic = Clinic(**{"name": f"Clinic {n}", "phone": "0100 000 000", **overrides})
    db.session.add(clinic)
    db.session.flush()
    return clinic


def make_user(clinic: Clinic, role: Role = Role.CLINICIAN, **overrides: Any) -> User:
    n = next(_sequence)
    password = overrides.pop("password", PASSWORD)
    user = User(
        **{
            "clinic": clinic,
            "email": f"{role.value}{n}@test.example",
            "full_name": f"{role.value.title()} {n}",
            "role": role,
            "password_hash": hash_password(password) if password else None,
            **overrides,
        }
    )
    db.session.add(user)
    db.session.flush()
    return user


def make_patient(clinic: Clinic, portal: bool = False, **overrides: Any) -> Patient:
    """A patient record; with `portal=True` also a claimed portal login."""
    n = next(_sequence)
    name = overrides.pop("full_name", f"Patient {n}")
    user = overrides.pop("user", None)
    if portal and user is None:
        user = make_user(clinic, Role.PATIENT, full_name=name)
    patient = Patient(
        **{
            "clinic": clinic,
            "user": user,
            "full_name": name,
            "date_of_birth": date(1990, 1, 1),
            "clinic_identifier": f"MRN-{n:05d}",
            "indication": Indication.VAGINISMUS,
            **overrides,
        }
    )
    db.session.add(patient)
    db.session.flush()
    return patient

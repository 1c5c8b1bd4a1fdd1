"""Demonstration data: two clinics with staff and patients of several indications.

Every demo account signs in with DEMO_PASSWORD. Later features extend this module
(protocols, session logs, reports) so every screen has something real to show.
"""

from __future__ import annotations

from datetime import date

from clinic.auth.hashing import hash_password
from clinic.domain.indications import Indication
from clinic.extensions import db
from clinic.library.defaults import seed_clinic_library
from clinic.models import Clinic, Patient, PatientStatus, Role, User

DEMO_PASSWORD = "demo-pass-2026"

CLINICS = {
    "northside": {
        "name": "Northside Pelvic Health",
        "address": "14 Albion Street\nLeeds LS1 6HX",
        "phone": "0113 496 0321",
        "email": "hello@northside.example",
    },
    "riverside": {
        "name": "Riverside Physiotherapy",
        "address": "2 Quay Lane\nBristol BS1 4RE",
        "phone": "0117 496 0777",
        "email": "reception@riverside.example",
    },
}

STAFF = [
    ("northside", "admin@northside.example", "Nadia Brooks", Role.ADMIN),
    ("northside", "physio@northside.example", "Hannah Price", Role.CLINICIAN),
    ("northside", "physio2@northside.example", "Tomás Ortega", Role.CLINICIAN),
    ("riverside", "admin@riverside.example", "Grace Whitfield", Role.ADMIN),
    ("riverside", "physio@riverside.example", "Ravi Shah", Role.CLINICIAN),
]

# clinic, name, date of birth, identifier, pronouns, indication, other, referrer, status,
# responsible clinician's email, portal email (None: not invited yet)
PATIENTS = [
    (
        "northside",
        "Avery Quinn",
        date(1994, 3, 12),
        "NPH-1001",
        "she/her",
        Indication.VAGINOPLASTY,
        "",
        "Ms R. Adeyemi, gender surgery",
        PatientStatus.ACTIVE,
        "physio@northside.example",
        "avery.quinn@example.org",
    ),
    (
        "northside",
        "Sam Rivera",
        date(1998, 9, 30),
        "NPH-1002",
        "she/they",
        Indication.VAGINISMUS,
        "",
        "Dr L. Moore, GP",
        PatientStatus.ACTIVE,
        "physio@northside.example",
        "sam.rivera@example.org",
    ),
    (
        "northside",
        "Morgan Ellis",
        date(1971, 1, 5),
        "NPH-1003",
        "she/her",
        Indication.PELVIC_RADIOTHERAPY,
        "",
        "Dr K. Iqbal, clinical oncology",
        PatientStatus.ACTIVE,
        "physio2@northside.example",
        None,
    ),
    (
        "northside",
        "Daniel Okafor",
        date(1982, 6, 18),
        "NPH-1004",
        "he/him",
        Indication.CHRONIC_PELVIC_PAIN,
        "",
        "Mr P. Lindqvist, urology",
        PatientStatus.ACTIVE,
        "physio2@northside.example",
        None,
    ),
    (
        "northside",
        "Priya Natarajan",
        date(1989, 11, 2),
        "NPH-1005",
        "she/her",
        Indication.DYSPAREUNIA,
        "",
        "Dr S. Hale, gynaecology",
        PatientStatus.PAUSED,
        "physio@northside.example",
        None,
    ),
    (
        "northside",
        "Lee Chen",
        date(1966, 4, 27),
        "NPH-1006",
        "he/him",
        Indication.ANAL_STENOSIS,
        "",
        "Ms F. Doyle, colorectal surgery",
        PatientStatus.ACTIVE,
        "physio2@northside.example",
        None,
    ),
    (
        "northside",
        "Alex Moreau",
        date(1979, 8, 14),
        "NPH-1007",
        "they/them",
        Indication.LEVATOR_ANI,
        "",
        "Dr L. Moore, GP",
        PatientStatus.DISCHARGED,
        "physio@northside.example",
        None,
    ),
    (
        "riverside",
        "Jordan Blake",
        date(1985, 2, 21),
        "RVP-2001",
        "he/him",
        Indication.CHRONIC_PELVIC_PAIN,
        "",
        "Dr A. Byrne, GP",
        PatientStatus.ACTIVE,
        "physio@riverside.example",
        "jordan.blake@example.org",
    ),
    (
        "riverside",
        "Casey Nguyen",
        date(1996, 7, 9),
        "RVP-2002",
        "she/her",
        Indication.VAGINISMUS,
        "",
        "Dr A. Byrne, GP",
        PatientStatus.ACTIVE,
        "physio@riverside.example",
        None,
    ),
]


def seed_demo() -> None:
    """Add the demo clinics, staff and patients to the session (the caller commits)."""
    password_hash = hash_password(DEMO_PASSWORD)  # one hash, reused: seeding stays quick
    clinics = {key: Clinic(**details) for key, details in CLINICS.items()}
    db.session.add_all(clinics.values())
    for clinic in clinics.values():
        seed_clinic_library(clinic)
    staff = {
        email: User(
            clinic=clinics[clinic],
            email=email,
            full_name=name,
            role=role,
            password_hash=password_hash,
        )
        for clinic, email, name, role in STAFF
    }
    db.session.add_all(staff.values())
    for (
        clinic,
        name,
        born,
        identifier,
        pronouns,
        indication,
        other,
        referrer,
        status,
        clinician,
        portal_email,
    ) in PATIENTS:
        portal_user = None
        if portal_email:
            portal_user = User(
                clinic=clinics[clinic],
                email=portal_email,
                full_name=name,
                role=Role.PATIENT,
                password_hash=password_hash,
            )
        db.session.add(
            Patient(
                clinic=clinics[clinic],
                user=portal_user,
                full_name=name,
                date_of_birth=born,
                clinic_identifier=identifier,
                pronouns=pronouns,
                indication=indication,
                indication_other=other,
                referring_clinician=referrer,
                status=status,
                responsible_clinician=staff[clinician],
            )
        )
    db.session.flush()

"""A patient's language as tests set it: the clinic turns a language on (as its
administrator does after reviewing it) and the patient's record names it."""

from __future__ import annotations

from datetime import date

from flask import Flask
from sqlalchemy import select

from clinic.extensions import db
from clinic.models import ClinicLanguage, Patient


def turn_on(app: Flask, clinic_id: int, *codes: str) -> None:
    """The clinic turns these languages on for its patients (reviewed, as required)."""
    with app.app_context():
        for code in codes:
            known = db.session.scalar(
                select(ClinicLanguage).where(
                    ClinicLanguage.clinic_id == clinic_id, ClinicLanguage.code == code
                )
            )
            if known is None:
                db.session.add(
                    ClinicLanguage(
                        clinic_id=clinic_id,
                        code=code,
                        reviewed_by="Dr Review, pelvic-health physiotherapist",
                        reviewed_on=date(2026, 11, 1),
                    )
                )
        db.session.commit()


def speaks(app: Flask, patient_id: int, code: str, *, turned_on: bool = True) -> None:
    """The patient's record names `code` as their language; with `turned_on`, their clinic
    has turned it on too (otherwise they are served English)."""
    with app.app_context():
        patient = db.session.get_one(Patient, patient_id)
        patient.language = code
        clinic_id = patient.clinic_id
        db.session.commit()
    if turned_on and code != "en":
        turn_on(app, clinic_id, code)


def language_of(app: Flask, patient_id: int) -> str:
    """The language on the patient's record, as saved."""
    with app.app_context():
        return db.session.get_one(Patient, patient_id).language

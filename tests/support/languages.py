"""Patients who read another language: the record's language, and the clinic turning it
on (a ClinicLanguage row, as an administrator does after reviewing it)."""

from __future__ import annotations

from flask import Flask

from clinic.extensions import db
from clinic.models import ClinicLanguage, Patient
from tests.support.measures import today


def speaks(app: Flask, patient_id: int, code: str, *, turned_on: bool = True) -> None:
    """The patient reads `code`; their clinic has turned it on unless `turned_on` is
    False (then they are served English)."""
    with app.app_context():
        patient = db.session.get(Patient, patient_id)
        patient.language = code
        if turned_on:
            db.session.add(
                ClinicLanguage(
                    clinic_id=patient.clinic_id,
                    code=code,
                    reviewed_by="A. Reviewer, pelvic-health physiotherapist",
                    reviewed_on=today(),
                )
            )
        db.session.commit()

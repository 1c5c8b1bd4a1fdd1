"""Outcome measures for tests: an assignment of an instrument to a patient and a clinic's
import of an instrument version written straight to the database (fast), the shipped
instruments' data to build imported versions from, and assigning and answering through
the services (`assign_measure`, `answer_measure`) where what the services do is tested."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from flask import Flask

from clinic.core.clock import clinic_today
from clinic.domain.measure_schedule import Cadence
from clinic.domain.questionnaires import parse_instrument
from clinic.extensions import db
from clinic.measures import services
from clinic.measures.answers import start_or_resume, submit
from clinic.models import ClinicInstrument, MeasureAssignment, Patient, User
from clinic.models.types import utcnow
from tests.support.protocols import ZONE

INSTRUMENTS = Path(__file__).resolve().parents[2] / "clinic" / "data" / "instruments"


def shipped_data(file_name: str) -> dict[str, Any]:
    """A shipped instrument file's data (decimals exact), to change into another version."""
    text = (INSTRUMENTS / file_name).read_text(encoding="utf-8")
    return json.loads(text, parse_float=Decimal)


def assign(
    app: Flask,
    patient_id: int,
    instrument_key: str = "dilator-confidence",
    *,
    days_from_today: int = 0,
    cadence: Cadence = Cadence.ONCE,
    every_weeks: int | None = None,
    ended: bool = False,
) -> int:
    """Assign `instrument_key` to the patient; ONCE: asked `days_from_today` days from today
    (negative: in the past), REPEATING: at the start and every `every_weeks` weeks (needs a
    started protocol, see tests/support/protocols.start_plan). Returns the assignment id."""
    with app.app_context():
        patient = db.session.get(Patient, patient_id)
        today = clinic_today(ZONE)
        assignment = MeasureAssignment(
            clinic_id=patient.clinic_id,
            patient_id=patient.id,
            instrument_key=instrument_key,
            cadence=cadence,
            on=today + timedelta(days=days_from_today) if cadence is Cadence.ONCE else None,
            every_weeks=every_weeks,
            assigned_on=min(today, today + timedelta(days=days_from_today)),
            ended_at=utcnow() if ended else None,
        )
        db.session.add(assignment)
        db.session.commit()
        return assignment.id


def assign_measure(
    app: Flask,
    patient_id: int,
    by_id: int,
    key: str = "pain-nrs",
    cadence: Cadence = Cadence.REPEATING,
    *,
    every_weeks: int | None = 4,
    at_discharge: bool = True,
    on: date | None = None,
    assigned_on: date | None = None,
) -> int:
    """Assign through the service, by the user `by_id`, on `assigned_on` (default today);
    returns the id."""
    with app.app_context():
        assignment = services.assign(
            db.session.get(Patient, patient_id),
            key,
            cadence,
            by=db.session.get(User, by_id),
            on=on,
            every_weeks=every_weeks,
            at_discharge=at_discharge,
            today=assigned_on,
        )
        db.session.commit()
        return assignment.id


def answer_measure(
    app: Flask, assignment_id: int, occasion_key: str, answers: dict, *, on: date
) -> int:
    """The patient answers an occasion on day `on`, through the portal's service (scored on
    submission); returns the response id."""
    with app.app_context():
        assignment = db.session.get(MeasureAssignment, assignment_id)
        patient = db.session.get(Patient, assignment.patient_id)
        response = start_or_resume(patient, assignment, occasion_key, today=on)
        submit(response, answers, now=datetime.combine(on, time(12), UTC))
        db.session.commit()
        return response.id


def import_instrument(app: Flask, clinic_id: int, data: dict[str, Any]) -> None:
    """The clinic imports this instrument definition (a new version is a new row)."""
    text = json.dumps(data, default=float)  # exact decimals back to JSON numbers
    instrument = parse_instrument(text)  # refuse a broken test definition early
    with app.app_context():
        db.session.add(
            ClinicInstrument(
                clinic_id=clinic_id,
                key=instrument.key,
                version=instrument.version,
                title=instrument.title,
                licence_status=instrument.licence.status.value,
                definition=text,
            )
        )
        db.session.commit()


# The title of the clinic's own version of the pain scale (`import_own_pain_scale`).
OWN_PAIN_TITLE = "Pain, as this clinic words it"


def import_own_pain_scale(app: Flask, clinic_id: int) -> None:
    """The clinic imports its own version 2 of the pain NRS, titled `OWN_PAIN_TITLE`."""
    data = shipped_data("pain-nrs.json")
    data["version"], data["title"] = "2", OWN_PAIN_TITLE
    import_instrument(app, clinic_id, data)


def end_assignment(app: Flask, assignment_id: int) -> None:
    """The clinician stops the assignment (as the clinician side does)."""
    with app.app_context():
        db.session.get(MeasureAssignment, assignment_id).ended_at = utcnow()
        db.session.commit()


def today() -> date:
    """Today in the test clinics' zone."""
    return clinic_today(ZONE)

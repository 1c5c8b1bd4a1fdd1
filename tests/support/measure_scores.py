"""Outcome measures with scored answers for tests, written straight to the database: an
assignment, and submitted answers scored by the domain's own scorer
(`clinic.domain.questionnaires.score`) and stored as the portal stores them, so what the
timeline and the documents show can be compared with hand-worked figures."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta

from flask import Flask

from clinic.core.clock import clinic_today
from clinic.domain.measure_schedule import Cadence
from clinic.domain.questionnaires import Score, score
from clinic.extensions import db
from clinic.measures.instruments import available
from clinic.models import MeasureAssignment, MeasureResponse, Patient
from clinic.models.types import utcnow
from clinic.monitoring.services import refresh_patients
from tests.support.diaries import ZONE


def today() -> date:
    """The clinic's today (the test clinics are in ZONE)."""
    return clinic_today(ZONE)


def days_ago(n: int) -> date:
    return today() - timedelta(days=n)


def assign_measure(
    app: Flask,
    patient_id: int,
    instrument_key: str,
    *,
    cadence: Cadence = Cadence.ONCE,
    on_days_ago: int = 0,
    every_weeks: int | None = None,
    assigned_days_ago: int | None = None,
    at_discharge: bool = True,
) -> int:
    """Assign `instrument_key` to the patient: ONCE, asked `on_days_ago` days ago (and
    assigned that day unless said otherwise); REPEATING, at the protocol's start and every
    `every_weeks` weeks (assigned today unless said otherwise). The patient's summary is
    refreshed as of the day it was assigned. Returns its id."""
    with app.app_context():
        patient = db.session.get(Patient, patient_id)
        once = cadence is Cadence.ONCE
        if assigned_days_ago is None:
            assigned_days_ago = on_days_ago if once else 0
        assignment = MeasureAssignment(
            clinic_id=patient.clinic_id,
            patient_id=patient.id,
            instrument_key=instrument_key,
            cadence=cadence,
            on=days_ago(on_days_ago) if once else None,
            every_weeks=every_weeks,
            at_discharge=at_discharge,
            assigned_on=days_ago(assigned_days_ago),
        )
        db.session.add(assignment)
        # As the app did on the day it was assigned (the commit refreshes no one again).
        refresh_patients(patient.clinic, [patient.id], days_ago(assigned_days_ago))
        db.session.commit()
        return assignment.id


def end_measure(app: Flask, assignment_id: int) -> None:
    """A clinician stops the assignment: it asks for nothing more."""
    with app.app_context():
        db.session.get(MeasureAssignment, assignment_id).ended_at = utcnow()
        db.session.commit()


def answer_measure(
    app: Flask,
    assignment_id: int,
    occasion_key: str,
    answers: Mapping[str, int | None],
    *,
    occasion_days_ago: int,
    answered_days_ago: int | None = None,
) -> Score:
    """The patient's submitted answers for one occasion (asked for `occasion_days_ago`
    days ago, answered that day unless said otherwise), scored on the clinic's current
    version of the instrument and stored with the score; the patient's summary is refreshed
    as of the day they were sent. Returns the domain's score."""
    with app.app_context():
        assignment = db.session.get(MeasureAssignment, assignment_id)
        instrument = available(assignment.clinic_id)[assignment.instrument_key]
        result = score(instrument, answers)
        answered = days_ago(occasion_days_ago if answered_days_ago is None else answered_days_ago)
        sent = datetime.combine(answered, time(12), UTC)
        db.session.add(
            MeasureResponse(
                clinic_id=assignment.clinic_id,
                patient_id=assignment.patient_id,
                assignment_id=assignment.id,
                occasion_key=occasion_key,
                occasion_on=days_ago(occasion_days_ago),
                instrument_key=instrument.key,
                instrument_version=instrument.version,
                answers=json.dumps(dict(answers), sort_keys=True),
                started_at=sent,
                saved_at=sent,
                submitted_at=sent,
                total=float(result.total) if result.total is not None else None,
                band_label=result.band.label if result.band is not None else "",
                domains=json.dumps(
                    {d.key: float(d.score) if d.score is not None else None for d in result.domains}
                ),
                valid=result.valid,
                invalid_reason="; ".join(result.reasons),
            )
        )
        # As the app did on the day the answers were sent (the commit refreshes no one again).
        refresh_patients(
            db.session.get(Patient, assignment.patient_id).clinic, [assignment.patient_id], answered
        )
        db.session.commit()
        return result


def weekly_pain_scores(app: Flask, patient_id: int, weeks: int, started_days_ago: int) -> int:
    """A pain NRS asked every week since a protocol that started `started_days_ago` days
    ago, answered at the start and on each of the first `weeks` weeks (pain easing from 8),
    for pages that must not slow down as answers pile up. Returns the assignment id."""
    assignment = assign_measure(
        app,
        patient_id,
        "pain-nrs",
        cadence=Cadence.REPEATING,
        every_weeks=1,
        assigned_days_ago=started_days_ago,
    )
    answer_measure(app, assignment, "baseline", {"pain": 8}, occasion_days_ago=started_days_ago)
    for week in range(1, weeks + 1):
        answer_measure(
            app,
            assignment,
            f"week-{week}",
            {"pain": max(0, 8 - week // 2)},
            occasion_days_ago=started_days_ago - 7 * week,
        )
    return assignment

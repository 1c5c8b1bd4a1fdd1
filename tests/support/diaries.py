"""Protocols and diary entries for tests, written straight to the database (fast), plus
`refresh` to bring the monitoring summaries up to date afterwards as the app would."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from uuid import uuid4

from flask import Flask
from sqlalchemy import select

from clinic.core.clock import clinic_today
from clinic.domain.diary import Bleeding, SkipReason
from clinic.domain.indications import Indication
from clinic.domain.protocols import EventKind, in_force_on
from clinic.extensions import db
from clinic.library.defaults import seed_clinic_library
from clinic.models import Clinic, DiaryEntry, Patient, Protocol, ProtocolTemplate, User
from clinic.monitoring.services import refresh_patients
from clinic.protocols.queries import timeline, version
from clinic.protocols.services import record_event, start_protocol

ZONE = "Europe/London"


def start_plan(
    app: Flask,
    patient_id: int,
    clinician_id: int,
    changes: Sequence[tuple[EventKind, int]] = (),
    *,
    started_days_ago: int = 20,
) -> int:
    """The patient on their clinic's vaginismus template (Size 1, 13 mm, then Size 2,
    17 mm ...), started `started_days_ago` days ago at stage 1, then `changes` as (kind,
    days ago); returns the protocol id."""
    with app.app_context():
        patient = db.session.get(Patient, patient_id)
        clinic = db.session.get(Clinic, patient.clinic_id)
        template = _vaginismus_template(clinic)
        today = clinic_today(ZONE)
        clinician = db.session.get(User, clinician_id)
        protocol = start_protocol(
            patient,
            clinician,
            name=template.name,
            route=template.route,
            stages=[s.stage_values() for s in template.stages],
            start_stage=1,
            start_on=today - timedelta(days=started_days_ago),
            today=today,
            template=template,
        )
        for kind, days_ago in changes:
            record_event(
                protocol,
                kind,
                clinician,
                expected_lock=str(protocol.lock_version),
                effective_on=today - timedelta(days=days_ago),
                today=today,
                reason="Agreed at the appointment",
            )
        db.session.commit()
        return protocol.id


def _vaginismus_template(clinic: Clinic) -> ProtocolTemplate:
    def find() -> ProtocolTemplate | None:
        return db.session.scalars(
            select(ProtocolTemplate).where(
                ProtocolTemplate.clinic_id == clinic.id,
                ProtocolTemplate.indication == Indication.VAGINISMUS,
            )
        ).first()

    template = find()
    if template is None:
        seed_clinic_library(clinic)
        db.session.flush()
        template = find()
    return template


def add_entries(
    app: Flask,
    protocol_id: int,
    person,
    days_ago: Sequence[int],
    *,
    minutes: int = 10,
    pain: tuple[int, int] = (3, 2),
    skipped: bool = False,
    withdrawn: bool = False,
    skip_reason: SkipReason = SkipReason.NO_TIME,
) -> None:
    """Sessions (or skips) for `person` logged against `protocol_id`, one per entry of
    `days_ago`, each stored with the version and stage in force on its day. Written
    directly: call `refresh` before reading summaries or flags."""
    with app.app_context():
        protocol = db.session.get(Protocol, protocol_id)
        patient = db.session.get(Patient, person.patient_id)
        today = clinic_today(ZONE)
        events = timeline(protocol)
        for ago in days_ago:
            day = today - timedelta(days=ago)
            state = in_force_on(events, day)
            stage = version(protocol, state.version).stages[state.stage - 1]
            db.session.add(
                DiaryEntry(
                    clinic_id=patient.clinic_id,
                    patient_id=patient.id,
                    protocol_id=protocol.id,
                    version_number=state.version,
                    stage=state.stage,
                    skipped=skipped,
                    occurred_at=datetime.combine(day, time(12), UTC),
                    occurred_on=day,
                    dilator_size_id=None if skipped else stage.dilator_size_id,
                    minutes=None if skipped else minutes,
                    pain_during=None if skipped else pain[0],
                    pain_after=None if skipped else pain[1],
                    bleeding=None if skipped else Bleeding.NONE,
                    sharp_pain=None if skipped else False,
                    skip_reason=skip_reason if skipped else None,
                    submission_key=uuid4().hex,
                    created_by_id=person.id,
                    withdrawn_at=datetime.now(UTC) if withdrawn else None,
                )
            )
        db.session.commit()


def refresh(app: Flask, clinic_id: int) -> None:
    """Recompute every summary and flag of the clinic, as the daily refresh does."""
    with app.app_context():
        refresh_patients(db.session.get(Clinic, clinic_id), None)
        db.session.commit()

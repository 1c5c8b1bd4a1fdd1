"""Protocols for tests, started the one way the app starts them: through the protocol
service (`start_protocol`, then `record_event` for each later decision), so versions,
events and their hashes are what a clinician's clicks would leave.

`make_protocol` works on ORM objects inside an app context and leaves committing to the
caller; `start_plan` wraps it for tests that hold only ids (its own context, committed).
The fixture `on_protocol` (the suite's root conftest) is the world's patient on such a plan.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select

from clinic.core.clock import clinic_today
from clinic.domain.indications import Indication
from clinic.domain.protocols import EventKind, StagePrescription
from clinic.extensions import db
from clinic.library.defaults import seed_clinic_library
from clinic.models import Clinic, Patient, Protocol, ProtocolTemplate, User
from clinic.protocols.services import record_event, start_protocol

ZONE = "Europe/London"


def clinic_template(
    clinic_id: int, indication: Indication = Indication.VAGINISMUS
) -> ProtocolTemplate:
    """The clinic's library template for `indication` (Size 1, 13 mm, then Size 2, 17 mm
    ... for vaginismus), seeding the default library first if the clinic has none."""

    def find() -> ProtocolTemplate | None:
        return db.session.scalars(
            select(ProtocolTemplate).where(
                ProtocolTemplate.clinic_id == clinic_id,
                ProtocolTemplate.indication == indication,
            )
        ).first()

    template = find()
    if template is None:
        seed_clinic_library(db.session.get(Clinic, clinic_id))
        db.session.flush()
        template = find()
    assert template is not None, f"the default library has no {indication} template"
    return template


def make_protocol(
    patient: Patient,
    clinician: User,
    *,
    template: ProtocolTemplate | None = None,
    stages: Sequence[StagePrescription] | None = None,
    started_on: date | None = None,
    start_stage: int = 1,
    changes: Sequence[tuple[EventKind, date]] = (),
    name: str | None = None,
    **details: Any,
) -> Protocol:
    """`patient` on a protocol `clinician` starts from `template` (default: the clinic's
    vaginismus template) with its stages, or with `stages` when given, on `started_on`
    (default today) at `start_stage`; then each of `changes` (kind, effective date) is
    recorded as the clinician's decision. `details` go to `start_protocol` as they are
    (e.g. `surgeon_direction`). Flushed, not committed; needs an app context."""
    template = template or clinic_template(patient.clinic_id)
    today = clinic_today(ZONE)
    protocol = start_protocol(
        patient,
        clinician,
        name=template.name if name is None else name,
        route=template.route,
        stages=[s.stage_values() for s in template.stages] if stages is None else stages,
        start_stage=start_stage,
        start_on=today if started_on is None else started_on,
        today=today,
        template=template,
        **details,
    )
    for kind, effective_on in changes:
        record_event(
            protocol,
            kind,
            clinician,
            expected_lock=str(protocol.lock_version),
            effective_on=effective_on,
            today=today,
            reason="Agreed at the appointment",
        )
    db.session.flush()
    return protocol


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
    days ago); committed, returns the protocol id."""
    with app.app_context():
        today = clinic_today(ZONE)
        protocol = make_protocol(
            db.session.get(Patient, patient_id),
            db.session.get(User, clinician_id),
            started_on=today - timedelta(days=started_days_ago),
            changes=[(kind, today - timedelta(days=ago)) for kind, ago in changes],
        )
        db.session.commit()
        return protocol.id


def seed_both_libraries(app: Flask, world) -> dict[str, int]:
    """The default catalogue and templates in both clinics of `world`; the template ids of
    clinic A by indication value."""
    with app.app_context():
        for clinic_id in (world.clinic_a, world.clinic_b):
            seed_clinic_library(db.session.get(Clinic, clinic_id))
        db.session.commit()
        return {
            t.indication.value: t.id
            for t in db.session.scalars(
                select(ProtocolTemplate).where(ProtocolTemplate.clinic_id == world.clinic_a)
            )
        }


PAUSE_REASON = "Rest until your follow-up appointment."
DECISION_REASON = "Agreed at the appointment"


def record_today(
    protocol: Protocol,
    kind: EventKind,
    clinician_id: int,
    reason: str = DECISION_REASON,
    **details: Any,
) -> None:
    """The clinician records `kind` on `protocol` from today, with `reason` (and
    `details`, e.g. `resume_on`, as `record_event` takes them); not committed; needs an
    app context."""
    today = clinic_today(ZONE)
    record_event(
        protocol,
        kind,
        db.session.get_one(User, clinician_id),
        expected_lock=str(protocol.lock_version),
        effective_on=today,
        today=today,
        reason=reason,
        **details,
    )


def decide_today(
    app: Flask, protocol_id: int, kind: EventKind, clinician_id: int, reason: str = DECISION_REASON
) -> None:
    """`record_today` through `app` (another instance, say), committed."""
    with app.app_context():
        record_today(db.session.get_one(Protocol, protocol_id), kind, clinician_id, reason)
        db.session.commit()


def pause_today(app: Flask, protocol_id: int, clinician_id: int, resume_in_days: int = 10) -> date:
    """The clinician pauses the plan from today, to resume in `resume_in_days` days (with
    `PAUSE_REASON`); committed, returns the planned resume day."""
    resume_on = clinic_today(ZONE) + timedelta(days=resume_in_days)
    with app.app_context():
        protocol = db.session.get_one(Protocol, protocol_id)
        record_today(protocol, EventKind.PAUSE, clinician_id, PAUSE_REASON, resume_on=resume_on)
        db.session.commit()
    return resume_on


def portal_patients_on_plan(app: Flask, world: Any) -> None:
    """Both clinic-A portal patients (the world's patient and other patient) on the
    vaginismus template since 10 days ago."""
    with app.app_context():
        today = clinic_today("Europe/London")
        for person in (world.patient, world.other_patient):
            make_protocol(
                db.session.get(Patient, person.patient_id),
                db.session.get(User, world.clinician.id),
                started_on=today - timedelta(days=10),
            )
        db.session.commit()

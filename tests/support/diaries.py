"""Diary entries for tests, written straight to the database (fast), plus `refresh` to
bring the monitoring summaries up to date afterwards as the app would; a session with
sharp pain logged through the diary service (`report_red_flag`), and calm sessions logged
or corrected through it as the portal does (`log_session`, `correct_session`). Protocols
to log against come from tests/support/protocols.py."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from urllib.parse import urlsplit
from uuid import uuid4
from zoneinfo import ZoneInfo

from flask import Flask
from sqlalchemy import select

from clinic.core.clock import clinic_today, now
from clinic.diary.services import SessionDetails, correct, record
from clinic.domain.diary import Bleeding, SkipReason
from clinic.domain.protocols import in_force_on
from clinic.extensions import db
from clinic.models import Clinic, DiaryEntry, Patient, Protocol, User
from clinic.models.types import utcnow
from clinic.monitoring.services import refresh_patients
from clinic.protocols.queries import timeline, version
from tests.support.protocols import ZONE


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
    size_id: int | None = None,
    depths: Sequence[float | None] = (),
) -> None:
    """Sessions (or skips) for `person` logged against `protocol_id`, one per entry of
    `days_ago`, each stored with the version and stage in force on its day and done with
    that stage's dilator (or the size `size_id`), with the depth (cm) of the same place in
    `depths` if given. Written directly: call `refresh` before
    reading summaries or flags."""
    with app.app_context():
        protocol = db.session.get(Protocol, protocol_id)
        patient = db.session.get(Patient, person.patient_id)
        today = clinic_today(ZONE)
        events = timeline(protocol)
        for i, ago in enumerate(days_ago):
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
                    dilator_size_id=None if skipped else size_id or stage.dilator_size_id,
                    minutes=None if skipped else minutes,
                    pain_during=None if skipped else pain[0],
                    pain_after=None if skipped else pain[1],
                    bleeding=None if skipped else Bleeding.NONE,
                    sharp_pain=None if skipped else False,
                    depth_cm=depths[i] if i < len(depths) else None,
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


def stage_size_id(app: Flask, protocol_id: int, stage: int) -> int:
    """The dilator size id the first version of the protocol prescribes at `stage`."""
    with app.app_context():
        protocol = db.session.get(Protocol, protocol_id)
        return protocol.versions[0].stages[stage - 1].dilator_size_id


def report_red_flag(app: Flask, person, protocol_id: int) -> None:
    """The patient logs a session with sharp pain through the diary (raises a red flag)."""
    with app.app_context():
        patient = db.session.get(Patient, person.patient_id)
        protocol = db.session.get(Protocol, protocol_id)
        size_id = protocol.versions[0].stages[0].dilator_size_id
        record(
            patient,
            protocol,
            db.session.get(User, person.id),
            f"red-{person.id}",
            SessionDetails(utcnow(), size_id, 10, 3, 2, Bleeding.NONE, True, None, ""),
        )
        db.session.commit()


def _calm_session(
    protocol: Protocol, days_ago: int, bleeding: Bleeding, depth: float | None
) -> SessionDetails:
    day = clinic_today(ZONE) - timedelta(days=days_ago)
    size_id = protocol.versions[0].stages[0].dilator_size_id
    # Today's session before 09:00 would be in the future (refused): then it is "just now",
    # never earlier than the start of the clinic's day, so the test means the same at any hour.
    local_start = datetime.combine(day, time(0), ZoneInfo(ZONE)).astimezone(UTC)
    occurred = max(local_start, min(datetime.combine(day, time(9), UTC), now()))
    return SessionDetails(occurred, size_id, 15, 2, 1, bleeding, False, depth, "")


def log_session(
    app: Flask,
    person,
    protocol_id: int,
    days_ago: int,
    *,
    bleeding: Bleeding = Bleeding.NONE,
    depth: float | None = None,
) -> str:
    """The patient logs, now, a calm session of `days_ago` days ago (at 09:00 UTC, or just
    now when that is still to come today) with the plan's first size, through the diary
    service as the portal does (red flags raised); returns the form key it was saved with."""
    key = f"log-{uuid4()}"
    with app.app_context():
        protocol = db.session.get(Protocol, protocol_id)
        record(
            db.session.get(Patient, person.patient_id),
            protocol,
            db.session.get(User, person.id),
            key,
            _calm_session(protocol, days_ago, bleeding, depth),
        )
        db.session.commit()
    return key


def correct_session(
    app: Flask,
    person,
    protocol_id: int,
    key: str,
    days_ago: int,
    *,
    bleeding: Bleeding = Bleeding.NONE,
    depth: float | None = None,
) -> None:
    """The patient corrects, now, the session saved with `key` (see `log_session`)."""
    with app.app_context():
        protocol = db.session.get(Protocol, protocol_id)
        entry = db.session.scalar(select(DiaryEntry).where(DiaryEntry.submission_key == key))
        correct(
            entry,
            protocol,
            db.session.get(User, person.id),
            _calm_session(protocol, days_ago, bleeding, depth),
        )
        db.session.commit()


def saved_entry_id(location: str) -> int:
    """The id of the entry a diary form's answer leads to ("/diary/entries/12?saved=1")."""
    path = urlsplit(location).path
    assert path.startswith("/diary/entries/"), location
    return int(path.rsplit("/", 1)[1])

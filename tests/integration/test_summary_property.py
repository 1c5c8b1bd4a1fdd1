"""Property: whatever sequence of service calls a clinic makes (sessions logged, corrected
and withdrawn, stage decisions, pauses and resumes, flags acknowledged, patient details
edited, a size renamed, the clinic's rules changed), after each commit every summary is
the one a refresh from scratch computes. No call refreshes anything by hand: the session
does it (clinic.monitoring.upkeep)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from clinic.admin.services import ClinicSettings, update_clinic_settings
from clinic.catalogue.services import SizeDetails, update_size
from clinic.core.clock import clinic_today
from clinic.diary import services as diary
from clinic.domain.diary import Bleeding, SkipReason
from clinic.domain.protocols import EventKind, in_force_on
from clinic.extensions import db
from clinic.models import (
    CareFlag,
    Clinic,
    DiaryEntry,
    Patient,
    PatientStatus,
    PatientSummary,
    Protocol,
    RedFlag,
    Role,
    User,
)
from clinic.models.types import utcnow
from clinic.monitoring.services import acknowledge, refresh_patients
from clinic.patients.services import PatientDetails, update_patient
from clinic.protocols.queries import open_protocol, timeline, version
from clinic.protocols.services import record_event
from tests.support.diaries import add_entries
from tests.support.factories import make_clinic, make_patient, make_user
from tests.support.protocols import start_plan

DECISIONS = [EventKind.ADVANCE, EventKind.HOLD, EventKind.STEP_BACK, EventKind.PAUSE]
DECISIONS += [EventKind.RESUME]

PATIENT = st.integers(0, 1)
LOG = st.tuples(
    st.just("log"),
    PATIENT,
    st.integers(0, 6),  # days ago
    st.integers(1, 20),  # minutes: the clinic's completion percentage decides if done
    st.integers(0, 10),  # pain during: 7 or more raises a red flag
    st.booleans(),  # sharp pain: a red flag whatever the pain
    st.booleans(),  # skipped
)
STEPS = st.one_of(
    LOG,
    LOG,  # twice as likely as the others: most of what happens is sessions logged
    st.tuples(st.just("correct"), st.integers(0, 20), st.integers(0, 10)),
    st.tuples(st.just("withdraw"), st.integers(0, 20)),
    st.tuples(st.just("decide"), PATIENT, st.sampled_from(DECISIONS)),
    st.tuples(st.just("acknowledge"), st.sampled_from([RedFlag, CareFlag]), st.integers(0, 20)),
    st.tuples(
        st.just("edit"),
        PATIENT,
        st.sampled_from(list(PatientStatus)),
        st.none() | st.integers(-3, 3),
    ),
    st.tuples(st.just("rename"), st.integers(1, 99)),
    st.tuples(st.just("settings"), st.integers(50, 100), st.integers(2, 8)),
)


@dataclass(frozen=True)
class Cast:
    clinic_id: int
    clinician_id: int
    patients: tuple[tuple[int, int], ...]  # (patient id, their portal user id)


def perform(cast: Cast, step: tuple[Any, ...]) -> None:
    """Do one step through the services, in its own transaction, and commit it (a step
    the services refuse, e.g. advancing a paused plan, is rolled back)."""
    clinician = db.session.get(User, cast.clinician_id)
    today = clinic_today(db.session.get(Clinic, cast.clinic_id).timezone)
    name, *args = step
    try:
        if name == "log":
            which, days_ago, minutes, pain, sharp, skipped = args
            pid, user_id = cast.patients[which]
            patient = db.session.get(Patient, pid)
            protocol = open_protocol(pid, cast.clinic_id)
            if protocol is None:
                return
            moment = utcnow() - timedelta(days=days_ago)
            details: diary.SessionDetails | diary.SkipDetails
            if skipped:
                details = diary.SkipDetails(moment, SkipReason.NO_TIME, "")
            else:
                state = in_force_on(timeline(protocol), moment.date())
                if state is None:
                    return
                stage = version(protocol, state.version).stages[state.stage - 1]
                details = diary.SessionDetails(
                    moment, stage.dilator_size_id, minutes, pain, 1, Bleeding.NONE, sharp, None, ""
                )
            key = f"p-{pid}-{utcnow().timestamp()}"
            diary.record(patient, protocol, db.session.get(User, user_id), key, details)
        elif name in ("correct", "withdraw"):
            entries = list(
                db.session.scalars(
                    select(DiaryEntry)
                    .where(DiaryEntry.clinic_id == cast.clinic_id)
                    .order_by(DiaryEntry.id)
                )
            )
            if not entries:
                return
            entry = entries[args[0] % len(entries)]
            if entry.withdrawn_at is not None:
                return
            by = db.session.get(User, entry.created_by_id)
            if name == "withdraw":
                diary.withdraw(entry, by)
            else:
                protocol = db.session.get(Protocol, entry.protocol_id)
                details = (
                    diary.SkipDetails(entry.occurred_at, SkipReason.NO_TIME, "")
                    if entry.skipped
                    else diary.SessionDetails(
                        entry.occurred_at,
                        entry.dilator_size_id,
                        12,
                        args[1],
                        1,
                        Bleeding.NONE,
                        False,
                        None,
                        "",
                    )
                )
                diary.correct(entry, protocol, by, details)
        elif name == "decide":
            which, kind = args
            protocol = open_protocol(cast.patients[which][0], cast.clinic_id)
            if protocol is None:
                return
            record_event(
                protocol,
                kind,
                clinician,
                expected_lock=str(protocol.lock_version),
                effective_on=today,
                today=today,
                reason="Agreed at the appointment",
            )
        elif name == "acknowledge":
            model, pick = args
            flags = list(
                db.session.scalars(
                    select(model)
                    .where(model.clinic_id == cast.clinic_id, model.acknowledged_at.is_(None))
                    .order_by(model.id)
                )
            )
            if not flags:
                return
            acknowledge(flags[pick % len(flags)], clinician, "Seen and discussed.")
        elif name == "edit":
            which, status, review_in = args
            patient = db.session.get(Patient, cast.patients[which][0])
            current = {f.name: getattr(patient, f.name) for f in fields(PatientDetails)}
            review_on = None if review_in is None else today + timedelta(days=review_in)
            update_patient(
                patient, PatientDetails(**current | {"status": status, "review_on": review_on})
            )
        elif name == "rename":
            protocol = open_protocol(cast.patients[0][0], cast.clinic_id)
            if protocol is None:
                return
            size = protocol.versions[0].stages[0].dilator_size
            details = SizeDetails(f"Size {args[0]}", size.diameter_mm, size.insertable_length_mm)
            update_size(size, details)
        elif name == "settings":
            clinic = db.session.get(Clinic, cast.clinic_id)
            current = {f.name: getattr(clinic, f.name) for f in fields(ClinicSettings)}
            changes = {"completion_pct": args[0], "not_logging_days": args[1]}
            update_clinic_settings(clinic, ClinicSettings(**current | changes))
        db.session.commit()
    except ValueError:  # a refusal (Refusal, FlagAlreadyAcknowledged): nothing is kept
        db.session.rollback()


def summaries(clinic_id: int) -> dict[int, dict[str, Any]]:
    """Each summary of the clinic as stored now, but for when and how often it was made."""
    table = PatientSummary.__table__
    rows = db.session.execute(select(table).where(table.c.clinic_id == clinic_id)).mappings()
    return {
        row["patient_id"]: {k: v for k, v in row.items() if k not in ("computed_at", "version")}
        for row in rows
    }


def assert_current(clinic_id: int) -> None:
    """The stored summaries equal a refresh from scratch (made, then rolled back)."""
    stored = summaries(clinic_id)
    db.session.rollback()
    refresh_patients(db.session.get(Clinic, clinic_id), None)
    recomputed = summaries(clinic_id)
    db.session.rollback()
    assert stored == recomputed


def new_clinic(app: Flask) -> Cast:
    """A clinic of its own for one example: a clinician and two portal patients, each on
    the vaginismus program since 20 days ago, with a few sessions logged."""
    with app.app_context():
        clinic = make_clinic()
        clinician = make_user(clinic, Role.CLINICIAN)
        patients = [make_patient(clinic, portal=True) for _ in range(2)]
        db.session.commit()
        cast = Cast(clinic.id, clinician.id, tuple((p.id, p.user_id) for p in patients))
    for pid, user_id in cast.patients:
        protocol_id = start_plan(app, pid, cast.clinician_id, started_days_ago=20)
        # Some history, with sessions short enough that the completion percentage matters.
        person = SimpleNamespace(patient_id=pid, id=user_id)
        add_entries(app, protocol_id, person, [2, 5, 9, 12], minutes=10)
        add_entries(app, protocol_id, person, [3, 6, 10], minutes=6)
    return cast


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(STEPS, min_size=3, max_size=10))
def test_summaries_always_equal_a_fresh_recomputation(
    app: Flask, steps: list[tuple[Any, ...]]
) -> None:
    """After each committed step, in any order, every summary of the clinic equals the one
    a refresh from scratch computes."""
    cast = new_clinic(app)
    with app.app_context():
        for step in steps:
            perform(cast, step)
            assert_current(cast.clinic_id)
            db.session.expunge_all()

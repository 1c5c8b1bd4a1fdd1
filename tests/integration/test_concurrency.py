"""Concurrent writes: twenty patients logging sessions at the same moment through the real
app lose nothing, on SQLite (a file in WAL mode, writers waiting on the busy timeout) and
on PostgreSQL when CLINIC_TEST_DATABASE_URL points at one; and on PostgreSQL, writes about
two patients of one clinic do not wait for each other.

Each patient has their own test client in their own thread; a barrier releases every
thread's POST at once, round after round.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pytest
from flask import Flask
from sqlalchemy import func, select, text

from clinic.core.uow import unit_of_work
from clinic.diary.services import SessionDetails, record
from clinic.domain.diary import Bleeding
from clinic.extensions import db
from clinic.models import Clinic, DiaryEntry, Patient, PatientSummary, RedFlag, Role, User
from clinic.models.types import utcnow
from clinic.monitoring import services, upkeep
from clinic.monitoring.services import refresh_patients
from clinic.protocols.queries import open_protocol
from tests.support.auth import act_as
from tests.support.databases import server_url
from tests.support.factories import make_clinic, make_patient, make_user
from tests.support.forms import form_values
from tests.support.protocols import start_plan

PATIENTS = 20
ROUNDS = 3
# Round 2 of every other patient reports pain at the red-flag threshold: the write then
# spans the entry, its flag and the summary.
FLAG_ROUND = 1


@dataclass(frozen=True)
class Writer:
    user_id: int
    patient_id: int
    raises_flag: bool


def _writers(app: Flask) -> tuple[int, list[Writer]]:
    with app.app_context():
        clinic = make_clinic(name="Busy clinic")
        clinician = make_user(clinic, Role.CLINICIAN)
        patients = [make_patient(clinic, portal=True) for _ in range(PATIENTS)]
        db.session.commit()
        built = [Writer(p.user_id, p.id, n % 2 == 0) for n, p in enumerate(patients)]
        clinic_id, clinician_id = clinic.id, clinician.id
    for writer in built:
        start_plan(app, writer.patient_id, clinician_id)
    return clinic_id, built


def _summaries(app: Flask, clinic_id: int) -> dict[int, dict[str, object]]:
    with app.app_context():
        return {
            s.patient_id: {
                c.key: getattr(s, c.key)
                for c in PatientSummary.__table__.columns
                if c.key not in ("computed_at", "version")
            }
            for s in db.session.scalars(
                select(PatientSummary).where(PatientSummary.clinic_id == clinic_id)
            )
        }


def _versions(app: Flask, clinic_id: int) -> int:
    """The sum of the clinic's summary versions (one more per refresh)."""
    with app.app_context():
        return db.session.scalar(
            select(func.sum(PatientSummary.version)).where(PatientSummary.clinic_id == clinic_id)
        )


def test_twenty_patients_logging_at_once_lose_nothing(app: Flask) -> None:
    """Every one of the simultaneous submissions is saved (a redirect to the saved entry,
    never a 409, 500 or 503), every entry and red flag is in the database, each patient's
    summary equals one computed afterwards in quiet, and the summaries' versions counted
    every write (no lost update)."""
    clinic_id, writers = _writers(app)
    versions_before = _versions(app, clinic_id)
    clients = {}
    for writer in writers:
        clients[writer.patient_id] = app.test_client()
        act_as(clients[writer.patient_id], writer.user_id)
    start = threading.Barrier(PATIENTS, timeout=60)
    outcomes: dict[int, list[object]] = {w.patient_id: [] for w in writers}

    def log_sessions(writer: Writer) -> None:
        client = clients[writer.patient_id]
        for round_number in range(ROUNDS):
            try:
                page = client.get("/diary/log").get_data(as_text=True)
                values = form_values(page)  # the token and a fresh submission key
                pain = "8" if writer.raises_flag and round_number == FLAG_ROUND else "2"
                values |= {
                    "pain_during": pain,
                    "pain_after": "1",
                    "bleeding": "none",
                    "sharp_pain": "no",
                    # Each round is another session with the same answers: said so, as
                    # the patient would (clinic.diary.services.find_repeat).
                    "another": "y",
                }
                start.wait()
                response = client.post("/diary/log", data=values)
                outcomes[writer.patient_id].append(
                    (response.status_code, response.headers.get("Location", ""))
                )
            except Exception as exc:  # reported by the assertions below
                outcomes[writer.patient_id].append(exc)
                start.abort()

    threads = [threading.Thread(target=log_sessions, args=(w,)) for w in writers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)

    def saved(outcome: object) -> bool:
        return isinstance(outcome, tuple) and outcome[0] == 302 and "/diary/entries/" in outcome[1]

    failed = {
        pid: got for pid, got in outcomes.items() if len(got) != ROUNDS or not all(map(saved, got))
    }
    assert failed == {}

    with app.app_context():
        entries = dict(
            db.session.execute(
                select(DiaryEntry.patient_id, func.count())
                .where(DiaryEntry.clinic_id == clinic_id)
                .group_by(DiaryEntry.patient_id)
            ).all()
        )
        flags = dict(
            db.session.execute(
                select(RedFlag.patient_id, func.count())
                .where(RedFlag.clinic_id == clinic_id)
                .group_by(RedFlag.patient_id)
            ).all()
        )
    assert entries == {w.patient_id: ROUNDS for w in writers}
    assert flags == {w.patient_id: 1 for w in writers if w.raises_flag}
    assert _versions(app, clinic_id) - versions_before == PATIENTS * ROUNDS

    written = _summaries(app, clinic_id)
    assert {pid: s["red_flags"] for pid, s in written.items()} == {
        w.patient_id: int(w.raises_flag) for w in writers
    }
    with app.app_context():
        refresh_patients(db.session.get(Clinic, clinic_id), None)
        db.session.commit()
    assert _summaries(app, clinic_id) == written


@pytest.mark.skipif(
    server_url() is None,
    reason="SQLite has one write lock per database, so its writers always take turns; "
    "what is shown here is that PostgreSQL's writers do not",
)
def test_two_patients_of_a_clinic_are_written_without_waiting_for_each_other(
    app: Flask,
) -> None:
    """While a transaction that logged a session for one patient, and refreshed their
    summary, is held open, a transaction logging a session for another patient of the same
    clinic commits under a 2-second lock timeout: it waits for no row the first one holds
    (the clinic's row is no longer taken by every refresh). Afterwards both summaries are
    those a quiet recomputation gives."""
    clinic_id, writers = _writers(app)
    first, second = writers[0], writers[1]
    held, release = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def log_session(writer: Writer) -> None:
        patient = db.session.get(Patient, writer.patient_id)
        protocol = open_protocol(patient.id, patient.clinic_id)
        size_id = protocol.versions[0].stages[0].dilator_size_id
        record(
            patient,
            protocol,
            db.session.get(User, writer.user_id),
            f"hold-{writer.patient_id}",
            SessionDetails(utcnow(), size_id, 10, 2, 1, Bleeding.NONE, False, None, ""),
        )

    def first_transaction() -> None:
        try:
            with app.app_context():
                log_session(first)
                upkeep.refresh_changed(db.session())  # what the commit would do first
                held.set()
                assert release.wait(timeout=30)
                db.session.commit()
        except BaseException as exc:  # reported below
            failures.append(exc)
            held.set()

    thread = threading.Thread(target=first_transaction)
    thread.start()
    try:
        assert held.wait(timeout=30)
        with app.app_context():
            db.session.execute(text("SET LOCAL lock_timeout = '2s'"))
            log_session(second)
            db.session.commit()  # raises LockNotAvailable if it had to wait for the first
            assert thread.is_alive()  # the first transaction was open all along
    finally:
        release.set()
        thread.join(timeout=30)
    assert failures == []

    written = _summaries(app, clinic_id)
    assert written[first.patient_id]["last_entry_on"] is not None
    assert written[second.patient_id]["last_entry_on"] is not None
    with app.app_context():
        refresh_patients(db.session.get(Clinic, clinic_id), None)
        db.session.commit()
    assert _summaries(app, clinic_id) == written


@pytest.mark.skipif(
    server_url() is None,
    reason="SQLite has one write lock per database: two refreshes always take turns there; "
    "what is shown here is the order PostgreSQL's row locks are taken in",
)
def test_a_scheduled_refresh_and_the_first_dashboard_visit_queue_instead_of_deadlocking(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scheduled whole-clinic refresh (`flask refresh-summaries`) and the day's first
    dashboard visit both take the clinic's row and then its summaries, in that order. With
    the scheduled one slowed down half-way (its summaries taken), the visit arriving then
    waits for it and finds the day done: neither fails with a deadlock."""
    clinic_id, _ = _writers(app)
    with app.app_context():
        db.session.get(Clinic, clinic_id).summaries_on = date(2000, 1, 1)
        db.session.commit()
    summaries_taken = threading.Event()
    outcomes: dict[str, str] = {}
    original = services.refresh_patients

    def slow_refresh(*args: object, **kwargs: object) -> None:
        original(*args, **kwargs)
        if threading.current_thread().name == "scheduled":
            summaries_taken.set()
            time.sleep(1.5)  # the visit arrives while the summaries are held

    monkeypatch.setattr(services, "refresh_patients", slow_refresh)

    def run(name: str, work: Callable[[Clinic], object]) -> None:
        try:
            with app.app_context(), unit_of_work():
                outcomes[name] = repr(work(db.session.get(Clinic, clinic_id)))
        except BaseException as exc:  # reported below
            outcomes[name] = f"{type(exc).__name__}: {exc}"[:200]
            summaries_taken.set()

    scheduled = threading.Thread(
        target=run, args=("scheduled", services.refresh_clinic), name="scheduled"
    )
    scheduled.start()
    assert summaries_taken.wait(timeout=30)
    visit = threading.Thread(
        target=run, args=("visit", services.refresh_clinic_if_stale), name="visit"
    )
    visit.start()
    scheduled.join(timeout=30)
    visit.join(timeout=30)
    assert outcomes == {"scheduled": "None", "visit": "False"}


@pytest.mark.skipif(
    server_url() is None,
    reason="SQLite has one write lock per database: a new patient's transaction cannot "
    "commit while a whole clinic's refresh holds it; PostgreSQL's row locks let it",
)
def test_a_patient_created_while_the_clinic_is_refreshed_keeps_one_summary(
    app: Flask, make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A whole clinic's refresh takes its summaries, then reads its patients. A patient
    created and committed in between (with the summary its own commit writes) is read
    without a summary taken: the refresh takes the one written, never writes a second
    (which failed the refresh on the key), and both refreshes count in its version."""
    with app.app_context():
        clinic = make_clinic(name="Growing clinic")
        make_patient(clinic, portal=True)
        db.session.commit()
        clinic_id = clinic.id
    other = make_app()
    created: list[int] = []
    original = services._patients

    def a_patient_arrives(clinic_id_read: int, patient_ids: object) -> list[Patient]:
        # Once, between the whole clinic's take and its read (not in the new patient's
        # own refresh, which reads them too).
        if patient_ids is None and not created:
            created.append(0)
            with other.app_context():
                patient = make_patient(db.session.get_one(Clinic, clinic_id), portal=True)
                db.session.commit()
                created[0] = patient.id
        return original(clinic_id_read, patient_ids)  # type: ignore[arg-type]

    monkeypatch.setattr(services, "_patients", a_patient_arrives)
    with app.app_context():
        refresh_patients(db.session.get_one(Clinic, clinic_id), None)
        db.session.commit()
    with app.app_context():
        (summary,) = db.session.scalars(
            select(PatientSummary).where(PatientSummary.patient_id == created[0])
        )
        assert summary.version == 2  # its own first refresh, then the clinic's
        assert summary.clinic_id == clinic_id and summary.computed_on is not None

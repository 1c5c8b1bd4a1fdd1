"""Monitoring keeps summaries and flags current: which flags are raised when, once per
episode and one open per kind, deferred during bulk loads, and for whom."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select, update

from clinic.catalogue.services import SizeDetails, update_size
from clinic.core.clock import clinic_today
from clinic.diary.services import SessionDetails, record
from clinic.domain.diary import Bleeding, SkipReason
from clinic.domain.flags import FlagKind
from clinic.domain.progression import Suggestion
from clinic.domain.protocols import EventKind
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
    User,
)
from clinic.models.types import utcnow
from clinic.monitoring import services, upkeep
from clinic.monitoring.services import (
    NO_LONGER_READY,
    FlagAlreadyAcknowledged,
    acknowledge,
    refresh_patients,
    review_flag_closing_note,
)
from clinic.protocols.services import record_event
from tests.support.diaries import ZONE, add_entries, refresh, report_red_flag, stage_size_id
from tests.support.factories import make_patient
from tests.support.protocols import start_plan
from tests.support.queries import count_queries
from tests.support.world import World


def flags_of(app: Flask, patient_id: int) -> list[tuple[FlagKind, bool]]:
    """(kind, still open) for each of the patient's rule flags, oldest first."""
    with app.app_context():
        return [
            (f.kind, f.acknowledged_at is None)
            for f in db.session.scalars(
                select(CareFlag).where(CareFlag.patient_id == patient_id).order_by(CareFlag.id)
            )
        ]


def summary_of(app: Flask, patient_id: int) -> PatientSummary:
    with app.app_context():
        summary = db.session.get(PatientSummary, patient_id)
        db.session.expunge(summary)
        return summary


def test_not_logging_is_raised_after_the_clinics_number_of_silent_days(
    app: Flask, world: World
) -> None:
    """Four silent days raise nothing under the default of five; with the clinic's setting
    at four, they raise "not logging"."""
    start_plan(app, world.patient.patient_id, world.clinician.id, started_days_ago=4)
    refresh(app, world.clinic_a)
    kinds = {kind for kind, _ in flags_of(app, world.patient.patient_id)}
    assert not kinds & {FlagKind.LARGER_SIZE, FlagKind.READY}
    with app.app_context():
        db.session.get(Clinic, world.clinic_a).not_logging_days = 4
        db.session.commit()
    refresh(app, world.clinic_a)
    assert flags_of(app, world.patient.patient_id) == [(FlagKind.NOT_LOGGING, True)]


def test_one_open_flag_per_kind_and_one_flag_per_episode(app: Flask, world: World) -> None:
    """A second silence does not add a flag while the first is open; once acknowledged,
    the same silence is not raised again, but a new one after a new entry is."""
    protocol = start_plan(app, world.patient.patient_id, world.clinician.id, started_days_ago=30)
    add_entries(app, protocol, world.patient, [20])
    refresh(app, world.clinic_a)
    add_entries(app, protocol, world.patient, [10])
    refresh(app, world.clinic_a)
    assert flags_of(app, world.patient.patient_id) == [(FlagKind.NOT_LOGGING, True)]

    with app.app_context():
        flag = db.session.scalars(select(CareFlag)).one()
        acknowledge(flag, db.session.get(User, world.clinician.id), "Phoned: was away.")
        db.session.commit()
    refresh(app, world.clinic_a)
    # The silence since day -10 is a new episode: raised once, then left alone.
    refresh(app, world.clinic_a)
    assert flags_of(app, world.patient.patient_id) == [
        (FlagKind.NOT_LOGGING, False),
        (FlagKind.NOT_LOGGING, True),
    ]


def test_pain_rising_is_raised_from_the_diary(app: Flask, world: World) -> None:
    """Mean pain during 2 points above the week before raises "pain rising"."""
    protocol = start_plan(app, world.patient.patient_id, world.clinician.id, started_days_ago=20)
    add_entries(app, protocol, world.patient, [12, 11, 10, 9], pain=(1, 1))
    add_entries(app, protocol, world.patient, [3, 2, 1, 0], pain=(4, 3))
    refresh(app, world.clinic_a)
    assert (FlagKind.PAIN_RISING, True) in flags_of(app, world.patient.patient_id)
    assert summary_of(app, world.patient.patient_id).pain_7 == 4


def test_ready_is_raised_and_a_stage_decision_answers_it(app: Flask, world: World) -> None:
    """Meeting the stage's rule raises "ready to advance" with ADVANCE suggested; recording
    the advance keeps the suggestion with the decision and acknowledges the flag."""
    protocol_id = start_plan(app, world.patient.patient_id, world.clinician.id, started_days_ago=16)
    add_entries(app, protocol_id, world.patient, range(16), pain=(2, 1))
    refresh(app, world.clinic_a)
    assert summary_of(app, world.patient.patient_id).suggestion is Suggestion.ADVANCE
    assert (FlagKind.READY, True) in flags_of(app, world.patient.patient_id)

    with app.app_context():
        protocol = db.session.get(Protocol, protocol_id)
        event = record_event(
            protocol,
            EventKind.ADVANCE,
            db.session.get(User, world.clinician.id),
            expected_lock=str(protocol.lock_version),
            effective_on=clinic_today(ZONE),
            today=clinic_today(ZONE),
            reason="Comfortable at size 1.",
            suggested=Suggestion.ADVANCE,
        )
        db.session.commit()
        assert event.suggested is Suggestion.ADVANCE
        flag = db.session.scalars(select(CareFlag).where(CareFlag.kind == FlagKind.READY)).one()
        assert flag.acknowledgement == "Moved up a stage: Comfortable at size 1."
    summary = summary_of(app, world.patient.patient_id)
    assert summary.stage == 2 and summary.suggestion is Suggestion.HOLD
    assert "ready" not in summary.open_flag_kinds


def test_a_ready_patient_stays_on_their_stage_until_a_clinician_decides(
    app: Flask, world: World
) -> None:
    """The system never moves anyone: a patient who meets every condition to advance is
    suggested ADVANCE and flagged "ready", and however often the rules run (as the daily
    refresh does), the plan keeps its one start event and the patient stays at stage 1
    until a clinician records a decision (hazard log HAZ-05, unsafe ADVANCE)."""
    protocol_id = start_plan(app, world.patient.patient_id, world.clinician.id, started_days_ago=16)
    add_entries(app, protocol_id, world.patient, range(16), pain=(1, 0))
    for _ in range(3):
        refresh(app, world.clinic_a)
    summary = summary_of(app, world.patient.patient_id)
    assert summary.suggestion is Suggestion.ADVANCE and summary.stage == 1
    assert (FlagKind.READY, True) in flags_of(app, world.patient.patient_id)
    with app.app_context():
        protocol = db.session.get(Protocol, protocol_id)
        assert [event.kind for event in protocol.events] == [EventKind.START]


def test_patients_without_the_portal_get_no_suggestion_and_no_silence_flag(
    app: Flask, world: World
) -> None:
    """No diary to judge: no suggestion and no "not logging", however long the silence."""
    start_plan(app, world.offline_patient_id, world.clinician.id, started_days_ago=30)
    refresh(app, world.clinic_a)
    summary = summary_of(app, world.offline_patient_id)
    assert summary.suggestion is None and not summary.keeps_diary
    assert summary.stage == 1
    assert flags_of(app, world.offline_patient_id) == []


def test_review_due_on_the_day_and_never_for_discharged_patients(app: Flask, world: World) -> None:
    """A review date that has come raises "review due"; a discharged patient's does not."""
    with app.app_context():
        today = clinic_today(ZONE)
        db.session.get(Patient, world.patient.patient_id).review_on = today
        other = db.session.get(Patient, world.other_patient.patient_id)
        other.review_on = today - timedelta(days=1)
        other.status = PatientStatus.DISCHARGED
        db.session.get(Patient, world.offline_patient_id).review_on = today + timedelta(days=1)
        db.session.commit()
    refresh(app, world.clinic_a)
    assert flags_of(app, world.patient.patient_id) == [(FlagKind.REVIEW_DUE, True)]
    assert flags_of(app, world.other_patient.patient_id) == []
    assert flags_of(app, world.offline_patient_id) == []


def test_deferred_refreshes_once_at_the_end(app: Flask, world: World) -> None:
    """Inside `upkeep.deferred` even a commit leaves a changed patient's summary and flags
    as they were; the end of the block refreshes them, once."""
    pid = world.patient.patient_id
    with app.app_context():

        def version() -> int:
            return db.session.scalar(select(PatientSummary.version).filter_by(patient_id=pid))

        before = version()
        with upkeep.deferred():
            db.session.get(Patient, pid).review_on = clinic_today(ZONE) - timedelta(days=1)
            db.session.commit()
            assert version() == before
            assert db.session.scalar(select(CareFlag.id).filter_by(patient_id=pid)) is None
        db.session.commit()
        assert version() == before + 1
    assert flags_of(app, pid) == [(FlagKind.REVIEW_DUE, True)]


def test_a_clinic_refresh_costs_the_same_queries_at_5_and_40_patients(
    app: Flask, world: World
) -> None:
    """The daily refresh loads everything in batches: more patients, not more queries."""

    def queries_for_refresh() -> int:
        with app.app_context():
            clinic = db.session.get(Clinic, world.clinic_a)
            with count_queries(db.engine) as statements:
                refresh_patients(clinic, None)
            db.session.commit()
            return len([s for s in statements if s.lstrip().upper().startswith("SELECT")])

    for patient_id in (world.patient.patient_id, world.other_patient.patient_id):
        start_plan(app, patient_id, world.clinician.id)
    refresh(app, world.clinic_a)
    few = queries_for_refresh()
    with app.app_context():
        clinic = db.session.get(Clinic, world.clinic_a)
        for _ in range(35):
            make_patient(clinic, portal=True)
        db.session.commit()
    refresh(app, world.clinic_a)
    assert queries_for_refresh() == few


def test_after_a_pause_the_evidence_starts_again(app: Flask, world: World) -> None:
    """Days on hold are not days at the stage, and sessions before a long pause do not
    make a patient "ready" the day they resume."""
    protocol_id = start_plan(app, world.patient.patient_id, world.clinician.id, started_days_ago=40)
    add_entries(app, protocol_id, world.patient, range(39, 33, -1), pain=(1, 0))
    with app.app_context():
        protocol = db.session.get(Protocol, protocol_id)
        today = clinic_today(ZONE)
        record_event(
            protocol,
            EventKind.PAUSE,
            db.session.get(User, world.clinician.id),
            expected_lock=str(protocol.lock_version),
            effective_on=today - timedelta(days=33),
            today=today,
            reason="Surgery.",
            resume_on=today - timedelta(days=1),
        )
        # A pause ends when a clinician resumes it (issue 16), not on its planned date.
        record_event(
            protocol,
            EventKind.RESUME,
            db.session.get(User, world.clinician.id),
            expected_lock=str(protocol.lock_version),
            effective_on=today - timedelta(days=1),
            today=today,
            reason="Recovered well.",
        )
        db.session.commit()
    add_entries(app, protocol_id, world.patient, [1, 0], pain=(0, 0))
    refresh(app, world.clinic_a)
    summary = summary_of(app, world.patient.patient_id)
    assert summary.suggestion is Suggestion.HOLD
    assert "1 day at this stage" in summary.suggestion_reasons
    assert "in 2 of 2 sessions" in summary.suggestion_reasons
    assert (FlagKind.READY, True) not in flags_of(app, world.patient.patient_id)


def test_a_stale_ready_flag_is_closed_when_a_red_flag_comes_in(app: Flask, world: World) -> None:
    """ "Ready to advance" next to a red flag would mislead: the system closes it, saying
    so, and the suggestion becomes REVIEW."""
    protocol_id = start_plan(app, world.patient.patient_id, world.clinician.id, started_days_ago=16)
    add_entries(app, protocol_id, world.patient, range(16), pain=(2, 1))
    refresh(app, world.clinic_a)
    assert (FlagKind.READY, True) in flags_of(app, world.patient.patient_id)

    report_red_flag(app, world.patient, protocol_id)
    assert (FlagKind.READY, False) in flags_of(app, world.patient.patient_id)
    with app.app_context():
        ready = db.session.scalars(select(CareFlag).where(CareFlag.kind == FlagKind.READY)).one()
        assert ready.acknowledged_by_id is None
        assert ready.acknowledgement == NO_LONGER_READY
    summary = summary_of(app, world.patient.patient_id)
    assert summary.suggestion is Suggestion.REVIEW and "ready" not in summary.open_flag_kinds


def test_a_flag_is_acknowledged_once_even_by_two_clinicians_at_once(
    app: Flask, world: World
) -> None:
    """The second of two simultaneous acknowledgements is refused; the first note stands."""
    start_plan(app, world.patient.patient_id, world.clinician.id, started_days_ago=10)
    with app.app_context():
        flag = db.session.scalars(select(CareFlag)).one()
        # Someone else acknowledges it after this request loaded the flag.
        with db.engine.begin() as other:
            other.execute(
                CareFlag.__table__.update()
                .where(CareFlag.id == flag.id)
                .values(acknowledged_at=utcnow(), acknowledgement="First.")
            )
        with pytest.raises(FlagAlreadyAcknowledged):
            acknowledge(flag, db.session.get(User, world.clinician.id), "Second.")
        db.session.rollback()
        assert db.session.get(CareFlag, flag.id).acknowledgement == "First."


def test_renaming_a_size_in_use_shows_on_the_dashboard_rows(app: Flask, world: World) -> None:
    """Summaries name the size; renaming it refreshes them (and the cached table)."""
    protocol_id = start_plan(app, world.patient.patient_id, world.clinician.id)
    with app.app_context():
        size = db.session.get(Protocol, protocol_id).versions[0].stages[0].dilator_size
        before = db.session.get(PatientSummary, world.patient.patient_id).version
        update_size(size, SizeDetails("Smallest", size.diameter_mm, size.insertable_length_mm))
        db.session.commit()
        assert db.session.get(PatientSummary, world.patient.patient_id).version > before
    assert summary_of(app, world.patient.patient_id).size_label.startswith("Smallest")


# ---------------------------------------------------------------------------------------
# The evidence behind a suggestion (issue 16)


def test_a_larger_size_than_prescribed_raises_a_flag_and_is_not_counted(
    app: Flask, world: World
) -> None:
    """Painless sessions at stage 1, the last three with stage 2's larger size: those three
    count neither as completed nor as evidence (3 of the last 7 days completed, HOLD), and
    one "larger size than prescribed" flag names both sizes, raised once."""
    protocol_id = start_plan(app, world.patient.patient_id, world.clinician.id, started_days_ago=16)
    larger = stage_size_id(app, protocol_id, 2)
    add_entries(app, protocol_id, world.patient, range(16, 3, -1), pain=(1, 1))
    add_entries(app, protocol_id, world.patient, [2, 1, 0], pain=(1, 1), size_id=larger)
    refresh(app, world.clinic_a)
    refresh(app, world.clinic_a)
    # (The plan was started before the entries were added: a "not logging" flag as well.)
    flags = flags_of(app, world.patient.patient_id)
    assert [f for f in flags if f[0] is FlagKind.LARGER_SIZE] == [(FlagKind.LARGER_SIZE, True)]
    with app.app_context():
        flag = db.session.scalars(
            select(CareFlag).where(CareFlag.kind == FlagKind.LARGER_SIZE)
        ).one()
        assert flag.detail.startswith("Used a larger size than prescribed: Size 2 (17 mm) on ")
        assert "stage 1 prescribes Size 1 (13 mm)" in flag.detail
    summary = summary_of(app, world.patient.patient_id)
    assert summary.adherence_7 == pytest.approx(100 * 3 / 7)
    assert summary.suggestion is Suggestion.HOLD


def _move_up_dated_back(app: Flask, world: World, protocol_id: int, days_ago: int) -> None:
    """A clinician records today a move up to stage 2 agreed `days_ago` days ago."""
    with app.app_context():
        protocol = db.session.get(Protocol, protocol_id)
        today = clinic_today(ZONE)
        record_event(
            protocol,
            EventKind.ADVANCE,
            db.session.get(User, world.clinician.id),
            expected_lock=str(protocol.lock_version),
            effective_on=today - timedelta(days=days_ago),
            today=today,
            reason="Agreed at the appointment, entered late",
        )
        db.session.commit()


def test_advance_is_not_suggested_from_sessions_done_at_the_previous_stage(
    app: Flask, world: World
) -> None:
    """Review 16: a move up to stage 2 recorded late (effective 15 days ago, the
    appointment's day). The diary of those 15 days was logged against stage 1 with stage
    1's size (13 mm): each session is judged by the stage in force on its day, so stage 2
    (17 mm) has no session with its prescribed size. No ADVANCE (to 21 mm), no "ready to
    advance", and no adherence at stage 2 to speak of (none of its sessions were done)."""
    protocol_id = start_plan(app, world.patient.patient_id, world.clinician.id, started_days_ago=40)
    add_entries(app, protocol_id, world.patient, range(40, -1, -1), pain=(1, 1))
    _move_up_dated_back(app, world, protocol_id, 15)
    refresh(app, world.clinic_a)
    summary = summary_of(app, world.patient.patient_id)
    assert summary.stage == 2
    assert summary.suggestion is not Suggestion.ADVANCE, summary.suggestion_reasons
    assert summary.adherence_7 == 0
    # (Ready at stage 1 before the move was recorded: that flag is closed, none is open.)
    assert (FlagKind.READY, True) not in flags_of(app, world.patient.patient_id)


def test_the_new_size_after_a_move_up_dated_back_is_not_a_larger_size(
    app: Flask, world: World
) -> None:
    """Review 16: a patient who switched to stage 2's 17 mm after the appointment, while
    the move up was recorded only later (dated back to the appointment), used the size in
    force on those days: no "larger size than prescribed" flag, and those sessions count
    (the last 7 days all completed)."""
    protocol_id = start_plan(app, world.patient.patient_id, world.clinician.id, started_days_ago=30)
    _move_up_dated_back(app, world, protocol_id, 9)
    add_entries(app, protocol_id, world.patient, range(30, -1, -1), pain=(1, 1))
    with app.app_context():
        # The last 9 days were logged before the move was recorded: saved against stage 1.
        since = clinic_today(ZONE) - timedelta(days=9)
        db.session.execute(
            update(DiaryEntry)
            .where(DiaryEntry.protocol_id == protocol_id, DiaryEntry.occurred_on >= since)
            .values(stage=1)
        )
        db.session.commit()
    refresh(app, world.clinic_a)
    assert FlagKind.LARGER_SIZE not in [k for k, _ in flags_of(app, world.patient.patient_id)]
    assert summary_of(app, world.patient.patient_id).adherence_7 == 100


def test_only_sessions_with_the_prescribed_size_make_a_patient_ready(
    app: Flask, world: World
) -> None:
    """Sixteen painless days, all with a smaller size than stage 2 prescribes: no
    ADVANCE and no "ready" (and no flag: a smaller size is a patient's own caution)."""
    protocol_id = start_plan(
        app,
        world.patient.patient_id,
        world.clinician.id,
        [(EventKind.ADVANCE, 16)],
        started_days_ago=17,
    )
    smaller = stage_size_id(app, protocol_id, 1)
    add_entries(app, protocol_id, world.patient, range(16), pain=(1, 1), size_id=smaller)
    refresh(app, world.clinic_a)
    summary = summary_of(app, world.patient.patient_id)
    assert summary.suggestion is not Suggestion.ADVANCE
    assert "no sessions with the prescribed size and minutes" in summary.suggestion_reasons
    kinds = {kind for kind, _ in flags_of(app, world.patient.patient_id)}
    assert not kinds & {FlagKind.LARGER_SIZE, FlagKind.READY}


def test_pain_after_holds_and_raises_pain_rising(app: Flask, world: World) -> None:
    """Pain during low throughout; pain after up from 1 to 5 this week: HOLD (not
    ADVANCE), and "pain rising" naming pain after."""
    protocol_id = start_plan(app, world.patient.patient_id, world.clinician.id, started_days_ago=16)
    add_entries(app, protocol_id, world.patient, range(16, 6, -1), pain=(1, 1))
    add_entries(app, protocol_id, world.patient, range(6, -1, -1), pain=(1, 5))
    refresh(app, world.clinic_a)
    summary = summary_of(app, world.patient.patient_id)
    assert summary.suggestion is Suggestion.HOLD
    assert "pain during and after ≤ 3 in 0 of the last 6 sessions" in summary.suggestion_reasons
    with app.app_context():
        rising = db.session.scalars(
            select(CareFlag).where(CareFlag.kind == FlagKind.PAIN_RISING)
        ).one()
        assert rising.detail.startswith("Mean pain after 5.0 in the last 7 days, up from 1.0")


def test_an_acknowledged_red_flag_still_holds_while_in_the_window(app: Flask, world: World) -> None:
    """A red flag today, acknowledged: REVIEW gives way to HOLD, not ADVANCE, while its
    session is among the last six; six newer painless sessions later, it is out of the
    window and ADVANCE comes back."""
    protocol_id = start_plan(app, world.patient.patient_id, world.clinician.id, started_days_ago=30)
    add_entries(app, protocol_id, world.patient, range(30, 7, -1), pain=(1, 1))
    with app.app_context():
        patient = db.session.get(Patient, world.patient.patient_id)
        protocol = db.session.get(Protocol, protocol_id)
        size_id = protocol.versions[0].stages[0].dilator_size_id
        when = utcnow() - timedelta(days=7)
        record(
            patient,
            protocol,
            db.session.get(User, world.patient.id),
            "red-ack",
            SessionDetails(when, size_id, 10, 2, 2, Bleeding.NONE, True, None, ""),
        )
        db.session.commit()
    assert summary_of(app, world.patient.patient_id).suggestion is Suggestion.REVIEW
    with app.app_context():
        red = db.session.scalars(select(RedFlag)).one()
        acknowledge(red, db.session.get(User, world.clinician.id), "Phoned: settled.")
        db.session.commit()
    add_entries(app, protocol_id, world.patient, range(6, 1, -1), pain=(1, 1))
    refresh(app, world.clinic_a)
    summary = summary_of(app, world.patient.patient_id)
    assert summary.suggestion is Suggestion.HOLD
    assert "(1 with a red flag)" in summary.suggestion_reasons

    add_entries(app, protocol_id, world.patient, [1], pain=(1, 1))
    refresh(app, world.clinic_a)
    assert summary_of(app, world.patient.patient_id).suggestion is Suggestion.ADVANCE


def test_a_pause_past_its_planned_date_raises_review_before_resuming(
    app: Flask, world: World
) -> None:
    """A pause planned to end two days ago: the plan is still paused (no suggestion), and
    "review before resuming" is raised once, naming both dates (before the date nothing
    is due: tests/unit/test_protocol_rules.py)."""
    protocol_id = start_plan(app, world.patient.patient_id, world.clinician.id, started_days_ago=20)
    with app.app_context():
        protocol = db.session.get(Protocol, protocol_id)
        today = clinic_today(ZONE)
        record_event(
            protocol,
            EventKind.PAUSE,
            db.session.get(User, world.clinician.id),
            expected_lock=str(protocol.lock_version),
            effective_on=today - timedelta(days=10),
            today=today,
            reason="Surgery.",
            resume_on=today - timedelta(days=2),
        )
        db.session.commit()
    refresh(app, world.clinic_a)
    refresh(app, world.clinic_a)
    summary = summary_of(app, world.patient.patient_id)
    assert summary.paused and summary.suggestion is None
    assert "resume_review" in summary.open_flag_kinds
    with app.app_context():
        flag = db.session.scalars(
            select(CareFlag).where(CareFlag.kind == FlagKind.RESUME_REVIEW)
        ).one()
        assert flag.detail.startswith("Paused since ")
        assert "review before resuming (the plan stays paused until it is resumed)" in flag.detail


def review_flags(app: Flask, patient_id: int) -> list[bool]:
    """Whether each of the patient's "review due" flags is open, oldest first."""
    return [open_ for kind, open_ in flags_of(app, patient_id) if kind is FlagKind.REVIEW_DUE]


def test_a_review_moved_by_a_hold_closes_the_review_due_flag(app: Flask, world: World) -> None:
    """The review date has come ("review due" raised); the clinician holds the stage and
    plans the review two weeks ahead: the flag is closed by the system, saying where the
    review went, and none is raised again until that day. Discharged with a flag open:
    closed too, no review being planned any more."""
    pid = world.patient.patient_id
    protocol_id = start_plan(app, pid, world.clinician.id)
    with app.app_context():
        today = clinic_today(ZONE)
        db.session.get(Patient, pid).review_on = today
        db.session.commit()
    refresh(app, world.clinic_a)
    assert review_flags(app, pid) == [True]
    later = today + timedelta(days=14)
    with app.app_context():
        protocol = db.session.get_one(Protocol, protocol_id)
        record_event(
            protocol,
            EventKind.HOLD,
            db.session.get(User, world.clinician.id),
            expected_lock=str(protocol.lock_version),
            effective_on=today,
            today=today,
            reason="Not yet: review in two weeks.",
            review_on=later,
        )
        db.session.commit()
    refresh(app, world.clinic_a)
    assert review_flags(app, pid) == [False]
    with app.app_context():
        flag = db.session.scalars(
            select(CareFlag).filter_by(patient_id=pid, kind=FlagKind.REVIEW_DUE)
        ).one()
        assert flag.acknowledged_by_id is None
        assert flag.acknowledgement == review_flag_closing_note(later)
        # Another review date that has come (yesterday's, set on the record), then
        # discharged with its flag open: closed, no review being planned any more.
        db.session.get(Patient, pid).review_on = today - timedelta(days=1)
        db.session.commit()
    refresh(app, world.clinic_a)
    assert review_flags(app, pid) == [False, True]
    with app.app_context():
        db.session.get(Patient, pid).status = PatientStatus.DISCHARGED
        db.session.commit()
    refresh(app, world.clinic_a)
    with app.app_context():
        notes = db.session.scalars(
            select(CareFlag.acknowledgement)
            .filter_by(patient_id=pid, kind=FlagKind.REVIEW_DUE)
            .order_by(CareFlag.id)
        ).all()
    assert notes == [review_flag_closing_note(later), review_flag_closing_note(None)]


def test_the_facts_read_in_chunks_are_the_facts_read_at_once(
    app: Flask, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A clinic too big for one statement on SQLite (its IN lists are numbered apart) has
    its facts read in chunks: last entries, open red flags and distress, open rule flags
    and pain skips come out the same as from one statement."""
    protocol_id = start_plan(app, world.patient.patient_id, world.clinician.id)
    add_entries(app, protocol_id, world.patient, range(1, 20, 2))
    add_entries(
        app,
        protocol_id,
        world.patient,
        [1, 3, 5],
        skipped=True,
        skip_reason=SkipReason.PAIN_OR_FEAR,
    )
    report_red_flag(app, world.patient, protocol_id)
    with app.app_context():
        clinic = db.session.get_one(Clinic, world.clinic_a)
        others = [make_patient(clinic).id for _ in range(3)]
        db.session.commit()
        ids = [*others, world.patient.patient_id]  # the one with facts in the last chunk
        today = clinic_today(ZONE)
        at_once = services._read_facts(world.clinic_a, ids, today)
        monkeypatch.setattr(services, "_FACTS_CHUNK", 2)
        chunked = services._read_facts(world.clinic_a, ids, today)
    assert at_once.last_entry_on and at_once.open_red_flags and at_once.pain_skip_days
    assert chunked.last_entry_on == at_once.last_entry_on
    assert chunked.open_red_flags == at_once.open_red_flags
    assert chunked.open_distress_flags == at_once.open_distress_flags
    assert sorted(chunked.open_care_flags) == sorted(at_once.open_care_flags)
    assert dict(chunked.pain_skip_days) == dict(at_once.pain_skip_days)

"""The "questionnaire overdue" flag: raised by the monitoring refresh once an occasion is
past its seven-day grace period unanswered, one flag per occasion, closed by the system
when the occasion is answered or the measure stopped; shown and filterable on the
dashboard, acknowledged on the timeline like the other rule flags; the daily refresh
stays at a fixed number of queries; and the migrated schema accepts the new kind."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import inspect, select

from clinic import create_app
from clinic.domain.flags import FlagKind, Severity
from clinic.domain.measure_schedule import DEFAULT_GRACE_DAYS, Cadence
from clinic.domain.protocols import EventKind
from clinic.extensions import db
from clinic.models import CareFlag, Clinic, Patient, PatientSummary, User
from clinic.monitoring.services import (
    MEASURE_ANSWERED,
    MEASURE_NOT_ASKED,
    acknowledge,
    refresh_patients,
)
from tests.support.apps import config_for_tests
from tests.support.auth import act_as
from tests.support.databases import temporary_database
from tests.support.diaries import add_entries, refresh
from tests.support.factories import make_patient
from tests.support.measure_scores import (
    answer_measure,
    assign_measure,
    days_ago,
    end_measure,
    today,
)
from tests.support.protocols import start_plan
from tests.support.queries import count_queries
from tests.support.world import World

PAIN = {"pain": 4}


def overdue_flags(app: Flask, patient_id: int) -> list[tuple[str, bool, str]]:
    """(episode key, still open, acknowledgement) of the patient's overdue flags, oldest
    first."""
    with app.app_context():
        return [
            (f.key, f.acknowledged_at is None, f.acknowledgement)
            for f in db.session.scalars(
                select(CareFlag)
                .where(
                    CareFlag.patient_id == patient_id,
                    CareFlag.kind == FlagKind.MEASURE_OVERDUE,
                )
                .order_by(CareFlag.id)
            )
        ]


def refresh_on(app: Flask, clinic_id: int, days_from_today: int = 0) -> None:
    """The clinic's refresh as it would run `days_from_today` days from today."""
    with app.app_context():
        clinic = db.session.get(Clinic, clinic_id)
        refresh_patients(clinic, None, today() + timedelta(days=days_from_today))
        db.session.commit()


def test_the_kind_is_for_information_and_worded() -> None:
    """A missed questionnaire is for information, below the flags that need attention,
    and each occasion is its own flag."""
    kind = FlagKind.MEASURE_OVERDUE
    assert kind.label == "Questionnaire overdue"
    assert kind.severity is Severity.INFO < FlagKind.NOT_LOGGING.severity
    assert not kind.one_open_at_a_time and FlagKind.NOT_LOGGING.one_open_at_a_time


def test_raised_after_the_grace_period_not_before(app: Flask, world: World) -> None:
    """Asked 10 days ago: on the seventh day after, nothing; on the eighth, one flag naming
    the measure and the day it was asked for, listed in the patient's summary."""
    assignment = assign_measure(app, world.patient.patient_id, "pain-nrs", on_days_ago=10)
    assert DEFAULT_GRACE_DAYS == 7
    refresh_on(app, world.clinic_a, -3)  # 7 days after the day it was asked for
    assert overdue_flags(app, world.patient.patient_id) == []
    refresh_on(app, world.clinic_a, -2)  # 8 days after
    assert overdue_flags(app, world.patient.patient_id) == [
        (f"measure_overdue:{assignment}:once", True, "")
    ]
    with app.app_context():
        flag = db.session.scalars(select(CareFlag)).one()
        assert flag.detail == (
            f"Pain numeric rating scale (0\u201310), asked for {days_ago(10).day} "
            f"{days_ago(10):%b %Y}: not answered within 7 days"
        )
        summary = db.session.get(PatientSummary, world.patient.patient_id)
        assert summary.open_kinds == [FlagKind.MEASURE_OVERDUE]
        assert summary.top_severity == Severity.INFO


def test_closed_by_the_system_when_answered_and_never_raised_again(
    app: Flask, world: World
) -> None:
    """An overdue questionnaire answered late closes its flag, signed by no one, with a
    note saying so; the summary drops the kind, and later refreshes leave it closed."""
    assignment = assign_measure(app, world.patient.patient_id, "pain-nrs", on_days_ago=10)
    refresh(app, world.clinic_a)
    assert [open_ for _, open_, _ in overdue_flags(app, world.patient.patient_id)] == [True]

    answer_measure(app, assignment, "once", PAIN, occasion_days_ago=10, answered_days_ago=0)
    refresh(app, world.clinic_a)
    refresh(app, world.clinic_a)
    assert overdue_flags(app, world.patient.patient_id) == [
        (f"measure_overdue:{assignment}:once", False, MEASURE_ANSWERED)
    ]
    with app.app_context():
        flag = db.session.scalars(select(CareFlag)).one()
        assert flag.acknowledged_by_id is None
        summary = db.session.get(PatientSummary, world.patient.patient_id)
        assert "measure_overdue" not in summary.open_flag_kinds and summary.open_flags == 0


def test_an_ended_measure_raises_nothing_and_its_open_flag_is_closed(
    app: Flask, world: World
) -> None:
    """A stopped measure asks for nothing: no flag for its overdue occasion; stopping one
    whose flag is open closes that flag, saying the questionnaire is no longer asked for."""
    stopped = assign_measure(app, world.patient.patient_id, "pain-nrs", on_days_ago=20)
    end_measure(app, stopped)
    flagged = assign_measure(app, world.other_patient.patient_id, "pain-nrs", on_days_ago=20)
    refresh(app, world.clinic_a)
    assert overdue_flags(app, world.patient.patient_id) == []
    assert [open_ for _, open_, _ in overdue_flags(app, world.other_patient.patient_id)] == [True]

    end_measure(app, flagged)
    refresh(app, world.clinic_a)
    assert overdue_flags(app, world.other_patient.patient_id) == [
        (f"measure_overdue:{flagged}:once", False, MEASURE_NOT_ASKED)
    ]


def test_a_session_logged_leaves_the_questionnaires_and_their_flags_as_they_are(
    app: Flask, world: World
) -> None:
    """A diary entry moves nothing a questionnaire's flag is made of, so the refresh before
    its commit reads no questionnaire (no assignment, answer or instrument) and leaves an
    open "questionnaire overdue" flag open and counted in the summary, instead of taking it
    for a questionnaire no longer asked for."""
    protocol_id = start_plan(app, world.patient.patient_id, world.clinician.id)
    assignment = assign_measure(app, world.patient.patient_id, "pain-nrs", on_days_ago=10)
    refresh(app, world.clinic_a)
    flag = (f"measure_overdue:{assignment}:once", True, "")
    assert overdue_flags(app, world.patient.patient_id) == [flag]
    with app.app_context():
        engine = db.engine
    with count_queries(engine) as statements:
        add_entries(app, protocol_id, world.patient, [0])
    assert any(s.lstrip().startswith("UPDATE patient_summaries") for s in statements)
    assert not [s for s in statements if "measure_" in s or "clinic_instruments" in s]
    assert overdue_flags(app, world.patient.patient_id) == [flag]
    with app.app_context():
        summary = db.session.get(PatientSummary, world.patient.patient_id)
        assert summary.last_entry_on == today()
        assert FlagKind.MEASURE_OVERDUE in summary.open_kinds


def test_a_session_logged_raises_a_questionnaire_overdue_since_today(
    app: Flask, world: World
) -> None:
    """A questionnaire asked for eight days ago falls overdue today; before the day's
    refresh of the clinic has run, the patient logs a session: its refresh reads the
    questionnaires (not yet read today) and raises the flag then, as any refresh today
    would. The next session, with the questionnaires read today already, reads none."""
    protocol_id = start_plan(app, world.patient.patient_id, world.clinician.id)
    assign_measure(app, world.patient.patient_id, "pain-nrs", on_days_ago=8)
    assert overdue_flags(app, world.patient.patient_id) == []
    add_entries(app, protocol_id, world.patient, [0])
    assert [open_ for _, open_, _ in overdue_flags(app, world.patient.patient_id)] == [True]
    with app.app_context():
        engine = db.engine
    with count_queries(engine) as statements:
        add_entries(app, protocol_id, world.patient, [0])
    assert not [s for s in statements if "measure_" in s]
    assert [open_ for _, open_, _ in overdue_flags(app, world.patient.patient_id)] == [True]


def test_one_flag_per_occasion(app: Flask, world: World) -> None:
    """Asked weekly since a protocol started 20 days ago: a week ago only the start was
    overdue; today week 1 is too (week 2, 6 days ago, is not yet), and gets its own flag
    beside the open one; refreshing again adds none, and one a clinician acknowledged is
    not raised again while the other stays open."""
    start_plan(app, world.patient.patient_id, world.clinician.id, started_days_ago=20)
    assignment = assign_measure(
        app,
        world.patient.patient_id,
        "dilator-confidence",
        cadence=Cadence.REPEATING,
        every_weeks=1,
        assigned_days_ago=20,
    )
    keys = [f"measure_overdue:{assignment}:baseline", f"measure_overdue:{assignment}:week-1"]
    refresh_on(app, world.clinic_a, -7)
    assert overdue_flags(app, world.patient.patient_id) == [(keys[0], True, "")]
    refresh(app, world.clinic_a)
    refresh(app, world.clinic_a)
    assert overdue_flags(app, world.patient.patient_id) == [(k, True, "") for k in keys]
    with app.app_context():
        details = db.session.scalars(
            select(CareFlag.detail)
            .where(CareFlag.kind == FlagKind.MEASURE_OVERDUE)
            .order_by(CareFlag.id)
        ).all()
        assert details[0].startswith("Dilator confidence, at the start, asked for")
        assert details[1].startswith("Dilator confidence, week 1, asked for")
        first = db.session.scalars(select(CareFlag).where(CareFlag.key == keys[0])).one()
        acknowledge(first, db.session.get(User, world.clinician.id), "Reminded by phone.")
        db.session.commit()
    refresh(app, world.clinic_a)
    assert overdue_flags(app, world.patient.patient_id) == [
        (keys[0], False, "Reminded by phone."),
        (keys[1], True, ""),
    ]


def test_a_restart_after_discharge_raises_no_flag_for_the_weeks_between(
    app: Flask, world: World
) -> None:
    """Asked every 4 weeks in a program started 120 days ago and discharged 90 days ago,
    every occasion answered: when the patient starts again, the weeks they were
    discharged are not asked for after the fact, so no overdue flag is raised for them."""
    pid = world.patient.patient_id
    start_plan(app, pid, world.clinician.id, [(EventKind.COMPLETE, 90)], started_days_ago=120)
    assignment = assign_measure(
        app,
        pid,
        "pain-nrs",
        cadence=Cadence.REPEATING,
        every_weeks=4,
        assigned_days_ago=120,
    )
    for occasion, days in (("baseline", 120), ("week-4", 92), ("discharge", 90)):
        answer_measure(app, assignment, occasion, PAIN, occasion_days_ago=days)
    start_plan(app, pid, world.clinician.id, started_days_ago=5)
    refresh(app, world.clinic_a)
    assert overdue_flags(app, pid) == []


def test_shown_and_filtered_on_the_dashboard_and_acknowledged_on_the_timeline(
    app: Flask, client, world: World
) -> None:
    """The dashboard row names the flag with its severity in words; the flag filter lists
    it and keeps only that patient; the timeline shows it with the acknowledgement form,
    which closes it with the clinician's note."""
    assign_measure(app, world.patient.patient_id, "pain-nrs", on_days_ago=10)
    assign_measure(app, world.other_patient.patient_id, "pain-nrs", on_days_ago=2)
    refresh(app, world.clinic_a)
    with app.app_context():
        names = {
            pid: db.session.get(Patient, pid).full_name
            for pid in (world.patient.patient_id, world.other_patient.patient_id)
        }
    act_as(client, world.clinician.id)
    html = client.get("/dashboard/?who=all").get_data(as_text=True)
    assert 'Questionnaire overdue <small class="severity">(for information)' in html
    assert '<option value="measure_overdue"' in html
    filtered = client.get("/dashboard/?who=all&flag=measure_overdue").get_data(as_text=True)
    listed = re.findall(r'<a href="/patients/\d+/timeline">([^<]+)</a>', filtered)
    assert listed == [names[world.patient.patient_id]]

    page = client.get(f"/patients/{world.patient.patient_id}/timeline").get_data(as_text=True)
    assert "Questionnaire overdue<small> — For information</small>" in page
    with app.app_context():
        flag_id = db.session.scalars(select(CareFlag.id)).one()
    done = client.post(
        f"/patients/{world.patient.patient_id}/timeline/flags/rule/{flag_id}/acknowledge",
        data={f"ack-rule-{flag_id}-note": "Will bring a paper copy."},
    )
    assert done.status_code == 302
    with app.app_context():
        flag = db.session.get(CareFlag, flag_id)
        assert flag.acknowledged_by_id == world.clinician.id
        assert flag.acknowledgement == "Will bring a paper copy."
    after = client.get("/dashboard/?who=all&flag=measure_overdue").get_data(as_text=True)
    assert re.findall(r'<a href="/patients/\d+/timeline">([^<]+)</a>', after) == []


def test_another_clinics_overdue_questionnaires_stay_there(
    app: Flask, client, world: World
) -> None:
    """Clinic B's overdue questionnaire flags clinic B's patient only; clinic A's refresh
    never touches it, and clinic A's dashboard never lists it."""
    assign_measure(app, world.other_clinic_patient.patient_id, "pain-nrs", on_days_ago=10)
    refresh(app, world.clinic_a)
    assert overdue_flags(app, world.other_clinic_patient.patient_id) == []
    refresh(app, world.clinic_b)
    assert len(overdue_flags(app, world.other_clinic_patient.patient_id)) == 1
    act_as(client, world.clinician.id)
    html = client.get("/dashboard/?who=all&flag=measure_overdue").get_data(as_text=True)
    assert re.findall(r'<a href="/patients/\d+/timeline">([^<]+)</a>', html) == []


def test_the_daily_refresh_costs_the_same_queries_at_5_and_40_patients(
    app: Flask, client, world: World
) -> None:
    """With every patient's measures asked, some answered and some overdue, a clinic's
    refresh (and the dashboard's first visit of the day, which runs it) reads as much at
    40 patients as at 5: all occasions are worked out in one batch."""

    def add_patients(n: int) -> None:
        with app.app_context():
            clinic = db.session.get(Clinic, world.clinic_a)
            ids = [make_patient(clinic, portal=True).id for _ in range(n)]
            db.session.commit()
        for pid in ids:
            start_plan(app, pid, world.clinician.id, started_days_ago=30)
            repeating = assign_measure(
                app,
                pid,
                "dilator-confidence",
                cadence=Cadence.REPEATING,
                every_weeks=1,
                assigned_days_ago=30,
            )
            answer_measure(
                app, repeating, "baseline", {"insert": 2, "on_own": 2}, occasion_days_ago=30
            )
            once = assign_measure(app, pid, "pain-nrs", on_days_ago=12)
            answer_measure(app, once, "once", PAIN, occasion_days_ago=12)
        refresh(app, world.clinic_a)

    def selects_in_refresh() -> int:
        with app.app_context():
            clinic = db.session.get(Clinic, world.clinic_a)
            with count_queries(db.engine) as statements:
                refresh_patients(clinic, None)
            db.session.commit()
        return len([s for s in statements if s.lstrip().upper().startswith("SELECT")])

    def selects_on_first_visit() -> int:
        with app.app_context():
            db.session.get(Clinic, world.clinic_a).summaries_on = today() - timedelta(days=1)
            db.session.commit()
            engine = db.engine
        act_as(client, world.clinician.id)
        with count_queries(engine) as statements:
            assert client.get("/dashboard/?who=all").status_code == 200
        return len([s for s in statements if s.lstrip().upper().startswith("SELECT")])

    add_patients(2)
    few = (selects_in_refresh(), selects_on_first_visit())
    add_patients(35)
    assert (selects_in_refresh(), selects_on_first_visit()) == few
    with app.app_context():
        open_overdue = db.session.scalars(
            select(CareFlag).where(
                CareFlag.kind == FlagKind.MEASURE_OVERDUE, CareFlag.acknowledged_at.is_(None)
            )
        ).all()
        # Each patient: weeks 1 to 3 overdue (week 4, two days ago, still in its grace).
        assert len(open_overdue) == 37 * 3
        summaries = db.session.scalars(select(PatientSummary)).all()
        assert all(len(s.open_flag_kinds) <= 120 for s in summaries)


def test_the_migrated_schema_accepts_every_flag_kind(tmp_path: Path) -> None:
    """After the migrations, the care flags' kind column is wide enough for every kind and
    its CHECK constraint lists them all (a new kind needs both)."""
    with temporary_database(tmp_path) as url:
        app = create_app(config_for_tests(url))
        with app.app_context():
            upgrade()
            inspector = inspect(db.engine)
            (kind,) = [c for c in inspector.get_columns("care_flags") if c["name"] == "kind"]
            (check,) = [
                c
                for c in inspector.get_check_constraints("care_flags")
                if c["name"] == "ck_care_flags_flag_kind"
            ]
            db.engine.dispose()
    assert kind["type"].length >= max(len(k.value) for k in FlagKind)
    for k in FlagKind:
        assert f"'{k.value}'" in check["sqltext"]
    assert len(" ".join(k.value for k in FlagKind if k is not FlagKind.RED_FLAG)) <= 120

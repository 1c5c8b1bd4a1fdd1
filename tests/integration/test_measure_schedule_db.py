"""The outcome-measure modules that read the database: which instruments a clinic can use
(clinic.measures.instruments), the occasions each patient's measures ask for today and
their overview in words (clinic.measures.schedule), and the scored series with baseline,
latest and change (clinic.measures.results). Each in a fixed number of queries, scoped to
the clinic."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask

from clinic.core.clock import clinic_today
from clinic.domain.measure_schedule import Cadence
from clinic.domain.protocols import EventKind
from clinic.domain.questionnaires import shipped_instruments
from clinic.extensions import db
from clinic.measures import services
from clinic.measures.instruments import available, current, imported, version_of, versions
from clinic.measures.results import (
    ScoredAnswer,
    Series,
    describe_change,
    format_score,
    series_for,
)
from clinic.measures.schedule import (
    ProgramDates,
    due_now,
    next_occasion,
    occasion_label,
    occasion_statuses,
    overdue,
    overview,
    program_dates,
    programs,
    schedule_in_words,
)
from clinic.models import ClinicInstrument, MeasureAssignment, Patient, User
from tests.support.measures import answer_measure as answer
from tests.support.measures import assign_measure as assign
from tests.support.protocols import start_plan
from tests.support.queries import count_queries
from tests.support.world import World

ZONE = "Europe/London"
FOLDER_PAIN = shipped_instruments()["pain-nrs"]
PAIN_FILE = (
    Path(__file__).resolve().parents[2] / "clinic" / "data" / "instruments" / "pain-nrs.json"
)


def today() -> date:
    return clinic_today(ZONE)


def import_pain_version(app: Flask, clinic_id: int, version: str, **changes) -> int:
    """The clinic imports a copy of the shipped pain scale as `version` (written directly)."""
    data = json.loads(PAIN_FILE.read_text("utf-8"))
    data.update(version=version, **changes)
    with app.app_context():
        row = ClinicInstrument(
            clinic_id=clinic_id,
            key="pain-nrs",
            version=version,
            title=data["title"],
            licence_status="free",
            definition=json.dumps(data),
        )
        db.session.add(row)
        db.session.commit()
        return row.id


# ---------------------------------------------------------------------------------------
# Instruments a clinic can use


def test_available_is_the_shipped_set_replaced_by_the_clinics_latest_imports(
    app: Flask, world: World
) -> None:
    """Without imports: the shipped instruments, by title. An import replaces the shipped
    one of its key for that clinic only; the latest unretired import wins; retiring it
    brings back the one before."""
    with app.app_context():
        assert set(available(world.clinic_a)) == set(shipped_instruments())
        titles = [i.title.lower() for i in available(world.clinic_a).values()]
        assert titles == sorted(titles)
    import_pain_version(app, world.clinic_a, "2", title="Pain, clinic wording v2")
    latest = import_pain_version(app, world.clinic_a, "3", title="Pain, clinic wording v3")
    with app.app_context():
        assert current(world.clinic_a, "pain-nrs").version == "3"
        assert current(world.clinic_b, "pain-nrs").version == "1"
        assert current(world.clinic_a, "no-such-key") is None
        db.session.get(ClinicInstrument, latest).retired_at = datetime.now(UTC)
        db.session.commit()
        assert current(world.clinic_a, "pain-nrs").version == "2"


def test_every_version_stays_readable(app: Flask, world: World) -> None:
    """version_of and versions() find each version the clinic had, retired ones too, and
    the shipped one; another clinic's import is not found."""
    retired = import_pain_version(app, world.clinic_a, "2")
    with app.app_context():
        db.session.get(ClinicInstrument, retired).retired_at = datetime.now(UTC)
        db.session.commit()
        assert version_of(world.clinic_a, "pain-nrs", "2").version == "2"
        assert version_of(world.clinic_a, "pain-nrs", "1") is FOLDER_PAIN
        assert version_of(world.clinic_b, "pain-nrs", "2") is None
        assert version_of(world.clinic_a, "pain-nrs", "9") is None
        found = versions(world.clinic_a)
        assert found[("pain-nrs", "2")].version == "2"
        assert found[("pain-nrs", "1")] is FOLDER_PAIN
        assert ("pain-nrs", "2") not in versions(world.clinic_b)
        assert [row.version for row in imported(world.clinic_a)] == ["2"]
        assert imported(world.clinic_b) == []


# ---------------------------------------------------------------------------------------
# Program dates and occasions


def test_program_dates_are_the_start_and_the_discharge(app: Flask, world: World) -> None:
    """Started: the protocol's start. Discharged: when it was completed. A patient
    without a protocol has neither."""
    pid = world.patient.patient_id
    start_plan(app, pid, world.clinician.id, [(EventKind.COMPLETE, 3)], started_days_ago=30)
    with app.app_context():
        dates = program_dates(world.clinic_a, [pid, world.other_patient.patient_id])
    assert dates[pid].started_on == today() - timedelta(days=30)
    assert dates[pid].discharged_on == today() - timedelta(days=3)
    assert dates[world.other_patient.patient_id].started_on is None
    assert dates[world.other_patient.patient_id].discharged_on is None


def test_a_replacement_continues_the_program_and_a_restart_begins_another(
    app: Flask, world: World
) -> None:
    """A protocol replaced 100 days ago continues the program started 120 days ago, which
    ends with the completion 90 days ago; the protocol started 5 days ago begins a new
    program, the one the patient is in now."""
    pid = world.patient.patient_id
    start_plan(app, pid, world.clinician.id, started_days_ago=120)
    start_plan(app, pid, world.clinician.id, [(EventKind.COMPLETE, 90)], started_days_ago=100)
    start_plan(app, pid, world.clinician.id, started_days_ago=5)
    with app.app_context():
        found = programs(world.clinic_a, [pid, world.other_patient.patient_id])
        latest = program_dates(world.clinic_a, [pid])[pid]
    assert found[pid] == [
        ProgramDates(today() - timedelta(days=120), today() - timedelta(days=90)),
        ProgramDates(today() - timedelta(days=5), None),
    ]
    assert found[world.other_patient.patient_id] == []
    assert latest == ProgramDates(today() - timedelta(days=5), None)


def test_a_restart_after_discharge_asks_nothing_after_the_fact(app: Flask, world: World) -> None:
    """Every 4 weeks from a start 120 days ago, discharged 90 days ago with every occasion
    answered, started again 5 days ago: the assignment followed the program it was made
    in and asks nothing more (not the weeks the patient was discharged, all long overdue),
    its discharge answer still counts; assigned again now, the measure asks for the new
    program's own start."""
    pid = world.patient.patient_id
    start = today() - timedelta(days=120)
    start_plan(app, pid, world.clinician.id, [(EventKind.COMPLETE, 90)], started_days_ago=120)
    first = assign(app, pid, world.clinician.id, assigned_on=start)
    answer(app, first, "baseline", {"pain": 6}, on=start)
    answer(app, first, "week-4", {"pain": 4}, on=start + timedelta(weeks=4))
    answer(app, first, "discharge", {"pain": 2}, on=today() - timedelta(days=90))
    start_plan(app, pid, world.clinician.id, started_days_ago=5)
    with app.app_context():
        statuses = occasion_statuses(world.clinic_a, [pid], today())[pid]
        assert [(s.state.occasion.key, s.state.answered) for s in statuses] == [
            ("baseline", True),
            ("week-4", True),
            ("discharge", True),
        ]
        (row,) = overview(db.session.get(Patient, pid), today())
        assert row.next is None and row.waiting == []
        services.end_assignment(
            db.session.get(MeasureAssignment, first), db.session.get(User, world.clinician.id)
        )
        db.session.commit()
    again = assign(app, pid, world.clinician.id)
    with app.app_context():
        statuses = occasion_statuses(world.clinic_a, [pid], today())[pid]
    assert [(s.assignment.id, s.state.occasion.key, s.state.occasion.on) for s in statuses] == [
        (again, "baseline", today() - timedelta(days=5))
    ]


def test_a_measure_assigned_between_programs_waits_for_the_next(app: Flask, world: World) -> None:
    """Assigned 30 days after a discharge, a repeating measure asks nothing from the
    program that ended and waits for the next one to start."""
    pid = world.patient.patient_id
    start_plan(app, pid, world.clinician.id, [(EventKind.COMPLETE, 60)], started_days_ago=120)
    assign(app, pid, world.clinician.id, assigned_on=today() - timedelta(days=30))
    with app.app_context():
        assert occasion_statuses(world.clinic_a, [pid], today())[pid] == []
        (row,) = overview(db.session.get(Patient, pid), today())
        assert row.next.label == "At the start, once a protocol starts"
    start_plan(app, pid, world.clinician.id, started_days_ago=2)
    with app.app_context():
        statuses = occasion_statuses(world.clinic_a, [pid], today())[pid]
    assert [(s.state.occasion.key, s.state.occasion.on) for s in statuses] == [
        ("baseline", today() - timedelta(days=2))
    ]


def test_occasions_up_to_today_with_their_state(app: Flask, world: World) -> None:
    """Every 2 weeks from a start 30 days ago: the baseline (answered), week 2 (overdue),
    week 4 (due, within the grace week); week 6 is not asked yet."""
    pid = world.patient.patient_id
    start = today() - timedelta(days=30)
    start_plan(app, pid, world.clinician.id, started_days_ago=30)
    assignment_id = assign(app, pid, world.clinician.id, every_weeks=2, assigned_on=start)
    answer(app, assignment_id, "baseline", {"pain": 5}, on=start)
    with app.app_context():
        statuses = occasion_statuses(world.clinic_a, [pid], today())[pid]
        found = [
            (s.state.occasion.key, s.state.answered, s.state.due, s.state.overdue) for s in statuses
        ]
        assert found == [
            ("baseline", True, False, False),
            ("week-2", False, True, True),
            ("week-4", False, True, False),
        ]
        assert [s.label for s in due_now(statuses)] == ["Week 2", "Week 4"]
        assert [s.label for s in overdue(statuses)] == ["Week 2"]
        assert statuses[0].response is not None and not statuses[0].in_progress


def test_an_ended_assignment_asks_nothing_unless_asked_for(app: Flask, world: World) -> None:
    """Ended assignments are left out, except with include_ended."""
    pid = world.patient.patient_id
    assignment_id = assign(
        app, pid, world.clinician.id, "pgic", Cadence.ONCE, on=today(), every_weeks=None
    )
    with app.app_context():
        services.end_assignment(
            db.session.get(MeasureAssignment, assignment_id),
            db.session.get(User, world.clinician.id),
        )
        db.session.commit()
        assert occasion_statuses(world.clinic_a, [pid], today())[pid] == []
        assert len(occasion_statuses(world.clinic_a, [pid], today(), include_ended=True)[pid]) == 1


def test_occasions_cost_three_queries_whatever_the_patients(app: Flask, world: World) -> None:
    """Two patients or one: assignments, answers and the programs."""
    for pid in (world.patient.patient_id, world.other_patient.patient_id):
        start_plan(app, pid, world.clinician.id, started_days_ago=30)
        assign(app, pid, world.clinician.id, assigned_on=today() - timedelta(days=30))
    with app.app_context():
        engine = db.engine
        with count_queries(engine) as one:
            occasion_statuses(world.clinic_a, [world.patient.patient_id], today())
        with count_queries(engine) as two:
            result = occasion_statuses(
                world.clinic_a, [world.patient.patient_id, world.other_patient.patient_id], today()
            )
    assert len(one) == len(two) == 3
    assert all(result.values())


def test_another_clinics_assignments_are_not_read(app: Flask, world: World) -> None:
    """Clinic B asking about clinic A's patient finds nothing."""
    pid = world.patient.patient_id
    assign(app, pid, world.clinician.id, "pgic", Cadence.ONCE, on=today(), every_weeks=None)
    with app.app_context():
        assert occasion_statuses(world.clinic_b, [pid], today()) == {pid: []}


# ---------------------------------------------------------------------------------------
# In words


@pytest.mark.parametrize(
    ("cadence", "every_weeks", "at_discharge", "words"),
    [
        (Cadence.REPEATING, 4, True, "At the start, every 4 weeks, and at discharge"),
        (Cadence.REPEATING, 1, True, "At the start, every week, and at discharge"),
        (Cadence.REPEATING, 6, False, "At the start and every 6 weeks"),
        (Cadence.REPEATING, None, True, "At the start and at discharge"),
        (Cadence.REPEATING, None, False, "At the start only"),
    ],
)
def test_schedules_in_words(
    cadence: Cadence, every_weeks: int | None, at_discharge: bool, words: str
) -> None:
    """Each schedule reads as a clinician would say it."""
    assignment = MeasureAssignment(
        cadence=cadence, every_weeks=every_weeks, at_discharge=at_discharge
    )
    assert schedule_in_words(assignment) == words


def test_a_one_off_in_words() -> None:
    """Once, with its day."""
    assert schedule_in_words(MeasureAssignment(cadence=Cadence.ONCE, on=date(2026, 6, 3))) == (
        "Once, on 3 Jun 2026"
    )


@pytest.mark.parametrize(
    ("key", "label"),
    [
        ("baseline", "At the start"),
        ("week-12", "Week 12"),
        ("discharge", "At discharge"),
        ("once", "Once"),
        ("week-x", "week-x"),
    ],
)
def test_occasion_labels(key: str, label: str) -> None:
    """Occasion keys as people read them (an unknown one as it is)."""
    assert occasion_label(key) == label


def test_the_next_occasion(app: Flask, world: World) -> None:
    """Repeating every 4 weeks from 10 days ago: next is week 4; before a protocol starts,
    the start waits for it; after discharge nothing; a one-off today has no next."""
    pid = world.patient.patient_id
    waiting = assign(app, pid, world.clinician.id)
    once = assign(app, pid, world.clinician.id, "pgic", Cadence.ONCE, on=today(), every_weeks=None)
    later = assign(
        app,
        pid,
        world.clinician.id,
        "dilator-confidence",
        Cadence.ONCE,
        on=today() + timedelta(days=3),
        every_weeks=None,
    )
    with app.app_context():
        rows = {row.assignment.id: row for row in overview(db.session.get(Patient, pid), today())}
        assert rows[waiting].next.label == "At the start, once a protocol starts"
        assert rows[waiting].next.on is None
        assert rows[once].next is None
        assert rows[once].waiting and rows[once].waiting[0].label == "Once"
        assert rows[later].next.on == today() + timedelta(days=3)
    start_plan(app, pid, world.clinician.id, started_days_ago=5)
    with app.app_context():
        row = overview(db.session.get(Patient, pid), today())[0]
        assert (row.next.on, row.next.label) == (today() + timedelta(days=23), "Week 4")
        # The start, five days ago: due, within the grace week, so not overdue.
        assert [s.label for s in row.waiting] == ["At the start"]
        assert row.overdue == []


def test_after_the_last_interval_the_next_is_discharge(app: Flask, world: World) -> None:
    """Without an interval, after the start the next occasion is the discharge; once
    discharged there is none."""
    pid = world.patient.patient_id
    start_plan(app, pid, world.clinician.id, started_days_ago=5)
    assign(app, pid, world.clinician.id, every_weeks=None)
    with app.app_context():
        patient = db.session.get(Patient, pid)
        row = overview(patient, today())[0]
        assert (row.next.on, row.next.label) == (None, "At discharge")
        program = program_dates(world.clinic_a, [pid])[pid]
        discharged = ProgramDates(program.started_on, today())
        assert next_occasion(row.assignment, discharged, today()) is None


def test_the_overview_says_what_is_finished_and_ended(app: Flask, world: World) -> None:
    """An answered one-off is finished, an ended assignment ended; both not active, and an
    ended one has nothing waiting. Four queries however many assignments."""
    pid = world.patient.patient_id
    done = assign(app, pid, world.clinician.id, "pgic", Cadence.ONCE, on=today(), every_weeks=None)
    answer(app, done, "once", {"change": 3}, on=today())
    stopped = assign(
        app,
        pid,
        world.clinician.id,
        "dilator-confidence",
        Cadence.ONCE,
        on=today(),
        every_weeks=None,
    )
    with app.app_context():
        services.end_assignment(
            db.session.get(MeasureAssignment, stopped), db.session.get(User, world.clinician.id)
        )
        db.session.commit()
    active = assign(
        app, pid, world.clinician.id, "pain-nrs", Cadence.ONCE, on=today(), every_weeks=None
    )
    with app.app_context():
        patient = db.session.get(Patient, pid)
        with count_queries(db.engine) as statements:
            rows = {row.assignment.id: row for row in overview(patient, today())}
        assert len(statements) == 4
    assert (rows[done].finished, rows[done].active, rows[done].answered) == (True, False, 1)
    assert (rows[stopped].ended, rows[stopped].active, rows[stopped].waiting) == (True, False, [])
    assert rows[active].active and rows[active].title == FOLDER_PAIN.title


# ---------------------------------------------------------------------------------------
# Scored series


def pain_series(app: Flask, world: World, scores: list[int]) -> tuple[int, date]:
    """Pain answered at the start and every 4 weeks after, one answer per score; returns
    the patient id and the start."""
    pid = world.patient.patient_id
    weeks = 4 * (len(scores) - 1)
    start = today() - timedelta(weeks=weeks, days=1)
    start_plan(app, pid, world.clinician.id, started_days_ago=(today() - start).days)
    assignment_id = assign(app, pid, world.clinician.id, assigned_on=start)
    for n, value in enumerate(scores):
        key = "baseline" if n == 0 else f"week-{4 * n}"
        answer(app, assignment_id, key, {"pain": value}, on=start + timedelta(weeks=4 * n))
    return pid, start


def test_series_baseline_latest_and_change(app: Flask, world: World) -> None:
    """7, then 5, then 4: baseline 7, latest 4, change -3, oldest first, with each band's
    meaning from the version answered on."""
    pid, start = pain_series(app, world, [7, 5, 4])
    with app.app_context():
        [series] = series_for(world.clinic_a, [pid], zone=ZONE)[pid]
    assert [a.total for a in series.answers] == [7, 5, 4]
    assert [a.occasion_key for a in series.answers] == ["baseline", "week-4", "week-8"]
    assert (series.baseline.total, series.latest.total, series.change) == (7, 4, -3)
    assert series.answers[0].band_interpretation == "Severe pain"
    assert series.answers[0].answered_on == start
    assert series.title == FOLDER_PAIN.title
    assert describe_change(series) == (
        f"3 points lower than the first score (7 on {start.day} {start:%b %Y}): improved."
    )


def test_unscored_answers_are_kept_but_not_a_baseline(app: Flask, world: World) -> None:
    """A first answer with too few questions answered shows with its reason; the baseline
    is the first scored one."""
    pid = world.patient.patient_id
    start = today() - timedelta(weeks=8, days=1)
    start_plan(app, pid, world.clinician.id, started_days_ago=(today() - start).days)
    assignment_id = assign(app, pid, world.clinician.id, "dilator-confidence", assigned_on=start)
    every = dict.fromkeys(["insert", "on_own", "discomfort", "keep_going", "next_size"], 2)
    answer(app, assignment_id, "baseline", {"insert": 1, "on_own": 1}, on=start)
    answer(app, assignment_id, "week-4", every, on=start + timedelta(weeks=4))
    answer(app, assignment_id, "week-8", every, on=start + timedelta(weeks=8))
    with app.app_context():
        [series] = series_for(world.clinic_a, [pid])[pid]
    first = series.answers[0]
    assert first.total is None
    assert first.not_scored_reason == "Not scored: 2 of 5 questions answered, at least 4 needed"
    assert series.baseline.occasion_key == "week-4"
    assert series.change == 0
    assert describe_change(series).startswith("The same as the first score (10 on")


def test_since_and_until_bound_the_series(app: Flask, world: World) -> None:
    """A period starting after the baseline has its own first score."""
    pid, start = pain_series(app, world, [8, 6, 3])
    with app.app_context():
        [series] = series_for(world.clinic_a, [pid], since=start + timedelta(days=1))[pid]
        assert (series.baseline.total, series.change) == (6, -3)
        [early] = series_for(world.clinic_a, [pid], until=start + timedelta(weeks=4))[pid]
        assert [a.total for a in early.answers] == [8, 6]


def test_series_cost_a_fixed_number_of_queries_and_stay_in_the_clinic(
    app: Flask, world: World
) -> None:
    """Three queries however many answers and patients; clinic B sees none of A's."""
    pid, _ = pain_series(app, world, [7, 5, 4])
    with app.app_context():
        with count_queries(db.engine) as statements:
            series_for(world.clinic_a, [pid, world.other_patient.patient_id])
        assert len(statements) == 3
        assert series_for(world.clinic_b, [pid]) == {pid: []}
        assert series_for(world.clinic_a, []) == {}


def _series(key: str, totals: list[float | None]) -> Series:
    instrument = shipped_instruments()[key]
    series = Series(key, instrument.title, instrument)
    for n, total in enumerate(totals):
        series.answers.append(
            ScoredAnswer(
                response_id=n,
                occasion_key="once",
                occasion_on=date(2026, 1, 1) + timedelta(weeks=n),
                answered_on=date(2026, 1, 1) + timedelta(weeks=n),
                version="1",
                total=total,
                band_label="",
                domains={},
                valid=True,
                invalid_reason="",
            )
        )
    return series


@pytest.mark.parametrize(
    ("key", "totals", "words"),
    [
        ("pain-nrs", [], "No score yet."),
        ("pain-nrs", [5], "One score so far: the change shows from the second."),
        ("pain-nrs", [5, 6], "1 point higher than the first score (5 on 1 Jan 2026): worse."),
        (
            "dilator-confidence",
            [5, 9],
            "4 points higher than the first score (5 on 1 Jan 2026): improved.",
        ),
        (
            "fsfi",
            [20.0, 26.5],
            "6.5 points higher than the first score (20.0 on 1 Jan 2026): improved.",
        ),
        ("fsfi", [26.5, 26.5], "The same as the first score (26.5 on 1 Jan 2026)."),
        ("marinoff", [3, 1], "2 points lower than the first score (3 on 1 Jan 2026): improved."),
    ],
)
def test_the_change_in_words(key: str, totals: list[float], words: str) -> None:
    """Direction from the instrument's `better`, amounts at its decimals, singular for 1."""
    assert describe_change(_series(key, totals)) == words


def test_pgic_is_never_compared() -> None:
    """PGIC rates change itself: no change is computed, and the words say why."""
    series = _series("pgic", [4, 1])
    assert series.rates_change and series.change is None
    assert "is itself the patient's rating of change since the start" in describe_change(series)


def test_a_change_with_no_direction_is_given_in_points_only() -> None:
    """An instrument that does not say which way is better: points, no judgement."""
    series = _series("pain-nrs", [5, 3])
    series.instrument = None
    assert describe_change(series) == "2 points lower than the first score (5 on 1 Jan 2026)."
    assert format_score(26.4, shipped_instruments()["fsfi"]) == "26.4"
    assert format_score(None, None) == ""

"""Outcome measures, clinician side: assigning a measure in a few clicks (once or
repeating), the refusals in plain words, ending one, the scores with their band's meaning
and the change from the first score, one response in full, the patient page's section,
the audit trail, and every URL scoped to the clinic (another clinic's ids answer 404)."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from clinic.core.clock import clinic_today
from clinic.demo import seed_demo
from clinic.domain.measure_schedule import Cadence
from clinic.extensions import db
from clinic.measures import services
from clinic.measures.results import series_for
from clinic.measures.schedule import overview
from clinic.models import (
    MeasureAssignment,
    MeasureResponse,
    Patient,
    PatientSummary,
    User,
)
from tests.support.audit import events
from tests.support.auth import act_as
from tests.support.forms import form_values
from tests.support.measures import answer_measure as answer
from tests.support.measures import assign_measure as assign
from tests.support.protocols import start_plan
from tests.support.queries import count_queries
from tests.support.world import World

ZONE = "Europe/London"
PAIN = "Pain numeric rating scale (0\N{EN DASH}10)"


def today() -> date:
    return clinic_today(ZONE)


def measures_url(patient_id: int) -> str:
    return f"/patients/{patient_id}/measures"


def assignments(app: Flask, patient_id: int) -> list[MeasureAssignment]:
    with app.app_context():
        found = list(
            db.session.scalars(
                select(MeasureAssignment)
                .where(MeasureAssignment.patient_id == patient_id)
                .order_by(MeasureAssignment.id)
            )
        )
        db.session.expunge_all()
        return found


def assign_form(client, patient_id: int) -> dict[str, str]:
    """The assign form's values as the page offers them (the defaults)."""
    page = client.get(measures_url(patient_id)).get_data(as_text=True)
    return form_values(page, form_index=1)


# ---------------------------------------------------------------------------------------
# Assigning in a few clicks


def test_clinician_assigns_a_repeating_measure_with_the_defaults(
    app: Flask, client, world: World
) -> None:
    """Choosing the measure is the only change needed: the defaults ask at the start, every
    4 weeks and at discharge. The assignment is saved, audited, and listed in words."""
    pid = world.patient.patient_id
    act_as(client, world.clinician.id)
    values = assign_form(client, pid)
    assert values["schedule"] == "repeating"
    assert values["every_weeks"] == "4"
    assert values["at_discharge"] == "y"
    response = client.post(measures_url(pid), data={**values, "instrument": "pain-nrs"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(measures_url(pid))
    [saved] = assignments(app, pid)
    assert (saved.instrument_key, saved.cadence, saved.every_weeks, saved.at_discharge) == (
        "pain-nrs",
        Cadence.REPEATING,
        4,
        True,
    )
    assert (saved.on, saved.assigned_on, saved.assigned_by_id) == (
        None,
        today(),
        world.clinician.id,
    )
    [event] = events(app, "measure.assign")
    assert (event.patient_id, event.object_id, event.actor_id) == (
        pid,
        saved.id,
        world.clinician.id,
    )
    assert json.loads(event.detail)["instrument"] == "pain-nrs"
    page = client.get(measures_url(pid)).get_data(as_text=True)
    assert "At the start, every 4 weeks, and at discharge" in page
    # No protocol yet: the first occasion waits for one.
    assert "At the start, once a protocol starts" in page


def test_clinician_assigns_a_one_off_for_a_later_day(app: Flask, client, world: World) -> None:
    """Once, on a day: asked that day only, never at discharge."""
    pid = world.patient.patient_id
    act_as(client, world.clinician.id)
    day = today() + timedelta(days=10)
    values = assign_form(client, pid)
    response = client.post(
        measures_url(pid),
        data={**values, "instrument": "pgic", "schedule": "once", "on": day.isoformat()},
    )
    assert response.status_code == 302
    [saved] = assignments(app, pid)
    assert (saved.cadence, saved.on, saved.every_weeks, saved.at_discharge) == (
        Cadence.ONCE,
        day,
        None,
        False,
    )
    page = client.get(measures_url(pid)).get_data(as_text=True)
    assert f"Once, on {day.day} {day:%b %Y}" in page


def test_the_one_off_day_defaults_to_today(app: Flask, client, world: World, as_clinician) -> None:
    """The day box starts at today, so a one-off for now takes two clicks."""
    assert assign_form(client, world.patient.patient_id)["on"] == today().isoformat()


def test_repeating_without_an_interval_asks_at_the_start_and_discharge(
    app: Flask, client, world: World
) -> None:
    """A blank interval means no occasions in between."""
    pid = world.patient.patient_id
    act_as(client, world.clinician.id)
    values = {**assign_form(client, pid), "instrument": "pain-nrs", "every_weeks": ""}
    assert client.post(measures_url(pid), data=values).status_code == 302
    [saved] = assignments(app, pid)
    assert saved.every_weeks is None
    page = client.get(measures_url(pid)).get_data(as_text=True)
    assert "At the start and at discharge" in page


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"instrument": ""}, "instrument", "Choose a measure."),
        ({"instrument": "no-such-thing"}, "instrument", "Not a valid choice"),
        ({"every_weeks": "0"}, "every_weeks", "Repeat every 1 to 52 weeks"),
        ({"every_weeks": "53"}, "every_weeks", "Repeat every 1 to 52 weeks"),
        ({"every_weeks": "four"}, "every_weeks", "Enter a whole number, for example 7."),
        ({"schedule": "once", "on": ""}, "on", "Enter the day the patient is asked to answer."),
        ({"schedule": "once", "on": "31/02/2026"}, "on", "Enter a real date"),
        ({"schedule": "sometimes"}, "schedule", "Not a valid choice"),
    ],
)
def test_the_form_says_what_is_wrong_next_to_the_field(
    app: Flask, client, world: World, changes: dict, field: str, message: str
) -> None:
    """Each mistake is named next to its field, nothing is saved, and what was typed stays."""
    pid = world.patient.patient_id
    act_as(client, world.clinician.id)
    values = {**assign_form(client, pid), "instrument": "pain-nrs", **changes}
    response = client.post(measures_url(pid), data=values)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'id="{field}-error"' in page or (field == "schedule" and 'id="schedule-error"' in page)
    assert message in page
    assert assignments(app, pid) == []
    kept = form_values(page, form_index=1)
    for name, value in changes.items():
        if name != "instrument" or value in ("", "pain-nrs"):
            assert kept.get(name, "") == value or name == "schedule"


def test_a_one_off_in_the_past_is_refused(app: Flask, client, world: World) -> None:
    """Asking for answers on a day gone by is refused in words, next to the day."""
    pid = world.patient.patient_id
    act_as(client, world.clinician.id)
    yesterday = today() - timedelta(days=1)
    values = {
        **assign_form(client, pid),
        "instrument": "pain-nrs",
        "schedule": "once",
        "on": yesterday.isoformat(),
    }
    response = client.post(measures_url(pid), data=values)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="on-error"' in page
    assert "The day cannot be in the past: choose today" in page
    assert form_values(page, form_index=1)["on"] == yesterday.isoformat()
    assert assignments(app, pid) == []


def test_a_one_off_years_ahead_is_refused(app: Flask, client, world: World) -> None:
    """31/12/9999 (a slip of the keyboard) is refused in words next to the day, with the
    last day allowed (two years ahead); what was typed stays (found by a walk)."""
    pid = world.patient.patient_id
    act_as(client, world.clinician.id)
    values = {
        **assign_form(client, pid),
        "instrument": "pain-nrs",
        "schedule": "once",
        "on": "9999-12-31",
    }
    response = client.post(measures_url(pid), data=values)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="on-error"' in page and "Choose a day within two years, by" in page
    assert form_values(page, form_index=1)["on"] == "9999-12-31"
    assert assignments(app, pid) == []
    values["on"] = (today() + timedelta(days=365)).isoformat()
    assert client.post(measures_url(pid), data=values).status_code == 302


def test_a_scoring_only_instrument_is_not_offered_and_refused_in_words(
    app: Flask, client, world: World
) -> None:
    """FSFI ships as scoring rules only: it is not in the list, the page says why, and a
    forged request is refused with the reason and what the clinic can do."""
    pid = world.patient.patient_id
    act_as(client, world.clinician.id)
    page = client.get(measures_url(pid)).get_data(as_text=True)
    assert 'value="fsfi"' not in page
    assert 'value="pain-nrs"' in page
    assert f"{PAIN} (free to use)" in page
    assert "Not listed: " in page and "Female Sexual Function Index (FSFI)" in page
    values = {**assign_form(client, pid), "instrument": "fsfi"}
    refused = client.post(measures_url(pid), data=values)
    assert refused.status_code == 400
    assert "Not a valid choice" in refused.get_data(as_text=True)
    with app.app_context(), pytest.raises(services.Refusal) as raised:
        services.assign(
            db.session.get(Patient, pid),
            "fsfi",
            Cadence.REPEATING,
            by=db.session.get(User, world.clinician.id),
            every_weeks=4,
        )
    message = str(raised.value)
    assert "cannot be sent to patients: only its scoring rules ship" in message
    assert "import the licensed wording" in message
    assert raised.value.field == "instrument"


def test_a_second_active_assignment_of_the_same_measure_is_refused(
    app: Flask, client, world: World
) -> None:
    """One active assignment per measure: the second is refused, saying how to change the
    schedule instead."""
    pid = world.patient.patient_id
    assign(app, pid, world.clinician.id, "pain-nrs")
    act_as(client, world.clinician.id)
    values = {
        **assign_form(client, pid),
        "instrument": "pain-nrs",
        "schedule": "once",
        "on": today().isoformat(),
    }
    response = client.post(measures_url(pid), data=values)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="instrument-error"' in page
    assert f"already has {PAIN} assigned" in page
    assert "(at the start, every 4 weeks, and at discharge)" in page
    assert "end that assignment first" in page
    assert len(assignments(app, pid)) == 1
    # Another measure, or another patient, is fine.
    assert client.post(measures_url(pid), data={**values, "instrument": "pgic"}).status_code == 302
    other = world.other_patient.patient_id
    assert client.post(measures_url(other), data=values).status_code == 302


def test_an_answered_one_off_no_longer_blocks_a_new_one(app: Flask, world: World) -> None:
    """A one-off that was answered is finished: the same measure can be asked again; an
    ended assignment does not block either."""
    pid = world.patient.patient_id
    first = assign(app, pid, world.clinician.id, "pgic", Cadence.ONCE, on=today(), every_weeks=None)
    answer(app, first, "once", {"change": 2}, on=today())
    second = assign(
        app, pid, world.clinician.id, "pgic", Cadence.ONCE, on=today(), every_weeks=None
    )
    with app.app_context():
        services.end_assignment(
            db.session.get(MeasureAssignment, second), db.session.get(User, world.clinician.id)
        )
        db.session.commit()
    assign(app, pid, world.clinician.id, "pgic", Cadence.ONCE, on=today(), every_weeks=None)
    assert len(assignments(app, pid)) == 3


@pytest.mark.parametrize("weeks", [0, 53, -1])
def test_the_service_refuses_an_interval_out_of_range(app: Flask, world: World, weeks: int) -> None:
    """Every 1 to 52 weeks, whoever calls the service."""
    with pytest.raises(services.Refusal, match="Repeat every 1 to 52 weeks") as raised:
        assign(app, world.patient.patient_id, world.clinician.id, every_weeks=weeks)
    assert raised.value.field == "every_weeks"


def test_assigning_and_ending_refresh_the_patients_summary(app: Flask, world: World) -> None:
    """The dashboard's summary (which shows overdue questionnaires) is refreshed in the
    same transaction as an assignment, and as its end."""
    pid = world.patient.patient_id

    def version() -> int:
        with app.app_context():
            return db.session.get(PatientSummary, pid).version

    before = version()
    assignment_id = assign(app, pid, world.clinician.id)
    assert version() == before + 1
    with app.app_context():
        services.end_assignment(
            db.session.get(MeasureAssignment, assignment_id),
            db.session.get(User, world.clinician.id),
        )
        db.session.commit()
    assert version() == before + 2


# ---------------------------------------------------------------------------------------
# Ending


def test_clinician_ends_a_measure_after_confirming(app: Flask, client, world: World) -> None:
    """The End link opens a confirmation saying what ending means; confirming stops the
    measure, keeps its answers, is audited, and lists it under ended."""
    pid = world.patient.patient_id
    assignment_id = assign(
        app, pid, world.clinician.id, "pgic", Cadence.ONCE, on=today(), every_weeks=None
    )
    act_as(client, world.clinician.id)
    url = f"{measures_url(pid)}/{assignment_id}/end"
    assert f'href="{url}"' in client.get(measures_url(pid)).get_data(as_text=True)
    confirm = client.get(url)
    assert confirm.status_code == 200
    text = confirm.get_data(as_text=True)
    assert "The answers already sent stay" in text
    assert assignments(app, pid)[0].ended_at is None  # a GET changes nothing
    response = client.post(url)
    assert response.status_code == 302
    [ended] = assignments(app, pid)
    assert ended.ended_at is not None and ended.ended_by_id == world.clinician.id
    [event] = events(app, "measure.end")
    assert (event.object_id, event.patient_id) == (assignment_id, pid)
    page = client.get(measures_url(pid)).get_data(as_text=True)
    assert "No measures are being asked now." in page
    assert "Ended or finished (1)" in page
    again = client.post(url, follow_redirects=True).get_data(as_text=True)
    assert "This measure was already ended." in again
    # The second attempt is kept in the trail as changing nothing.
    assert [e.outcome for e in events(app, "measure.end")] == ["ok", "unchanged"]


# ---------------------------------------------------------------------------------------
# Scores


def test_scores_show_the_band_meaning_and_the_change_from_the_first(
    app: Flask, client, world: World
) -> None:
    """Pain asked at the start and every 4 weeks: 7 (severe) then 4 (moderate) reads "3
    points lower than the first score (7 on ...): improved", each with its band's meaning
    and its range, and a link to the answers in full."""
    pid = world.patient.patient_id
    start = today() - timedelta(days=40)
    start_plan(app, pid, world.clinician.id, started_days_ago=40)
    assignment_id = assign(app, pid, world.clinician.id, assigned_on=start)
    baseline = answer(app, assignment_id, "baseline", {"pain": 7}, on=start)
    answer(app, assignment_id, "week-4", {"pain": 4}, on=start + timedelta(weeks=4))
    act_as(client, world.clinician.id)
    page = client.get(measures_url(pid)).get_data(as_text=True)
    assert "7 / 10" in page and "4 / 10" in page
    assert "<strong>Severe</strong>: Severe pain" in page
    assert "<strong>Moderate</strong>: Moderate pain" in page
    assert (
        f"3 points lower than the first score (7 on {start.day} {start:%b %Y}): improved." in page
    )
    assert "At the start" in page and "Week 4" in page
    assert f"{measures_url(pid)}/responses/{baseline}" in page
    assert "pain from 0 to 10, lower is better" in page
    # Week 8 is not due yet: the next occasion says when.
    week8 = start + timedelta(weeks=8)
    assert f"Week 8, {week8.day} {week8:%b %Y}" in page


def test_a_higher_score_is_an_improvement_where_higher_is_better(
    app: Flask, client, world: World
) -> None:
    """Dilator confidence rises from 8 to 14: "6 points higher ...: improved"; a fall on
    the pain scale reads "worse"."""
    pid = world.patient.patient_id
    start = today() - timedelta(days=30)
    start_plan(app, pid, world.clinician.id, started_days_ago=30)
    confidence = assign(app, pid, world.clinician.id, "dilator-confidence", assigned_on=start)
    pain = assign(app, pid, world.clinician.id, "pain-nrs", assigned_on=start)
    low = dict.fromkeys(["insert", "on_own", "discomfort", "keep_going", "next_size"], 2)
    high = {**low, "insert": 4, "on_own": 4, "discomfort": 3, "keep_going": 3}
    answer(app, confidence, "baseline", low, on=start)
    answer(app, confidence, "week-4", high, on=start + timedelta(weeks=4))
    answer(app, pain, "baseline", {"pain": 2}, on=start)
    answer(app, pain, "week-4", {"pain": 5}, on=start + timedelta(weeks=4))
    act_as(client, world.clinician.id)
    page = client.get(measures_url(pid)).get_data(as_text=True)
    assert "6 points higher than the first score (10 on" in page
    assert "): improved." in page
    assert "3 points higher than the first score (2 on" in page
    assert "): worse." in page


def test_pgic_is_not_compared_with_its_first_answer(app: Flask, client, world: World) -> None:
    """PGIC is itself a rating of change: the page says so instead of a change."""
    pid = world.patient.patient_id
    first = assign(app, pid, world.clinician.id, "pgic", Cadence.ONCE, on=today(), every_weeks=None)
    answer(app, first, "once", {"change": 4}, on=today())
    second = assign(
        app, pid, world.clinician.id, "pgic", Cadence.ONCE, on=today(), every_weeks=None
    )
    answer(app, second, "once", {"change": 1}, on=today())
    act_as(client, world.clinician.id)
    page = client.get(measures_url(pid)).get_data(as_text=True)
    assert "is itself the patient&#39;s rating of change since the start" in page
    assert "points lower" not in page and "First score" not in page
    assert "Latest answer 1 (Much improved)" in page
    assert "<strong>Much improved</strong>: Much or very much improved" in page


def test_an_unscored_answer_says_why_in_words(app: Flask, client, world: World) -> None:
    """Two of five confidence questions answered: no total, and the reason instead."""
    pid = world.patient.patient_id
    assignment_id = assign(
        app,
        pid,
        world.clinician.id,
        "dilator-confidence",
        Cadence.ONCE,
        on=today(),
        every_weeks=None,
    )
    answer(app, assignment_id, "once", {"insert": 3, "on_own": 2}, on=today())
    act_as(client, world.clinician.id)
    page = client.get(measures_url(pid)).get_data(as_text=True)
    assert "Not scored: 2 of 5 questions answered, at least 4 needed" in page
    assert "No score yet." in page


def test_the_response_shows_every_question_and_answer(app: Flask, client, world: World) -> None:
    """One response in full: the questions with the answers' wording and values, blanks
    named, the stored score with its band and meaning."""
    pid = world.patient.patient_id
    assignment_id = assign(
        app,
        pid,
        world.clinician.id,
        "dilator-confidence",
        Cadence.ONCE,
        on=today(),
        every_weeks=None,
    )
    response_id = answer(
        app,
        assignment_id,
        "once",
        {"insert": 4, "on_own": 3, "discomfort": 3, "keep_going": 4, "next_size": None},
        on=today(),
    )
    act_as(client, world.clinician.id)
    response = client.get(f"{measures_url(pid)}/responses/{response_id}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Putting your dilator in" in page
    assert "Completely confident" in page and "Very confident" in page
    assert "Left blank" in page
    # 4+3+3+4 = 14, the blank pro-rated at the mean 3.5: 17.5, rounded half up to 18.
    assert "18 / 20" in page
    assert "<strong>High</strong>: High confidence" in page
    assert "pro-rated" in page and "next_size" in page
    [event] = events(app, "measure.view")
    assert (event.patient_id, event.object_id) == (pid, response_id)


def test_a_draft_is_not_shown_to_the_clinic(app: Flask, client, world: World) -> None:
    """Answers saved but not sent are the patient's unfinished work: 404 for the clinic."""
    pid = world.patient.patient_id
    assignment_id = assign(
        app, pid, world.clinician.id, "pgic", Cadence.ONCE, on=today(), every_weeks=None
    )
    with app.app_context():
        draft = MeasureResponse(
            clinic_id=world.clinic_a,
            patient_id=pid,
            assignment_id=assignment_id,
            occasion_key="once",
            occasion_on=today(),
            instrument_key="pgic",
            instrument_version="1",
            answers='{"change": 3}',
        )
        db.session.add(draft)
        db.session.commit()
        draft_id = draft.id
    act_as(client, world.clinician.id)
    assert client.get(f"{measures_url(pid)}/responses/{draft_id}").status_code == 404
    assert "No answers yet." in client.get(measures_url(pid)).get_data(as_text=True)


# ---------------------------------------------------------------------------------------
# What is asked now


def test_the_measures_page_lists_current_measures_and_overdue_in_words(
    app: Flask, client, world: World
) -> None:
    """The chart's "Outcome measures" shows each measure being asked, its schedule, what is
    waiting (overdue said in words, not by colour alone) and the next occasion; an ended
    one only among the ended. (The record details no longer repeat this.)"""
    pid = world.patient.patient_id
    start = today() - timedelta(days=20)
    start_plan(app, pid, world.clinician.id, started_days_ago=20)
    assign(app, pid, world.clinician.id, assigned_on=start)
    ended = assign(app, pid, world.clinician.id, "pgic", Cadence.ONCE, on=today(), every_weeks=None)
    with app.app_context():
        services.end_assignment(
            db.session.get(MeasureAssignment, ended), db.session.get(User, world.clinician.id)
        )
        db.session.commit()
    act_as(client, world.clinician.id)
    page = client.get(measures_url(pid)).get_data(as_text=True)
    section = page[page.index('id="assigned-heading"') : page.index("<details>")]
    assert PAIN in section and "At the start, every 4 weeks" in section
    assert f"Overdue</strong>: at the start, since {start.day} {start:%b %Y}" in section
    week4 = start + timedelta(weeks=4)
    assert f"Week 4, {week4.day} {week4:%b %Y}" in section
    assert "Patient Global Impression" not in section  # ended
    assert 'id="measures-heading"' not in client.get(f"/patients/{pid}").get_data(as_text=True)


def test_the_measures_page_without_measures(client, world: World, as_clinician) -> None:
    """No measures: the page says so."""
    page = client.get(measures_url(world.patient.patient_id)).get_data(as_text=True)
    assert "No measures are being asked now." in page


# ---------------------------------------------------------------------------------------
# Scoping and cost


def test_another_clinics_staff_find_nothing(app: Flask, client, world: World) -> None:
    """Every measures URL naming clinic A's patient, assignment or response answers 404 to
    clinic B's clinician; and a clinic A id under the wrong patient is 404 too."""
    pid = world.patient.patient_id
    assignment_id = assign(
        app, pid, world.clinician.id, "pgic", Cadence.ONCE, on=today(), every_weeks=None
    )
    response_id = answer(app, assignment_id, "once", {"change": 2}, on=today())
    urls = [
        ("get", measures_url(pid)),
        ("post", measures_url(pid)),
        ("get", f"{measures_url(pid)}/{assignment_id}/end"),
        ("post", f"{measures_url(pid)}/{assignment_id}/end"),
        ("get", f"{measures_url(pid)}/responses/{response_id}"),
    ]
    act_as(client, world.other_clinician.id)
    for method, url in urls:
        assert getattr(client, method)(url).status_code == 404, url
    # Clinic B's own patient with clinic A's assignment and response ids.
    other = measures_url(world.other_clinic_patient.patient_id)
    assert client.get(f"{other}/{assignment_id}/end").status_code == 404
    assert client.post(f"{other}/{assignment_id}/end").status_code == 404
    assert client.get(f"{other}/responses/{response_id}").status_code == 404
    # Clinic A's clinician, another patient of clinic A in the URL.
    act_as(client, world.clinician.id)
    wrong = measures_url(world.other_patient.patient_id)
    assert client.get(f"{wrong}/{assignment_id}/end").status_code == 404
    assert client.post(f"{wrong}/{assignment_id}/end").status_code == 404
    assert client.get(f"{wrong}/responses/{response_id}").status_code == 404
    assert assignments(app, pid)[0].ended_at is None


def test_the_measures_page_sends_the_same_queries_however_much_it_shows(
    app: Flask, client, world: World
) -> None:
    """One assignment with one answer, or four with a dozen answers: the same number of
    queries (no query per row)."""
    pid = world.patient.patient_id
    start = today() - timedelta(days=100)
    start_plan(app, pid, world.clinician.id, started_days_ago=100)
    pain = assign(app, pid, world.clinician.id, assigned_on=start)
    answer(app, pain, "baseline", {"pain": 6}, on=start)
    act_as(client, world.clinician.id)

    def queries() -> int:
        with app.app_context():
            engine = db.engine
        with count_queries(engine) as statements:
            assert client.get(measures_url(pid)).status_code == 200
        return len(statements)

    few = queries()
    for week in (4, 8, 12):
        answer(app, pain, f"week-{week}", {"pain": 6 - week // 4}, on=start + timedelta(weeks=week))
    confidence = assign(app, pid, world.clinician.id, "dilator-confidence", assigned_on=start)
    answers = dict.fromkeys(["insert", "on_own", "discomfort", "keep_going", "next_size"], 2)
    for key, week in (("baseline", 0), ("week-4", 4), ("week-8", 8)):
        answer(app, confidence, key, answers, on=start + timedelta(weeks=week))
    assign(app, pid, world.clinician.id, "pgic", Cadence.ONCE, on=today(), every_weeks=None)
    many = queries()
    assert many == few
    page = client.get(measures_url(pid)).get_data(as_text=True)
    assert page.count("/ 10</td>") == 4 and page.count("/ 20</td>") == 3


def test_the_demo_has_scored_measures_to_show(app: Flask) -> None:
    """`seed-demo` gives Sam Rivera pain and confidence measures answered at the start and
    every 4 weeks (scored on submission), and Avery Quinn a PGIC answer and a pain scale
    waiting to be answered today."""
    with app.app_context():
        seed_demo()
        db.session.commit()
        sam = db.session.scalar(select(Patient).where(Patient.full_name == "Sam Rivera"))
        found = {s.instrument_key: s for s in series_for(sam.clinic_id, [sam.id])[sam.id]}
        pain, confidence = found["pain-nrs"], found["dilator-confidence"]
        assert [a.total for a in pain.answers] == [6, 5, 3]
        assert pain.change == -3 and pain.latest.band_label == "Mild"
        # The last confidence answer left one question blank: pro-rated, 12 + 3 = 15.
        assert [a.total for a in confidence.answers] == [7, 11, 15]
        avery = db.session.scalar(select(Patient).where(Patient.full_name == "Avery Quinn"))
        [pgic] = series_for(avery.clinic_id, [avery.id])[avery.id]
        assert pgic.latest.band_label == "Much improved"
        rows = overview(avery, clinic_today(avery.clinic.timezone))
        waiting = [r for r in rows if r.waiting]
        assert [r.assignment.instrument_key for r in waiting] == ["pain-nrs"]


def test_the_page_warns_when_the_patient_cannot_answer_yet(
    app: Flask, client, world: World, as_clinician
) -> None:
    """A patient without a portal login cannot answer: the assign form says so and points
    to the invitation; a patient with a login sees no such note."""
    offline = client.get(measures_url(world.offline_patient_id)).get_data(as_text=True)
    assert 'id="no-portal-login"' in offline
    assert "cannot answer questionnaires" in offline
    online = client.get(measures_url(world.patient.patient_id)).get_data(as_text=True)
    assert 'id="no-portal-login"' not in online

"""Patients answering outcome measures in the portal: what Today shows and when, saving
and resuming, scoring on submission with the exact instrument version, refusals (values not
offered, a second submission, someone else's or an ended questionnaire), skip logic without
JavaScript, and the trail it leaves."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from clinic.domain.measure_schedule import Cadence
from clinic.extensions import db
from clinic.measures import answers as answers_service
from clinic.measures.answers import (
    AlreadySent,
    SavedElsewhere,
    save_draft,
    start_or_resume,
    submit,
)
from clinic.models import (
    AuditEvent,
    MeasureAssignment,
    MeasureResponse,
    Patient,
    PatientSummary,
)
from clinic.models.types import utcnow
from tests.support.auth import act_as
from tests.support.forms import form_values
from tests.support.measure_scores import answer_measure, assign_measure, weekly_pain_scores
from tests.support.measures import (
    assign,
    end_assignment,
    import_instrument,
    shipped_data,
    today,
)
from tests.support.protocols import start_plan
from tests.support.queries import count_queries
from tests.support.questionnaire_pages import send, url
from tests.support.world import World

READY = "A short questionnaire from your clinic is ready"


def responses(app: Flask) -> list[MeasureResponse]:
    with app.app_context():
        found = list(db.session.scalars(select(MeasureResponse).order_by(MeasureResponse.id)))
        db.session.expunge_all()
        return found


def checked(html: str, item: str) -> str | None:
    """The value of the checked radio button of question `item`, if any."""
    return form_values(html).get(f"q-{item}")


# ---------------------------------------------------------------------------------------
# Today


def test_a_due_questionnaire_shows_on_today(app: Flask, client, world: World) -> None:
    """On its day, Today says calmly that a questionnaire is ready, with its name, how many
    questions it has and a Start link to its page."""
    assignment = assign(app, world.patient.patient_id)
    act_as(client, world.patient.id)
    html = client.get("/diary/").get_data(as_text=True)
    assert READY in html
    assert "Dilator confidence" in html and "5 questions" in html
    assert f'href="{url(assignment)}"' in html
    assert ">Start<" in html and "Continue" not in html


def test_nothing_shows_before_its_day(app: Flask, client, world: World) -> None:
    """A questionnaire for a later day is not on Today, and its page is not open yet."""
    assignment = assign(app, world.patient.patient_id, days_from_today=3)
    act_as(client, world.patient.id)
    assert READY not in client.get("/diary/").get_data(as_text=True)
    page = client.get(url(assignment))
    assert page.status_code == 404
    assert "This questionnaire is not open" in page.get_data(as_text=True)


def test_a_repeating_measure_asks_for_its_baseline(app: Flask, client, world: World) -> None:
    """A repeating measure assigned at the start of the program is on Today for its
    baseline occasion, which the page answers."""
    start_plan(app, world.patient.patient_id, world.clinician.id, started_days_ago=2)
    assignment = assign(
        app, world.patient.patient_id, "pain-nrs", cadence=Cadence.REPEATING, every_weeks=4
    )
    act_as(client, world.patient.id)
    assert f'href="{url(assignment, "baseline")}"' in client.get("/diary/").get_data(as_text=True)
    assert send(client, assignment, "submit", "baseline", pain=3).status_code == 302
    (sent,) = responses(app)
    assert (sent.occasion_key, sent.total, sent.band_label) == ("baseline", 3, "Mild")


def test_an_answered_questionnaire_leaves_today_and_is_listed(
    app: Flask, client, world: World
) -> None:
    """Once sent, the questionnaire is no longer on Today; the list of those sent shows its
    date and name, and no score."""
    assignment = assign(app, world.patient.patient_id, "pain-nrs")
    act_as(client, world.patient.id)
    send(client, assignment, "submit", pain=8)
    html = client.get("/diary/").get_data(as_text=True)
    assert READY not in html
    assert "Questionnaires you have sent" in html
    listed = client.get("/diary/questionnaires").get_data(as_text=True)
    assert "Pain numeric rating scale (0\N{EN DASH}10)" in listed
    assert "Severe" not in listed and ">8<" not in listed


def test_several_waiting_are_counted(app: Flask, client, world: World) -> None:
    """Two questionnaires due: Today says how many, with a link for each."""
    first = assign(app, world.patient.patient_id, "pain-nrs")
    second = assign(app, world.patient.patient_id, "pgic")
    act_as(client, world.patient.id)
    html = client.get("/diary/").get_data(as_text=True)
    assert "2 short questionnaires from your clinic are ready" in html
    assert url(first) in html and url(second) in html


def test_the_lists_cost_the_same_queries_however_many_questionnaires(
    app: Flask, client, world: World
) -> None:
    """Today and the list of questionnaires read the instruments once, not once per
    questionnaire waiting or sent: one waiting and one sent, or fourteen waiting and ten
    sent, cost the same number of queries."""
    pid = world.patient.patient_id
    start_plan(app, pid, world.clinician.id, started_days_ago=70)
    once = assign_measure(app, pid, "pain-nrs", on_days_ago=3)
    answer_measure(app, once, "once", {"pain": 3}, occasion_days_ago=3)
    assign_measure(app, pid, "dilator-confidence")
    act_as(client, world.patient.id)
    with app.app_context():
        engine = db.engine

    def queries() -> tuple[int, int]:
        counts = []
        for page in ("/diary/", "/diary/questionnaires"):
            with count_queries(engine) as statements:
                assert client.get(page).status_code == 200
            counts.append(len(statements))
        return counts[0], counts[1]

    few = queries()
    weekly_pain_scores(app, pid, 8, started_days_ago=70)  # weeks 9 and 10 waiting
    assign_measure(app, pid, "pgic", cadence=Cadence.REPEATING, every_weeks=1, assigned_days_ago=70)
    with app.app_context():
        sent = db.session.scalar(select(func.count(MeasureResponse.id)))
        waiting = answers_service.waiting(db.session.get(Patient, pid), today())
    assert (sent, len(waiting)) == (10, 1 + 2 + 11)
    assert queries() == few


# ---------------------------------------------------------------------------------------
# The page, saving and resuming


def test_the_page_works_without_javascript(app: Flask, client, world: World) -> None:
    """One plain form: a neutral title, the recall period and instructions at the top,
    every question a fieldset with its legend and radio buttons, and two submit buttons;
    no script at all."""
    assignment = assign(app, world.patient.patient_id)
    act_as(client, world.patient.id)
    html = client.get(url(assignment)).get_data(as_text=True)
    assert "<title>Questionnaire · Therapy diary</title>" in html
    assert "<script" not in html
    assert "Time to think about" in html and "Today" in html
    assert "How confident do you feel about each of these today?" in html
    assert html.count("<fieldset") == 5 and html.count("<legend>") == 5
    assert html.count('type="radio"') == 25
    assert '<button type="submit" name="action" value="submit">Submit</button>' in html
    assert 'name="action" value="save"' in html and "Save and finish later" in html


def test_partial_answers_are_saved_and_resumed_later(app: Flask, client, world: World) -> None:
    """ "Save and finish later" keeps the answers given (the draft is created then, on the
    current version); Today offers Continue; in a new session the page shows them checked."""
    assignment = assign(app, world.patient.patient_id)
    act_as(client, world.patient.id)
    assert responses(app) == []  # opening the page saves nothing
    client.get(url(assignment))
    assert responses(app) == []
    saved = send(client, assignment, "save", insert=3, on_own=2)
    assert saved.status_code == 302 and saved.headers["Location"].endswith("/diary/")
    (draft,) = responses(app)
    assert json.loads(draft.answers) == {"insert": 3, "on_own": 2}
    assert draft.submitted_at is None and draft.instrument_version == "1"
    assert draft.total is None

    later = app.test_client()  # another day, another session
    act_as(later, world.patient.id)
    today = later.get("/diary/").get_data(as_text=True)
    assert ">Continue<" in today and "Your saved answers are kept" in today
    html = later.get(url(assignment)).get_data(as_text=True)
    assert "Your saved answers are filled in" in html
    assert (checked(html, "insert"), checked(html, "on_own"), checked(html, "discomfort")) == (
        "3",
        "2",
        None,
    )
    send(later, assignment, "save", discomfort=4)
    (draft,) = responses(app)
    assert json.loads(draft.answers) == {"insert": 3, "on_own": 2, "discomfort": 4}


# Hand-worked scores of the shipped instruments:
# - pain NRS: one item, the total is the answer; 7 is in the 7-10 band "Severe".
# - PGIC: 2 ("Much improved") is in the 1-2 band "Much improved".
# - dilator confidence: 3 + 2 + 2 + 3 with "next size" blank: 4 of 5 answered (enough),
#   the blank takes their mean 10 / 4 = 2.5, total 12.5, rounded half up to 13: "Moderate".
HAND_WORKED = [
    ("pain-nrs", {"pain": 7}, 7, "Severe"),
    ("pgic", {"change": 2}, 2, "Much improved"),
    (
        "dilator-confidence",
        {"insert": 3, "on_own": 2, "discomfort": 2, "keep_going": 3},
        13,
        "Moderate",
    ),
]


@pytest.mark.parametrize(("key", "chosen", "total", "band"), HAND_WORKED)
def test_submitting_scores_and_stores_the_version(
    app: Flask, client, world: World, key: str, chosen: dict[str, int], total: int, band: str
) -> None:
    """Submit scores the answers as worked out by hand and stores the total, band, domain
    scores and version with them; the patient sees thanks, not the score."""
    assignment = assign(app, world.patient.patient_id, key)
    act_as(client, world.patient.id)
    response = send(client, assignment, "submit", **chosen)
    if key == "dilator-confidence":  # one question blank: said once, then sent as it is
        assert response.status_code == 200
        assert "One question is not answered" in response.get_data(as_text=True)
        response = client.post(
            url(assignment),
            data={**form_values(response.get_data(as_text=True)), "action": "submit"},
        )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(url(assignment) + "/sent")
    thanks = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "were sent to your clinic" in thanks
    assert band not in thanks and f">{total}<" not in thanks
    (sent,) = responses(app)
    assert sent.submitted_at is not None
    assert (sent.instrument_key, sent.instrument_version) == (key, "1")
    assert (sent.total, sent.band_label, sent.valid, sent.invalid_reason) == (
        total,
        band,
        True,
        "",
    )
    assert json.loads(sent.domains) == {}
    stored = json.loads(sent.answers)
    assert {k: v for k, v in stored.items() if v is not None} == chosen


def test_blank_questions_are_stored_as_asked_and_unanswered(
    app: Flask, client, world: World
) -> None:
    """A question left blank is stored as blank (null), and the score says why there is
    no total when too few are answered."""
    assignment = assign(app, world.patient.patient_id)
    act_as(client, world.patient.id)
    first = send(client, assignment, "submit", insert=4, on_own=4, discomfort=4)
    assert "2 questions are not answered" in first.get_data(as_text=True)
    values = {**form_values(first.get_data(as_text=True)), "action": "submit"}
    assert client.post(url(assignment), data=values).status_code == 302
    (sent,) = responses(app)
    assert json.loads(sent.answers) == {
        "insert": 4,
        "on_own": 4,
        "discomfort": 4,
        "keep_going": None,
        "next_size": None,
    }
    assert sent.total is None and sent.band_label == "" and sent.valid is True
    assert sent.invalid_reason == "Not scored: 3 of 5 questions answered, at least 4 needed"


def test_nothing_answered_is_refused(app: Flask, client, world: World) -> None:
    """Submit with every question blank sends nothing and says what to do."""
    assignment = assign(app, world.patient.patient_id, "pain-nrs")
    act_as(client, world.patient.id)
    page = send(client, assignment, "submit")
    assert page.status_code == 200
    assert "Answer at least one question before sending" in page.get_data(as_text=True)
    assert all(not r.submitted for r in responses(app))


# ---------------------------------------------------------------------------------------
# Instrument versions


def pain_v2() -> dict[str, Any]:
    """Pain NRS version 2, as a clinic might import it: other wording, other bands (4 is
    "Mild" here, "Moderate" in version 1)."""
    data = shipped_data("pain-nrs.json")
    data["version"] = "2"
    data["items"][0]["text"] = "Version two: how much pain have you had on average?"
    data["total"]["bands"] = [
        {"range": [0, 4], "label": "Mild", "interpretation": "Mild pain"},
        {"range": [5, 7], "label": "Moderate", "interpretation": "Moderate pain"},
        {"range": [8, 10], "label": "Severe", "interpretation": "Severe pain"},
    ]
    return data


def test_a_draft_keeps_its_version_when_the_clinic_imports_a_new_one(
    app: Flask, client, world: World
) -> None:
    """A draft started on version 1 is shown and scored on version 1 after the clinic
    imports version 2; a questionnaire started afterwards is on version 2."""
    assignment = assign(app, world.patient.patient_id, "pain-nrs")
    act_as(client, world.patient.id)
    send(client, assignment, "save", pain=4)
    import_instrument(app, world.clinic_a, pain_v2())

    html = client.get(url(assignment)).get_data(as_text=True)
    assert "Version two" not in html and 'name="version" value="1"' in html
    send(client, assignment, "submit")
    (sent,) = responses(app)
    assert (sent.instrument_version, sent.total, sent.band_label) == ("1", 4, "Moderate")

    later = assign(app, world.patient.patient_id, "pain-nrs")
    assert "Version two" in client.get(url(later)).get_data(as_text=True)
    send(client, later, "submit", pain=4)
    assert [(r.instrument_version, r.band_label) for r in responses(app)] == [
        ("1", "Moderate"),
        ("2", "Mild"),
    ]


def test_the_version_on_the_page_is_the_one_answered(app: Flask, client, world: World) -> None:
    """A page opened on version 1 and first saved after version 2 was imported starts its
    draft on version 1: the answers are scored on the questions the patient read."""
    assignment = assign(app, world.patient.patient_id, "pain-nrs")
    act_as(client, world.patient.id)
    values = form_values(client.get(url(assignment)).get_data(as_text=True))
    import_instrument(app, world.clinic_a, pain_v2())
    client.post(url(assignment), data={**values, "q-pain": "4", "action": "submit"})
    (sent,) = responses(app)
    assert (sent.instrument_version, sent.band_label) == ("1", "Moderate")


# ---------------------------------------------------------------------------------------
# Refusals


@pytest.mark.parametrize("value", ["9", "-1", "abc", "٣", "1e3", "99999999999999999999"])
def test_an_answer_not_offered_is_refused_next_to_its_question(
    app: Flask, client, world: World, value: str
) -> None:
    """A value the question does not offer (only a hand-made request can send one) is
    refused next to that question; nothing is saved and the other answers stay checked."""
    assignment = assign(app, world.patient.patient_id)
    act_as(client, world.patient.id)
    page = send(client, assignment, "save", insert=value, on_own=2)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Error: Choose one of the answers listed for this question." in html
    assert 'id="q-insert-error"' in html and 'href="#q-insert-1"' in html
    assert checked(html, "on_own") == "2"
    assert responses(app) == []


def test_unknown_fields_are_ignored(app: Flask, client, world: World) -> None:
    """A posted field that is no question of this questionnaire changes nothing."""
    assignment = assign(app, world.patient.patient_id, "pain-nrs")
    act_as(client, world.patient.id)
    assert send(client, assignment, "save", pain=2, surprise=5).status_code == 302
    (draft,) = responses(app)
    assert json.loads(draft.answers) == {"pain": 2}


def test_a_second_submission_is_refused(app: Flask, client, world: World) -> None:
    """Two windows open on the same questionnaire: the first to submit is kept; the second
    is told the answers were already sent and changes nothing."""
    assignment = assign(app, world.patient.patient_id, "pain-nrs")
    act_as(client, world.patient.id)
    send(client, assignment, "save", pain=1)
    window_a = form_values(client.get(url(assignment)).get_data(as_text=True))
    window_b = dict(window_a)
    first = client.post(url(assignment), data={**window_a, "q-pain": "2", "action": "submit"})
    second = client.post(url(assignment), data={**window_b, "q-pain": "9", "action": "submit"})
    assert first.headers["Location"] == second.headers["Location"]
    assert "already sent" in client.get(second.headers["Location"]).get_data(as_text=True)
    (sent,) = responses(app)
    assert sent.total == 2
    saving = client.post(url(assignment), data={**window_b, "q-pain": "9", "action": "save"})
    assert saving.status_code == 302
    assert responses(app)[0].answers == sent.answers
    with app.app_context():
        count = select(func.count()).where(AuditEvent.action == "measure.submit")
        assert db.session.scalar(count) == 1


def test_submit_is_atomic_against_a_stale_draft(app: Flask, client, world: World) -> None:
    """The service refuses to submit a draft that another request submitted after it was
    loaded (the conditional update finds no unsent row), instead of scoring it again."""
    assignment = assign(app, world.patient.patient_id, "pain-nrs")
    act_as(client, world.patient.id)
    send(client, assignment, "save", pain=1)
    with app.test_request_context():
        draft = db.session.scalars(select(MeasureResponse)).one()
        db.session.execute(
            update(MeasureResponse)
            .values(submitted_at=utcnow(), total=1)
            .execution_options(synchronize_session=False)
        )
        assert draft.submitted_at is None  # this request still holds it as a draft
        with pytest.raises(AlreadySent):
            submit(draft, {"pain": 9})
        db.session.rollback()


def test_two_first_saves_at_once_keep_one_draft(app: Flask, world: World) -> None:
    """Two windows saving the first answers of the same occasion at the same moment: the
    occasion's unique constraint keeps one draft, and the other is told to check and try
    again rather than failing with an error page."""
    assignment_id = assign(app, world.patient.patient_id, "pain-nrs")
    with app.test_request_context():
        patient = db.session.get(Patient, world.patient.patient_id)
        assignment = db.session.get(MeasureAssignment, assignment_id)
        window_a = start_or_resume(patient, assignment, "once")
        window_b = start_or_resume(patient, assignment, "once")
        save_draft(window_a, {"pain": 1})
        with pytest.raises(SavedElsewhere):
            save_draft(window_b, {"pain": 2})
        db.session.rollback()


@pytest.mark.parametrize("who", ["other_patient", "other_clinic_patient"])
def test_someone_elses_questionnaire_is_not_found(
    app: Flask, client, world: World, who: str
) -> None:
    """Another patient (of the same clinic or another) gets 404 for the page, the answers
    and the thank-you page, and can neither read nor change the draft."""
    assignment = assign(app, world.patient.patient_id)
    act_as(client, world.patient.id)
    send(client, assignment, "save", insert=1)
    act_as(client, getattr(world, who).id)
    assert client.get(url(assignment)).status_code == 404
    posted = client.post(url(assignment), data={"q-insert": "4", "action": "submit"})
    assert posted.status_code == 404
    assert client.get(url(assignment) + "/sent").status_code == 404
    (draft,) = responses(app)
    assert json.loads(draft.answers) == {"insert": 1} and draft.submitted_at is None


def test_an_ended_assignment_cannot_be_answered(app: Flask, client, world: World) -> None:
    """Once the clinician ends the assignment it leaves Today, and its page (even with a
    draft saved) says so calmly and accepts nothing."""
    assignment = assign(app, world.patient.patient_id)
    act_as(client, world.patient.id)
    send(client, assignment, "save", insert=1)
    end_assignment(app, assignment)
    assert READY not in client.get("/diary/").get_data(as_text=True)
    page = client.get(url(assignment))
    assert page.status_code == 404
    assert "Your clinic has stopped this questionnaire" in page.get_data(as_text=True)
    posted = client.post(url(assignment), data={"q-insert": "4", "action": "submit"})
    assert posted.status_code == 404
    (draft,) = responses(app)
    assert draft.submitted_at is None and json.loads(draft.answers) == {"insert": 1}


def test_scoring_only_instruments_are_never_put_to_patients(
    app: Flask, client, world: World
) -> None:
    """An instrument shipped without its wording (FSFI) is not on Today and its page
    cannot be answered, even if it was somehow assigned."""
    assignment = assign(app, world.patient.patient_id, "fsfi")
    act_as(client, world.patient.id)
    assert READY not in client.get("/diary/").get_data(as_text=True)
    page = client.get(url(assignment))
    assert page.status_code == 404
    assert "cannot be answered here" in page.get_data(as_text=True)
    assert client.post(url(assignment), data={"action": "save"}).status_code == 404
    assert responses(app) == []


def test_an_unknown_occasion_is_not_found(app: Flask, client, world: World) -> None:
    """An occasion the assignment never asked for, or junk in its place (a NUL character,
    which PostgreSQL cannot even compare), is not found, and saves nothing."""
    assignment = assign(app, world.patient.patient_id)
    act_as(client, world.patient.id)
    assert client.get(url(assignment, "week-4")).status_code == 404
    assert client.post(url(assignment, "x" * 500), data={"action": "save"}).status_code == 404
    for junk in ("once%00", "ONCE", "once%20"):
        assert client.get(url(assignment, junk)).status_code == 404
        assert client.get(url(assignment, junk) + "/sent").status_code == 404
    assert responses(app) == []


# ---------------------------------------------------------------------------------------
# Skip logic


def used_and_ease() -> dict[str, Any]:
    """A clinic's own questionnaire with skip logic: "How easy was it?" is asked only if
    the patient used their dilator; when not asked it scores 0."""
    options = [{"value": v, "label": str(v)} for v in range(5)]
    return {
        "format": 1,
        "key": "weekly-check",
        "version": "1",
        "title": "Weekly check",
        "citation": "Written by the clinic for tests.",
        "licence": {"status": "clinic-owned, editable", "note": "Our own."},
        "items": [
            {
                "key": "used",
                "text": "Did you use your dilator this week?",
                "options": [{"value": 0, "label": "No"}, {"value": 1, "label": "Yes"}],
            },
            {
                "key": "ease",
                "text": "How easy was it?",
                "options": options,
                "shown_if": {"item": "used", "answered": [1]},
                "when_hidden": 0,
            },
            {"key": "calm", "text": "How calm do you feel?", "options": options},
        ],
        "total": {
            "label": "Total",
            "sum_of": "items",
            "items": ["ease", "calm"],
            "range": [0, 8],
        },
    }


def test_skip_logic_works_without_javascript(app: Flask, client, world: World) -> None:
    """The conditional question is on the page with a note saying when it applies; an
    answer to it when it does not apply is not stored and does not count, and it is not
    pointed out as unanswered."""
    import_instrument(app, world.clinic_a, used_and_ease())
    assignment = assign(app, world.patient.patient_id, "weekly-check")
    act_as(client, world.patient.id)
    html = client.get(url(assignment)).get_data(as_text=True)
    assert "Only if you answered “Yes” to question 1 above." in html
    assert "some only if they apply to you" in html
    assert send(client, assignment, "submit", used=0, ease=3, calm=2).status_code == 302
    (sent,) = responses(app)
    assert json.loads(sent.answers) == {"used": 0, "calm": 2}
    assert sent.total == 2  # "ease" not asked: scores its when-hidden 0


def test_a_skipped_question_is_not_counted_as_blank(app: Flask, client, world: World) -> None:
    """With "No" to the first question, the second is not asked: sending with it blank
    goes straight through, without the "not answered" pause."""
    import_instrument(app, world.clinic_a, used_and_ease())
    assignment = assign(app, world.patient.patient_id, "weekly-check")
    act_as(client, world.patient.id)
    assert send(client, assignment, "submit", used=0, calm=4).status_code == 302
    (sent,) = responses(app)
    assert sent.total == 4


def test_a_conditional_answer_counts_when_asked(app: Flask, client, world: World) -> None:
    """With "Yes" to the first question, the second is asked and counts."""
    import_instrument(app, world.clinic_a, used_and_ease())
    assignment = assign(app, world.patient.patient_id, "weekly-check")
    act_as(client, world.patient.id)
    send(client, assignment, "submit", used=1, ease=3, calm=2)
    (sent,) = responses(app)
    assert json.loads(sent.answers) == {"used": 1, "ease": 3, "calm": 2}
    assert sent.total == 5


# ---------------------------------------------------------------------------------------
# What submission leaves behind


def test_submission_is_audited_without_the_answers(app: Flask, client, world: World) -> None:
    """Submitting leaves a "measure.submit" event naming the response, with no answer or
    score in it; saving a draft leaves "measure.save"."""
    assignment = assign(app, world.patient.patient_id, "pain-nrs")
    act_as(client, world.patient.id)
    send(client, assignment, "save", pain=6)
    send(client, assignment, "submit", pain=7)
    (sent,) = responses(app)
    with app.app_context():
        events = {
            e.action: e
            for e in db.session.scalars(
                select(AuditEvent).where(AuditEvent.action.like("measure.%"))
            )
        }
        assert set(events) == {"measure.save", "measure.submit"}
        event = events["measure.submit"]
        assert (event.patient_id, event.object_type, event.object_id) == (
            world.patient.patient_id,
            "measure_response",
            sent.id,
        )
        detail = json.loads(event.detail)
        assert detail == {
            "instrument": "pain-nrs",
            "version": "1",
            "occasion": "once",
            "status": "scored",
            "answered": 1,
        }


def test_submission_refreshes_the_patients_summary(app: Flask, client, world: World) -> None:
    """Submitting recomputes the patient's dashboard summary in the same request (an
    overdue-questionnaire flag depends on the answers)."""
    pid = world.patient.patient_id

    def version() -> int:
        with app.app_context():
            return db.session.get(PatientSummary, pid).version

    assignment = assign(app, pid, "pain-nrs")
    act_as(client, world.patient.id)
    send(client, assignment, "save", pain=5)  # the draft exists: only the submission is left
    client.get(url(assignment, "once"))
    before = version()
    send(client, assignment, "submit", pain=5)
    assert version() == before + 1


def test_thank_you_page_is_audited_as_a_view(app: Flask, client, world: World) -> None:
    """Opening the thank-you page of a sent questionnaire records who saw it, like every
    page about a patient (the shared route walk cannot: its occasion is still open)."""
    assignment = assign(app, world.patient.patient_id, "pain-nrs")
    act_as(client, world.patient.id)
    send(client, assignment, "submit", pain=3)
    page = client.get(url(assignment) + "/sent")
    assert page.status_code == 200
    with app.app_context():
        event = db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "portal.questionnaire_sent")
        )
        assert event is not None
        assert (event.patient_id, event.actor_id) == (world.patient.patient_id, world.patient.id)

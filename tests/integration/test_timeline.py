"""The patient timeline: what it shows, acknowledging flags, and recording a decision from
the suggestion, scoped to the clinic and the patient, at a fixed number of queries."""

from __future__ import annotations

import re
from html import unescape

from flask import Flask
from sqlalchemy import select

from clinic.domain.flags import FlagKind
from clinic.domain.progression import Suggestion
from clinic.domain.protocols import EventKind
from clinic.extensions import db
from clinic.models import CareFlag, Patient, Protocol, RedFlag
from tests.support.auth import act_as
from tests.support.diaries import add_entries, refresh, report_red_flag
from tests.support.forms import form_values
from tests.support.measure_scores import answer_measure, assign_measure, weekly_pain_scores
from tests.support.protocols import start_plan
from tests.support.queries import count_queries
from tests.support.world import World


def url(patient_id: int) -> str:
    return f"/patients/{patient_id}/timeline"


def timeline(client, person, patient_id: int, query: str = "") -> str:
    act_as(client, person.id)
    response = client.get(url(patient_id) + query)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def ready_patient(app: Flask, world: World) -> int:
    """The world's first patient, 16 days at stage 1 with a comfortable session every
    day and a few skips: the rule suggests advancing. Returns the protocol id."""
    protocol = start_plan(app, world.patient.patient_id, world.clinician.id, started_days_ago=16)
    add_entries(app, protocol, world.patient, range(14), pain=(2, 1))
    add_entries(app, protocol, world.patient, [15], skipped=True)
    refresh(app, world.clinic_a)
    return protocol


def test_timeline_shows_the_evidence_and_the_suggestion(app: Flask, client, world: World) -> None:
    """Header, suggestion with its reasons, both charts with tables, skip reasons, the
    entries and the stage history are on one page."""
    ready_patient(app, world)
    html = timeline(client, world.clinician, world.patient.patient_id)
    text = unescape(re.sub(r"<[^>]+>", " ", html))
    assert "Suggested next step: Advance" in text
    assert "Met: pain during and after ≤ 3 in 6 of the last 6 sessions" in text
    assert "Advance to stage 2" in text
    assert html.count('<figure class="chart-figure">') == 2
    assert "No time: 1" in text
    assert "15 entries" in text
    assert "Stage and plan history" in text and "Started" in text
    assert "Ready to advance" in text  # the flag, with its acknowledgement form
    assert "Clinical notes" in text


def test_accepting_the_suggestion_records_the_decision(app: Flask, client, world: World) -> None:
    """The suggested decision opens with the reasons filled in; saving it moves the stage,
    keeps what was suggested, and answers the "ready" flag."""
    protocol_id = ready_patient(app, world)
    html = timeline(client, world.clinician, world.patient.patient_id)
    link = unescape(re.search(r'href="([^"]*/advance\?from=suggestion)"', html).group(1))
    values = form_values(client.get(link).get_data(as_text=True))
    # Pre-filled from the rules on the server (never from the link), and editable.
    assert values["reason"].startswith(
        "Suggested: pain during and after ≤ 3 in 6 of the last 6 sessions"
    )
    values["reason"] += " Agreed today."
    response = client.post(link.split("?")[0], data=values)
    assert response.status_code == 302
    with app.app_context():
        protocol = db.session.get(Protocol, protocol_id)
        event = protocol.events[-1]
        assert (event.kind, event.stage, event.suggested) == (
            EventKind.ADVANCE,
            2,
            Suggestion.ADVANCE,
        )
        ready = db.session.scalars(select(CareFlag).where(CareFlag.kind == FlagKind.READY)).one()
        assert ready.acknowledged_at is not None
    assert "stage 2 of" in timeline(client, world.clinician, world.patient.patient_id)


def test_overriding_the_suggestion_is_recorded_as_such(app: Flask, client, world: World) -> None:
    """Holding when the system suggested advancing keeps both: the history says so."""
    protocol_id = ready_patient(app, world)
    act_as(client, world.clinician.id)
    path = f"/patients/{world.patient.patient_id}/protocol/{protocol_id}/hold"
    values = form_values(client.get(path).get_data(as_text=True))
    values["reason"] = "Wants two more weeks at this size."
    assert client.post(path, data=values).status_code == 302
    with app.app_context():
        event = db.session.get(Protocol, protocol_id).events[-1]
        assert (event.kind, event.suggested) == (EventKind.HOLD, Suggestion.ADVANCE)
    html = timeline(client, world.clinician, world.patient.patient_id)
    assert "Advance (overridden)" in html


def test_acknowledging_a_red_flag_needs_a_note_and_keeps_it(
    app: Flask, client, world: World
) -> None:
    """A blank note is refused with a message and the flag stays open; with a note the
    flag is closed, signed and shown among the acknowledged ones."""
    protocol = start_plan(app, world.patient.patient_id, world.clinician.id)
    report_red_flag(app, world.patient, protocol)
    with app.app_context():
        flag_id = db.session.scalars(select(RedFlag.id)).one()
    act_as(client, world.clinician.id)
    action = f"{url(world.patient.patient_id)}/flags/red/{flag_id}/acknowledge"
    prefix = f"ack-red-{flag_id}-"

    refused = client.post(action, data={prefix + "note": "   "})
    assert refused.status_code == 400
    assert "Write a short note" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(RedFlag, flag_id).acknowledged_at is None

    done = client.post(action, data={prefix + "note": "Phoned; settled with rest."})
    assert done.status_code == 302
    with app.app_context():
        flag = db.session.get(RedFlag, flag_id)
        assert flag.acknowledged_by_id == world.clinician.id
        assert flag.acknowledgement == "Phoned; settled with rest."
        assert db.session.get(Patient, world.patient.patient_id).open_red_flags == 0
    html = timeline(client, world.clinician, world.patient.patient_id)
    assert "Phoned; settled with rest." in html and "Acknowledged flags" in html

    again = client.post(action, data={prefix + "note": "Second try."}, follow_redirects=True)
    assert "already been acknowledged" in again.get_data(as_text=True)
    # Even with a blank note (its form is gone from the page, so a note error would show
    # nowhere): the page says the flag is done.
    blank = client.post(action, data={prefix + "note": ""}, follow_redirects=True)
    assert "already been acknowledged" in blank.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(RedFlag, flag_id).acknowledgement == "Phoned; settled with rest."


def test_flags_of_another_patient_or_clinic_are_not_found(app: Flask, client, world: World) -> None:
    """A flag id is only found under its own patient, in its own clinic."""
    protocol = start_plan(app, world.other_patient.patient_id, world.clinician.id)
    report_red_flag(app, world.other_patient, protocol)
    with app.app_context():
        flag_id = db.session.scalars(select(RedFlag.id)).one()
    act_as(client, world.clinician.id)
    wrong_patient = f"{url(world.patient.patient_id)}/flags/red/{flag_id}/acknowledge"
    assert client.post(wrong_patient, data={f"ack-red-{flag_id}-note": "x"}).status_code == 404
    act_as(client, world.other_clinician.id)
    right_patient = f"{url(world.other_patient.patient_id)}/flags/red/{flag_id}/acknowledge"
    assert client.post(right_patient, data={f"ack-red-{flag_id}-note": "x"}).status_code == 404
    assert client.get(url(world.other_patient.patient_id)).status_code == 404
    # Under their own patient, the other clinic's clinician still cannot reach this flag.
    own_patient = f"{url(world.other_clinic_patient.patient_id)}/flags/red/{flag_id}/acknowledge"
    assert client.post(own_patient, data={f"ack-red-{flag_id}-note": "x"}).status_code == 404
    with app.app_context():
        assert db.session.get(RedFlag, flag_id).acknowledged_at is None


def test_typed_text_is_escaped(app: Flask, client, world: World) -> None:
    """An acknowledgement note with markup is shown as text, never run."""
    protocol = start_plan(app, world.patient.patient_id, world.clinician.id)
    report_red_flag(app, world.patient, protocol)
    with app.app_context():
        flag_id = db.session.scalars(select(RedFlag.id)).one()
    act_as(client, world.clinician.id)
    response = client.post(
        f"{url(world.patient.patient_id)}/flags/red/{flag_id}/acknowledge",
        data={f"ack-red-{flag_id}-note": "<script>alert(1)</script>"},
    )
    assert response.status_code == 302
    html = timeline(client, world.clinician, world.patient.patient_id)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_period_choice_and_query_count(app: Flask, client, world: World) -> None:
    """The period can be 4 to 52 weeks (anything else: 12); the page costs the same
    queries with 10 entries or 100, and with one outcome measure answered twice or three
    measures answered 20 times in all (a chart each)."""
    protocol = start_plan(app, world.patient.patient_id, world.clinician.id, started_days_ago=120)
    add_entries(app, protocol, world.patient, range(0, 20, 2))
    weekly_pain_scores(app, world.patient.patient_id, weeks=1, started_days_ago=120)
    refresh(app, world.clinic_a)

    def queries(query: str) -> int:
        act_as(client, world.clinician.id)
        with app.app_context():
            engine = db.engine
        with count_queries(engine) as statements:
            assert client.get(url(world.patient.patient_id) + query).status_code == 200
        return len(statements)

    few = queries("?weeks=52")
    add_entries(app, protocol, world.patient, range(20, 110))
    weekly_pain_scores(app, world.patient.patient_id, weeks=14, started_days_ago=119)
    confidence = assign_measure(app, world.patient.patient_id, "dilator-confidence", on_days_ago=3)
    answer_measure(app, confidence, "once", {"insert": 2, "on_own": 3}, occasion_days_ago=3)
    change = assign_measure(app, world.patient.patient_id, "pgic", on_days_ago=2)
    answer_measure(app, change, "once", {"change": 2}, occasion_days_ago=2)
    refresh(app, world.clinic_a)
    assert queries("?weeks=52") == few
    # Pain and adherence, then the pain scale and PGIC (two confidence answers: no score).
    charts = timeline(client, world.clinician, world.patient.patient_id)
    assert charts.count('<figure class="chart-figure">') == 2 + 2
    assert "100 entries" in timeline(client, world.clinician, world.patient.patient_id, "?weeks=52")
    four_weeks = timeline(client, world.clinician, world.patient.patient_id, "?weeks=4")
    assert "100 entries" not in four_weeks and '<option value="4" selected>' in four_weeks
    assert '<option value="12" selected>' in timeline(
        client, world.clinician, world.patient.patient_id, "?weeks=7"
    )


def test_the_decision_page_shows_the_suggestion_and_open_red_flags(
    app: Flask, client, world: World
) -> None:
    """Deciding a stage shows what the rules say now and any open red flag; the reasons
    are pre-filled only when the decision is the suggested one."""
    protocol_id = ready_patient(app, world)
    act_as(client, world.clinician.id)
    base = f"/patients/{world.patient.patient_id}/protocol/{protocol_id}"
    hold = client.get(base + "/hold?from=suggestion").get_data(as_text=True)
    assert "The system suggests: Advance" in hold and "overriding it" in hold
    assert form_values(hold)["reason"] == ""

    report_red_flag(app, world.patient, protocol_id)
    advance = client.get(base + "/advance?from=suggestion").get_data(as_text=True)
    assert "1 open red flag" in advance and "The system suggests: Review" in advance
    assert form_values(advance)["reason"] == ""


def test_every_page_that_acts_on_a_patient_names_that_patient(
    app: Flask, client, world: World
) -> None:
    """Against acting on the wrong patient (hazard log HAZ-03): the timeline heads with the
    name, clinic identifier and date of birth; the pages where a clinician decides a stage,
    changes the plan, writes a note or a report name the patient in the page title and the
    body, and never the clinic's other patient."""
    protocol_id = ready_patient(app, world)
    start_plan(app, world.other_patient.patient_id, world.clinician.id)
    with app.app_context():
        patient = db.session.get(Patient, world.patient.patient_id)
        name, identifier = patient.full_name, patient.clinic_identifier
        born = patient.date_of_birth
        other = db.session.get(Patient, world.other_patient.patient_id).full_name
    text = unescape(re.sub(r"<[^>]+>", " ", timeline(client, world.clinician, patient.id)))
    assert name in text and identifier in text and str(born.year) in text
    base = f"/patients/{patient.id}"
    for page in (
        f"{base}/protocol/{protocol_id}/advance",
        f"{base}/protocol/{protocol_id}/revise",
        f"{base}/notes",
        f"{base}/reports/new",
    ):
        response = client.get(page)
        assert response.status_code == 200, page
        html = unescape(response.get_data(as_text=True))
        title = html.split("<title>")[1].split("</title>")[0]
        assert name in title and name in html.split("<main")[1], page
        assert other not in html, page

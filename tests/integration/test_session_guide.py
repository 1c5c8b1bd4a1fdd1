"""The guided session page (/diary/session) and the log form's prefills from it: the steps
for the stage the plan prescribes, only for the signed-in patient's own plan, only while
it runs; the log form takes the minutes timed and the sharp-pain stop, and ignores (never
fails on) anything else; without JavaScript the page's links log a session as before."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from clinic.core.clock import clinic_today
from clinic.domain.diary import FlagReason
from clinic.domain.indications import Indication
from clinic.domain.protocols import EventKind
from clinic.extensions import db
from clinic.models import DiaryEntry, DilatorSet, Patient, Protocol, RedFlag, User
from tests.support.auth import act_as
from tests.support.forms import form_values
from tests.support.protocols import ZONE, clinic_template, make_protocol, pause_today, start_plan
from tests.support.world import World

SCRIPT = re.compile(r"<script\b[^>]*>", re.S)


def words(html: str) -> str:
    """The page's text with its whitespace collapsed (templates wrap their lines)."""
    return " ".join(html.split())


def on_template(
    app: Flask,
    world: World,
    indication: Indication,
    *,
    started_days_ago: int = 20,
    start_stage: int = 1,
    **details,
) -> int:
    """The world's patient (with `indication`) on the clinic's template for it; the id."""
    with app.app_context():
        today = clinic_today(ZONE)
        patient = db.session.get(Patient, world.patient.patient_id)
        patient.indication = indication
        if indication is Indication.PELVIC_RADIOTHERAPY:
            patient.radiotherapy_ended_on = today - timedelta(weeks=10)
        protocol = make_protocol(
            patient,
            db.session.get(User, world.clinician.id),
            template=clinic_template(world.clinic_a, indication),
            started_on=today - timedelta(days=started_days_ago),
            start_stage=start_stage,
            **details,
        )
        db.session.commit()
        return protocol.id


def test_the_guide_shows_the_prescribed_stage_step_by_step(
    client, world: World, on_protocol, as_patient
) -> None:
    """Stage 2 of the vaginismus plan, begun five days ago: the prescribed size with its
    set's name and the minutes, the steps in order (comfortable, lubricant suited to the
    silicone set, insert on the out-breath, hold for the minutes), a warm-up on the previous
    size (the size is new), the clinician's technique notes, the stop rule; a timer for the
    prescribed minutes from an external script (none inline); a neutral title."""
    response = client.get("/diary/session")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    text = words(html)
    assert re.search(r"<title>Session · ", html)
    assert "<strong>Size 2 (17 mm)</strong> from your Graduated vaginal set" in text
    assert "<strong>10 minutes</strong>" in text
    order = [
        "Get ready",
        "Get comfortable",
        "Warm up on your previous size",
        "Use plenty of lubricant",
        "Insert slowly as you breathe out",
        "Hold for 10 minutes",
        "Finish and log",
    ]
    positions = [text.index(f"<h3>{heading}</h3>") for heading in order]
    assert positions == sorted(positions)
    assert "a few minutes on your previous size, Size 1 (13 mm)" in text
    assert "never use a silicone-based lubricant" in text
    assert "low-irritant" not in text
    assert "Your clinician's notes" in text and "Once insertion is easy" in text
    assert "Stop if you feel sharp or sudden pain." in text
    assert 'data-minutes="10"' in html and 'data-max-minutes="240"' in html
    scripts = SCRIPT.findall(html)
    assert scripts == ['<script src="/static/session.js" defer>']
    assert 'href="/diary/log?stopped=1"' in html  # the stop, without JavaScript too
    assert 'href="/diary/log"' in html  # log this session


def test_after_radiotherapy_the_lubricant_is_low_irritant_and_spotting_expected(
    app: Flask, client, world: World
) -> None:
    """After pelvic radiotherapy the guide asks for a low-irritant lubricant and says a
    little spotting is common; the first stage (smallest size) has no warm-up."""
    on_template(app, world, Indication.PELVIC_RADIOTHERAPY)
    act_as(client, world.patient.id)
    text = words(client.get("/diary/session").get_data(as_text=True))
    assert "low-irritant, water-based lubricant" in text
    assert "A little spotting afterwards is common." in text
    assert "Warm up on your previous size" not in text


def test_after_a_step_back_the_size_is_not_new(app: Flask, client, world: World) -> None:
    """Moved up to Size 2 (17 mm) twelve days ago, then on to Size 3 and back to Size 2
    three days ago: Size 2 is one the patient knows, so no "new to you" warm-up; a move up
    to a size never used before still offers it (the first test)."""
    start_plan(
        app,
        world.patient.patient_id,
        world.clinician.id,
        [(EventKind.ADVANCE, 12), (EventKind.ADVANCE, 6), (EventKind.STEP_BACK, 3)],
        started_days_ago=20,
    )
    act_as(client, world.patient.id)
    text = words(client.get("/diary/session").get_data(as_text=True))
    assert "<strong>Size 2 (17 mm)</strong>" in text
    assert "Warm up on your previous size" not in text
    assert "new to you" not in text


def test_after_vaginoplasty_the_target_depth_is_given(app: Flask, client, world: World) -> None:
    """After vaginoplasty each stage has a target depth: the guide shows it beside the
    size and in the insert step."""
    on_template(
        app,
        world,
        Indication.VAGINOPLASTY,
        surgeon_direction="Ms R. Adeyemi",
        procedure_on=clinic_today(ZONE) - timedelta(days=30),
    )
    act_as(client, world.patient.id)
    text = words(client.get("/diary/session").get_data(as_text=True))
    assert "<dt>Depth</dt> <dd><strong>12 cm</strong></dd>" in text
    assert "Go to a depth of 12 cm" in text


def test_a_set_not_made_of_silicone_gets_no_silicone_warning(
    app: Flask, client, world: World, on_protocol, as_patient
) -> None:
    """The lubricant step follows the material of the prescribed size's set, as the
    clinic's catalogue records it."""
    with app.app_context():
        for dilator_set in db.session.scalars(
            select(DilatorSet).where(DilatorSet.clinic_id == world.clinic_a)
        ):
            dilator_set.material = "Rigid medical plastic"
        db.session.commit()
    text = words(client.get("/diary/session").get_data(as_text=True))
    assert "Use plenty of water-based lubricant" in text
    assert "never use a silicone-based lubricant" not in text


def test_a_paused_plan_offers_no_session(
    app: Flask, client, world: World, on_protocol, as_patient
) -> None:
    """While the plan is paused, Today offers no "Start a session" and the session page
    says calmly that there is no session for now: no timer, no script, no stop button."""
    pause_today(app, on_protocol, world.clinician.id)
    assert "Start a session" not in client.get("/diary/").get_data(as_text=True)
    response = client.get("/diary/session")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Your plan is paused" in html and "no session to do for now" in html
    assert "session-timer" not in html and "<script" not in html
    assert "I felt sharp pain" not in html


def test_a_plan_not_started_yet_offers_no_session(
    app: Flask, client, world: World, as_patient
) -> None:
    """Before the plan's start date: no "Start a session", and the page gives the date."""
    on_template(app, world, Indication.VAGINISMUS, started_days_ago=-3)
    assert "Start a session" not in client.get("/diary/").get_data(as_text=True)
    html = client.get("/diary/session").get_data(as_text=True)
    assert "Your plan starts on" in html and "session-timer" not in html


def test_today_starts_a_session_when_the_plan_runs(
    client, world: World, on_protocol, as_patient
) -> None:
    """With a plan running, Today links to the guided session."""
    html = client.get("/diary/").get_data(as_text=True)
    assert '<a class="button-link" href="/diary/session">Start a session</a>' in html


def test_each_patient_gets_their_own_plan_only(client, world: World, on_protocol) -> None:
    """The page reads the signed-in patient's own plan: another patient of the clinic,
    with no plan, is told there is none (404), never shown the first patient's."""
    act_as(client, world.other_patient.id)
    response = client.get("/diary/session")
    assert response.status_code == 404
    assert "Size 2 (17 mm)" not in response.get_data(as_text=True)


def test_staff_cannot_open_the_session_page(client, world: World, on_protocol) -> None:
    """It is a patient's page: a clinician is refused, a visitor sent to sign in."""
    assert client.get("/diary/session").status_code == 302
    act_as(client, world.clinician.id)
    assert client.get("/diary/session").status_code == 403


def minutes_prefilled(html: str) -> str:
    return form_values(html)["minutes"]


@pytest.mark.parametrize(
    ("query", "minutes"),
    [
        ("minutes=7", "7"),
        ("minutes=1", "1"),
        ("minutes=240", "240"),
        ("minutes=241", "240"),
        ("minutes=100000", "10"),  # too long to be minutes: ignored
        ("minutes=0", "10"),
        ("minutes=-5", "10"),
        ("minutes=7.5", "10"),
        ("minutes=seven", "10"),
        ("minutes=", "10"),
        ("minutes=%D9%A3", "10"),
        ("minutes=" + "9" * 5000, "10"),
        ("minutes=3&minutes=8", "3"),
        ("stopped=1", "10"),
        ("", "10"),
    ],
)
def test_the_log_form_takes_the_minutes_timed(
    client, world: World, on_protocol, as_patient, query: str, minutes: str
) -> None:
    """The minutes a guided session timed are prefilled, held to what the form accepts
    (1 to 240); anything else leaves the plan's 10 minutes, and no value ever fails."""
    response = client.get(f"/diary/log?{query}")
    assert response.status_code == 200
    assert minutes_prefilled(response.get_data(as_text=True)) == minutes


@pytest.mark.parametrize(
    ("query", "ticked"),
    [("stopped=1", True), ("stopped=yes", False), ("stopped=", False), ("stopped=2", False)],
)
def test_the_sharp_pain_stop_ticks_sharp_pain_and_shows_the_guidance(
    client, world: World, on_protocol, as_patient, query: str, ticked: bool
) -> None:
    """`stopped=1` prefills "Any sharp or sudden pain?" with Yes and shows the same stop
    guidance as the safety page; other values change nothing."""
    response = client.get(f"/diary/log?minutes=4&{query}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    values = form_values(html)
    assert values.get("sharp_pain") == ("yes" if ticked else None)
    assert ("You stopped because of sharp pain" in html) is ticked
    assert ("Sharp or sudden pain is a signal to stop." in words(html)) is ticked


@pytest.mark.parametrize("query", ["minutes=%00", "stopped=1%00", "minutes=7%00"])
def test_a_null_character_is_refused_plainly(
    client, world: World, on_protocol, as_patient, query: str
) -> None:
    """A NUL character in the address is refused by the app's own guard (400), as on
    every page: never a server error."""
    assert client.get(f"/diary/log?{query}").status_code == 400


def test_the_prescribed_size_stays_chosen(
    app: Flask, client, world: World, on_protocol, as_patient
) -> None:
    """A prefilled link keeps the prescribed size chosen (stage 2's size)."""
    with app.app_context():
        prescribed = db.session.get(Protocol, on_protocol).versions[0].stages[1].dilator_size_id
    values = form_values(client.get("/diary/log?minutes=6&stopped=1").get_data(as_text=True))
    assert values["dilator_size_id"] == str(prescribed)


def test_without_javascript_the_guides_links_log_a_session(
    app: Flask, client, world: World, on_protocol, as_patient
) -> None:
    """Without JavaScript: the guide's "Log this session" opens the log form as today and
    its submit saves the session; the sharp-pain stop opens it with sharp pain ticked,
    and that submit saves a session with sharp pain. Opening the forms saved nothing."""
    html = client.get("/diary/session").get_data(as_text=True)
    assert re.search(r'href="/diary/log"[^>]*>Log this session</a>', html)
    links = (("/diary/log", "no"), ("/diary/log?minutes=6&stopped=1", None))
    for saved, (link, sharp) in enumerate(links):
        values = form_values(client.get(link).get_data(as_text=True))
        with app.app_context():  # opening the form saved nothing
            assert db.session.scalar(select(func.count(DiaryEntry.id))) == saved
        values.pop("concerns", None)
        values |= {"pain_during": "2", "pain_after": "1", "bleeding": "none"}
        if sharp:
            values["sharp_pain"] = sharp
        response = client.post(link, data=values)
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
        assert "/diary/entries/" in response.headers["Location"]
    with app.app_context():
        entries = db.session.scalars(select(DiaryEntry).order_by(DiaryEntry.id)).all()
        assert [(e.minutes, e.report.sharp_pain) for e in entries] == [(10, False), (6, True)]


def test_after_a_stop_the_form_says_what_saving_will_do(
    app: Flask, client, world: World, on_protocol, as_patient
) -> None:
    """Opened from the sharp-pain stop, then sent back with an error after the patient
    changed sharp pain to No: the page no longer claims sharp pain is ticked and the
    clinic will be told (it would not be). Sent with Yes, saving raises the sharp-pain
    red flag, as a session logged with sharp pain always has."""
    link = "/diary/log?minutes=6&stopped=1"
    values = form_values(client.get(link).get_data(as_text=True))
    values.pop("concerns", None)
    values |= {"pain_during": "2", "pain_after": "1", "bleeding": "none", "minutes": ""}
    changed = client.post(link, data=values | {"sharp_pain": "no"})
    assert changed.status_code == 200
    html = words(changed.get_data(as_text=True))
    assert "Enter how many minutes." in html
    assert "Sharp pain is ticked below" not in html and "your clinic is told" not in html
    kept = client.post(link, data=values | {"sharp_pain": "yes"})
    assert "Sharp pain is ticked below. When you save this entry, your clinic is told." in words(
        kept.get_data(as_text=True)
    )
    saved = client.post(link, data=values | {"sharp_pain": "yes", "minutes": "6"})
    assert saved.status_code == 302
    with app.app_context():
        reasons = db.session.scalars(select(RedFlag.reason)).all()
    assert FlagReason.SHARP_PAIN in reasons

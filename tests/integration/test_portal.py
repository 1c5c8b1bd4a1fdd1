"""The patient portal shows a patient their own record and nothing else."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy import select

from clinic.core.clock import clinic_today
from clinic.domain.indications import Indication
from clinic.domain.protocols import IntendedUse
from clinic.extensions import db
from clinic.models import Clinic, DilatorSet, DilatorSize, Patient, Role, User
from tests.support.auth import act_as
from tests.support.diaries import add_entries, stage_size_id
from tests.support.factories import make_user
from tests.support.protocols import (
    PAUSE_REASON,
    ZONE,
    clinic_template,
    make_protocol,
    pause_today,
    start_plan,
)
from tests.support.world import World


def test_patient_sees_their_own_care_team(app: Flask, client, world: World, as_patient) -> None:
    """The portal greets the patient by the name to use on their record and shows their
    clinician and clinic contact; the legal name shows nowhere on the page, not even in
    "Signed in as". (Was: greeted by the first word of the legal name.)"""
    with app.app_context():
        db.session.get(Patient, world.patient.patient_id).name_to_use = "Robin"
        db.session.commit()
    html = client.get("/diary/").get_data(as_text=True)
    assert "<h1>Hello, Robin</h1>" in html
    assert world.patient.name not in html
    assert f"Signed in as {world.patient.email}" in html
    assert world.clinician.name in html
    assert "0100 000 000" in html  # the clinic's phone from its settings
    # ... as a link that dials it and is never broken over two lines ("0100 000" / "000")
    assert '<a class="nowrap" href="tel:0100000000">0100 000 000</a>' in html


def test_no_name_to_use_means_a_neutral_greeting(client, world: World) -> None:
    """Without a name to use, the portal says a plain "Hello": it never guesses a name
    from the legal one. Each patient's portal shows nobody else's name."""
    act_as(client, world.other_patient.id)
    html = client.get("/diary/").get_data(as_text=True)
    assert "<h1>Hello</h1>" in html
    assert world.other_patient.name.split()[0] not in html
    assert world.patient.name not in html


def test_portal_titles_are_discreet(client, world: World, as_patient) -> None:
    """Nothing in the portal's title or headings names the therapy."""
    html = client.get("/diary/").get_data(as_text=True).lower()
    title = html.split("<title>")[1].split("</title>")[0]
    assert "therapy diary" in title
    for word in ("dilator", "vagin", "pelvic", "anal", "sexual"):
        assert word not in title


def test_login_without_a_record_gets_not_found(app: Flask, client, world: World) -> None:
    """A patient login not linked to any record sees a 404, not someone else's record."""
    with app.app_context():
        clinic = db.session.get(Clinic, world.clinic_a)
        orphan = make_user(clinic, Role.PATIENT)
        db.session.commit()
        orphan_id = orphan.id
        assert db.session.scalar(select(Patient).where(Patient.user_id == orphan_id)) is None
    act_as(client, orphan_id)
    assert client.get("/diary/").status_code == 404


def test_today_shows_the_current_stage_in_plain_words(
    client, world: World, on_protocol, as_patient
) -> None:
    """The patient sees what to do now: stage, dilator, minutes, how often, technique."""
    html = client.get("/diary/").get_data(as_text=True)
    assert "Stage 2 of 7" in html
    assert "Size 2 (17 mm)" in html and "10 minutes" in html and "once a day" in html
    assert "lubricant" in html
    assert 'href="/diary/safety"' in html and 'href="/diary/plan"' in html


def test_paused_plan_says_so_and_why(app: Flask, client, world: World, on_protocol) -> None:
    """A paused plan is shown as paused, with the clinician's reason and resume date."""
    resume = pause_today(app, on_protocol, world.clinician.id).strftime("%A %d %B")
    act_as(client, world.patient.id)
    html = client.get("/diary/").get_data(as_text=True)
    assert "Your plan is paused" in html and resume in html
    assert PAUSE_REASON in html


def test_whole_plan_and_safety_pages(client, world: World, on_protocol, as_patient) -> None:
    """The plan page lists every stage with the current one marked; the safety page gives
    the stop signal, bleeding advice, the stuck-device steps, the stage's red-flag pain
    level and the clinic's phone."""
    plan = client.get("/diary/plan").get_data(as_text=True)
    assert plan.count("<h2>Stage ") == 7 and "Stage 2 — you are here" in plan
    safety = " ".join(client.get("/diary/safety").get_data(as_text=True).split())
    for text in (
        "sudden pain is a signal to stop",
        "bleeding lasts more than a few minutes",
        "bear down gently",
        "go to emergency care",
        "0100 000 000",
        "if pain reaches 7 out of 10",
    ):
        assert text in safety


def test_patient_without_a_plan_gets_no_plan_page(client, world: World) -> None:
    """Without a protocol the Today page says so calmly and the plan page is not found."""
    act_as(client, world.other_patient.id)
    assert "has not set up your session plan" in client.get("/diary/").get_data(as_text=True)
    assert client.get("/diary/plan").status_code == 404


def test_another_patients_plan_never_shows(client, world: World, on_protocol) -> None:
    """The second patient of the clinic sees none of the first patient's plan."""
    act_as(client, world.other_patient.id)
    html = client.get("/diary/").get_data(as_text=True)
    assert "Stage 2 of 7" not in html


def test_portal_pages_have_discreet_titles(client, world: World, on_protocol, as_patient) -> None:
    """No portal page title names the therapy or the body."""
    for url in ("/diary/", "/diary/plan", "/diary/safety"):
        title = client.get(url).get_data(as_text=True).split("<title>")[1].split("</title>")[0]
        for word in ("dilat", "vagin", "pelvic", "anal", "sexual"):
            assert word not in title.lower(), (url, title)


def test_after_radiotherapy_portal_and_template_agree_on_how_long(
    app: Flask, client, world: World
) -> None:
    """In the maintenance phase after radiotherapy, the Today page and the whole plan say
    "about 1 to 2 years", the very words of the template's description (was: "no end
    date" in the portal while the template said 1-2 years)."""
    with app.app_context():
        patient = db.session.get(Patient, world.patient.patient_id)
        patient.indication = Indication.PELVIC_RADIOTHERAPY
        patient.radiotherapy_ended_on = clinic_today("Europe/London") - timedelta(weeks=10)
        template = clinic_template(patient.clinic_id, Indication.PELVIC_RADIOTHERAPY)
        clinician = db.session.get(User, world.clinician.id)
        make_protocol(patient, clinician, template=template, start_stage=len(template.stages))
        description = template.description
        db.session.commit()
    words = Indication.PELVIC_RADIOTHERAPY.maintenance_duration
    assert words in description and "about 1 to 2 years" in words
    act_as(client, world.patient.id)
    assert words in client.get("/diary/").get_data(as_text=True)
    assert words in client.get("/diary/plan").get_data(as_text=True)


def test_the_portal_home_never_reads_more_done_than_prescribed(
    app: Flask, client, world: World, as_patient
) -> None:
    """Issue 16, whole sessions, "no figure ever reads 2 of 1": the vaginismus plan asks
    once a day; a patient who logged twice today (once with a larger size, which does not
    count) must not read "Done today: 2 of 1" on their home page. The figures come from
    the adherence rules: today reads 1 of 1; the week counts only the days since the start
    (started 3 days ago), and the session with another size is said apart, calmly."""
    protocol_id = start_plan(app, world.patient.patient_id, world.clinician.id, started_days_ago=3)
    add_entries(app, protocol_id, world.patient, [0], pain=(1, 1))
    larger = stage_size_id(app, protocol_id, 2)
    add_entries(app, protocol_id, world.patient, [0], pain=(1, 1), size_id=larger)
    page = " ".join(client.get("/diary/").get_data(as_text=True).split())
    assert "Done today: <strong>2</strong> of 1" not in page, page[page.find("Done today") :][:120]
    assert "Done today: <strong>1</strong> of 1." in page
    with app.app_context():
        today = clinic_today(ZONE)
    # The week prescribes its days from Monday, or from the start if later, to Sunday.
    week_days = 7 if today.weekday() < 3 else 10 - today.weekday()
    assert f"This week: <strong>1</strong> of {week_days}." in page
    assert "or shorter than 80% of the planned time, are not counted here (1 this week)" in page


def test_sessions_done_beyond_the_plan_are_said_apart(
    app: Flask, client, world: World, as_patient
) -> None:
    """Two sessions today with the prescribed size on a once-a-day plan read "1 of 1,
    plus 1 extra": the extra is acknowledged, the figure never reads more than asked."""
    protocol_id = start_plan(app, world.patient.patient_id, world.clinician.id, started_days_ago=3)
    add_entries(app, protocol_id, world.patient, [0, 0], pain=(1, 1))
    page = " ".join(client.get("/diary/").get_data(as_text=True).split())
    assert "Done today: <strong>1</strong> of 1, plus 1 extra." in page
    assert "not counted here" not in page


def test_an_anal_plan_offers_no_other_size_without_a_flared_base(
    app: Flask, client, world: World, as_patient
) -> None:
    """Issue 16: on an anal plan the log form's other sizes never include a dilator from a
    set not recorded as having a flared base (it could slip inside), while the clinic's
    sets with one stay choosable."""
    with app.app_context():
        unchecked = DilatorSet(
            clinic_id=world.clinic_a,
            name="Unchecked anal set",
            material="Silicone",
            intended_use=IntendedUse.ANAL,
            flared_base=False,
        )
        db.session.add(DilatorSize(dilator_set=unchecked, label="Unchecked 1", diameter_mm=12))
        make_protocol(
            db.session.get(Patient, world.patient.patient_id),
            db.session.get(User, world.clinician.id),
            template=clinic_template(world.clinic_a, Indication.LEVATOR_ANI),
        )
        db.session.commit()
    page = client.get("/diary/log").get_data(as_text=True)
    assert "your prescribed size" in page
    assert '<optgroup label="Anal dilator set">' in page  # the flared set's other sizes
    assert "Unchecked" not in page

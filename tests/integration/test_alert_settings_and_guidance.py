"""What a clinic sets for alerts (opening hours, response and escalation times, duty
address, sender name, out-of-hours text) and what a patient is then told: after a report
that needs review, the guidance says the clinic has been sent a message, when it answers,
what to do outside opening hours and when to get emergency care; Today keeps a calm
reminder for the rest of the day, and after that until the clinic has read the report.
The dashboard link in alerts narrows the caseload."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import select

from clinic.domain.diary import Bleeding
from clinic.extensions import db
from clinic.models import Clinic, Patient, RedFlag
from tests.support.alerts import log_session
from tests.support.auth import act_as
from tests.support.diaries import saved_entry_id
from tests.support.forms import form_values
from tests.support.protocols import start_plan
from tests.support.world import World

LONDON = ZoneInfo("Europe/London")

SETTINGS = {
    "name": "Clinic A",
    "address": "",
    "phone": "0300 000 000",
    "email": "",
    "timezone": "Europe/London",
    "invitation_valid_days": "7",
    "max_step_mm": "5",
    "radiotherapy_weeks": "4",
    "depth_drop_cm": "1.0",
    "completion_pct": "80",
    "not_logging_days": "5",
    "reminder_nudge_days": "4",
    "paper_size": "a4",
    "staff_idle_minutes": "15",
    "patient_idle_minutes": "30",
    "working_days": ["1", "2", "3", "4", "6"],
    "opens_at": "07:30",
    "closes_at": "16:00",
    "response_hours": "2",
    "escalate_after_working_hours": "3",
    "escalate_again_after_hours": "12",
    "duty_email": "Duty@A.example",
    "sender_name": "",
    "out_of_hours_text": "Ring the ward on 0300 111 222 at night.",
}


def test_alert_settings_are_saved(app: Flask, client, world: World, as_admin) -> None:
    """Days, hours, times, the duty address (lower-cased) and an empty sender name (no
    clinic name on emails) are kept as typed."""
    response = client.post("/admin/clinic", data=SETTINGS)
    assert response.status_code == 302
    with app.app_context():
        clinic = db.session.get_one(Clinic, world.clinic_a)
        assert clinic.working_days == "12346"
        assert (clinic.opens_at_minute, clinic.closes_at_minute) == (450, 960)
        assert (clinic.response_hours, clinic.escalate_after_working_hours) == (2, 3)
        assert clinic.escalate_again_after_hours == 12
        assert clinic.duty_email == "duty@a.example"
        assert (clinic.mail_sender_name, clinic.sender_name) == ("", "")
        assert clinic.out_of_hours_text == "Ring the ward on 0300 111 222 at night."


def test_the_sender_name_follows_the_clinic_name_until_changed(
    app: Flask, client, world: World, as_admin
) -> None:
    """The form offers the clinic's name; saved unchanged, it follows a later rename."""
    html = client.get("/admin/clinic").get_data(as_text=True)
    assert 'name="sender_name"' in html and 'value="Clinic A"' in html
    client.post("/admin/clinic", data={**SETTINGS, "sender_name": "Clinic A"})
    client.post(
        "/admin/clinic",
        data={**SETTINGS, "name": "Clinic A North", "sender_name": "Clinic A North"},
    )
    with app.app_context():
        clinic = db.session.get_one(Clinic, world.clinic_a)
        assert clinic.mail_sender_name is None and clinic.sender_name == "Clinic A North"


def test_the_form_shows_the_defaults(client, world: World, as_admin) -> None:
    """Monday to Friday, 08:00 to 18:00, 4 working hours, reminders after 4 working hours
    and 24 hours, and a default out-of-hours text."""
    html = client.get("/admin/clinic").get_data(as_text=True)
    checked = set(re.findall(r'<input checked[^>]*name="working_days"[^>]*value="(\d)"', html))
    assert checked == set("12345")
    assert 'value="08:00"' in html and 'value="18:00"' in html
    assert 'name="response_hours"' in html and 'name="escalate_again_after_hours"' in html
    assert "out-of-hours medical service" in html


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"working_days": []}, "Choose at least one working day."),
        ({"working_days": ["8"]}, "Choose days from the list."),
        ({"opens_at": "18:00", "closes_at": "08:00"}, "The closing time must be later than"),
        ({"opens_at": "eight"}, "Enter a time like 08:30."),
        ({"closes_at": ""}, "Enter the closing time, for example 18:00."),
        ({"response_hours": "0"}, "Enter a whole number of working hours from 1 to 72."),
        ({"escalate_after_working_hours": "73"}, "from 1 to 72"),
        ({"escalate_again_after_hours": "400"}, "Enter a whole number of hours from 1 to 336"),
        ({"duty_email": "duty"}, "Enter an address like duty@example.org, or leave it empty."),
        ({"out_of_hours_text": "  "}, "Say what patients should do outside opening hours."),
        ({"out_of_hours_text": "x" * 1001}, "Use at most 1000 characters."),
    ],
)
def test_alert_settings_are_validated_in_plain_words(
    app: Flask, client, world: World, as_admin, changes: dict[str, object], message: str
) -> None:
    """Each bad value is explained in plain words; nothing is saved and what was typed
    stays in the form."""
    response = client.post("/admin/clinic", data={**SETTINGS, **changes})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in html
    assert "Ring the ward on 0300 111 222 at night." in html or "out_of_hours_text" in changes
    with app.app_context():
        assert db.session.get_one(Clinic, world.clinic_a).response_hours == 4


@pytest.fixture
def flagged(app: Flask, world: World) -> int:
    """The world's patient, on a plan, has just logged heavy bleeding with sharp pain;
    gives the entry id."""
    protocol_id = start_plan(app, world.patient.patient_id, world.clinician.id)
    return log_session(app, world.patient, protocol_id, bleeding=Bleeding.MORE, sharp=True)


def entry_page_at(client, monkeypatch: pytest.MonkeyPatch, entry_id: int, moment: datetime) -> str:
    monkeypatch.setattr("clinic.portal.entries.utcnow", lambda: moment)
    return client.get(f"/diary/entries/{entry_id}").get_data(as_text=True)


def test_guidance_during_opening_hours(
    client, world: World, flagged: int, as_patient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a Tuesday at 10:00: a message has been sent, the clinic usually answers within
    its response time during its opening hours (shown), emergencies named in plain words."""
    html = entry_page_at(client, monkeypatch, flagged, datetime(2026, 6, 9, 10, tzinfo=LONDON))
    assert "Your clinic has been sent a message about it." in html
    assert "Monday to Friday, 08:00 to 18:00 (Europe/London time)" in html
    assert "During those hours it usually answers within 4 hours." in html
    assert "The clinic is closed now" not in html
    assert "Outside opening hours: Outside opening hours, the clinic reads" in html
    assert "Get emergency care now" in html
    assert "a dilator will not come out" in html
    assert "it soaks a pad, you pass clots, or it does not stop within a few minutes" in html
    assert "0100 000 000" in html  # the clinic's phone


def test_guidance_outside_opening_hours(
    app: Flask, client, world: World, flagged: int, as_patient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a Saturday night: the clinic is closed, opens again on Monday at 08:00, and the
    clinic's own out-of-hours text comes first."""
    with app.app_context():
        db.session.get_one(Clinic, world.clinic_a).out_of_hours_text = "Ring the ward at night."
        db.session.commit()
    html = entry_page_at(client, monkeypatch, flagged, datetime(2026, 6, 6, 22, tzinfo=LONDON))
    assert "The clinic is closed now" in html
    assert "opens again on Monday 8 June at 08:00" in html
    assert "Ring the ward at night." in html


def test_today_keeps_a_calm_reminder_after_a_report(
    client, world: World, flagged: int, as_patient
) -> None:
    """After a report today, Today asks the patient to speak to the clinic before the next
    session (with its phone) instead of the call to log one; its title names nothing."""
    html = client.get("/diary/").get_data(as_text=True)
    assert "You reported something today that your clinic will look at." in html
    assert "Please speak to the clinic before your next session" in html
    assert 'class="button-link" href="/diary/log"' not in html
    assert "<title>Today" in html
    assert "bleeding" not in html.split("</title>")[0].lower()


def test_bleeding_with_sharp_pain_needs_a_check_today(
    client, world: World, flagged: int, as_patient
) -> None:
    """Bleeding beyond spotting with sharp pain: a medical check today even if light, by
    the clinic or, when it is closed, an out-of-hours medical service; never "if it is
    lighter, rest" (clinical reference: bleeding with acute pain needs medical review)."""
    html = client.get(f"/diary/entries/{flagged}?saved=1").get_data(as_text=True)
    assert "Bleeding with sharp or strong pain needs a medical check today" in html
    assert "when it is closed, contact your out-of-hours medical service or urgent care" in html
    assert "If it is lighter, rest" not in html


def test_light_bleeding_alone_says_when_to_have_it_checked(
    app: Flask, client, world: World, as_patient
) -> None:
    """Bleeding beyond spotting without pain: rest, unless it lasts, is dark red or comes
    with pain (then a check today); otherwise tell the clinic before the next session."""
    protocol_id = start_plan(app, world.patient.patient_id, world.clinician.id)
    entry_id = log_session(app, world.patient, protocol_id, pain=1, bleeding=Bleeding.MORE)
    html = client.get(f"/diary/entries/{entry_id}?saved=1").get_data(as_text=True)
    assert "If it is lighter, rest. If it lasts more than a few minutes, is dark red" in html
    assert "Otherwise, tell the clinic before your next session." in html
    assert "Bleeding with sharp or strong pain" not in html


def _flags_raised_days_ago(app: Flask, entry_id: int, days: int, *, acknowledged: bool) -> None:
    """Move the entry's red flags `days` back, acknowledged by the clinic or not."""
    with app.app_context():
        for flag in db.session.scalars(select(RedFlag).where(RedFlag.entry_id == entry_id)):
            flag.raised_at -= timedelta(days=days)
            flag.acknowledged_at = flag.raised_at + timedelta(hours=1) if acknowledged else None
        db.session.commit()


def test_today_keeps_the_reminder_until_the_clinic_has_read_an_earlier_report(
    app: Flask, client, world: World, flagged: int, as_patient
) -> None:
    """A report from two days ago that nobody at the clinic has acknowledged still asks the
    patient to speak to the clinic first, naming its day (it does not drop out of sight at
    midnight); the guided session says the same."""
    _flags_raised_days_ago(app, flagged, 2, acknowledged=False)
    with app.app_context():
        raised = db.session.scalar(select(RedFlag.raised_at).where(RedFlag.entry_id == flagged))
    day = raised.astimezone(LONDON)
    named = f"{day.day} {day:%B %Y}"
    for page in ("/diary/", "/diary/session"):
        html = client.get(page).get_data(as_text=True)
        assert f"You reported something on {named} that your clinic has not looked at yet." in (
            html
        ), page
        assert "Please speak to the clinic before your next session" in html
        assert "You reported something today" not in html
    assert 'class="button-link" href="/diary/log"' not in client.get("/diary/").get_data(
        as_text=True
    )


def _assert_today_as_usual(client) -> None:
    """Today offers logging a session, with no call to speak to the clinic first."""
    html = client.get("/diary/").get_data(as_text=True)
    assert "You reported something" not in html
    assert ">Log a session</a>" in html


def test_an_earlier_distress_check_in_does_not_hold_the_next_session_back(
    app: Flask, client, world: World, as_patient
) -> None:
    """A distress check-in asks no one to stop (lower severity): from the next day, unread
    or not, Today offers the session as usual (found by review)."""
    start_plan(app, world.patient.patient_id, world.clinician.id)
    values = form_values(client.get("/diary/log").get_data(as_text=True))
    answers = {"pain_during": "1", "pain_after": "1", "bleeding": "none", "sharp_pain": "no"}
    sent = client.post("/diary/log", data={**values, **answers, "concerns": ["distress"]})
    entry_id = saved_entry_id(sent.headers["Location"])
    _flags_raised_days_ago(app, entry_id, 2, acknowledged=False)
    _assert_today_as_usual(client)


def test_an_earlier_report_the_clinic_has_read_leaves_today_as_usual(
    app: Flask, client, world: World, flagged: int, as_patient
) -> None:
    """Once the clinic has acknowledged an earlier report, Today offers the session again."""
    _flags_raised_days_ago(app, flagged, 2, acknowledged=True)
    _assert_today_as_usual(client)


def test_todays_report_keeps_its_reminder_when_already_read(
    app: Flask, client, world: World, flagged: int, as_patient
) -> None:
    """A report from today keeps the reminder for the rest of the day even once the clinic
    has acknowledged it (the patient may not have heard back yet)."""
    _flags_raised_days_ago(app, flagged, 0, acknowledged=True)
    html = client.get("/diary/").get_data(as_text=True)
    assert "You reported something today that your clinic will look at." in html


def test_today_offers_logging_without_a_report(
    app: Flask, client, world: World, as_patient
) -> None:
    """No report today: the usual "Log a session" button, no reminder."""
    protocol_id = start_plan(app, world.patient.patient_id, world.clinician.id)
    log_session(app, world.patient, protocol_id, pain=2)
    html = client.get("/diary/").get_data(as_text=True)
    assert "You reported something today" not in html
    assert ">Log a session</a>" in html


def test_another_patients_report_does_not_change_my_today(
    app: Flask, client, world: World, flagged: int
) -> None:
    """The reminder is about one's own reports only."""
    act_as(client, world.other_patient.id)
    assert "You reported something today" not in client.get("/diary/").get_data(as_text=True)


def test_the_alert_link_narrows_the_dashboard_to_patients_needing_attention(
    app: Flask, client, world: World, flagged: int, as_clinician
) -> None:
    """`?show=attention` lists the patient with an open report and not the others."""
    with app.app_context():
        names = {
            p.id: p.full_name
            for p in db.session.scalars(select(Patient).where(Patient.clinic_id == world.clinic_a))
        }
    html = client.get("/dashboard/?who=all&status=any&show=attention").get_data(as_text=True)
    assert names[world.patient.patient_id] in html
    assert names[world.other_patient.patient_id] not in html


def test_opening_hours_default_to_weekdays_eight_to_six(app: Flask, world: World) -> None:
    """A new clinic works Monday to Friday, 08:00 to 18:00, answers within 4 hours."""
    with app.app_context():
        clinic = db.session.get_one(Clinic, world.clinic_b)
        assert clinic.working_days == "12345"
        assert (clinic.opens_at_minute, clinic.closes_at_minute) == (8 * 60, 18 * 60)
        assert clinic.response_hours == 4

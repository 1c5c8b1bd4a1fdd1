"""Each person chooses the emails they receive: a clinician the daily summary and its
time (alerts about patients who need review cannot be turned off, and the page says so),
a patient the "something to fill in" emails. Choices are saved, refused values are
answered in plain words and nothing chosen is lost; the page is only for clinicians and
patients, each about their own account."""

from __future__ import annotations

from datetime import time

from flask import Flask

from clinic.extensions import db
from clinic.models import User
from tests.support.auth import act_as
from tests.support.html import forms_in
from tests.support.world import World

URL = "/account/notifications"


def sent_unchanged(html: str) -> dict[str, str]:
    """What the page's preferences form would send as it stands (its chosen values)."""
    (form,) = [f for f in forms_in(html) if f.path(URL) == URL]
    return {name: value for name, value in form.values if name != "csrf_token"}


def preferences(app: Flask, user_id: int) -> tuple[bool, time, bool]:
    with app.app_context():
        user = db.session.get(User, user_id)
        return user.digest_enabled, user.digest_at, user.questionnaire_emails


def test_a_clinician_sees_their_choice_and_what_always_goes_out(client, world: World) -> None:
    """By default the summary is on at 08:00, clinic time; the page says that alerts
    about patients who need review always go out; the account page links to it."""
    act_as(client, world.clinician.id)
    html = client.get(URL).get_data(as_text=True)
    assert sent_unchanged(html) == {"digest": "on", "digest_at": "08:00"}
    assert "Europe/London" in html
    assert "cannot be turned off" in html
    assert URL in client.get("/account").get_data(as_text=True)


def test_a_clinician_turns_the_summary_off_and_back_on_at_another_time(
    app: Flask, client, world: World
) -> None:
    """Off is kept (with the time, for later); on at 18:30 is kept, and each save says so."""
    act_as(client, world.clinician.id)
    response = client.post(URL, data={"digest": "off", "digest_at": "08:00"}, follow_redirects=True)
    assert "you will not receive the daily summary" in response.get_data(as_text=True)
    assert preferences(app, world.clinician.id)[:2] == (False, time(8, 0))
    response = client.post(URL, data={"digest": "on", "digest_at": "18:30"}, follow_redirects=True)
    assert "sent at 18:30, clinic time" in response.get_data(as_text=True)
    assert preferences(app, world.clinician.id)[:2] == (True, time(18, 30))
    # Each person changes their own choice only.
    assert preferences(app, world.colleague.id)[:2] == (True, time(8, 0))


def test_a_time_not_offered_is_refused_in_plain_words_keeping_the_choice(
    app: Flask, client, world: World
) -> None:
    """A time outside the list (a crafted form) is refused next to its field; the on/off
    choice sent stays chosen; nothing is saved."""
    act_as(client, world.clinician.id)
    response = client.post(URL, data={"digest": "off", "digest_at": "03:00"})
    html = response.get_data(as_text=True)
    assert "Choose a time from the list." in html
    assert sent_unchanged(html)["digest"] == "off"
    assert preferences(app, world.clinician.id)[:2] == (True, time(8, 0))


def test_a_patient_turns_questionnaire_emails_off(app: Flask, client, world: World) -> None:
    """The patient's page offers only their own emails (no summary, no talk of alerts about
    others); their choice is kept."""
    act_as(client, world.patient.id)
    html = client.get(URL).get_data(as_text=True)
    assert "fill in a questionnaire" in html
    assert "Daily summary" not in html and "cannot be turned off" not in html
    client.post(URL, data={"questionnaire_emails": "off"})
    assert preferences(app, world.patient.id)[2] is False
    assert preferences(app, world.other_patient.id)[2] is True


def test_administrators_have_no_such_page(client, world: World) -> None:
    """The digest is about a caseload: an administrator is refused (and not offered it)."""
    act_as(client, world.admin.id)
    assert client.get(URL).status_code == 403
    assert URL not in client.get("/account").get_data(as_text=True)

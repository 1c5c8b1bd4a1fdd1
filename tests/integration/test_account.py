"""The account page: every role has one; changing the password or two-factor needs a recent
"confirm it is you"; the password rules and the audit trail apply. (Changing the email asks
for the password in its own form: tests/integration/test_email_change.py.)"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from clinic.account.guards import REAUTH_AT
from clinic.extensions import db
from clinic.models import Patient, User
from tests.support.audit import events
from tests.support.auth import act_as, sign_in
from tests.support.factories import PASSWORD
from tests.support.two_factor import code_for, enrol, wrong_code_for
from tests.support.world import World

NEW_PASSWORD = "a brand new quiet lantern"
CONFIRM = "/account/confirm"


def confirmed_recently(client: FlaskClient, minutes_ago: float = 0) -> None:
    """As if the person had confirmed their password `minutes_ago` in this session."""
    with client.session_transaction() as session:
        moment = datetime.now(UTC) - timedelta(minutes=minutes_ago)
        session[REAUTH_AT] = moment.timestamp()


@pytest.mark.parametrize("who", ["admin", "clinician", "patient"])
def test_every_role_has_an_account_page_in_the_menu(client, world: World, who: str) -> None:
    """Admins, clinicians and patients all reach "Your account" from the main menu; it
    shows their email and whether two-factor is on."""
    person = getattr(world, who)
    act_as(client, person.id)
    home = client.get("/", follow_redirects=True).get_data(as_text=True)
    assert re.search(r'<a href="/account"[^>]*>Your account</a>', home)
    page = client.get("/account").get_data(as_text=True)
    assert "<title>Your account" in page
    assert person.email in page
    assert "Two-factor sign-in" in page and "Off." in page


@pytest.mark.parametrize("path", ["/account/password", "/account/two-factor"])
def test_security_changes_ask_to_confirm_it_is_you(
    client, world: World, path: str, as_clinician
) -> None:
    """Without a recent password, the change pages send the person to confirm it is them,
    and that page brings them back."""
    response = client.get(path)
    assert response.headers["Location"] == f"{CONFIRM}?next={path}"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Confirm it is you" in page
    assert "For your security, confirm it is you before changing this." in page
    back = client.post(response.headers["Location"], data={"password": PASSWORD})
    assert back.headers["Location"] == path
    assert client.get(path).status_code == 200


def test_confirmation_lasts_five_minutes(client, world: World, as_patient) -> None:
    """A confirmation 4 minutes ago is honoured; one 6 minutes ago is not."""
    confirmed_recently(client, minutes_ago=4)
    assert client.get("/account/password").status_code == 200
    confirmed_recently(client, minutes_ago=6)
    assert client.get("/account/password").headers["Location"].startswith(CONFIRM)


def test_signing_in_counts_as_a_confirmation(client, world: World) -> None:
    """Having just signed in with the password, the person is not asked again."""
    sign_in(client, world.admin.email)
    assert client.get("/account/password").status_code == 200


def test_a_wrong_password_does_not_confirm(app: Flask, client, world: World, as_clinician) -> None:
    """A wrong password is refused in plain words, audited, and confirms nothing."""
    response = client.post(
        f"{CONFIRM}?next=/account/password", data={"password": "not the password at all"}
    )
    assert response.status_code == 200
    assert "Those details did not match." in response.get_data(as_text=True)
    assert client.get("/account/password").headers["Location"].startswith(CONFIRM)
    [failed] = events(app, "auth.sign_in_failed")
    assert (failed.actor_id, failed.object_id, json.loads(failed.detail)) == (
        world.clinician.id,
        world.clinician.id,
        {"step": "password"},
    )
    with app.app_context():  # it counts towards the account's sign-in back-off
        assert db.session.get(User, world.clinician.id).failed_sign_ins == 1


def test_a_wrong_code_at_confirmation_counts_towards_the_back_off(
    app: Flask, client, world: World
) -> None:
    """The right password with a wrong code is a failed confirmation like a wrong password:
    it counts towards the account's back-off (the password does not start the count
    again), so a session left open is no way to guess codes without end."""
    secret, _ = enrol(app, world.clinician.id)
    act_as(client, world.clinician.id)
    for attempt in (1, 2):
        response = client.post(CONFIRM, data={"password": PASSWORD, "code": wrong_code_for(secret)})
        assert "Those details did not match." in response.get_data(as_text=True)
        with app.app_context():
            assert db.session.get(User, world.clinician.id).failed_sign_ins == attempt


def test_confirmation_with_two_factor_needs_the_code(app: Flask, client, world: World) -> None:
    """With two-factor on, the password alone does not confirm: the code is asked for too."""
    secret, _ = enrol(app, world.clinician.id)
    act_as(client, world.clinician.id)
    page = client.get(CONFIRM).get_data(as_text=True)
    assert "Code from your authenticator app" in page
    alone = client.post(CONFIRM, data={"password": PASSWORD})
    assert "Enter the 6-digit code from your authenticator app." in alone.get_data(as_text=True)
    wrong = client.post(CONFIRM, data={"password": PASSWORD, "code": "12345x"})
    assert "Those details did not match." in wrong.get_data(as_text=True)
    done = client.post(CONFIRM, data={"password": PASSWORD, "code": code_for(secret, 1)})
    assert done.headers["Location"] == "/account"
    assert client.get("/account/password").status_code == 200


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/x", "/\\evil"])
def test_confirmation_goes_back_only_to_this_site(
    client, world: World, next_url: str, as_clinician
) -> None:
    """The page returns only to a path on this site, never another address."""
    response = client.post(CONFIRM, query_string={"next": next_url}, data={"password": PASSWORD})
    assert response.headers["Location"] == "/account"


def test_a_post_after_the_confirmation_lapsed_returns_to_its_form(
    client, world: World, as_clinician
) -> None:
    """A form sent after the five minutes ran out changes nothing and leads back to the
    same form once the person has confirmed."""
    response = client.post("/account/password", data={"current_password": PASSWORD})
    assert response.headers["Location"] == f"{CONFIRM}?next=/account/password"


# Changing the password -------------------------------------------------------------------


def test_password_change_keeps_this_session_and_ends_the_others(
    app: Flask, client, world: World
) -> None:
    """With the right current password and an acceptable new one, the password changes:
    this browser stays signed in, another one is signed out, the old password stops
    working, the new one works, and the change is audited."""
    elsewhere = app.test_client()
    sign_in(elsewhere, world.clinician.email)
    sign_in(client, world.clinician.email)
    response = client.post(
        "/account/password",
        data={"current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.headers["Location"] == "/account"
    assert "Your password was changed." in client.get("/account").get_data(as_text=True)
    assert client.get("/dashboard/").status_code == 200
    assert elsewhere.get("/dashboard/").status_code == 302

    fresh = app.test_client()
    assert sign_in(fresh, world.clinician.email).status_code == 200  # refused
    assert sign_in(fresh, world.clinician.email, NEW_PASSWORD).headers["Location"] == "/dashboard/"
    [changed] = events(app, "auth.password_changed")
    assert changed.actor_id == world.clinician.id
    with app.app_context():
        assert db.session.get(User, world.clinician.id).password_changed_at is not None


def test_wrong_current_password_changes_nothing(app: Flask, client, world: World) -> None:
    """A wrong current password is refused next to its field; the password is unchanged."""
    sign_in(client, world.patient.email)
    response = client.post(
        "/account/password",
        data={
            "current_password": "not the password at all",
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="current_password-error"' in html
    assert "That is not your current password." in html
    assert sign_in(app.test_client(), world.patient.email).headers["Location"] == "/diary/"
    assert not events(app, "auth.password_changed")


@pytest.mark.parametrize(
    ("new", "confirm", "message"),
    [
        ("short", "short", "Use at least 12 characters (you have 5)."),
        ("password1234", "password1234", "This password is too common."),
        (NEW_PASSWORD, "something else entirely", "The two passwords are not the same."),
        (PASSWORD, PASSWORD, "Choose a password different from your current one."),
        ("", "", "Choose a password."),
    ],
)
def test_new_password_follows_the_rules(
    client, world: World, new: str, confirm: str, message: str
) -> None:
    """The usual password rules apply, the list of common passwords included, and each
    problem is said in plain words."""
    sign_in(client, world.admin.email)
    response = client.post(
        "/account/password",
        data={"current_password": PASSWORD, "password": new, "confirm": confirm},
    )
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert client.get("/account").status_code == 200  # still signed in, nothing changed


def test_the_patients_account_page_uses_the_name_to_use_not_the_legal_name(
    app: Flask, client, world: World, as_patient
) -> None:
    """Issue 16: the name to use everywhere patient-facing, the legal name only where a
    document needs it. The patient's own "Your account" page is not such a document: it
    shows the name to use, and no name at all when none was recorded."""
    with app.app_context():
        patient = db.session.get(Patient, world.patient.patient_id)
        patient.full_name = "Legalname Onrecord"
        patient.user.full_name = "Legalname Onrecord"  # as the patient service keeps it
        patient.name_to_use = "Sam"
        db.session.commit()
    page = client.get("/account").get_data(as_text=True)
    assert "<h1>Your account</h1>" in page
    assert "Legalname" not in page
    assert "<dd>Sam</dd>" in page
    with app.app_context():
        db.session.get(Patient, world.patient.patient_id).name_to_use = ""
        db.session.commit()
    page = client.get("/account").get_data(as_text=True)
    assert "Legalname" not in page and "<dt>Name</dt>" not in page

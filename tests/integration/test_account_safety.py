"""Account safety now that mail goes out: changing the email asks for the password (and
code) in its own form and takes effect only through a link sent to the new address; the
old address is told at once that a change was asked for, and of email and password
changes and of two-factor being turned off; a new password or second factor withdraws an
open email change; the form answers the same whether or not another account has the
address; the current-password check on "change password" is a sign-in's (rate limit,
back-off, audit); on SQLite an erased patient's ids never come back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select, update

from clinic import create_app
from clinic.core.clock import clinic_today
from clinic.extensions import db
from clinic.models import AuditEvent, Clinic, Invitation, OutboxMessage, Patient, User
from clinic.models.invitations import EMAIL_CHANGE
from clinic.models.types import utcnow
from clinic.rights.erasure import erase_patient
from tests.support.apps import config_for_tests
from tests.support.audit import events
from tests.support.auth import act_as, sign_in
from tests.support.client import BrowserLikeClient
from tests.support.factories import PASSWORD, make_patient
from tests.support.mail import link_path, to
from tests.support.privacy import assert_discreet
from tests.support.reauth import confirmed_recently
from tests.support.two_factor import code_for, enrol
from tests.support.world import World

NEW_PASSWORD = "a brand new quiet lantern"
NEW_ADDRESS = "new.address@example.org"
WRONG = "not the password at all"


def ask_to_change_email(client, email: str = NEW_ADDRESS, password: str = PASSWORD, **more):
    return client.post("/account/email", data={"email": email, "password": password, **more})


def email_of(app: Flask, user_id: int) -> str:
    with app.app_context():
        return db.session.get(User, user_id).email


# Changing the email ----------------------------------------------------------------------


def test_an_email_change_waits_for_the_link_sent_to_the_new_address(
    app: Flask, client, world: World, mail
) -> None:
    """With the right password, a link goes to the NEW address; the account keeps its old
    address until the link is opened (the old one still signs in); opening it and pressing
    the button moves the account, tells the old address, and audits without addresses."""
    act_as(client, world.patient.id)  # no recent "confirm it is you": not needed
    response = ask_to_change_email(client, "  New.Address@Example.org ")
    assert response.headers["Location"] == "/account"
    assert f"We sent a link to {NEW_ADDRESS}" in client.get("/account").get_data(as_text=True)
    assert email_of(app, world.patient.id) == world.patient.email
    assert sign_in(app.test_client(), world.patient.email).headers["Location"] == "/diary/"

    [link_message] = to(mail, NEW_ADDRESS)
    assert link_message.subject == "Confirm your new email address"
    assert_discreet(link_message, also=[world.patient.name])
    link = link_path(link_message, "/account/email/confirm/")
    visitor = app.test_client()  # opened elsewhere: a phone, not signed in
    page = visitor.get(link)
    assert page.status_code == 200 and NEW_ADDRESS in page.get_data(as_text=True)
    assert email_of(app, world.patient.id) == world.patient.email  # opening alone: nothing
    done = visitor.post(link)
    assert done.headers["Location"] == "/login"
    assert email_of(app, world.patient.id) == NEW_ADDRESS
    assert sign_in(app.test_client(), world.patient.email).status_code == 200  # refused
    assert sign_in(app.test_client(), NEW_ADDRESS).headers["Location"] == "/diary/"
    assert visitor.get(link).status_code == 410  # once

    asked, changed = to(mail, world.patient.email)
    assert asked.subject == changed.subject == "A change to your account"
    assert "someone asked to sign in to your account with a different email" in asked.body
    assert "/password/forgot" in asked.body and "that cancels the request" in asked.body
    assert "was changed" in changed.body and "contact your clinic straight away" in changed.body
    for notice in (asked, changed):
        assert_discreet(notice, also=[world.patient.name, NEW_ADDRESS])
    with app.app_context():  # all name the account, so that erasing it erases them
        owners = db.session.scalars(select(OutboxMessage.user_id)).all()
        assert owners == [world.patient.id] * 3
    for action in ("auth.email_change_requested", "auth.email_changed"):
        [event] = events(app, action)
        assert event.actor_id == world.patient.id
        assert "example" not in event.detail


def test_an_email_change_needs_the_password_in_the_same_form(
    app: Flask, client, world: World, mail
) -> None:
    """A wrong or missing password is refused next to its field in plain words, nothing
    is sent, the typed address stays; the wrong guess is audited and counts towards the
    account's back-off, like a sign-in's."""
    act_as(client, world.clinician.id)
    missing = ask_to_change_email(client, password="")
    assert "Enter your current password." in missing.get_data(as_text=True)
    wrong = ask_to_change_email(client, password=WRONG)
    html = wrong.get_data(as_text=True)
    assert 'id="password-error"' in html and "That is not your current password." in html
    assert f'value="{NEW_ADDRESS}"' in html
    assert mail == []
    [failed] = events(app, "auth.sign_in_failed")
    assert json.loads(failed.detail) == {"step": "password"}
    with app.app_context():
        assert db.session.get(User, world.clinician.id).failed_sign_ins == 1
        assert db.session.scalars(select(Invitation)).all() == []


def test_with_two_factor_an_email_change_needs_the_code_too(
    app: Flask, client, world: World, mail
) -> None:
    """With two-factor on, the form asks for the code; a wrong one sends nothing."""
    secret, _ = enrol(app, world.clinician.id)
    act_as(client, world.clinician.id)
    assert "Code from your authenticator app" in client.get("/account/email").get_data(as_text=True)
    wrong = ask_to_change_email(client, code="000000")
    assert "That code did not match." in wrong.get_data(as_text=True) or (
        "Enter the 6-digit code" in wrong.get_data(as_text=True)
    )
    assert mail == []
    right = ask_to_change_email(client, code=code_for(secret, 1))
    assert right.headers["Location"] == "/account"
    assert len(to(mail, NEW_ADDRESS)) == 1


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Enter an email address."),
        ("not-an-address", "Enter an email address like name@example.org."),
        ("x" * 250 + "@a.example", "Use at most 254 characters."),
    ],
)
def test_the_new_address_is_checked(client, world: World, typed: str, message: str) -> None:
    """A missing or malformed address is refused next to the field."""
    act_as(client, world.clinician.id)
    response = ask_to_change_email(client, typed)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)


def test_the_same_address_is_refused(app: Flask, client, world: World, mail) -> None:
    """The current address (in any case) is refused as no change, and nothing is sent."""
    act_as(client, world.clinician.id)
    same = ask_to_change_email(client, world.clinician.email.upper())
    assert "This is already your email address." in same.get_data(as_text=True)
    assert mail == []


def test_a_taken_address_gets_the_same_answer_as_a_free_one(
    app: Flask, client, world: World, mail
) -> None:
    """Typing an address another account of the clinic uses (another patient's, a staff
    member's) is answered exactly as a free one ('We sent a link'), so nobody learns who
    else is at the clinic: no link goes, the address's owner is told it cannot serve a
    second account, the account's own address is told of the request as usual, and the
    earlier link stops working as a newer request's would. Another clinic's account does
    not matter."""
    act_as(client, world.patient.id)
    ask_to_change_email(client, "first@example.org")
    earlier = link_path(to(mail, "first@example.org")[0], "/account/email/confirm/")
    taken = ask_to_change_email(client, world.other_patient.email.upper())
    taken_page = client.get("/account").get_data(as_text=True)
    free = ask_to_change_email(client, "nobody.here@example.org")
    free_page = client.get("/account").get_data(as_text=True)
    assert taken.status_code == free.status_code == 302
    assert taken.headers["Location"] == free.headers["Location"] == "/account"
    assert "already uses this email address" not in taken_page
    assert f"We sent a link to {world.other_patient.email}" in taken_page
    assert "We sent a link to nobody.here@example.org" in free_page
    [word] = to(mail, world.other_patient.email)
    assert word.subject == "A request about this email address"
    assert "/account/email/confirm/" not in word.body
    assert "an address can belong to one account only" in word.body
    assert_discreet(word, also=[world.patient.name, world.patient.email])
    assert len(to(mail, world.patient.email)) == 3  # one notice per request, taken or not
    assert app.test_client().get(earlier).status_code == 410
    assert email_of(app, world.other_patient.id) == world.other_patient.email

    act_as(client, world.clinician.id)
    elsewhere = ask_to_change_email(client, world.other_clinician.email)
    assert elsewhere.headers["Location"] == "/account"
    assert len(to(mail, world.other_clinician.email)) == 1  # the link: another clinic


def test_a_newer_request_replaces_the_link_and_a_stale_link_is_refused(
    app: Flask, client, world: World, mail
) -> None:
    """Only the newest link works; an expired one answers 410; an address taken meanwhile
    by a colleague is refused when the link is used, and nothing changes."""
    act_as(client, world.clinician.id)
    ask_to_change_email(client, "first@example.org")
    ask_to_change_email(client, "second@example.org")
    old = link_path(to(mail, "first@example.org")[0], "/account/email/confirm/")
    new = link_path(to(mail, "second@example.org")[0], "/account/email/confirm/")
    assert app.test_client().get(old).status_code == 410
    with app.app_context():
        db.session.execute(
            update(User).where(User.id == world.colleague.id).values(email="second@example.org")
        )
        db.session.commit()
    response = app.test_client().post(new)
    assert "Another account at your clinic already uses this email address." in (
        response.get_data(as_text=True)
    )
    assert email_of(app, world.clinician.id) == world.clinician.email
    with app.app_context():
        db.session.execute(
            update(Invitation)
            .where(Invitation.purpose == EMAIL_CHANGE)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
    assert app.test_client().get(new).status_code == 410


# Notices to the account's address ---------------------------------------------------------


def test_a_password_change_is_told_to_the_accounts_address(
    app: Flask, client, world: World, mail
) -> None:
    """After a password change, the account's address gets a neutral notice with a way
    to react."""
    act_as(client, world.patient.id)
    confirmed_recently(client)
    response = client.post(
        "/account/password",
        data={"current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.headers["Location"] == "/account"
    [notice] = to(mail, world.patient.email)
    assert notice.subject == "A change to your account"
    assert "password for signing in to your account was changed" in notice.body
    assert "If this wasn't you, reset your password at" in notice.body
    assert_discreet(notice, also=[world.patient.name])


def test_turning_two_factor_off_is_told_to_the_accounts_address(
    app: Flask, client, world: World, mail
) -> None:
    """Turning two-factor off sends a neutral notice to the account's address."""
    enrol(app, world.clinician.id)
    act_as(client, world.clinician.id)
    confirmed_recently(client)
    assert client.post("/account/two-factor/turn-off").headers["Location"] == "/account"
    [notice] = to(mail, world.clinician.email)
    assert "Two-factor sign-in" in notice.body and "was turned off" in notice.body
    assert "If this wasn't you" in notice.body
    assert_discreet(notice, also=[world.clinician.name])


def test_the_account_is_told_at_once_that_an_email_change_was_asked_for(
    app: Flask, client, world: World, mail
) -> None:
    """The moment a change is asked for, the account's address hears of it, with the way
    to stop it: reset the password (which withdraws the link) and call the clinic, on
    its number when it has one. The new address is not repeated to it."""
    with app.app_context():
        db.session.get(Clinic, world.clinic_a).phone = "020 7946 0000"
        db.session.commit()
    act_as(client, world.patient.id)
    ask_to_change_email(client)
    [notice] = to(mail, world.patient.email)
    assert notice.subject == "A change to your account"
    assert "reset your password now at" in notice.body and "/password/forgot" in notice.body
    assert "that cancels the request" in notice.body
    assert "contact your clinic on 020 7946 0000" in notice.body
    assert_discreet(notice, also=[world.patient.name, NEW_ADDRESS])


@pytest.mark.parametrize(
    ("phone", "told"),
    [
        ("", "contact your clinic straight away and tell them"),
        ("0161 496 0000", "contact your clinic straight away on 0161 496 0000"),
    ],
    ids=["no phone number", "a phone number"],
)
def test_the_email_changed_notice_sends_the_old_address_to_the_clinic(
    app: Flask, client, world: World, mail, phone: str, told: str
) -> None:
    """Once the account has moved, no account has the old address, so a reset asked from
    it would reach nobody: the notice sends its reader to the clinic straight away (with
    the clinic's number when it has one), and offers no reset link."""
    with app.app_context():
        db.session.get(Clinic, world.clinic_a).phone = phone
        db.session.commit()
    act_as(client, world.patient.id)
    ask_to_change_email(client)
    app.test_client().post(link_path(to(mail, NEW_ADDRESS)[0], "/account/email/confirm/"))
    changed = to(mail, world.patient.email)[-1]
    assert "was changed" in changed.body and told in changed.body
    assert "/password" not in changed.body and "reset your password" not in changed.body


def reset_through_the_emailed_link(app: Flask, email: str, mail) -> None:
    """The owner asks for a reset link from the sign-in page and chooses a new password."""
    owner = app.test_client()
    owner.post("/password/forgot", data={"email": email})
    [reset] = [m for m in to(mail, email) if "/password/reset/" in m.body]
    link = link_path(reset, "/password/reset/")
    owner.get(link)
    done = owner.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 302


def test_a_password_reset_withdraws_a_pending_email_change(
    app: Flask, client, world: World, mail
) -> None:
    """Someone who knows the password asks to move the account to their own address; the
    owner, told at once, resets the password through the emailed link. The change link,
    asked for with the old password, no longer moves the account (410), and the account
    keeps its address."""
    act_as(client, world.patient.id)
    ask_to_change_email(client, "taker@example.org")
    change_link = link_path(to(mail, "taker@example.org")[0], "/account/email/confirm/")
    reset_through_the_emailed_link(app, world.patient.email, mail)
    assert app.test_client().post(change_link).status_code == 410
    assert email_of(app, world.patient.id) == world.patient.email
    with app.app_context():
        [link] = db.session.scalars(
            select(Invitation).where(Invitation.purpose == EMAIL_CHANGE)
        ).all()
        assert link.revoked_at is not None and link.used_at is None


def change_password_on_the_account_page(app: Flask, client, user_id: int) -> None:
    confirmed_recently(client)
    client.post(
        "/account/password",
        data={"current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )


def turn_two_factor_on(app: Flask, client, user_id: int) -> None:
    enrol(app, user_id)


def turn_two_factor_off(app: Flask, client, user_id: int) -> None:
    confirmed_recently(client)
    client.post("/account/two-factor/turn-off")


@pytest.mark.parametrize(
    ("prepare", "change"),
    [
        (None, change_password_on_the_account_page),
        (None, turn_two_factor_on),
        (turn_two_factor_on, turn_two_factor_on),  # a new phone
        (turn_two_factor_on, turn_two_factor_off),
    ],
    ids=["password changed", "two-factor on", "two-factor moved", "two-factor off"],
)
def test_new_credentials_withdraw_a_pending_email_change(
    app: Flask, client, world: World, mail, prepare, change
) -> None:
    """A change of password or of second factor after an email change was asked for
    withdraws its link: the request was made with credentials just replaced."""
    if prepare is not None:
        prepare(app, client, world.patient.id)
    act_as(client, world.patient.id)
    more = {}
    if prepare is not None:  # with two-factor on, the request needs a code too
        with app.app_context():
            secret = db.session.get(User, world.patient.id).totp_secret
        more = {"code": code_for(secret, 1)}
    ask_to_change_email(client, "taker@example.org", **more)
    stale = link_path(to(mail, "taker@example.org")[0], "/account/email/confirm/")
    change(app, client, world.patient.id)
    assert app.test_client().post(stale).status_code == 410
    assert email_of(app, world.patient.id) == world.patient.email


# The current password on "change password" -----------------------------------------------


def test_forty_wrong_current_passwords_are_audited_and_paused(
    app: Flask, client, world: World, mail
) -> None:
    """Forty wrong guesses at the current password are each audited as a failed sign-in;
    after the free five the account's sign-in pauses, and during the pause even the right
    password is refused (saying so), so nothing is changed."""
    act_as(client, world.clinician.id)
    confirmed_recently(client)
    for _ in range(40):
        client.post(
            "/account/password",
            data={"current_password": WRONG, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        )
    failures = events(app, "auth.sign_in_failed")
    assert len(failures) == 40
    assert all(event.object_id == world.clinician.id for event in failures)
    assert sum(event.outcome == "refused" for event in failures) >= 30  # paused: "blocked"
    with app.app_context():
        user = db.session.get(User, world.clinician.id)
        assert user.sign_in_blocked_until is not None
    right = client.post(
        "/account/password",
        data={"current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert "too many wrong attempts" in right.get_data(as_text=True)
    assert not events(app, "auth.password_changed")
    assert mail == []


@pytest.fixture
def limited(app: Flask, database_url: str) -> Iterator[Flask]:
    """The app with rate limits on (the suite's default has them off), 3 tries a minute."""
    limited = create_app(
        config_for_tests(
            database_url,
            RATELIMIT_ENABLED=True,
            RATELIMIT_SIGN_IN="3 per minute",
            RATELIMIT_STORAGE_URI="memory://",
        )
    )
    limited.test_client_class = BrowserLikeClient
    yield limited
    with limited.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize("path", ["/account/password", "/account/email"])
def test_the_password_checks_on_the_account_page_are_rate_limited(
    limited: Flask, world: World, path: str
) -> None:
    """The account page's password checks share the sign-in's per-address rate limit:
    the fourth try within a minute gets the calm 429 page."""
    client = limited.test_client()
    act_as(client, world.clinician.id)
    confirmed_recently(client)
    data = {"current_password": WRONG, "password": WRONG, "email": NEW_ADDRESS}
    answers = [client.post(path, data=data).status_code for _ in range(4)]
    assert answers[:3] == [200, 200, 200] and answers[3] == 429


# Ids never reused ------------------------------------------------------------------------


def test_an_erased_patients_ids_never_come_back(app: Flask, client, world: World) -> None:
    """Erase the newest patient (and their account), then add a colleague and a patient:
    neither gets an erased id, and the audit search for the new colleague lists none of
    the erased patient's events."""
    with app.app_context():
        clinic = db.session.get(Clinic, world.clinic_a)
        patient = make_patient(clinic, portal=True, full_name="Erin Vale")
        db.session.commit()
        patient_id, account_id, email = patient.id, patient.user_id, patient.user.email
    assert sign_in(app.test_client(), email).headers["Location"] == "/diary/"
    with app.app_context():
        admin = db.session.get(User, world.admin.id)
        erase_patient(
            db.session.get(Patient, patient_id),
            by=admin,
            request_reference="DP request 1",
            today=clinic_today("Europe/London"),
        )
        db.session.commit()
    act_as(client, world.admin.id)
    client.post(
        "/admin/staff/new",
        data={"full_name": "Noel Ash", "email": "noel@test.example", "role": "clinician"},
    )
    with app.app_context():
        newcomer = make_patient(db.session.get(Clinic, world.clinic_a))
        db.session.commit()
        newcomer_id = newcomer.id
        colleague_id = db.session.scalar(select(User.id).where(User.email == "noel@test.example"))
        erased_events = db.session.scalars(
            select(AuditEvent.id).where(AuditEvent.actor_id == account_id)
        ).all()
    assert colleague_id > account_id and newcomer_id > patient_id
    assert erased_events, "the erased patient's sign-in stays in the trail"
    found = client.get("/admin/audit", query_string={"user": colleague_id})
    assert found.status_code == 200
    html = found.get_data(as_text=True)
    assert "Erin Vale" not in html
    assert "No events match these filters." in html  # Noel has done nothing yet

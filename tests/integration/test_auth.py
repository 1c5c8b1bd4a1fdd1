"""Signing in and out: one page for every role, generic failures, safe redirects,
sessions that really end."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask

from clinic.extensions import db
from clinic.models import Clinic, Role, User
from clinic.models.types import utcnow
from tests.support.apps import FAST_HASHING
from tests.support.auth import act_as, sign_in
from tests.support.factories import PASSWORD, make_user
from tests.support.world import World

GENERIC_FAILURE = "Those details did not match an active account"


@pytest.mark.parametrize(
    ("who", "home"),
    [("clinician", "/dashboard/"), ("admin", "/admin/staff"), ("patient", "/diary/")],
)
def test_each_role_lands_on_its_home_page(client, world: World, who: str, home: str) -> None:
    """The same /login form signs in every role and sends each to its own start page."""
    person = getattr(world, who)
    response = sign_in(client, person.email)
    assert response.status_code == 302
    assert response.headers["Location"] == home
    assert client.get(home).status_code == 200


def test_email_is_case_insensitive(client, world: World) -> None:
    """An email typed with capitals and spaces signs in to the same account."""
    response = sign_in(client, f"  {world.clinician.email.upper()} ")
    assert response.headers["Location"] == "/dashboard/"


@pytest.mark.parametrize("case", ["wrong password", "unknown email", "deactivated", "unclaimed"])
def test_failed_sign_in_is_generic(app: Flask, client, world: World, case: str) -> None:
    """Whatever was wrong, the message is the same and names neither field."""
    email, password = world.clinician.email, "correct horse battery staple"
    if case == "wrong password":
        password = "not the password at all"
    elif case == "unknown email":
        email = "nobody@test.example"
    else:
        with app.app_context():
            user = db.session.get(User, world.clinician.id)
            if case == "deactivated":
                user.active = False
            else:
                user.password_hash = None
            db.session.commit()
    response = sign_in(client, email, password)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert GENERIC_FAILURE in html
    assert f'value="{email}"' in html  # the typed email is kept
    assert client.get("/patients/").status_code == 302  # still signed out


def test_empty_sign_in_says_what_is_missing(client) -> None:
    """Submitting nothing names both missing fields in plain words."""
    html = client.post("/login", data={}).get_data(as_text=True)
    assert "Enter your email address." in html
    assert "Enter your password." in html


@pytest.mark.parametrize(
    ("next_url", "expected"),
    [
        ("/patients/?q=a", "/patients/?q=a"),
        ("https://evil.example/", "/dashboard/"),
        ("//evil.example/", "/dashboard/"),
        ("/\\evil.example", "/dashboard/"),
    ],
)
def test_next_redirect_stays_on_site(client, world: World, next_url: str, expected: str) -> None:
    """After sign-in, ?next= is followed only to a path on this site."""
    token = client.fetch_csrf_token()
    response = client.post(
        "/login",
        query_string={"next": next_url},
        data={
            "email": world.clinician.email,
            "password": "correct horse battery staple",
            "csrf_token": token,
        },
    )
    assert response.headers["Location"] == expected


def test_signed_in_user_visiting_login_goes_home(client, world: World, as_patient) -> None:
    """A signed-in user is not shown the sign-in form again."""
    assert client.get("/login").headers["Location"] == "/diary/"


def test_logout_is_post_only_and_ends_the_session(client, world: World, as_clinician) -> None:
    """GET cannot sign anyone out (no state change on GET); POST does, for good."""
    assert client.get("/logout").status_code == 405
    response = client.post("/logout")
    assert response.headers["Location"] == "/login"
    assert client.get("/patients/").status_code == 302


def test_post_without_csrf_token_is_refused(client, world: World) -> None:
    """Every POST needs the form's CSRF token; without it nothing happens."""
    response = client.post(
        "/login",
        data={"email": world.clinician.email, "password": "correct horse battery staple"},
        csrf=False,
    )
    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)
    assert client.get("/patients/").status_code == 302


def test_deactivation_ends_existing_sessions(app: Flask, client, world: World) -> None:
    """A session cookie stops working once its account is deactivated."""
    act_as(client, world.colleague.id)
    assert client.get("/patients/").status_code == 200
    with app.app_context():
        user = db.session.get(User, world.colleague.id)
        user.active = False
        db.session.commit()
    assert client.get("/patients/").status_code == 302


def test_rotated_session_token_invalidates_copied_cookie(app: Flask, world: World) -> None:
    """A copy of an old session cookie is useless after the account's token rotates."""
    first, second = app.test_client(), app.test_client()
    sign_in(first, world.clinician.email)
    cookie = first.get_cookie("session", domain=app.config["SERVER_NAME"])
    second.set_cookie("session", cookie.value, domain=cookie.domain)
    assert second.get("/patients/").status_code == 200
    with app.app_context():
        db.session.get(User, world.clinician.id).end_all_sessions()
        db.session.commit()
    assert second.get("/patients/").status_code == 302


def test_sign_in_records_time_and_upgrades_weak_hashes(app: Flask, client, world: World) -> None:
    """Signing in stamps last_login_at and re-hashes a password stored with weaker
    argon2 parameters than the app now uses."""
    stronger = {**FAST_HASHING, "time_cost": 2}
    app.config["PASSWORD_HASH_PARAMS"] = stronger
    app.extensions.pop("clinic.password_hasher", None)
    try:
        with app.app_context():
            before = db.session.get(User, world.clinician.id).password_hash
        sign_in(client, world.clinician.email)
        with app.app_context():
            user = db.session.get(User, world.clinician.id)
            assert user.last_login_at is not None
            assert user.password_hash != before
            assert "t=2" in user.password_hash
    finally:
        app.config["PASSWORD_HASH_PARAMS"] = FAST_HASHING
        app.extensions.pop("clinic.password_hasher", None)


def test_password_is_stored_as_argon2id(app: Flask, world: World) -> None:
    """Passwords are kept only as argon2id hashes."""
    with app.app_context():
        stored = db.session.get(User, world.clinician.id).password_hash
    assert stored.startswith("$argon2id$")
    assert "correct horse" not in stored


def _second_account(app: Flask, world: World, password: str) -> int:
    """The clinic-A patient's email also used by a clinician account at clinic B."""
    with app.app_context():
        clinic_b = db.session.get(Clinic, world.clinic_b)
        user = make_user(clinic_b, Role.CLINICIAN, email=world.patient.email, password=password)
        db.session.commit()
        return user.id


def test_same_email_at_two_clinics_signs_in_by_password(app: Flask, client, world: World) -> None:
    """One address with accounts at two clinics: the password decides which one opens."""
    _second_account(app, world, "another long passphrase")
    assert sign_in(client, world.patient.email).headers["Location"] == "/diary/"
    other = app.test_client()
    response = sign_in(other, world.patient.email, "another long passphrase")
    assert response.headers["Location"] == "/dashboard/"


def test_same_email_and_password_at_two_clinics_asks_which(
    app: Flask, client, world: World
) -> None:
    """When both accounts share the password, the person chooses the clinic (they proved
    who they are, so seeing their own clinics' names is fine); nothing else is accepted."""
    second = _second_account(app, world, PASSWORD)
    response = sign_in(client, world.patient.email)
    assert response.headers["Location"] == "/login/clinic"
    page = client.get("/login/clinic").get_data(as_text=True)
    assert "Clinic A (patient)" in page and "Clinic B (clinician)" in page
    assert client.get("/patients/").status_code == 302  # not signed in yet
    forged = client.post("/login/clinic", data={"account": str(world.other_clinician.id)})
    assert "Not a valid choice" in forged.get_data(as_text=True)
    chosen = client.post("/login/clinic", data={"account": str(second)})
    assert chosen.headers["Location"] == "/dashboard/"
    assert client.get("/patients/").status_code == 200
    assert client.get("/login/clinic").headers["Location"] == "/"


def test_choosing_without_signing_in_goes_nowhere(client) -> None:
    """The choice page is useless without a matching sign-in just before it."""
    assert client.get("/login/clinic").headers["Location"] == "/"


def test_the_clinic_choice_must_come_within_five_minutes(
    app: Flask, client, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A matching sign-in left at the clinic choice (on a shared computer, or in a copied
    cookie) is no key to the accounts: more than five minutes later, choosing signs nobody
    in, and the person is asked to sign in again."""
    second = _second_account(app, world, PASSWORD)
    assert sign_in(client, world.patient.email).headers["Location"] == "/login/clinic"
    later = utcnow() + timedelta(minutes=5, seconds=1)
    monkeypatch.setattr("clinic.auth.views.utcnow", lambda: later)

    chosen = client.post("/login/clinic", data={"account": str(second)})
    assert chosen.headers["Location"] == "/login"
    assert client.get("/patients/").status_code == 302  # nobody signed in
    assert "Please sign in again" in client.get("/login").get_data(as_text=True)

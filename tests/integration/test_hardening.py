"""Defences found in review: sessions that really end, hostile input that never reaches
the database as a crash, races that end in a clear page, and no leaks through timing."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from flask import Flask
from sqlalchemy import func, select

from clinic.auth.services import issue_invitation
from clinic.extensions import db
from clinic.models import Patient, User
from tests.support.apps import FAST_HASHING
from tests.support.auth import act_as, sign_in
from tests.support.world import World

PASSWORD = "correct horse battery staple"


def test_sign_out_kills_copies_of_the_cookie(app: Flask, world: World) -> None:
    """A cookie copied before sign-out no longer works after it."""
    browser, thief = app.test_client(), app.test_client()
    sign_in(browser, world.clinician.email)
    cookie = browser.get_cookie("session", domain=app.config["SERVER_NAME"])
    thief.set_cookie("session", cookie.value, domain=cookie.domain)
    assert thief.get("/patients/").status_code == 200
    browser.post("/logout")
    assert thief.get("/patients/").status_code == 302


def test_sign_in_starts_a_fresh_session(app: Flask, client, world: World) -> None:
    """Nothing planted in the session before sign-in survives it (session fixation)."""
    client.get("/login")
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    sign_in(client, world.clinician.email)
    with client.session_transaction() as session:
        assert "planted" not in session


def test_choosing_a_password_ends_other_sessions(app: Flask, client, world: World) -> None:
    """Accepting an invitation (a new password) signs the account out elsewhere."""
    old = app.test_client()
    act_as(old, world.colleague.id)
    assert old.get("/patients/").status_code == 200
    with app.app_context():
        token = issue_invitation(db.session.get(User, world.colleague.id), created_by=None)
        db.session.commit()
    link = f"/invitation/{token}"
    new = app.test_client()
    new.post(
        link, data={"password": "a calm river at dawn 42", "confirm": "a calm river at dawn 42"}
    )
    assert new.get("/patients/").status_code == 200
    assert old.get("/patients/").status_code == 302


def test_unknown_email_costs_one_check_not_a_fresh_hash(app: Flask, client, monkeypatch) -> None:
    """Signing in with an unknown email verifies against a hash made once, instead of
    hashing anew each time (which took twice as long and revealed who has an account)."""
    sign_in(client, "nobody@test.example", "whatever at all")  # builds the dummy hash
    calls: list[str] = []

    class CountingHasher(PasswordHasher):
        def hash(self, password: str, *, salt: bytes | None = None) -> str:
            calls.append(password)
            return super().hash(password, salt=salt)

    monkeypatch.setitem(app.extensions, "clinic.password_hasher", CountingHasher(**FAST_HASHING))
    sign_in(client, "someone.else@test.example", "whatever at all")
    assert calls == []


@pytest.mark.parametrize(
    "url",
    [
        "/patients/99999999999999999999",
        "/patients/2147483648/edit",
        "/admin/staff/99999999999999/deactivate",
    ],
)
def test_absurd_ids_are_not_found(client, world: World, url: str) -> None:
    """Ids beyond what a database column holds answer 404, never a driver overflow."""
    act_as(client, world.admin.id if "admin" in url else world.clinician.id)
    response = client.post(url) if url.endswith("deactivate") else client.get(url)
    assert response.status_code == 404


@pytest.mark.parametrize("page", ["99999999999999999999", "-5", "0", "x"])
def test_absurd_page_numbers_show_the_first_page(
    client, world: World, page: str, as_clinician
) -> None:
    """A junk ?page= shows page 1 instead of failing."""
    response = client.get(f"/patients/?page={page}")
    assert response.status_code == 200
    assert world.patient.name in response.get_data(as_text=True)


def test_control_characters_are_refused_next_to_the_field(
    app: Flask, client, world: World, as_clinician
) -> None:
    """A NUL or other invisible control character in a form gets a plain message at the
    field (PostgreSQL could not store it; SQLite would hide it in the record)."""
    response = client.post(
        "/patients/new",
        data={
            "full_name": "Ro\x00bin",
            "date_of_birth": "1990-01-01",
            "clinic_identifier": "X\x07",
            "indication": "vaginismus",
            "status": "active",
            "responsible_clinician_id": "",
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.count("Remove the invisible control characters from this text.") >= 2
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Patient)) == 4


def test_nul_in_sign_in_form_is_a_message_not_a_crash(client) -> None:
    """Even before sign-in, a NUL is refused politely."""
    response = client.post("/login", data={"email": "a\x00@b.example", "password": "x"})
    assert response.status_code == 200
    assert "invisible control characters" in response.get_data(as_text=True)


def test_nul_in_query_string_is_a_bad_request(client, world: World, as_clinician) -> None:
    """A NUL in a search is refused with 400 before it reaches the database."""
    assert client.get("/patients/?q=a%00b").status_code == 400


def test_renaming_a_patient_renames_their_portal_greeting(
    app: Flask, client, world: World, as_clinician
) -> None:
    """After a name change the portal never shows the old name; it greets by the new name
    to use, and shows no legal name at all. (Was: greeted by the new legal name.)"""
    with app.app_context():
        patient = db.session.get(Patient, world.patient.patient_id)
        data = {
            "full_name": "Renamed Person",
            "name_to_use": "Ren",
            "date_of_birth": "1990-01-01",
            "clinic_identifier": patient.clinic_identifier,
            "pronouns": "they/them",
            "indication": "vaginismus",
            "indication_other": "",
            "referring_clinician": "",
            "status": "active",
            "responsible_clinician_id": "",
        }
    client.post(f"/patients/{world.patient.patient_id}/edit", data=data)
    portal = app.test_client()
    act_as(portal, world.patient.id)
    html = portal.get("/diary/").get_data(as_text=True)
    assert "Hello, Ren" in html
    assert "Renamed Person" not in html and world.patient.name not in html


def test_method_not_allowed_says_what_is(client) -> None:
    """405 answers carry the Allow header as HTTP requires."""
    response = client.get("/logout")
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]


def test_a_lost_race_gives_a_clear_page_and_saves_nothing(
    app: Flask, client, world: World, monkeypatch
) -> None:
    """When a uniqueness check passes but the database refuses the row a moment later (two
    submissions racing), the answer is a calm 409 page and nothing is half-saved."""
    with app.app_context():
        taken = db.session.get(Patient, world.patient.patient_id).clinic_identifier
    monkeypatch.setattr("clinic.patients.forms.identifier_taken", lambda *args: False)
    act_as(client, world.clinician.id)
    response = client.post(
        "/patients/new",
        data={
            "full_name": "Racer",
            "date_of_birth": "1990-01-01",
            "clinic_identifier": taken,
            "indication": "vaginismus",
            "status": "active",
            "responsible_clinician_id": "",
        },
    )
    assert response.status_code == 409
    assert "could not be saved" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Patient)) == 4


def test_database_errors_never_log_patient_data(app: Flask) -> None:
    """The engine is configured to keep SQL parameters (patient data) out of error logs."""
    with app.app_context():
        assert db.engine.hide_parameters

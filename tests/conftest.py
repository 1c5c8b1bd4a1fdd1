"""Shared fixtures: one app and database per test run, emptied after every test.

The schema is built with `create_all` for speed; tests/integration/test_migrations.py proves
the migrations build exactly the same schema.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

# Before the app is imported: tests never need (or write) a real secret key file.
os.environ["CLINIC_ENV"] = "testing"
os.environ.setdefault("SECRET_KEY", "test-only-secret-key")

from clinic import create_app
from clinic.auth.sessions import SESSION_ID_KEY, open_record
from clinic.extensions import db
from clinic.models import Patient, Role, User
from tests.support.client import BrowserLikeClient
from tests.support.databases import temporary_database
from tests.support.factories import PASSWORD, make_clinic, make_patient, make_user

# argon2's cheapest parameters: the suite tests our use of the hasher, not its strength.
FAST_HASHING = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}


def config_for_tests(database_url: str, **overrides: Any) -> dict[str, Any]:
    """Configuration for an app under test."""
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "PASSWORD_HASH_PARAMS": FAST_HASHING,
        "SERVER_NAME": "clinic.test",
        # Tests sign in hundreds of times from one address; the rate-limit tests turn
        # limits back on for their own app.
        "RATELIMIT_ENABLED": False,
        **overrides,
    }


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with temporary_database(tmp_path_factory.mktemp("db")) as url:
        yield url


@pytest.fixture(scope="session")
def session_app(database_url: str) -> Iterator[Flask]:
    app = create_app(config_for_tests(database_url))
    app.test_client_class = BrowserLikeClient
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.drop_all()
        db.engine.dispose()


@pytest.fixture
def app(session_app: Flask) -> Iterator[Flask]:
    """The app; every table is emptied after the test.

    No app context stays pushed while requests run: a request would otherwise share the
    test's `g` and database session and hide bugs. Set data up in `with app.app_context():`.
    """
    yield session_app
    with session_app.app_context():
        db.session.rollback()
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(table.delete())
        db.session.commit()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@dataclass(frozen=True)
class Person:
    """An account as tests use it: ids and sign-in email, no live ORM object."""

    id: int
    email: str
    name: str
    patient_id: int | None = None


@dataclass(frozen=True)
class World:
    """Two clinics. A: admin, two clinicians, patients with and without portal logins.
    B: admin, clinician, one patient with a portal login."""

    clinic_a: int
    clinic_b: int
    admin: Person
    clinician: Person
    colleague: Person
    patient: Person
    other_patient: Person
    offline_patient_id: int
    other_admin: Person
    other_clinician: Person
    other_clinic_patient: Person


def _person(user: User, patient: Patient | None = None) -> Person:
    return Person(user.id, user.email, user.full_name, patient.id if patient else None)


@pytest.fixture
def world(app: Flask) -> World:
    with app.app_context():
        a, b = make_clinic(name="Clinic A"), make_clinic(name="Clinic B")
        clinician = make_user(a, Role.CLINICIAN)
        p1 = make_patient(a, portal=True, responsible_clinician=clinician)
        p2 = make_patient(a, portal=True)
        p3 = make_patient(a)
        pb = make_patient(b, portal=True)
        built = World(
            clinic_a=a.id,
            clinic_b=b.id,
            admin=_person(make_user(a, Role.ADMIN)),
            clinician=_person(clinician),
            colleague=_person(make_user(a, Role.CLINICIAN)),
            patient=_person(p1.user, p1),
            other_patient=_person(p2.user, p2),
            offline_patient_id=p3.id,
            other_admin=_person(make_user(b, Role.ADMIN)),
            other_clinician=_person(make_user(b, Role.CLINICIAN)),
            other_clinic_patient=_person(pb.user, pb),
        )
        db.session.commit()
    return built


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD) -> Any:
    """Sign in through the real login form; returns the response."""
    return client.post("/login", data={"email": email, "password": password})


def act_as(client: FlaskClient, user_id: int) -> None:
    """Sign a user in on this client without the sign-in form (for speed): a real
    server-side session record, and its token in a fresh cookie session, as a sign-in
    leaves them."""
    app = client.application
    with app.app_context():
        user = db.session.get(User, user_id)
        _, token = open_record(user)
        login_id = user.get_id()
        db.session.commit()
    with client.session_transaction() as session:
        session.clear()
        session["_user_id"] = login_id
        session["_fresh"] = True
        session[SESSION_ID_KEY] = token

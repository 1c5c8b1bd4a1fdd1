"""Failing safely: when the database is unreachable, busy past its timeout or fails in the
middle of a request, the person gets a calm 503 page ("nothing was changed, try again")
with a Retry-After, the log says what failed without the data, and nothing is
half-written.

Failures are injected into real requests: a statement or the COMMIT of a multi-row write
raises the error SQLAlchemy raises when the connection drops, and a second connection
holds the database's write lock longer than the app is willing to wait.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, ProgrammingError

from clinic.auth.sessions import SESSION_ID_KEY
from clinic.domain.indications import Indication
from clinic.extensions import db
from clinic.models import ProtocolTemplate
from tests.support.auth import act_as
from tests.support.forms import form_values
from tests.support.protocols import start_plan
from tests.support.snapshots import changes, database_rows
from tests.support.world import World

# Rows the request may add whatever happens (none today; the trail of other features).
UNTOUCHED_BY_DESIGN = ("audit_events", "user_sessions")
CALM_SAVE_PAGE = "We could not save this"
NOTHING_CHANGED = "Nothing was changed. Please try again in a moment."


class ConnectionDropped(Exception):
    """Stands in for the driver's error when the server goes away mid-statement."""


def dropped(statement: str) -> OperationalError:
    """The error SQLAlchemy raises when the connection is lost during `statement`."""
    return OperationalError(statement, None, ConnectionDropped("server closed the connection"))


@contextmanager
def failing(app: Flask, *, statement_containing: str | None = None) -> Iterator[list[str]]:
    """Make the app's database fail: on the first statement containing the given text, or
    (with None) at COMMIT, after every row of the request has been sent. Yields the
    statements that ran."""
    with app.app_context():
        engine = db.engine
    ran: list[str] = []

    def on_statement(_conn, _cursor, statement, *_args) -> None:
        ran.append(statement)
        if statement_containing and statement_containing in statement:
            raise dropped(statement)

    def on_commit(_conn) -> None:
        raise dropped("COMMIT")

    event.listen(engine, "before_cursor_execute", on_statement)
    if statement_containing is None:
        event.listen(engine, "commit", on_commit)
    try:
        yield ran
    finally:
        event.remove(engine, "before_cursor_execute", on_statement)
        if statement_containing is None:
            event.remove(engine, "commit", on_commit)


def log_session_form(client, **answers: str) -> dict[str, str]:
    values = form_values(client.get("/diary/log").get_data(as_text=True))
    return {
        **values,
        "pain_during": "2",
        "pain_after": "1",
        "bleeding": "none",
        "sharp_pain": "no",
        "csrf_token": client.fetch_csrf_token(),
        **answers,
    }


def assert_calm_503(response, *, saving: bool = True) -> str:
    html = response.get_data(as_text=True)
    assert response.status_code == 503, response.status_code
    assert response.headers["Retry-After"].isdigit()
    assert response.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert "Please try again in a moment." in html
    if saving:
        assert CALM_SAVE_PAGE in html and NOTHING_CHANGED in html
    assert "Traceback" not in html and "OperationalError" not in html
    return html


def test_a_red_flag_entry_failing_half_way_saves_nothing(
    app: Flask, client, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """A session that raises a red flag writes the entry, then its flag, then the summary.
    The connection drops when the flag is written (the entry is already sent): the patient
    sees the calm 503 page, no entry, flag or summary change is left behind, and the log
    names the failure without anything the patient typed."""
    start_plan(app, world.patient.patient_id, world.clinician.id)
    act_as(client, world.patient.id)
    data = log_session_form(client, pain_during="9", note="Private words about my evening")
    before = database_rows(app, exclude=UNTOUCHED_BY_DESIGN)

    with (
        caplog.at_level(logging.WARNING),
        failing(app, statement_containing="INSERT INTO red_flags") as ran,
    ):
        response = client.post("/diary/log", data=data)

    assert any(s.startswith("INSERT INTO diary_entries") for s in ran)  # failed half-way
    assert_calm_503(response)
    assert changes(before, database_rows(app, exclude=UNTOUCHED_BY_DESIGN)) == {}
    logged = caplog.text
    assert "database unavailable during POST /diary/log" in logged
    assert "Private words" not in logged and world.patient.name not in logged

    # The failure was the only obstacle: the same form, sent again, is saved.
    assert client.post("/diary/log", data=data).status_code == 302


def test_a_protocol_start_failing_at_commit_saves_nothing(app: Flask, client, world: World) -> None:
    """Starting a protocol writes the protocol, its version, every stage, its first event
    and the patient's summary; when the COMMIT itself fails, none of it is kept."""
    start_plan(app, world.other_patient.patient_id, world.clinician.id)  # seeds the library
    with app.app_context():
        # The vaginismus template, which starts with nothing more to fill in: any template
        # (unordered) could be one whose start is refused for a missing surgeon's direction
        # or radiotherapy date, and then no stage is ever written (seen on PostgreSQL).
        template_id = db.session.scalars(
            db.select(ProtocolTemplate.id).where(
                ProtocolTemplate.clinic_id == world.clinic_a,
                ProtocolTemplate.indication == Indication.VAGINISMUS,
            )
        ).first()
    act_as(client, world.clinician.id)
    url = f"/patients/{world.patient.patient_id}/protocol/new?template={template_id}"
    data = {**form_values(client.get(url).get_data(as_text=True)), "action": "save"}
    before = database_rows(app, exclude=UNTOUCHED_BY_DESIGN)

    with failing(app) as ran:
        response = client.post(url, data=data)

    assert sum(s.startswith("INSERT INTO protocol_stages") for s in ran) >= 1
    assert_calm_503(response)
    assert changes(before, database_rows(app, exclude=UNTOUCHED_BY_DESIGN)) == {}
    assert client.post(url, data=data).status_code == 302


def test_a_page_whose_reads_fail_is_a_calm_503(
    app: Flask, client, world: World, as_clinician
) -> None:
    """A page (no saving involved) whose database goes away says so plainly, with a 503."""
    with failing(app, statement_containing="FROM patients"):
        response = client.get("/patients/")
    html = assert_calm_503(response, saving=False)
    assert "This page is not available right now" in html


@pytest.mark.parametrize(
    "unreachable",
    ["sqlite-in-missing-folder", "postgresql-on-closed-port"],
)
def test_an_unreachable_database_gives_503_pages_and_health(
    tmp_path: Path, unreachable: str, make_app: Callable[..., Flask]
) -> None:
    """With no database at all (a real failure to connect), a signed-in page and a form
    answer the calm 503 page, never a 500, and /healthz says 503."""
    url = {
        "sqlite-in-missing-folder": f"sqlite:///{tmp_path / 'missing' / 'db.sqlite3'}",
        "postgresql-on-closed-port": "postgresql+psycopg://nobody@127.0.0.1:1/none"
        "?connect_timeout=2",
    }[unreachable]
    broken = make_app(url=url)
    client = broken.test_client()
    with client.session_transaction() as session:
        # A signed-in browser: finding its session and account needs the database.
        session["_user_id"] = "1:some-generation"
        session[SESSION_ID_KEY] = "some-token"
    assert_calm_503(client.get("/patients/"), saving=False)
    assert client.get("/healthz").status_code == 503
    with client.session_transaction() as session:
        session.clear()
    assert_calm_503(client.post("/login", data={"email": "a@b.example", "password": "x"}))


@contextmanager
def write_lock_held(database_url: str, clinic_id: int) -> Iterator[None]:
    """Another connection holds the write lock: SQLite's (BEGIN IMMEDIATE), or on
    PostgreSQL the clinic's row, which every diary entry refers to."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        other = sqlite3.connect(url.database, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
    else:
        other = psycopg.connect(url.set(drivername="postgresql").render_as_string(False))
        other.execute("SELECT id FROM clinics WHERE id = %s FOR UPDATE", (clinic_id,))
    try:
        yield
    finally:
        other.rollback()
        other.close()


@pytest.fixture
def impatient_app(database_url: str, make_app: Callable[..., Flask]) -> Flask:
    """The app on the test database, waiting 0.2 s for a lock instead of 5 s."""
    if make_url(database_url).get_backend_name() == "sqlite":
        overrides = {"SQLITE_BUSY_TIMEOUT_MS": 200}
    else:
        overrides = {
            "SQLALCHEMY_ENGINE_OPTIONS": {
                "pool_pre_ping": True,
                "hide_parameters": True,
                "connect_args": {"options": "-c lock_timeout=200"},
            }
        }
    return make_app(**overrides)


def test_a_write_lock_held_past_the_timeout_gives_503_not_500(
    app: Flask, impatient_app: Flask, world: World
) -> None:
    """While another connection holds the write lock longer than the app waits, logging a
    session answers the calm 503 page (not a 500) and saves nothing; once the lock is
    released, the same form is saved."""
    start_plan(app, world.patient.patient_id, world.clinician.id)
    client = impatient_app.test_client()
    act_as(client, world.patient.id)
    data = log_session_form(client)
    before = database_rows(app, exclude=UNTOUCHED_BY_DESIGN)

    with write_lock_held(impatient_app.config["SQLALCHEMY_DATABASE_URI"], world.clinic_a):
        response = client.post("/diary/log", data=data)

    assert_calm_503(response)
    assert changes(before, database_rows(app, exclude=UNTOUCHED_BY_DESIGN)) == {}
    assert client.post("/diary/log", data=data).status_code == 302


def test_other_database_errors_stay_server_errors(
    app: Flask, client, world: World, as_clinician
) -> None:
    """Only "not now" failures become 503: a database error that means a bug (here a
    statement the database refuses as malformed) is still a 500, so it is not hidden
    behind "try again"."""
    with app.app_context():
        engine = db.engine

    def malformed(_conn, _cursor, statement, *_args) -> None:
        if "FROM patients" in statement:
            raise ProgrammingError(statement, None, ConnectionDropped("syntax error"))

    event.listen(engine, "before_cursor_execute", malformed)
    try:
        with pytest.raises(ProgrammingError):  # TESTING propagates unhandled errors
            client.get("/patients/")
    finally:
        event.remove(engine, "before_cursor_execute", malformed)


def test_a_missing_table_or_column_stays_a_server_error(
    app: Flask, client, world: World, as_clinician
) -> None:
    """A statement naming a table the database does not have (a migration not run, a typo
    in a query) is a bug, not an outage, on either engine: SQLite reports it as an
    OperationalError, as it does a locked database, yet it must not hide behind the calm
    503 ("try again in a moment") while every retry fails the same way."""
    with app.app_context():
        engine = db.engine

    def misnamed(_conn, _cursor, statement, parameters, *_args) -> tuple:
        return statement.replace("FROM patients", "FROM patients_never_migrated"), parameters

    event.listen(engine, "before_cursor_execute", misnamed, retval=True)
    try:
        with pytest.raises((OperationalError, ProgrammingError)):  # TESTING propagates it
            client.get("/patients/")
    finally:
        event.remove(engine, "before_cursor_execute", misnamed)

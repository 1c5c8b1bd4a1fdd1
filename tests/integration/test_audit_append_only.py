"""The audit trail is append-only: the ORM refuses to change or delete an event, and on a
migrated database (SQLite or PostgreSQL, whichever the suite runs on) triggers refuse a
raw UPDATE or DELETE from any code path or console.

The shared test database is built with `create_all`, which makes no triggers, so the
trigger tests build their own database through the migrations.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from clinic import create_app
from clinic.extensions import db
from clinic.models import AuditEvent
from clinic.models.security import AuditIsAppendOnly
from tests.support.apps import config_for_tests
from tests.support.databases import temporary_database
from tests.support.world import World

# A row as plain SQL writes it (every column the table requires).
INSERT = (
    "INSERT INTO audit_events (at, action, actor_role, object_type, outcome, ip, detail) "
    "VALUES (CURRENT_TIMESTAMP, '{action}', '', '', 'ok', '', '{{}}')"
)


def add_event(app: Flask, world: World) -> int:
    with app.app_context():
        event = AuditEvent(clinic_id=world.clinic_a, action="patient.view", patient_id=1)
        db.session.add(event)
        db.session.commit()
        return event.id


def test_the_orm_refuses_to_change_an_event(app: Flask, world: World) -> None:
    """Changing a stored event and flushing raises; the event stays as written."""
    event_id = add_event(app, world)
    with app.app_context():
        event = db.session.get(AuditEvent, event_id)
        event.action = "nothing.happened"
        with pytest.raises(AuditIsAppendOnly):
            db.session.flush()
        db.session.rollback()
        assert db.session.get(AuditEvent, event_id).action == "patient.view"


def test_the_orm_refuses_to_delete_an_event(app: Flask, world: World) -> None:
    """Deleting a stored event and flushing raises; the event is still there."""
    event_id = add_event(app, world)
    with app.app_context():
        db.session.delete(db.session.get(AuditEvent, event_id))
        with pytest.raises(AuditIsAppendOnly):
            db.session.flush()
        db.session.rollback()
        assert db.session.get(AuditEvent, event_id) is not None


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """An app on a database built by the migrations (with their triggers), holding one
    audit event with id 1."""
    with temporary_database(tmp_path_factory.mktemp("migrated")) as url:
        app = create_app(config_for_tests(url))
        with app.app_context():
            upgrade()
            with db.engine.begin() as conn:
                conn.execute(text(INSERT.format(action="x")))
        yield app
        with app.app_context():
            db.engine.dispose()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET action = 'changed' WHERE id = 1",
        "UPDATE audit_events SET detail = '{}'",
        "DELETE FROM audit_events WHERE id = 1",
        "DELETE FROM audit_events",
    ],
)
def test_the_database_refuses_raw_updates_and_deletes(migrated: Flask, statement: str) -> None:
    """Plain SQL that would change or remove audit rows fails with the trigger's message,
    and the row is untouched."""
    with migrated.app_context():
        with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
            conn.execute(text(statement))
        with db.engine.connect() as conn:
            rows = conn.execute(text("SELECT id, action FROM audit_events")).all()
        assert [tuple(row) for row in rows] == [(1, "x")]


def test_the_database_still_takes_new_events(migrated: Flask) -> None:
    """The triggers refuse changes only: appending works."""
    with migrated.app_context():
        with db.engine.begin() as conn:
            conn.execute(text(INSERT.format(action="y")))
            count = conn.execute(text("SELECT count(*) FROM audit_events")).scalar_one()
        assert count >= 2


def test_triggers_exist_only_where_the_migrations_ran(tmp_path: Path) -> None:
    """A sanity check on the test above: the same UPDATE succeeds on a `create_all`
    database, so the refusal really comes from the migration's trigger."""
    with temporary_database(tmp_path) as url:
        app = create_app(config_for_tests(url))
        with app.app_context():
            db.create_all()
            with db.engine.begin() as conn:
                conn.execute(text(INSERT.format(action="x")))
                conn.execute(text("UPDATE audit_events SET action = 'changed'"))
                assert conn.execute(text("SELECT action FROM audit_events")).scalar_one() == (
                    "changed"
                )
            db.drop_all()
            db.engine.dispose()

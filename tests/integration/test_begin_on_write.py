"""PostgreSQL connections read outside a transaction and open one at the first write
(clinic.core.transactions): a page that only reads sends no BEGIN and no ROLLBACK, its
audit row is a transaction of its own, and everything a unit of work writes is still one
transaction, committed or rolled back whole, with its row locks held to the end."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from psycopg.pq import TransactionStatus
from sqlalchemy import event, func, select, update
from sqlalchemy.exc import DBAPIError

from clinic.access import public
from clinic.audit.log import audited
from clinic.core import transactions, uow
from clinic.core.uow import discard, unit_of_work
from clinic.extensions import db
from clinic.models import AuditEvent, Patient
from tests.support.databases import server_url
from tests.support.world import World

pytestmark = pytest.mark.skipif(
    server_url() is None,
    reason="PostgreSQL's transactions: set CLINIC_TEST_DATABASE_URL to run this",
)


@contextmanager
def statuses(app: Flask) -> Iterator[list[tuple[str, TransactionStatus]]]:
    """Each statement the app sends, with its connection's transaction status just before
    it went (IDLE: outside any transaction; INTRANS: inside one)."""
    seen: list[tuple[str, TransactionStatus]] = []

    def note(_conn, cursor, statement, *_args) -> None:
        # Runs after the app's own listener, which may just have asked for a transaction:
        # what decides is whether the connection is still in autocommit.
        connection = cursor.connection
        status = connection.info.transaction_status
        if status == TransactionStatus.IDLE and not connection.autocommit:
            status = TransactionStatus.INTRANS  # psycopg sends BEGIN first
        seen.append((statement.split()[0].upper(), status))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def test_a_page_that_only_reads_sends_every_statement_outside_a_transaction(
    app: Flask, client: FlaskClient, as_clinician, world: World
) -> None:
    """The dashboard reads the session, the caseload's version and the table, and writes
    its audit row: all outside a transaction (no BEGIN, no ROLLBACK, no COMMIT), the row
    committed by itself and kept."""
    client.get("/dashboard/")  # the session's once-a-minute activity write happens here
    with app.app_context():
        before = db.session.scalar(select(func.count(AuditEvent.id)))
    commits: list[object] = []

    def count_commit(connection: object) -> None:
        commits.append(connection)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "commit", count_commit)
    try:
        with statuses(app) as seen:
            assert client.get("/dashboard/").status_code == 200
    finally:
        event.remove(engine, "commit", count_commit)
    assert commits == []  # nothing for the unit of work to commit
    assert [kind for kind, _ in seen][-1] == "INSERT"
    assert {status for _, status in seen} == {TransactionStatus.IDLE}, seen
    with app.app_context():
        assert db.session.scalar(select(func.count(AuditEvent.id))) == before + 1


def test_a_unit_of_work_that_writes_is_one_transaction_from_its_first_write(
    app: Flask, world: World
) -> None:
    """Reads before the first write run alone; the first write and everything after it,
    reads included, run in one transaction; a failure after two writes keeps neither."""
    patient_id = world.patient.patient_id
    with app.app_context():
        original = db.session.get_one(Patient, patient_id).name_to_use
        db.session.close()
        with statuses(app) as seen, pytest.raises(RuntimeError), unit_of_work():
            db.session.get_one(Patient, patient_id)
            db.session.execute(
                update(Patient).where(Patient.id == patient_id).values(name_to_use="First")
            )
            db.session.execute(
                update(Patient).where(Patient.id == patient_id).values(name_to_use="Second")
            )
            db.session.scalar(select(Patient.name_to_use).where(Patient.id == patient_id))
            raise RuntimeError("the unit fails after two writes")
        kinds = [kind for kind, _ in seen]
        first_write = kinds.index("UPDATE")
        assert kinds[:first_write] and kinds.count("UPDATE") == 2
        assert {status for _, status in seen[:first_write]} == {TransactionStatus.IDLE}
        assert {status for _, status in seen[first_write:]} == {TransactionStatus.INTRANS}
        db.session.close()
        assert db.session.get_one(Patient, patient_id).name_to_use == original
        # And the connection reads outside a transaction again.
        with statuses(app) as after:
            db.session.scalar(select(func.count(Patient.id)))
        assert after == [("SELECT", TransactionStatus.IDLE)]


def test_a_locking_read_holds_its_lock_until_the_unit_ends(
    app: Flask, make_app, world: World
) -> None:
    """SELECT ... FOR UPDATE opens the transaction, so the row stays locked to the end of
    the unit: another connection asking for it without waiting is refused meanwhile."""
    patient_id = world.patient.patient_id
    other = make_app()
    with app.app_context(), unit_of_work():
        db.session.execute(select(Patient.id).where(Patient.id == patient_id).with_for_update())
        with other.app_context():
            with pytest.raises(DBAPIError) as refused:
                db.session.execute(
                    select(Patient.id).where(Patient.id == patient_id).with_for_update(nowait=True)
                )
            assert isinstance(refused.value.orig, psycopg.errors.LockNotAvailable)
            db.session.rollback()


def test_a_connection_cut_while_it_sat_idle_is_replaced_before_it_is_lent(
    app: Flask, world: World
) -> None:
    """The server ends a pooled connection while it sits unused: the next checkout after
    `PING_AFTER_IDLE` pings it, finds it gone and lends a new one; the query works."""
    with app.app_context():
        pid = db.session.scalar(select(func.pg_backend_pid()))
        db.session.close()
        with psycopg.connect(
            db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False),
            autocommit=True,
        ) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        time.sleep(transactions.PING_AFTER_IDLE * 2)
        assert db.session.scalar(select(func.count(Patient.id))) >= 1
        assert db.session.scalar(select(func.pg_backend_pid())) != pid


def test_a_connection_cut_while_a_request_held_it_quietly_is_replaced(
    app: Flask, client: FlaskClient, as_clinician, world: World
) -> None:
    """A request holds a connection without a word to the server (a PDF, an email) while
    the server ends it, then gives it back: the next request does not take it unchecked
    (the ping counts from the connection's last statement, not its return to the pool)."""
    assert client.get("/dashboard/").status_code == 200
    with app.app_context():
        engine = db.engine
    engine.pool.dispose()  # the one connection below is the pool's
    with engine.connect() as held:
        pid = held.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        with psycopg.connect(
            engine.url.set(drivername="postgresql").render_as_string(hide_password=False),
            autocommit=True,
        ) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        time.sleep(transactions.PING_AFTER_IDLE * 3)
    assert client.get("/dashboard/").status_code == 200


def test_an_isolation_level_sqlalchemy_was_given_is_kept(app: Flask) -> None:
    """A connection told AUTOCOMMIT runs what cannot run in a transaction (VACUUM); one told
    REPEATABLE READ keeps it after a commit."""
    with app.app_context():
        engine = db.engine
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM audit_events")
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
        conn.exec_driver_sql("SELECT 1")
        conn.commit()
        level = conn.exec_driver_sql("SHOW transaction_isolation").scalar()
        assert level == "repeatable read"


def _probe(make_app) -> Flask:
    """The app with two audited pages made for these tests: one that discards its unit
    and still answers 200, one that only takes a row lock."""
    probe = make_app()

    @public
    @audited("probe.discarded")
    def discarded() -> str:
        discard()  # a refusal said on a page that still answers 200
        return "ok"

    @public
    @audited("probe.locked")
    def locked() -> str:
        db.session.execute(select(Patient.id).limit(1).with_for_update())
        return "ok"

    probe.add_url_rule("/probe/discarded", view_func=discarded)
    probe.add_url_rule("/probe/locked", view_func=locked)
    uow.init_app(probe)
    return probe


def _events(app: Flask, action: str) -> int:
    with app.app_context():
        return db.session.scalar(
            select(func.count(AuditEvent.id)).where(AuditEvent.action == action)
        )


def test_a_page_view_row_goes_with_its_unit(make_app, world: World) -> None:
    """The row of a page whose unit was discarded is not kept (as on SQLite); the row of a
    page that only took a row lock is committed with that unit's transaction."""
    probe = _probe(make_app)
    client = probe.test_client()
    assert client.get("/probe/discarded").status_code == 200
    assert client.get("/probe/locked").status_code == 200
    assert _events(probe, "probe.discarded") == 0
    assert _events(probe, "probe.locked") == 1

"""The app behind PgBouncer in transaction pooling mode (a real `pgbouncer`, 1.18, in front
of the run's PostgreSQL), with `CLINIC_DATABASE_PGBOUNCER=transaction`: migrations, sign-in,
diary entries, the dashboard and the worker sending mail all work while many client
connections share a few server connections and every statement runs far more often than
psycopg's prepare threshold (5). Without the setting, two web processes sharing a server
connection break on psycopg's prepared statements, so the setting is what makes it work.

PostgreSQL only (PgBouncer speaks PostgreSQL's protocol): skipped on SQLite.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import ProgrammingError

from clinic.extensions import db
from clinic.models import DiaryEntry
from clinic.models.outbox import MessageStatus
from tests.support import pgbouncer
from tests.support.auth import sign_in
from tests.support.databases import server_url, temporary_database
from tests.support.forms import form_values
from tests.support.outbox import post_messages
from tests.support.protocols import start_plan
from tests.support.smtp import SmtpSink
from tests.support.worker import outbox_rows, running_worker, wait_for, worker_environment
from tests.support.world import World

pytestmark = pytest.mark.skipif(
    server_url() is None,
    reason="PgBouncer is for PostgreSQL: set CLINIC_TEST_DATABASE_URL to run this",
)

# More than psycopg's prepare_threshold (5): a statement run this often would be prepared.
TIMES = 8


@pytest.fixture(scope="module")
def bouncer(database_url: str, session_app: Flask) -> Iterator[pgbouncer.PgBouncer]:
    """PgBouncer in transaction mode offering the run's database (schema built by
    `session_app`) as `pooled` (3 server connections) and `single` (1), and an empty
    database of its own as `fresh`."""
    if not pgbouncer.available():
        if os.environ.get("CI"):
            pytest.fail("pgbouncer is not installed (.ci/system-deps installs it)")
        pytest.skip("pgbouncer is not installed (apt-get install pgbouncer; CI has it)")
    with (
        temporary_database(Path()) as fresh,
        pgbouncer.running_pgbouncer(
            {"pooled": (database_url, 3), "single": (database_url, 1), "fresh": (fresh, 1)}
        ) as running,
    ):
        yield running


@pytest.fixture
def behind(bouncer: pgbouncer.PgBouncer, make_app: Callable[..., Flask]) -> Callable[..., Flask]:
    """Apps on a database through PgBouncer: `behind("pooled", DATABASE_PGBOUNCER=...)`."""

    def build(name: str, **settings: object) -> Flask:
        return make_app(url=bouncer.url(name), **settings)

    return build


def test_migrations_run_through_pgbouncer(behind: Callable[..., Flask]) -> None:
    """`flask db upgrade` through PgBouncer builds the schema of an empty database (each
    migration's DDL in its own transaction, on whichever server connection it gets)."""
    app = behind("fresh", DATABASE_PGBOUNCER="transaction")
    with app.app_context():
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert {"users", "diary_entries", "outbox_messages", "alembic_version"} <= tables
        assert db.session.scalar(text("SELECT count(*) FROM alembic_version")) == 1
        db.session.remove()


def test_sign_in_diary_and_dashboard_work_over_shared_server_connections(
    app: Flask, world: World, behind: Callable[..., Flask]
) -> None:
    """Four browsers at once (threads, each with its own connection from the app's pool),
    two web processes (two apps, two pools) on three server connections: patients sign in
    and log sessions, clinicians sign in and open the dashboard, each many times. Every
    answer is right and every entry is stored once."""
    start_plan(app, world.patient.patient_id, world.clinician.id)
    start_plan(app, world.other_patient.patient_id, world.clinician.id)
    web = [
        behind("pooled", DATABASE_PGBOUNCER="transaction", DATABASE_POOL_SIZE=4),
        behind("pooled", DATABASE_PGBOUNCER="transaction", DATABASE_POOL_SIZE=4),
    ]
    failures: list[str] = []

    def patient(web_app: Flask, email: str) -> None:
        client = web_app.test_client()
        if sign_in(client, email).status_code != 302:
            failures.append(f"{email} could not sign in")
            return
        for time in range(TIMES):
            form = form_values(client.get("/diary/log").get_data(as_text=True))
            # A note of its own each time: the same answers again within half an hour are
            # held as a repeat (Back, then Save) instead of saved.
            form.update(
                pain_during="2",
                pain_after="1",
                bleeding="none",
                sharp_pain="no",
                note=f"session {time + 1}",
            )
            answer = client.post("/diary/log", data=form)
            if answer.status_code != 302:
                failures.append(f"diary POST answered {answer.status_code}")

    def clinician(web_app: Flask) -> None:
        client = web_app.test_client()
        if sign_in(client, world.clinician.email).status_code != 302:
            failures.append("the clinician could not sign in")
            return
        for _ in range(TIMES):
            page = client.get("/dashboard/")
            if page.status_code != 200 or "Patient" not in page.get_data(as_text=True):
                failures.append(f"dashboard answered {page.status_code}")

    threads = [
        threading.Thread(target=patient, args=(web[0], world.patient.email)),
        threading.Thread(target=patient, args=(web[1], world.other_patient.email)),
        threading.Thread(target=clinician, args=(web[0],)),
        threading.Thread(target=clinician, args=(web[1],)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    with app.app_context():
        stored = db.session.scalar(select(func.count()).select_from(DiaryEntry))
    assert stored == 2 * TIMES


def test_the_worker_sends_mail_through_pgbouncer(
    app: Flask,
    world: World,
    bouncer: pgbouncer.PgBouncer,
    sink: SmtpSink,
    queue_url: str,
    tmp_path: Path,
) -> None:
    """A real worker (`huey_consumer`, two threads) whose database is PgBouncer in
    transaction mode claims, sends and marks three batches of messages (its statements
    each run well past the prepare threshold): each arrives once, each is marked sent."""
    env = worker_environment(
        bouncer.url("pooled"),
        queue_url,
        sink.port,
        tmp_path,
        CLINIC_DATABASE_PGBOUNCER="transaction",
    )
    prefix = uuid.uuid4().hex[:6]
    with running_worker(env, tmp_path) as worker:
        for batch in range(3):
            post_messages(app, world.clinic_a, TIMES, prefix=f"{prefix}-{batch}")
            wait_for(
                lambda b=batch: len(sink.received) >= TIMES * (b + 1),
                20,
                f"batch {batch} at the SMTP server",
            )
        wait_for(
            lambda: all(r.status == MessageStatus.SENT for r in outbox_rows(app)),
            10,
            "every message marked sent",
        )
        assert "prepared statement" not in worker.log
    recipients = [str(message["To"]) for message in sink.received]
    assert len(recipients) == len(set(recipients)) == 3 * TIMES


@pytest.mark.parametrize("setting", ["transaction", ""])
def test_without_the_setting_two_processes_on_one_server_connection_break(
    app: Flask, world: World, behind: Callable[..., Flask], setting: str
) -> None:
    """Two web processes behind PgBouncer with one server connection, each showing the
    dashboard more often than psycopg's prepare threshold. With the setting every page is
    shown. Without it (psycopg's default), the second process prepares its statements
    under the names the first one used on that same server connection, and PostgreSQL
    refuses: "prepared statement ... already exists"."""
    first, second = (behind("single", DATABASE_PGBOUNCER=setting) for _ in range(2))

    def dashboards(web_app: Flask) -> None:
        client = web_app.test_client()
        assert sign_in(client, world.clinician.email).status_code == 302
        for _ in range(TIMES):
            assert client.get("/dashboard/").status_code == 200

    dashboards(first)
    if setting == "transaction":
        dashboards(second)
    else:
        with pytest.raises(ProgrammingError, match="prepared statement"):
            dashboards(second)

"""Each process's connection pool (CLINIC_DATABASE_POOL_SIZE, _MAX_OVERFLOW, _POOL_TIMEOUT):
the settings reach the engine, and a request that finds every connection of its process
in use for longer than the pool timeout gets the calm 503 page (nothing saved, try again),
not a 500; once a connection is free again the same request works. A worker's pool
keeps one connection per thread it runs."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from huey.bin import huey_consumer
from sqlalchemy.engine import make_url

from clinic.extensions import db
from tests.support.auth import act_as
from tests.support.forms import form_values
from tests.support.protocols import start_plan
from tests.support.worker import CONSUMER, ROOT, worker_environment
from tests.support.world import World

UNAVAILABLE = "This page is not available right now"
NOT_SAVED = "We could not save this"


def _one_connection_app(make_app: Callable[..., Flask], database_url: str) -> Flask:
    if make_url(database_url).get_backend_name() == "sqlite":
        # The pool settings are PostgreSQL's; SQLite's pool takes the same options directly.
        return make_app(
            SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 1, "max_overflow": 0, "pool_timeout": 1}
        )
    return make_app(DATABASE_POOL_SIZE=1, DATABASE_MAX_OVERFLOW=0, DATABASE_POOL_TIMEOUT=1)


def test_a_request_that_waits_too_long_for_a_connection_gets_the_calm_503(
    app: Flask, world: World, make_app: Callable[..., Flask], database_url: str
) -> None:
    """A process allowed one connection, waiting 1 s for it: while something else in the
    process holds it, the patient's diary page and the diary POST answer 503 with
    Retry-After and the calm words; released, both work."""
    start_plan(app, world.patient.patient_id, world.clinician.id)
    web = _one_connection_app(make_app, database_url)
    client = web.test_client()
    act_as(client, world.patient.id)
    form = form_values(client.get("/diary/log").get_data(as_text=True))
    form.update(pain_during="2", pain_after="1", bleeding="none", sharp_pain="no")
    with web.app_context():
        engine = db.engine
    assert (engine.pool.size(), engine.pool.timeout()) == (1, 1)  # type: ignore[attr-defined]
    # Outside any app context (a request would share it): as another thread would hold it.
    held = engine.connect()
    try:
        page = client.get("/diary/log")
        saved = client.post("/diary/log", data=form)
    finally:
        held.close()
    for answer, words in ((page, UNAVAILABLE), (saved, NOT_SAVED)):
        assert answer.status_code == 503
        assert answer.headers["Retry-After"].isdigit()
        html = answer.get_data(as_text=True)
        assert words in html and "Traceback" not in html
    assert client.get("/diary/log").status_code == 200
    assert client.post("/diary/log", data=form).status_code == 302


@pytest.mark.parametrize(
    ("consumer", "arguments", "environment", "pool"),
    [
        (CONSUMER, ["-w", "3"], {}, "3"),
        (CONSUMER, ["-w", "3", "-k", "process"], {}, "1"),
        (CONSUMER, ["-w", "3"], {"CLINIC_DATABASE_POOL_SIZE": "5"}, "5"),
        # `python -m huey.bin.huey_consumer ...`: argv[0] is the module's file (review).
        (Path(huey_consumer.__file__), ["-w", "4"], {}, "4"),
    ],
)
def test_the_worker_keeps_a_connection_per_thread(
    tmp_path: Path,
    consumer: Path,
    arguments: list[str],
    environment: dict[str, str],
    pool: str,
) -> None:
    """`huey_consumer clinic.worker.huey -w 3` (threads) builds its app with a pool of 3
    connections, one per job running at once; process workers keep 1 each; a pool size
    set in the environment wins. (The worker module is imported as the consumer imports
    it, in a process of its own, with the consumer's command line.)"""
    script = (
        "import sys; sys.argv = [sys.argv[1], 'clinic.worker.huey', *sys.argv[2:]]; "
        "import clinic.worker as w; print(w.app.config['DATABASE_POOL_SIZE'])"
    )
    env = worker_environment(f"sqlite:///{tmp_path / 'db.sqlite3'}", "", 25, tmp_path)
    answer = subprocess.run(  # noqa: S603 - our own module, fixed arguments
        [sys.executable, "-c", script, str(consumer), *arguments],
        env={**env, **environment},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert answer.stdout.strip() == pool


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that accepts connections and never answers (a database host stuck under
    load, a half-open network path)."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.listen(8)
        yield server.getsockname()[1]


def test_a_database_that_never_answers_gives_the_calm_503(
    make_app: Callable[..., Flask], silent_server: int
) -> None:
    """With the database's host accepting connections but saying nothing, a page gives up
    after CLINIC_DATABASE_CONNECT_TIMEOUT and answers the calm 503 (before, it hung until
    gunicorn killed the worker, and the person saw nothing useful)."""
    web = make_app(
        url=f"postgresql+psycopg://clinic@127.0.0.1:{silent_server}/clinic",
        DATABASE_CONNECT_TIMEOUT=1,
    )
    client = web.test_client()
    health = client.get("/healthz")
    assert health.status_code == 503 and health.json == {
        "status": "unavailable",
        "database": "unreachable",
    }
    form = form_values(client.get("/login").get_data(as_text=True))  # no database needed
    form.update(email="someone@example.org", password="a password of theirs")
    signing_in = client.post("/login", data=form)
    assert signing_in.status_code == 503
    assert NOT_SAVED in signing_in.get_data(as_text=True)

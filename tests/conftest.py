"""The suite's fixtures: one app and database per test run, emptied after every test; the
world of clinics and people most tests act in, and its client signed in as one of them;
apps with other settings; a patient on a protocol; the access matrix's objects; progress
reports as printed.

Only fixtures live here, and the hook that keeps some tests in one process. What they are
built from (and what a test needs as a plain function, e.g. `act_as` inside a hypothesis
test) lives in tests/support/, and tests import it from there, never from this file
(tests/unit/test_suite_layout.py keeps it so).

The schema is built with `create_all` for speed; tests/integration/test_migrations.py proves
the migrations build exactly the same schema.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import settings

# Before the app is imported: tests never need (or write) a real secret key file.
os.environ["CLINIC_ENV"] = "testing"
os.environ.setdefault("SECRET_KEY", "test-only-secret-key")

from clinic import create_app
from clinic.core.mail import Message
from clinic.domain.protocols import EventKind
from clinic.extensions import db
from tests.support.access_matrix import build_targets
from tests.support.apps import config_for_tests
from tests.support.auth import act_as
from tests.support.client import BrowserLikeClient
from tests.support.databases import temporary_database
from tests.support.mail import sent_messages
from tests.support.protocols import start_plan
from tests.support.reports import RenderedReport, ReportRenderer, render_progress_report
from tests.support.smtp import SmtpSink, smtp_sink
from tests.support.worker import queue_shared_with_worker
from tests.support.world import Person, World, build_world

# Tests that must run in one process when the suite is split over several (`make test`
# runs `pytest -n 2 --dist loadgroup`); every other test goes wherever a process is free.
# - The browser journeys share one served demo app per process, and some read what an
#   earlier one left there: in one process they keep the order they were written in.
# - These modules build something costly once for all their tests (a wheel and a
#   virtualenv, a backup, the append-only triggers), or flush a Redis database their tests
#   share (the worker's queue): split, they would build it twice or flush each other's.
# - These start servers once for all their tests (PgBouncer; two gunicorn instances, a
#   worker and an SMTP server sharing one Redis database; the fault drills' private
#   PostgreSQL and gunicorn).
SHARED_PROCESS_MODULES = frozenset(
    {
        "tests/integration/test_packaging.py",
        "tests/integration/test_backup.py",
        "tests/integration/test_audit_append_only.py",
        "tests/integration/test_worker.py",
        "tests/integration/test_pgbouncer.py",
        "tests/integration/test_two_instances.py",
        "tests/integration/test_faults.py",
    }
)


def pytest_configure(config: pytest.Config) -> None:
    """Hypothesis without its per-example deadline: the suite runs in two processes beside
    browsers and servers on a shared 2-core machine, where an example that takes 20 ms
    alone can take 300 ms; timings never decide whether a test passes (README:
    Performance), and a slow rule is a benchmark's business."""
    settings.register_profile("suite", deadline=None)
    settings.load_profile("suite")


# tryfirst: pytest-xdist reads the groups in its own hook of the same name; called after
# it, the marks would come too late and every test would go wherever (which is what
# happened, silently, until tests/integration/test_process_groups.py).
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Name the process group of the tests that must share one (see above)."""
    for item in items:
        path = item.nodeid.split("::", 1)[0]
        if path.startswith("tests/e2e/"):
            item.add_marker(pytest.mark.xdist_group("browser"))
        elif path in SHARED_PROCESS_MODULES:
            item.add_marker(pytest.mark.xdist_group(path))


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database of its own for this run (SQLite, or PostgreSQL when
    CLINIC_TEST_DATABASE_URL is set), dropped at the end."""
    with temporary_database(tmp_path_factory.mktemp("db")) as url:
        yield url


@pytest.fixture(scope="session")
def session_app(database_url: str) -> Iterator[Flask]:
    """The app on the run's database, its schema built once; tests use `app`."""
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
    """A browser-like client of the app (POSTs carry a CSRF token), signed in as nobody."""
    return app.test_client()


@pytest.fixture
def world(app: Flask) -> World:
    """Two clinics with their staff and patients (see `World`), committed."""
    with app.app_context():
        built = build_world()
        db.session.commit()
    return built


@pytest.fixture
def as_clinician(client: FlaskClient, world: World) -> Person:
    """`client` signed in as the world's clinician at clinic A; gives that person."""
    act_as(client, world.clinician.id)
    return world.clinician


@pytest.fixture
def as_admin(client: FlaskClient, world: World) -> Person:
    """`client` signed in as the world's administrator of clinic A; gives that person."""
    act_as(client, world.admin.id)
    return world.admin


@pytest.fixture
def as_patient(client: FlaskClient, world: World) -> Person:
    """`client` signed in as the world's first portal patient; gives that person."""
    act_as(client, world.patient.id)
    return world.patient


@pytest.fixture
def mail(app: Flask) -> Iterator[list[Message]]:
    """The messages the app sends during the test, in order (empty at the start)."""
    sent = sent_messages(app)
    sent.clear()
    yield sent
    sent.clear()


@pytest.fixture
def make_app(database_url: str) -> Iterator[Callable[..., Flask]]:
    """A factory of apps with other settings than `app`: `make_app(KEY=value, ...)` on the
    run's database, or `make_app(url=...)` on another one. Their connections are closed
    after the test."""
    made: list[Flask] = []

    def make(*, url: str = database_url, **overrides: Any) -> Flask:
        made_app = create_app(config_for_tests(url, **overrides))
        made_app.test_client_class = BrowserLikeClient
        made.append(made_app)
        return made_app

    yield make
    for made_app in made:
        with made_app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def targets(app: Flask, world: World) -> dict[str, object]:
    """The objects of clinic A the access matrix's URLs name, by URL argument (see
    `tests.support.access_matrix.build_targets`)."""
    return build_targets(app, world)


@pytest.fixture
def on_protocol(app: Flask, world: World) -> int:
    """The world's patient on the clinic's vaginismus template, started 20 days ago at
    stage 1 (Size 1, 13 mm) and moved up to stage 2 (Size 2, 17 mm) five days ago; returns
    the protocol id."""
    return start_plan(app, world.patient.patient_id, world.clinician.id, [(EventKind.ADVANCE, 5)])


@pytest.fixture
def progress_report(app: Flask, world: World) -> ReportRenderer:
    """Render the world's patient's progress report on a protocol, by the world's clinician:
    `progress_report(protocol_id, assessment=..., plan=...)` gives its HTML and PDF."""

    def render(protocol_id: int, **text: str) -> RenderedReport:
        return render_progress_report(
            app, world.patient.patient_id, protocol_id, world.clinician.id, **text
        )

    return render


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    """An SMTP server on the loopback that keeps what it receives."""
    with smtp_sink() as running:
        yield running


@pytest.fixture
def queue_url(app: Flask, tmp_path: Path) -> Iterator[str]:
    """A SQLite queue file shared by this process and a worker process."""
    url = f"sqlite:///{tmp_path / 'queue.sqlite3'}"
    with queue_shared_with_worker(app, url):
        yield url

"""Faults under load, with real parts: gunicorn (three sync workers, production settings)
on a PostgreSQL cluster of the test's own (tests/support/private_postgres.py), migrated
with `flask db upgrade`, patients signed in through the real form, and threads posting the
diary's log form, each post with a key of its own and its answer kept.

- PostgreSQL stopped (`pg_ctl stop -m fast`, or crashed with `-m immediate`) in the
  middle of the posts and started again: every post answered as saved is stored exactly
  once, nothing is half-written (an entry without its audit event, a summary that is not
  what the entries make, a red flag without its alert in the outbox or the other way
  round), every post during the outage gets the app's own 503 page with Retry-After, and
  posts succeed again once the server is back, from the same gunicorn workers (no
  restart). A post refused with a 503 and sent
  again with the same key is stored once.
- A gunicorn worker killed (SIGKILL) in the middle of the posts: the master starts
  another; no acknowledged entry is lost or doubled.
- The huey worker killed in the instant after the SMTP server took a message of its
  batch, and another started: every message arrives, and only that one arrives twice,
  with the same Message-ID (what the README promises).

Runs in the suite's PostgreSQL pass (it brings its own server, so it needs PostgreSQL's
server programs, which that pass has: CI fails rather than skips without them). The long
versions, under wrk, are `make bench BENCH_ARGS="--faults only"` (tests/bench/faults.py).
"""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask

from clinic import create_app
from clinic.extensions import db
from clinic.models.outbox import MessageStatus
from tests.support.apps import config_for_tests
from tests.support.databases import server_url
from tests.support.diaries import saved_entry_id
from tests.support.drill import (
    NO_ANSWER,
    OK,
    OTHER,
    UNAVAILABLE,
    Cast,
    Gunicorn,
    Load,
    Outcome,
    Portal,
    app_environment,
    migrated_database,
    request,
    retry_unanswered,
    seed_patients,
    served,
    sign_in,
    stored,
)
from tests.support.outbox import add_messages
from tests.support.private_postgres import PrivatePostgres, private_postgres, server_binaries
from tests.support.smtp import SmtpSink
from tests.support.worker import Worker, outbox_rows, wait_for, worker_environment

pytestmark = pytest.mark.faults

PATIENTS = 6
THREADS = 6


@dataclass
class Drill:
    """The running drill: the private server, the app's database (for checks), the
    gunicorn serving it, and the signed-in patients."""

    postgres: PrivatePostgres
    url: str
    app: Flask
    cast: Cast
    server: Gunicorn
    portals: list[Portal]
    folder: Path


@pytest.fixture(scope="module")
def drill(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Drill]:
    """A private PostgreSQL with a migrated database, a clinic of six patients on a plan,
    gunicorn serving it and each patient signed in (one setup for the module)."""
    if server_url() is None:
        pytest.skip("a PostgreSQL drill: runs in the suite's PostgreSQL pass (it starts its own)")
    if server_binaries() is None:
        pytest.fail("PostgreSQL's server programs (initdb, pg_ctl) are missing: install postgresql")
    folder = tmp_path_factory.mktemp("faults")
    with private_postgres() as postgres:
        url = migrated_database(postgres, folder)
        app = create_app(config_for_tests(url))
        cast = seed_patients(app, PATIENTS)
        try:
            with served(app_environment(url, folder), folder) as server:
                portals = [sign_in(server.base, e, cast.password) for e in cast.patient_emails]
                yield Drill(postgres, url, app, cast, server, portals, folder)
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


@pytest.fixture(autouse=True)
def _server_up(drill: Drill) -> Iterator[None]:
    """Each drill starts with PostgreSQL up, and leaves it up even when it failed."""
    drill.postgres.ensure_running()
    yield
    drill.postgres.ensure_running()


def _problems(outcomes: list[Outcome]) -> list[Outcome]:
    return [o for o in outcomes if o.kind == OTHER]


def _assert_stored_once(drill: Drill, load: Load, retried: list[Outcome]) -> None:
    """Every post of `load` answered as saved (first time or on the retry) is stored
    exactly once, as the entry its answer named; nothing is stored under its keys that
    it did not post; nothing is half-written."""
    found = stored(drill.app, drill.cast.clinic_id)
    assert found.problems == []
    outcomes = list(load.outcomes)
    mine = {k: ids for k, ids in found.entry_ids_by_key.items() if k.startswith(load.prefix)}
    assert set(mine) <= {o.key for o in outcomes}
    assert all(len(ids) == 1 for ids in mine.values())
    for outcome in [o for o in outcomes if o.kind == OK] + retried:
        assert found.entry_ids_by_key.get(outcome.key) == [outcome.entry_id], outcome


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_entries_posted_across_a_postgres_restart_are_stored_once_and_whole(
    drill: Drill, mode: str
) -> None:
    """Six threads post the log form while PostgreSQL is stopped (`fast`: every
    connection ended, as a service manager stops it; `immediate`: a crash, recovered at
    the next start) and started again 1.5 s later. Each answer is a success (302 to
    the entry) or the app's 503 page with Retry-After, never a 500 or a dropped
    connection; posts succeed again after the start from the same worker processes; the
    posts refused are sent again with the same key and stored; the database then holds
    each saved entry once and whole."""
    workers_before = drill.server.worker_pids()
    load = Load(drill.portals, THREADS)
    load.start()
    try:
        load.wait_for(OK, 12, 0, 60)
        stopped = time.monotonic()
        drill.postgres.stop(mode)
        load.wait_for(UNAVAILABLE, 6, stopped, 20)
        time.sleep(max(0.0, 1.5 - (time.monotonic() - stopped)))
        drill.postgres.start()
        back = time.monotonic()
        load.wait_for(OK, 12, back, 60)
    finally:
        load.stop()
    outcomes = list(load.outcomes)
    kinds = Counter(o.kind for o in outcomes)
    assert _problems(outcomes) == [] and kinds[NO_ANSWER] == 0, kinds
    assert {o.retry_after for o in outcomes if o.kind == UNAVAILABLE} == {"10"}
    # Refusals come only while the server was away (or being taken away): once a post
    # sent after the start succeeded, every later one did.
    first_back = min(o.sent for o in outcomes if o.kind == OK and o.sent >= back)
    assert not [o for o in outcomes if o.sent > first_back and o.kind != OK]
    assert drill.server.worker_pids() == workers_before  # recovered without a restart

    retried = retry_unanswered(drill.portals, outcomes)
    assert {o.kind for o in retried} == {OK}
    _assert_stored_once(drill, load, retried)


def test_a_post_refused_during_the_outage_is_stored_once_when_sent_again(drill: Drill) -> None:
    """With PostgreSQL down, a post and a page both answer the app's 503 page (the form's
    "We could not save this", Retry-After: 10). Once it is back, the same form sent again
    (same key) is saved, and a third time shows the same entry: one entry for the key."""
    portal = drill.portals[0]
    drill.postgres.stop("fast")
    try:
        refused = portal.post("drill-retry-key")
        page = request(drill.server.base, "GET", "/diary/", cookie=portal.cookie)
    finally:
        drill.postgres.start()
    assert refused.status == 503 and "We could not save this" in refused.body
    assert refused.headers["retry-after"] == "10" and "Traceback" not in refused.body
    assert page.status == 503 and "This page is not available right now" in page.body
    first, again = portal.post("drill-retry-key"), portal.post("drill-retry-key")
    assert first.status == again.status == 302
    assert first.headers["location"] == again.headers["location"]
    assert stored(drill.app, drill.cast.clinic_id).entry_ids_by_key["drill-retry-key"] == [
        saved_entry_id(first.headers["location"])
    ]


def test_a_gunicorn_worker_killed_mid_load_loses_and_doubles_nothing(drill: Drill) -> None:
    """A gunicorn worker is SIGKILLed while six threads post: the master starts another,
    posts go on succeeding, the only posts without a success answer are those the dead
    worker held (no answer at all, never an error page), and once those are sent again
    with their keys every entry is stored exactly once."""
    load = Load(drill.portals, THREADS)
    load.start()
    try:
        load.wait_for(OK, 12, 0, 60)
        before = drill.server.worker_pids()
        killed = drill.server.kill_worker()
        after_kill = time.monotonic()
        wait_for(
            lambda: (
                len(drill.server.worker_pids() - before) == 1
                and len(drill.server.worker_pids()) == drill.server.workers
            ),
            60,
            "a new gunicorn worker in place of the killed one",
        )
        load.wait_for(OK, 12, after_kill, 60)
    finally:
        load.stop()
    assert killed not in drill.server.worker_pids()
    outcomes = list(load.outcomes)
    assert _problems(outcomes) == [] and not [o for o in outcomes if o.kind == UNAVAILABLE]
    assert sum(o.kind == NO_ANSWER for o in outcomes) <= 1  # a sync worker holds one request
    retried = retry_unanswered(drill.portals, outcomes)
    assert {o.kind for o in retried} <= {OK}
    _assert_stored_once(drill, load, retried)


def test_a_huey_worker_killed_just_after_the_server_took_a_message_doubles_only_that_one(
    drill: Drill, sink: SmtpSink, tmp_path: Path
) -> None:
    """60 messages wait in the outbox (on the private PostgreSQL, beside the alerts of
    the red flags posted before, which wait too); a worker sends them all.
    The SMTP server keeps the 20th and, before answering 250, the worker is SIGKILLed:
    the message was taken but never marked sent. Another worker, started at once, sends
    the rest once the dead worker's 2-second lease runs out. Counted by Message-ID:
    every message arrives, the 20th twice (the one in flight, which the README
    documents), every other once; every row ends "sent"."""
    add_messages(drill.app, drill.cast.clinic_id, 60, MessageStatus.PENDING)
    ids = [r.id for r in outbox_rows(drill.app)]
    env = worker_environment(
        drill.url,
        f"sqlite:///{tmp_path / 'queue.sqlite3'}",
        sink.port,
        tmp_path,
        CLINIC_OUTBOX_LEASE_SECONDS="2",
    )
    worker = Worker(env, tmp_path / "worker.log")
    in_flight: list[str] = []

    def kill_at_20th(number: int) -> None:
        if number == 20 and worker.process is not None:
            in_flight.append(str(sink.received[-1]["Message-ID"]))
            os.kill(worker.process.pid, signal.SIGKILL)

    sink.handler.after_keeping = kill_at_20th
    worker.start()
    try:
        wait_for(
            lambda: worker.process is not None and worker.process.poll() is not None,
            60,
            "the worker killed at the 20th message",
        )
        sink.handler.after_keeping = None
        worker.start()
        wait_for(
            lambda: all(r.status == MessageStatus.SENT for r in outbox_rows(drill.app)),
            60,
            "every message marked sent",
        )
    except BaseException:
        print(f"--- worker log ---\n{worker.log}")
        raise
    finally:
        worker.stop()
    arrived = Counter(str(m["Message-ID"]) for m in sink.received)
    assert set(arrived) == {f"<outbox-{i}@clinic.test>" for i in ids}
    assert in_flight and {mid for mid, n in arrived.items() if n > 1} == set(in_flight)
    assert arrived[in_flight[0]] == 2

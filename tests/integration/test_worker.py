"""The real worker (`huey_consumer clinic.worker.huey`, a separate process, as production
runs it) sending the outbox to a real SMTP server on the loopback (aiosmtpd): each
message arrives once; a worker killed with SIGKILL in the middle of a batch and started
again sends every message exactly once; with the mail server down messages wait without
using an attempt and go out when it is back; with Redis down a page that posts a
message still answers, and a worker catches up.

The workers run without the minute's sweep (`--no-periodic`), so what arrives was sent
by the mechanism under test (a queued delivery, the start-up pass, the follow-up the
worker schedules for when a lease runs out or a retry falls due), in seconds.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
from flask import Flask

from clinic import queue
from clinic.models.outbox import MessageStatus
from clinic.outbox.delivery import UNREACHABLE
from tests.support.outbox import post_messages
from tests.support.smtp import SmtpSink, free_port, smtp_sink
from tests.support.worker import (
    Worker,
    outbox_rows,
    queue_shared_with_worker,
    running_worker,
    wait_for,
    worker_environment,
)
from tests.support.world import World

pytestmark = pytest.mark.worker

REDIS_URL = "redis://127.0.0.1:6379/13"  # a db of its own, flushed before and after
STARTED = "Huey consumer started"  # the consumer's log line as it starts its workers


def _environment(database_url: str, queue_url: str, port: int, tmp_path: Path, **extra: str):
    return worker_environment(database_url, queue_url, port, tmp_path, **extra)


def _arrived(sink: SmtpSink) -> Counter[str]:
    """How many times each recipient received a message."""
    return Counter(str(message["To"]) for message in list(sink.received))


def _recipients(prefix: str, count: int) -> set[str]:
    return {f"{prefix}.{n}@example.org" for n in range(count)}


def test_posted_messages_are_delivered_once_each(
    app: Flask, world: World, sink: SmtpSink, queue_url: str, database_url: str, tmp_path: Path
) -> None:
    """Messages posted (as a feature posts them: in a unit of work, delivery queued after
    its commit) reach the SMTP server once each, with distinct Message-IDs, and are
    marked sent with their bodies emptied."""
    env = _environment(database_url, queue_url, sink.port, tmp_path)
    with running_worker(env, tmp_path):
        post_messages(app, world.clinic_a, 10, prefix="once")
        wait_for(lambda: len(sink.received) >= 10, 20, "ten messages at the SMTP server")
        post_messages(app, world.clinic_a, 5, prefix="later")  # the worker is running now
        wait_for(lambda: len(sink.received) >= 15, 20, "five more")
    arrived = _arrived(sink)
    assert set(arrived) == _recipients("once", 10) | _recipients("later", 5)
    assert set(arrived.values()) == {1}
    assert len({m["Message-ID"] for m in sink.received}) == 15
    rows = outbox_rows(app)
    assert {r.status for r in rows} == {MessageStatus.SENT}
    assert {r.attempts for r in rows} == {1} and {r.body for r in rows} == {""}


def test_a_worker_killed_mid_batch_and_restarted_sends_each_message_once(
    app: Flask, world: World, sink: SmtpSink, queue_url: str, database_url: str, tmp_path: Path
) -> None:
    """The SMTP server holds the 5th message of 12 in DATA; the worker is SIGKILLed
    there; the server then answers 421 and keeps nothing. A new worker, started at once
    (before the dead worker's 5-second lease has run out), sends the 8 messages left as
    soon as the lease is over: each of the 12 arrives exactly once, the 8 the dead worker
    had claimed count two attempts, and nothing is left waiting."""
    sink.handler.hold_at = 5
    # A lease long enough that the new worker surely starts before it runs out (a worker
    # starts in about a second): its start-up pass finds nothing it may take.
    env = _environment(
        database_url, queue_url, sink.port, tmp_path, CLINIC_OUTBOX_LEASE_SECONDS="5"
    )
    with running_worker(env, tmp_path) as worker:
        post_messages(app, world.clinic_a, 12, prefix="kill")
        wait_for(sink.handler.held.is_set, 20, "the 5th message held by the SMTP server")
        worker.kill()
        sink.handler.release.set()  # the server answers 421 to the dead connection
        assert len(sink.received) == 4
        leased = [r for r in outbox_rows(app) if r.status == MessageStatus.SENDING]
        assert len(leased) == 8  # claimed by the dead worker, its lease still running
        lease_ends = min(r.claimed_until for r in leased if r.claimed_until)
        worker.start()
        wait_for(lambda: worker.log.count(STARTED) == 2, 30, "the new worker started")
        started_in_lease = datetime.now(UTC) < lease_ends - timedelta(seconds=0.5)
        wait_for(lambda: len(sink.received) >= 12, 20, "all 12 messages")
        wait_for(
            lambda: all(r.status == MessageStatus.SENT for r in outbox_rows(app)),
            10,
            "every message marked sent",
        )
        if started_in_lease:  # as always, unless the machine is slow to start a process
            # Its start-up pass could take none of them: it came back when the lease ran
            # out (the sweep is off, nothing was posted since).
            assert "deliver_outbox_when_due" in worker.log
    arrived = _arrived(sink)
    assert set(arrived) == _recipients("kill", 12) and set(arrived.values()) == {1}
    assert len({m["Message-ID"] for m in sink.received}) == 12
    # Sent before the kill: one attempt. Claimed by the dead worker, then sent: two.
    attempts = {r.recipient: r.attempts for r in outbox_rows(app)}
    assert {a for r, a in attempts.items() if int(r.split(".")[1].split("@")[0]) < 4} == {1}
    assert {a for r, a in attempts.items() if int(r.split(".")[1].split("@")[0]) >= 4} == {2}


def test_with_the_mail_server_down_messages_wait_and_go_out_when_it_is_back(
    app: Flask, world: World, queue_url: str, database_url: str, tmp_path: Path
) -> None:
    """Nobody listens on the SMTP port: posted messages stay waiting, with no attempt
    used and "mail server unreachable" as their last error; the worker tries again after
    the server retry (1 s here, a minute by default) by a follow-up it schedules itself.
    Once a server listens on the port, every message arrives once."""
    port = free_port()
    env = _environment(
        database_url, queue_url, port, tmp_path, CLINIC_OUTBOX_SERVER_RETRY_SECONDS="1"
    )
    with running_worker(env, tmp_path):
        post_messages(app, world.clinic_a, 5, prefix="down")

        def all_waiting() -> bool:
            rows = outbox_rows(app)
            return len(rows) == 5 and all(r.last_error.startswith(UNREACHABLE) for r in rows)

        wait_for(all_waiting, 20, "the messages tried and given back")
        rows = outbox_rows(app)
        assert {r.status for r in rows} <= {MessageStatus.PENDING, MessageStatus.SENDING}
        assert {r.attempts for r in rows if r.status == MessageStatus.PENDING} == {0}
        with smtp_sink(port) as sink:
            wait_for(lambda: len(sink.received) >= 5, 20, "the messages once the server is up")
            wait_for(
                lambda: all(r.status == MessageStatus.SENT for r in outbox_rows(app)),
                10,
                "every message marked sent",
            )
            arrived = _arrived(sink)
    assert set(arrived) == _recipients("down", 5) and set(arrived.values()) == {1}
    assert {r.attempts for r in outbox_rows(app)} == {1}


def test_with_redis_down_a_page_that_posts_a_message_still_works_and_a_worker_catches_up(
    app: Flask,
    world: World,
    sink: SmtpSink,
    make_app: Callable[..., Flask],
    database_url: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A web app whose queue is a Redis nobody listens on: asking for a password reset
    answers as usual (the queue's failure is logged, not raised), the message is written
    and waits in the outbox. A worker with a reachable queue, started later, sends it."""
    dead_redis = f"redis://127.0.0.1:{free_port()}/0"
    previous_app = queue._worker_app
    try:
        web = make_app(QUEUE_IMMEDIATE=False, QUEUE_URL=dead_redis)
        client = web.test_client()
        with caplog.at_level(logging.WARNING, logger="clinic.queue"):
            response = client.post("/password/forgot", data={"email": world.patient.email})
        assert response.status_code == 302 and "/password/forgot/sent" in response.location
        assert "task queue is unreachable" in caplog.text
    finally:
        queue.huey.immediate = True
        queue._worker_app = previous_app
    (row,) = outbox_rows(app)
    assert (row.status, row.attempts, row.recipient) == (
        MessageStatus.PENDING,
        0,
        world.patient.email,
    )

    queue_url = f"sqlite:///{tmp_path / 'queue.sqlite3'}"
    env = _environment(database_url, queue_url, sink.port, tmp_path)
    with running_worker(env, tmp_path):
        wait_for(lambda: len(sink.received) == 1, 20, "the waiting message, sent at start")
        # The server has the message before the worker commits its row as sent.
        wait_for(lambda: outbox_rows(app)[0].status == MessageStatus.SENT, 10, "marked sent")
    assert str(sink.received[0]["To"]) == world.patient.email


@pytest.fixture
def redis_queue(app: Flask) -> Iterator[str]:
    """A Redis database of its own on the local server (skips without one), flushed."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379 (CI starts one)")
    client.flushdb()
    try:
        with queue_shared_with_worker(app, REDIS_URL):
            yield REDIS_URL
    finally:
        client.flushdb()
        client.close()


def test_through_redis_a_posted_message_reaches_a_running_worker(
    app: Flask, world: World, sink: SmtpSink, redis_queue: str, database_url: str, tmp_path: Path
) -> None:
    """With the queue in Redis (production), a message posted while the worker runs is
    sent at once: the delivery asked for after the commit went through Redis (the sweep
    is off and nothing else was due)."""
    env = _environment(database_url, redis_queue, sink.port, tmp_path)
    with running_worker(env, tmp_path):
        post_messages(app, world.clinic_a, 1, prefix="first")
        wait_for(lambda: len(sink.received) == 1, 20, "the first message")
        # The start-up pass is over (it, or the queue, sent the first): the second can only
        # come through the queue.
        post_messages(app, world.clinic_a, 3, prefix=f"redis-{uuid.uuid4().hex[:6]}")
        wait_for(lambda: len(sink.received) == 4, 10, "three more through Redis")
    assert set(_arrived(sink).values()) == {1}


def test_a_second_worker_started_beside_the_first_sends_nothing_twice(
    app: Flask, world: World, sink: SmtpSink, queue_url: str, database_url: str, tmp_path: Path
) -> None:
    """Two workers on the same outbox and queue (two machines): 30 messages posted in
    three units arrive once each."""
    env = _environment(database_url, queue_url, sink.port, tmp_path)
    other = Worker(env, tmp_path / "second-worker.log")
    with running_worker(env, tmp_path):
        other.start()
        try:
            for batch in range(3):
                post_messages(app, world.clinic_a, 10, prefix=f"two-{batch}")
            wait_for(lambda: len(sink.received) >= 30, 30, "all 30 messages")
        finally:
            other.stop()
    arrived = _arrived(sink)
    assert len(arrived) == 30 and set(arrived.values()) == {1}

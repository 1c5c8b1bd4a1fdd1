"""Delivery's edge cases, in process: a message the transport cannot even take is refused
without stopping its batch; a message whose worker died on its last attempt is failed, not
claimed for ever; `next_due_at` names the next retry or lease end the worker comes back for;
a batch slower than its lease sends nothing twice (each claim is the worker's own)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

import clinic.outbox.delivery as delivery
from clinic.core.mail import FileTransport, Message
from clinic.core.uow import unit_of_work
from clinic.extensions import db
from clinic.models.outbox import MessageStatus, OutboxMessage
from clinic.models.types import utcnow
from clinic.outbox.delivery import DIED_SENDING, MAX_ATTEMPTS, deliver_due, next_due_at
from tests.support.outbox import add_messages, transport_in_use
from tests.support.world import World


def test_a_message_no_header_can_carry_is_refused_and_the_batch_goes_on(
    app: Flask, world: World, tmp_path: Path
) -> None:
    """An address with a line break cannot be written into an email: that message is
    refused (an attempt used, waiting longer), and the messages after it are sent."""
    bad = add_messages(app, world.clinic_a, 1, MessageStatus.PENDING, recipient="a@x.org\nBcc: b")
    good = add_messages(app, world.clinic_a, 2, MessageStatus.PENDING, recipient="c@example.org")
    with app.app_context(), transport_in_use(app, FileTransport(tmp_path, "no-reply@clinic.test")):
        done = deliver_due()
        assert (done.sent, done.refused) == (2, 1)
        rows = {m.id: m for m in db.session.scalars(sa.select(OutboxMessage))}
    assert rows[bad[0]].status == MessageStatus.PENDING and rows[bad[0]].attempts == 1
    assert rows[bad[0]].last_error == "could not be sent (ValueError)"
    assert {rows[i].status for i in good} == {MessageStatus.SENT}
    assert len(list(tmp_path.iterdir())) == 2


def test_a_message_whose_worker_died_on_its_last_attempt_is_failed(
    app: Flask, world: World
) -> None:
    """Left "sending" by a worker that died, on its last attempt, once the lease is over:
    failed (it may be what kills workers), not claimed again."""
    (message_id,) = add_messages(app, world.clinic_a, 1, MessageStatus.SENDING)
    with app.app_context():
        with unit_of_work():
            message = db.session.get(OutboxMessage, message_id)
            message.attempts = MAX_ATTEMPTS
            message.claimed_until = utcnow() - timedelta(seconds=1)
        assert deliver_due().sent == 0
        db.session.expire_all()
        message = db.session.get(OutboxMessage, message_id)
        assert (message.status, message.last_error) == (MessageStatus.FAILED, DIED_SENDING)


def test_next_due_is_the_earliest_retry_or_lease_end(app: Flask, world: World) -> None:
    """The worker comes back for the earliest of a waiting message's next attempt and a
    running lease's end; with nothing waiting or leased, for nothing."""
    with app.app_context():
        assert next_due_at() is None
    soon, later = utcnow() + timedelta(seconds=5), utcnow() + timedelta(seconds=30)
    (waiting,) = add_messages(app, world.clinic_a, 1, MessageStatus.PENDING)
    (leased,) = add_messages(app, world.clinic_a, 1, MessageStatus.SENDING)
    add_messages(app, world.clinic_a, 1, MessageStatus.SENT)
    with app.app_context():
        with unit_of_work():
            db.session.get(OutboxMessage, waiting).next_attempt_at = later
            db.session.get(OutboxMessage, leased).claimed_until = soon
        assert abs((next_due_at() - soon).total_seconds()) < 0.01


class SlowServer:
    """A mail server that takes `seconds` per message on the clock `delivery.utcnow`
    reads, while another worker's sweep runs during each send of the first worker."""

    def __init__(self, app: Flask, clock: dict[str, timedelta], seconds: int) -> None:
        self.app, self.clock, self.seconds = app, clock, seconds
        self.delivered: list[tuple[str, str]] = []  # (worker, Message-ID)
        self.worker = "first"

    @contextmanager
    def session(self) -> Iterator[Callable[[Message], None]]:
        def send(message: Message) -> None:
            self.delivered.append((self.worker, message.message_id))
            self.clock["offset"] += timedelta(seconds=self.seconds)
            if self.worker == "first":
                self.worker = "second"  # the other worker's sweep, while this send runs
                with self.app.app_context():
                    deliver_due()
                self.worker = "first"

        yield send


def test_a_batch_slower_than_its_lease_sends_each_message_once(
    app: Flask, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker claims three messages with one 120 s lease; the server takes 100 s per
    message, and another worker sweeps during each send. The first worker renews each
    message's lease just before sending it, so the second finds nothing to take until the
    batch outlives the third message's lease; then it takes and sends that one, and the
    first worker, no longer holding it, skips it. Each message goes once, and each is
    "sent"."""
    ids = add_messages(app, world.clinic_a, 3, MessageStatus.PENDING)
    clock = {"offset": timedelta(0)}
    real_utcnow = delivery.utcnow
    monkeypatch.setattr(delivery, "utcnow", lambda: real_utcnow() + clock["offset"])
    server = SlowServer(app, clock, seconds=100)
    with app.app_context(), transport_in_use(app, server):
        deliver_due()
        statuses = set(db.session.scalars(sa.select(OutboxMessage.status)))
        expected = sorted(delivery._message_id(i) for i in ids)
    assert sorted(message_id for _worker, message_id in server.delivered) == expected
    assert server.delivered[-1][0] == "second"  # the last one, taken over
    assert statuses == {MessageStatus.SENT}


def test_a_worker_records_nothing_on_a_message_another_worker_took(
    app: Flask, world: World
) -> None:
    """A claimed message whose lease ran out is claimed again by a second worker: the
    first worker's claim no longer renews, and its mark changes nothing."""
    add_messages(app, world.clinic_a, 1, MessageStatus.PENDING)
    with app.app_context():
        (first,) = delivery.claim(10)
        with unit_of_work():
            db.session.execute(
                sa.update(OutboxMessage).values(claimed_until=utcnow() - timedelta(seconds=1))
            )
        (second,) = delivery.claim(10)
        assert first.token != second.token
        assert not delivery._renew(first)
        delivery._mark(first, status=MessageStatus.SENT)
        db.session.expire_all()
        assert db.session.scalars(sa.select(OutboxMessage.status)).one() == MessageStatus.SENDING
        assert delivery._renew(second)

"""Properties of the outbox (hypothesis): whatever the order and repetition of posts, one
row per occasion, recipient and channel; a refused message waits longer after each
refusal and is failed after the last attempt; a message sent again by an administrator
starts with a fresh set of attempts and goes out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinic.core.uow import unit_of_work
from clinic.extensions import db
from clinic.models.outbox import MessageStatus, OutboxMessage
from clinic.outbox import EMAIL, Content, occasion_key, post
from clinic.outbox.delivery import BACKOFF, MAX_ATTEMPTS, after_refusal, deliver_due, retry
from clinic.outbox.kinds import MessageKind
from tests.support.outbox import RefusingTransport, transport_in_use
from tests.support.world import World

OCCASIONS = st.sampled_from(["flag-1", "flag-2", "flag-1:level-2"])
RECIPIENTS = st.sampled_from(["a@example.org", "b@example.org", "c@example.org"])
CHANNELS = st.sampled_from([EMAIL, "sms"])
POSTS = st.lists(st.tuples(OCCASIONS, RECIPIENTS, CHANNELS), max_size=25)
# How the posts are split into units of work (a job run twice, two requests).
UNITS = st.integers(1, 4)

HYPOTHESIS = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def _empty_outbox() -> None:
    db.session.execute(sa.delete(OutboxMessage))
    db.session.commit()


@HYPOTHESIS
@given(posts=POSTS, units=UNITS)
def test_any_sequence_of_posts_keeps_one_row_per_occasion_recipient_and_channel(
    app: Flask, world: World, posts: list[tuple[str, str, str]], units: int
) -> None:
    """Posting the same occasion to the same recipient on the same channel any number of
    times, in any order and in any number of units of work, leaves exactly one row for
    it, with the content of the first post; `post` says True once per key."""
    with app.app_context():
        _empty_outbox()
        new: list[bool] = []
        size = max(1, -(-len(posts) // units))
        for start in range(0, len(posts), size):
            with unit_of_work():
                for n, (occasion, recipient, channel) in enumerate(posts[start : start + size]):
                    new.append(
                        post(
                            MessageKind.PASSWORD_RESET,
                            occasion,
                            to=recipient,
                            clinic_id=world.clinic_a,
                            content=Content("Subject", f"post {start + n}"),
                            channel=channel,
                        )
                    )
        keys = [occasion_key(MessageKind.PASSWORD_RESET, o, r, c) for o, r, c in posts]
        rows = {m.key: m for m in db.session.scalars(sa.select(OutboxMessage))}
        assert set(rows) == set(keys)
        assert sum(new) == len(set(keys))
        for key in set(keys):
            assert rows[key].body == f"post {keys.index(key)}" or rows[key].body == ""
            assert rows[key].subject == "Subject"
        _empty_outbox()


@given(st.integers(1, MAX_ATTEMPTS - 1))
def test_each_refusal_waits_longer_than_the_last(attempts: int) -> None:
    """After a refused attempt the message waits, and each wait is longer than the one
    before (the next attempt moves further away)."""
    now = datetime(2026, 1, 1, tzinfo=UTC)
    state = after_refusal(attempts, now)
    assert state["status"] == MessageStatus.PENDING
    wait = state["next_attempt_at"] - now  # type: ignore[operator]
    assert wait > timedelta(0)
    if attempts > 1:
        previous = after_refusal(attempts - 1, now)["next_attempt_at"] - now  # type: ignore[operator]
        assert wait > previous


@given(st.integers(MAX_ATTEMPTS, MAX_ATTEMPTS + 5))
def test_the_last_attempt_refused_is_failed(attempts: int) -> None:
    """From the MAX_ATTEMPTS-th refused attempt on, the message is failed: not retried."""
    state = after_refusal(attempts, datetime(2026, 1, 1, tzinfo=UTC))
    assert state == {"status": MessageStatus.FAILED}
    assert len(BACKOFF) == MAX_ATTEMPTS - 1


@HYPOTHESIS
@given(more=st.integers(0, 3))
def test_a_message_refused_to_the_end_fails_and_a_retry_gets_fresh_attempts(
    app: Flask, world: World, more: int
) -> None:
    """A message the server refuses every time is tried MAX_ATTEMPTS times (each once
    its wait is over) and is then failed, its body kept; sent again by an administrator,
    it has a fresh set of attempts: refused `more` times it is still waiting, then it
    goes out."""
    server = RefusingTransport()
    with app.app_context(), transport_in_use(app, server):
        _empty_outbox()
        with unit_of_work():
            post(
                MessageKind.PASSWORD_RESET,
                "refused",
                to="refused@example.org",
                clinic_id=world.clinic_a,
                content=Content("Subject", "Body"),
            )
        # The post's own delivery ran at once (tests) and was refused: attempt 1.
        for _ in range(MAX_ATTEMPTS - 1):
            _make_due()
            assert deliver_due().refused == 1
        message = db.session.scalars(sa.select(OutboxMessage)).one()
        assert (message.status, message.attempts) == (MessageStatus.FAILED, MAX_ATTEMPTS)
        assert message.body == "Body"  # kept, so that it can be sent again
        _make_due()
        assert deliver_due().refused == 0  # failed: no longer tried

        with unit_of_work():
            retry(message)
        db.session.expire_all()
        assert (message.status, message.attempts) == (MessageStatus.PENDING, 0)
        for n in range(more):
            assert deliver_due().refused == 1
            db.session.expire_all()
            assert (message.status, message.attempts) == (MessageStatus.PENDING, n + 1)
            _make_due()
        server.refusing = False
        assert deliver_due().sent == 1
        db.session.expire_all()
        assert (message.status, message.attempts) == (MessageStatus.SENT, more + 1)
        assert [m.to for m in server.messages] == ["refused@example.org"]
        _empty_outbox()


def _make_due() -> None:
    """Move every waiting message's next attempt to now (the wait is over)."""
    with unit_of_work():
        db.session.execute(
            sa.update(OutboxMessage)
            .where(OutboxMessage.status == MessageStatus.PENDING)
            .values(next_attempt_at=datetime.now(UTC) - timedelta(seconds=1))
        )

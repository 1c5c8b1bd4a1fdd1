"""Brute force: per-address rate limits on the doors (sign-in, second factor, links,
reset requests, signing in again) with a calm 429 page and Retry-After, in memory or in
Redis; and the per-account back-off, which pauses one account without revealing it exists
and without locking its owner out for long."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from clinic import create_app
from clinic.auth.services import issue_invitation
from clinic.extensions import db
from clinic.models import AuditEvent, User
from clinic.models.invitations import RESET
from clinic.models.types import utcnow
from tests.support.apps import config_for_tests
from tests.support.auth import sign_in
from tests.support.client import BrowserLikeClient
from tests.support.factories import PASSWORD
from tests.support.world import World

GENERIC_FAILURE = "Those details did not match an active account"
REDIS_URL = "redis://127.0.0.1:6379/0"


def limited_app(database_url: str, **overrides: object) -> Flask:
    """The app with rate limits on (the suite's default app has them off), small limits."""
    app = create_app(
        config_for_tests(
            database_url,
            RATELIMIT_ENABLED=True,
            RATELIMIT_SIGN_IN="3 per minute",
            RATELIMIT_LINKS="2 per minute",
            RATELIMIT_RESET_REQUEST="2 per minute",
            **overrides,
        )
    )
    app.test_client_class = BrowserLikeClient
    return app


@pytest.fixture
def limited(app: Flask, database_url: str) -> Iterator[Flask]:
    """A rate-limited app on the test database (`app` empties the tables afterwards)."""
    limited = limited_app(database_url, RATELIMIT_STORAGE_URI="memory://")
    yield limited
    with limited.app_context():
        db.session.remove()
        db.engine.dispose()


WRONG = "not the password"


def attempt_sign_in(client, email: str, password: str = WRONG):
    return client.post("/login", data={"email": email, "password": password})


def test_sign_in_is_limited_per_address_with_a_calm_429(limited: Flask, world: World) -> None:
    """After the allowed attempts from one address, the next is refused with 429, a
    Retry-After in seconds and a page that says how long to wait; nothing was checked."""
    client = limited.test_client()
    for _ in range(3):
        assert attempt_sign_in(client, world.clinician.email).status_code == 200
    refused = attempt_sign_in(client, world.clinician.email, PASSWORD)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 61
    html = refused.get_data(as_text=True)
    assert "Please wait a moment" in html and "Please wait about a minute" in html
    assert client.get("/login").status_code == 200  # showing the form is never limited
    assert client.get("/patients/").status_code == 302  # not signed in


def test_other_addresses_are_not_limited(limited: Flask, world: World) -> None:
    """The limit counts per client address: another address still gets its attempts."""
    here, there = limited.test_client(), limited.test_client()
    for _ in range(4):
        attempt_sign_in(here, world.clinician.email)
    elsewhere = {"REMOTE_ADDR": "203.0.113.9"}
    token = there.fetch_csrf_token()
    response = there.post(
        "/login",
        data={"email": world.clinician.email, "password": PASSWORD, "csrf_token": token},
        environ_base=elsewhere,
        csrf=False,
    )
    assert response.status_code == 302


@pytest.mark.parametrize("proxies", [0, 1])
def test_a_forged_forwarded_for_header_gains_no_attempts(
    app: Flask, database_url: str, world: World, proxies: int
) -> None:
    """X-Forwarded-For is the client's to write: without a proxy in front (the default)
    it is ignored, and behind one only the address that proxy appended counts, so a new
    made-up address per attempt never buys a new allowance."""
    limited = limited_app(database_url, RATELIMIT_STORAGE_URI="memory://", PROXY_COUNT=proxies)
    try:
        client = limited.test_client()
        answers = []
        for n in range(4):
            forged = f"198.51.100.{n + 1}"
            # What the proxy forwards: the client's header, then the client's real address.
            header = f"{forged}, 203.0.113.7" if proxies else forged
            answers.append(
                client.post(
                    "/login",
                    data={"email": world.clinician.email, "password": WRONG},
                    headers={"X-Forwarded-For": header},
                ).status_code
            )
        assert answers == [200, 200, 200, 429]
    finally:
        with limited.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.mark.parametrize(
    ("door", "limit"),
    [
        ("reset request", 2),
        ("reset link", 2),
        ("invitation link", 2),
        ("second factor", 3),
        ("signing in again", 3),
    ],
)
def test_every_door_is_limited(
    app: Flask, limited: Flask, world: World, door: str, limit: int
) -> None:
    """Asking for a reset, using a reset or invitation link, the second sign-in step and
    signing in again after a time-out are each limited on POST."""
    with app.app_context():
        colleague = db.session.get(User, world.colleague.id)
        colleague.password_hash = None
        invitation = issue_invitation(colleague, created_by=None)
        reset = issue_invitation(db.session.get(User, world.patient.id), None, purpose=RESET)
        db.session.commit()
    url, data = {
        "reset request": ("/password/forgot", {"email": "someone@test.example"}),
        "reset link": (f"/password/reset/{reset}", {"password": "x", "confirm": "y"}),
        "invitation link": (f"/invitation/{invitation}", {"password": "x", "confirm": "y"}),
        "second factor": ("/login/code", {"code": "000000"}),
        "signing in again": ("/session/resume", {"kept": "nothing", "password": "x"}),
    }[door]
    client = limited.test_client()
    answers = [client.post(url, data=data).status_code for _ in range(limit + 1)]
    assert 429 not in answers[:limit]
    assert answers[-1] == 429


def test_limits_are_kept_in_redis(app: Flask, database_url: str, world: World) -> None:
    """With CLINIC_RATELIMIT_STORAGE_URL pointing at Redis, the counts live there (shared
    by every worker): the limit is reached through Redis, and clearing the counts there
    lifts it."""
    redis = pytest.importorskip("redis")
    server = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        server.ping()
    except redis.exceptions.RedisError as error:
        server.close()
        pytest.skip(f"no Redis at {REDIS_URL} ({error}); CI runs this test against one")
    # An address of this run only (documentation range): runs sharing the server, one
    # after the other or at once, never see each other's counts.
    address = f"2001:db8::{uuid.uuid4().hex[:4]}:{uuid.uuid4().hex[:4]}"
    worker = limited_app(database_url, RATELIMIT_STORAGE_URI=REDIS_URL)
    client = worker.test_client()

    def attempt() -> int:
        token = client.fetch_csrf_token()
        return client.post(
            "/login",
            data={"email": world.clinician.email, "password": "wrong", "csrf_token": token},
            environ_base={"REMOTE_ADDR": address},
            csrf=False,
        ).status_code

    try:
        assert [attempt() for _ in range(4)] == [200, 200, 200, 429]
        keys = list(server.scan_iter(f"*{address}*"))
        assert keys, "the counts are in Redis"
        server.delete(*keys)
        assert attempt() == 200
    finally:
        for key in server.scan_iter(f"*{address}*"):
            server.delete(key)
        server.close()
        with worker.app_context():
            db.session.remove()
            db.engine.dispose()


def test_the_suites_app_is_not_limited(limited: Flask, client, world: World) -> None:
    """An app with RATELIMIT_ENABLED off is never limited, even while another app in the
    same process (sharing Flask-Limiter's one extension object) is."""
    for _ in range(5):
        assert attempt_sign_in(client, world.clinician.email).status_code == 200


# Per-account back-off --------------------------------------------------------------------


def account(app: Flask, user_id: int) -> User:
    with app.app_context():
        user = db.session.get(User, user_id)
        db.session.expunge(user)
        return user


def failure_details(app: Flask, user_id: int) -> list[dict]:
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "auth.sign_in_failed", AuditEvent.object_id == user_id)
            .order_by(AuditEvent.id)
        ).all()
        return [json.loads(event.detail) for event in events]


def failure_message(response) -> str:
    """The refusal's words as the page shows them."""
    match = re.search(
        r'<div class="error-summary"[^>]*>\s*<p>([^<]+)</p>', response.get_data(as_text=True)
    )
    assert match, "no refusal on the page"
    return match.group(1)


def test_after_five_failures_the_account_pauses(app: Flask, client, world: World) -> None:
    """Five wrong passwords cost nothing; the sixth pauses sign-in to the account for a
    minute, during which even the right password is refused with the same words as any
    failure; the refusal is audited as "blocked" and does not lengthen the pause."""
    for _ in range(6):
        attempt_sign_in(client, world.clinician.email)
    user = account(app, world.clinician.id)
    assert user.failed_sign_ins == 6
    pause = user.sign_in_blocked_until - utcnow()
    assert timedelta(seconds=50) < pause <= timedelta(minutes=1)

    right = attempt_sign_in(client, world.clinician.email, PASSWORD)
    unknown = attempt_sign_in(client, "nobody@test.example")
    assert right.status_code == unknown.status_code == 200
    assert failure_message(right) == failure_message(unknown)
    assert GENERIC_FAILURE in failure_message(right)
    assert client.get("/patients/").status_code == 302
    still = account(app, world.clinician.id)
    assert (still.failed_sign_ins, still.sign_in_blocked_until) == (6, user.sign_in_blocked_until)
    assert failure_details(app, world.clinician.id)[-1] == {"step": "password", "reason": "blocked"}


def test_pauses_grow_and_a_success_starts_again(app: Flask, client, world: World) -> None:
    """Each failure after a pause has passed pauses for longer (2 minutes after the
    seventh); once a pause is over the right password works and the count starts again."""
    for _ in range(6):
        attempt_sign_in(client, world.clinician.email)
    _end_pause(app, world.clinician.id)
    attempt_sign_in(client, world.clinician.email)
    pause = account(app, world.clinician.id).sign_in_blocked_until - utcnow()
    assert timedelta(minutes=1) < pause <= timedelta(minutes=2)

    _end_pause(app, world.clinician.id)
    assert attempt_sign_in(client, world.clinician.email, PASSWORD).status_code == 302
    user = account(app, world.clinician.id)
    assert (user.failed_sign_ins, user.sign_in_blocked_until) == (0, None)


def test_a_pause_never_outlasts_15_minutes(app: Flask, client, world: World) -> None:
    """However many failures have piled up, the next one pauses for 15 minutes at most."""
    with app.app_context():
        db.session.get(User, world.clinician.id).failed_sign_ins = 400
        db.session.commit()
    attempt_sign_in(client, world.clinician.email)
    pause = account(app, world.clinician.id).sign_in_blocked_until - utcnow()
    assert timedelta(minutes=14) < pause <= timedelta(minutes=15)


def test_failures_for_one_account_leave_others_alone(app: Flask, client, world: World) -> None:
    """The back-off belongs to the account: a colleague signs in as usual."""
    for _ in range(7):
        attempt_sign_in(client, world.clinician.email)
    assert sign_in(app.test_client(), world.colleague.email).status_code == 302


def _end_pause(app: Flask, user_id: int) -> None:
    with app.app_context():
        db.session.get(User, user_id).sign_in_blocked_until = utcnow() - timedelta(seconds=1)
        db.session.commit()

"""Two web instances and a worker on one PostgreSQL and one Redis, as README's "More than
one machine" describes: two real gunicorn instances (two processes each) on different
ports with the same SECRET_KEY, rate limits and queue in one Redis database, a real
worker (`huey_consumer clinic.worker.huey`) and a real SMTP server on the loopback. Each
instance has an instance folder of its own.

What it proves: a red flag logged through instance A shows at once on the clinician's
dashboard served by B (no process shows a cached table from before it) and the worker
emails the alert; a session cookie from signing in on A works on B, and signing out on A
ends the session on B; sign-in attempts spread over A and B count towards one rate limit.

PostgreSQL only: several machines cannot share a SQLite file, so a deployment of more
than one instance is PostgreSQL's. Redis is needed (CI starts one).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import redis
from flask import Flask

from tests.support.apps import vapid_key_for_tests
from tests.support.databases import server_url
from tests.support.forms import form_values
from tests.support.instances import Browser, Instance, running_instances, title_of
from tests.support.protocols import start_plan
from tests.support.smtp import SmtpSink, smtp_sink
from tests.support.worker import running_worker, wait_for, worker_environment
from tests.support.world import World

pytestmark = [
    pytest.mark.worker,
    pytest.mark.skipif(
        server_url() is None,
        reason="two instances share a PostgreSQL database, never a SQLite file: "
        "set CLINIC_TEST_DATABASE_URL to run this",
    ),
]

# A Redis database of this module's own: the instances' rate limits and queue.
REDIS_URL = "redis://127.0.0.1:6379/11"
RED_FLAG = "badge-urgent"  # a red flag's badge in the caseload table (the cached part)
SIGN_IN_LIMIT = 20  # RATELIMIT_SIGN_IN: 20 per minute per client address


def _forget_counts_and_jobs(client: redis.Redis) -> None:
    """Delete what this module's deployment keeps in its Redis database (rate-limit counts
    and the queue), and nothing else: no FLUSHDB on a server others use."""
    for pattern in ("LIMITS:*", "LIMITER*", "huey.*"):
        for key in client.scan_iter(match=pattern):
            client.delete(key)


@pytest.fixture(scope="module")
def shared_redis() -> Iterator[str]:
    """The Redis database the deployment shares, emptied of its keys before and after."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.ConnectionError:
        if os.environ.get("CI"):
            pytest.fail("no Redis on 127.0.0.1:6379 (.ci/run starts one)")
        pytest.skip("no Redis on 127.0.0.1:6379 (CI starts one)")
    _forget_counts_and_jobs(client)
    yield REDIS_URL
    _forget_counts_and_jobs(client)


@pytest.fixture(scope="module")
def mail_server() -> Iterator[SmtpSink]:
    """The SMTP server the worker sends through, for the whole module."""
    with smtp_sink() as running:
        yield running


@pytest.fixture(scope="module")
def deployment(
    session_app: Flask,
    database_url: str,
    shared_redis: str,
    mail_server: SmtpSink,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Instance, Instance]]:
    """Instances A and B and one worker, all with the same settings, on the run's
    database (its schema built by `session_app`); started once for the module."""
    folder = tmp_path_factory.mktemp("deployment")
    settings = worker_environment(
        database_url,
        shared_redis,
        mail_server.port,
        folder,
        SECRET_KEY="two-instances-" + uuid.uuid4().hex,
        CLINIC_RATELIMIT_STORAGE_URL=shared_redis,
        CLINIC_VAPID_PRIVATE_KEY=vapid_key_for_tests(),
    )
    with (
        running_worker({**settings, "CLINIC_INSTANCE_PATH": str(folder / "w")}, folder),
        running_instances(("A", "B"), settings, folder) as (a, b),
    ):
        yield a, b


def _dashboard(browser: Browser, instance: Instance) -> str:
    page = browser.get(instance, "/dashboard/?who=all")
    assert page.status_code == 200, title_of(page)
    return page.text


def test_a_red_flag_logged_on_a_shows_on_b_at_once_and_the_worker_emails_it(
    app: Flask, world: World, deployment: tuple[Instance, Instance], mail_server: SmtpSink
) -> None:
    """The clinician has B's dashboard open (each of B's processes has rendered and cached
    the caseload table); the patient signs in on A and logs a session with sharp pain.
    The very next dashboards from B, whichever process serves them, show the red flag; the
    worker emails the alert to the clinician."""
    a, b = deployment
    start_plan(app, world.patient.patient_id, world.clinician.id)
    clinician, patient = Browser(), Browser()
    assert clinician.sign_in(b, world.clinician.email) == 302
    for _ in range(6):  # two processes behind one port: both render the table
        assert RED_FLAG not in _dashboard(clinician, b)

    assert patient.sign_in(a, world.patient.email) == 302
    form = form_values(patient.get(a, "/diary/log").text)
    form.update(pain_during="9", pain_after="8", bleeding="none", sharp_pain="yes")
    logged = patient.post(a, "/diary/log", form)
    assert logged.status_code == 302, title_of(logged)

    for _ in range(6):
        assert RED_FLAG in _dashboard(clinician, b)
    wait_for(
        lambda: any(str(m["To"]) == world.clinician.email for m in list(mail_server.received)),
        20,
        "the alert emailed to the clinician",
    )


def test_a_session_from_a_works_on_b_and_signing_out_on_a_ends_it_on_b(
    world: World, deployment: tuple[Instance, Instance]
) -> None:
    """Signed in on A, the same cookie opens the dashboard on B (sessions live in the
    database, signed with the shared SECRET_KEY). Signed out on A, the cookie as it was
    before signing out (a copy, as an attacker would keep) no longer opens anything on B."""
    a, b = deployment
    browser = Browser()
    assert browser.sign_in(a, world.clinician.email) == 302
    assert world.clinician.name in _dashboard(browser, b)
    copied = browser.copy()
    assert browser.sign_out(a) == 302
    for instance in (b, a):
        answer = copied.get(instance, "/dashboard/")
        assert answer.status_code == 302 and "/login" in answer.headers["Location"]


def test_sign_in_attempts_on_a_and_b_count_towards_one_limit(
    world: World, deployment: tuple[Instance, Instance], shared_redis: str
) -> None:
    """Wrong passwords from one address, alternately to A and B (four processes): the
    limit of 20 a minute is reached after 20 attempts in all, not 20 per process; the
    21st is refused on both instances with the calm 429 and Retry-After."""
    a, b = deployment
    _forget_counts_and_jobs(redis.Redis.from_url(shared_redis))
    browser = Browser()
    token = browser.csrf_token(a)
    attempt = {"email": "nobody@example.org", "password": "wrong", "csrf_token": token}
    answers = [
        browser.post((a, b)[n % 2], "/login", attempt).status_code for n in range(SIGN_IN_LIMIT)
    ]
    assert answers == [200] * SIGN_IN_LIMIT  # the form again, "not recognised"
    for instance in (a, b):
        refused = browser.post(instance, "/login", attempt)
        assert refused.status_code == 429, title_of(refused)
        assert refused.headers["Retry-After"].isdigit()

"""What the fault drills are made of: the app served by gunicorn on a private PostgreSQL,
patients signed in through the real form, diary entries posted by many threads with a key
each (every request's key and answer kept), and the checks of the database afterwards.

Used by tests/integration/test_faults.py (short drills) and tests/bench/faults.py (the
long ones, under wrk). Nothing here is mocked: the server is `gunicorn ...
"clinic:create_app()"` in production mode, the database is migrated with `flask db
upgrade`, and the client speaks HTTP.
"""

from __future__ import annotations

import http.client
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import select

from tests.support.private_postgres import PrivatePostgres
from tests.support.smtp import free_port

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = [sys.executable, "-m", "gunicorn", "--config", "python:clinic.gunicorn_config"]
SECRET = "fault-drill-secret"
# The words of the app's own 503 page for a form that could not be saved (and for a page
# that could not be shown): never gunicorn's or a traceback.
UNAVAILABLE_WORDS = ("We could not save this", "This page is not available right now")
ENTRY_PATH = re.compile(r"/diary/entries/(\d+)$")


def app_environment(database_url: str, folder: Path, **extra: str) -> dict[str, str]:
    """The environment of the app in production mode on this database (queue and
    instance folder in `folder`; mail to nowhere unless `extra` says where)."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("CLINIC_")},
        "PYTHONPATH": str(ROOT),
        "CLINIC_ENV": "production",
        "SECRET_KEY": SECRET,
        "CLINIC_BASE_URL": "https://clinic.test",
        "CLINIC_INSTANCE_PATH": str(folder / "instance"),
        "CLINIC_DATABASE_URL": database_url,
        "CLINIC_QUEUE_URL": f"sqlite:///{folder / 'queue.sqlite3'}",
        "CLINIC_SMTP_HOST": "127.0.0.1",
        "CLINIC_SMTP_PORT": "9",  # discard: nothing listens; messages wait in the outbox
        "CLINIC_SMTP_SECURITY": "none",
        "CLINIC_MAIL_FROM": "no-reply@clinic.test",
        **extra,
    }


def migrated_database(server: PrivatePostgres, folder: Path, name: str = "drill") -> str:
    """A new database on `server`, built by the migrations (`flask db upgrade`); its URL."""
    url = server.create_database(name)
    env = app_environment(url, folder)
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    return url


@dataclass(frozen=True)
class Cast:
    """The drill's clinic: its clinician and portal patients (emails), all on a plan."""

    clinic_id: int
    clinician_email: str
    patient_emails: tuple[str, ...]
    password: str


def seed_patients(app: Flask, count: int) -> Cast:
    """A clinic with a clinician and `count` portal patients, each on the vaginismus
    program started 20 days ago (committed)."""
    from clinic.extensions import db
    from clinic.models import Role
    from tests.support.factories import PASSWORD, make_clinic, make_patient, make_user
    from tests.support.protocols import start_plan

    with app.app_context():
        clinic = make_clinic(name="Drill Clinic")
        clinician = make_user(clinic, Role.CLINICIAN)
        patients = [make_patient(clinic, portal=True, responsible_clinician=clinician)]
        patients += [make_patient(clinic, portal=True) for _ in range(count - 1)]
        db.session.commit()
        ids = [(p.id, p.user.email) for p in patients]
        cast = Cast(clinic.id, clinician.email, tuple(email for _, email in ids), PASSWORD)
        clinician_id = clinician.id
    for patient_id, _ in ids:
        start_plan(app, patient_id, clinician_id)
    return cast


# The server --------------------------------------------------------------------------


@dataclass
class Gunicorn:
    """`gunicorn "clinic:create_app()"` with a few sync workers, as production runs it."""

    environment: dict[str, str]
    log_path: Path
    workers: int = 3
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> None:
        """Start it and wait until /healthz answers 200 and every worker has started."""
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - gunicorn, fixed arguments
                [
                    *GUNICORN,
                    "--workers",
                    str(self.workers),
                    "--bind",
                    f"127.0.0.1:{self.port}",
                    "--graceful-timeout",
                    "5",
                    "clinic:create_app()",
                ],
                cwd=ROOT,
                env=self.environment,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while not (self._healthy() and len(self.worker_pids()) == self.workers):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not start:\n{self.log}")
            time.sleep(0.1)

    def _healthy(self) -> bool:
        try:
            return request(self.base, "GET", "/healthz", timeout=5).status == 200
        except OSError:
            return False

    def worker_pids(self) -> set[int]:
        """The worker processes the master runs now."""
        if self.process is None:
            return set()
        return children(self.process.pid)

    def kill_worker(self) -> int:
        """SIGKILL one worker (the master starts another); its pid."""
        pid = min(self.worker_pids())
        os.kill(pid, signal.SIGKILL)
        return pid

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)  # quick shutdown: the drill is over
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def children(pid: int) -> set[int]:
    """The live child processes of `pid` (read from /proc)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces, so split after its ")".
        fields_after = stat.rpartition(")")[2].split()
        if int(fields_after[1]) == pid and fields_after[0] != "Z":
            found.add(int(entry.name))
    return found


@contextmanager
def served(environment: dict[str, str], folder: Path, workers: int = 3) -> Iterator[Gunicorn]:
    """gunicorn for the block; stopped after, its log printed if the block failed."""
    server = Gunicorn(environment, folder / "gunicorn.log", workers)
    server.start()
    try:
        yield server
    except BaseException:
        print(f"--- gunicorn log ---\n{server.log[-20000:]}", file=sys.stderr)
        raise
    finally:
        server.stop()


# The client ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """One HTTP answer, as much of it as the drill looks at."""

    status: int
    headers: dict[str, str]  # names in lower case
    body: str
    set_cookies: tuple[str, ...] = ()


def request(
    base: str,
    method: str,
    path: str,
    *,
    cookie: str = "",
    form: dict[str, str] | None = None,
    timeout: float = 30,
) -> Answer:
    """One request on a connection of its own (gunicorn's sync workers close each one);
    redirects are not followed. Raises OSError (or http.client's errors) with no answer."""
    parsed = urllib.parse.urlsplit(base)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=timeout)
    headers = {"Cookie": cookie} if cookie else {}
    body = None
    if form is not None:
        body = urllib.parse.urlencode(form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        text = response.read().decode("utf-8", errors="replace")
        answered = {k.lower(): v for k, v in response.getheaders()}
        cookies = tuple(response.headers.get_all("Set-Cookie") or ())
        return Answer(response.status, answered, text, cookies)
    finally:
        connection.close()


def _keep_cookies(jar: dict[str, str], set_cookie_headers: Iterable[str]) -> None:
    """Keep each cookie's value (production cookies are Secure: a cookie jar would not send
    them back over plain HTTP to the loopback, so they are kept by hand)."""
    for header in set_cookie_headers:
        name, _, rest = header.partition("=")
        jar[name.strip()] = rest.split(";", 1)[0]


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    if found is None:
        raise AssertionError("no CSRF token on the page")
    return found.group(1)


@dataclass
class Portal:
    """A patient signed in through the real sign-in form, and the log form's values."""

    base: str
    cookie: str
    csrf_token: str
    when: str
    dilator_size_id: str
    minutes: str

    def form(self, key: str, *, sharp_pain: bool = False) -> dict[str, str]:
        """The session form as the patient sends it, with this key."""
        return {
            "csrf_token": self.csrf_token,
            "key": key,
            "when": self.when,
            "dilator_size_id": self.dilator_size_id,
            "minutes": self.minutes,
            "pain_during": "2",
            "pain_after": "1",
            "bleeding": "none",
            "sharp_pain": "yes" if sharp_pain else "no",
            "depth_cm": "",
            "note": "",
            # Every key is another session with the same answers: said so, as the patient
            # would (clinic.diary.services.find_repeat holds a repeat otherwise).
            "another": "y",
        }

    def post(self, key: str, *, sharp_pain: bool = False, timeout: float = 30) -> Answer:
        """Post the log form once with this key."""
        return request(
            self.base,
            "POST",
            "/diary/log",
            cookie=self.cookie,
            form=self.form(key, sharp_pain=sharp_pain),
            timeout=timeout,
        )


def sign_in(base: str, email: str, password: str) -> Portal:
    """Sign in through /login as a browser does (its CSRF token, its cookies), then open
    the log form for its token and prefilled values."""
    jar: dict[str, str] = {}

    def call(method: str, path: str, form: dict[str, str] | None = None) -> Answer:
        cookie = "; ".join(f"{k}={v}" for k, v in jar.items())
        answer = request(base, method, path, cookie=cookie, form=form)
        _keep_cookies(jar, answer.set_cookies)
        return answer

    token = _csrf(call("GET", "/login").body)
    signed = call("POST", "/login", {"email": email, "password": password, "csrf_token": token})
    if signed.status != 302:
        raise AssertionError(f"sign-in answered {signed.status}")
    page = call("GET", "/diary/log")
    if page.status != 200:
        raise AssertionError(f"the log form answered {page.status}")

    def value(name: str) -> str:
        found = re.search(rf'name="{name}"[^>]*value="([^"]*)"', page.body)
        if found is None:
            raise AssertionError(f"no {name} on the log form")
        return found.group(1)

    size = re.search(r'<option selected value="(\d+)"|<option value="(\d+)" selected', page.body)
    if size is None:
        raise AssertionError("no dilator size chosen on the log form")
    return Portal(
        base=base,
        cookie="; ".join(f"{k}={v}" for k, v in jar.items()),
        csrf_token=_csrf(page.body),
        when=value("when"),
        dilator_size_id=size.group(1) or size.group(2),
        minutes=value("minutes"),
    )


# Posting under load ------------------------------------------------------------------------

OK, UNAVAILABLE, NO_ANSWER, OTHER = "ok", "unavailable", "no answer", "other"


@dataclass(frozen=True)
class Outcome:
    """What became of one post: its key, when it was sent and answered (monotonic), the
    kind of answer, and what the answer said."""

    key: str
    patient: int  # index in the cast
    sent: float
    answered: float
    kind: str
    status: int = 0
    entry_id: int | None = None
    retry_after: str | None = None
    problem: str = ""


def classify(key: str, patient: int, sent: float, post: Any) -> Outcome:
    """Post once (`post()` gives the Answer) and say what it was."""
    try:
        answer = post()
    except (OSError, http.client.HTTPException) as error:
        return Outcome(
            key, patient, sent, time.monotonic(), NO_ANSWER, problem=type(error).__name__
        )
    answered = time.monotonic()
    if answer.status == 302:
        found = ENTRY_PATH.search(urllib.parse.urlsplit(answer.headers.get("location", "")).path)
        if found:
            return Outcome(key, patient, sent, answered, OK, 302, int(found.group(1)))
        return Outcome(key, patient, sent, answered, OTHER, 302, problem="redirect elsewhere")
    if answer.status == 503:
        calm = any(words in answer.body for words in UNAVAILABLE_WORDS)
        if calm and "Traceback" not in answer.body and "Error code 503" in answer.body:
            return Outcome(
                key, patient, sent, answered, UNAVAILABLE, 503,
                retry_after=answer.headers.get("retry-after"),
            )  # fmt: skip
        return Outcome(key, patient, sent, answered, OTHER, 503, problem="not the app's 503 page")
    marker = "Traceback" if "Traceback" in answer.body else answer.body[:80].replace("\n", " ")
    return Outcome(key, patient, sent, answered, OTHER, answer.status, problem=marker)


@dataclass
class Load:
    """Threads posting the log form as fast as answers come, each post with a new key,
    until `stop()`; every outcome kept. One patient per thread in turn; one post in
    `sharp_every` reports sharp pain (a red flag, whose alert goes to the outbox)."""

    portals: list[Portal]
    threads: int
    sharp_every: int = 5
    # Every key of this load starts with it: a drill's checks look at its own entries.
    prefix: str = field(default_factory=lambda: f"drill-{uuid.uuid4().hex[:6]}")
    outcomes: list[Outcome] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _running: list[threading.Thread] = field(default_factory=list)

    def start(self) -> None:
        for n in range(self.threads):
            thread = threading.Thread(target=self._post_until_stopped, args=(n,), daemon=True)
            thread.start()
            self._running.append(thread)

    def _post_until_stopped(self, n: int) -> None:
        index = n % len(self.portals)
        portal, count = self.portals[index], 0
        while not self._stop.is_set():
            count += 1
            key = f"{self.prefix}-{n}-{count}-{uuid.uuid4().hex[:12]}"
            sharp = count % self.sharp_every == 0
            sent = time.monotonic()
            outcome = classify(key, index, sent, partial(portal.post, key, sharp_pain=sharp))
            with self._lock:
                self.outcomes.append(outcome)
            if outcome.kind != OK:
                time.sleep(0.25)  # a person does not hammer an error page

    def stop(self) -> None:
        self._stop.set()
        for thread in self._running:
            thread.join(timeout=60)

    def count(self, kind: str, since: float = 0.0) -> int:
        with self._lock:
            return sum(1 for o in self.outcomes if o.kind == kind and o.sent >= since)

    def wait_for(self, kind: str, count: int, since: float, timeout: float) -> None:
        """Wait until `count` outcomes of `kind` were sent after `since`."""
        deadline = time.monotonic() + timeout
        while self.count(kind, since) < count:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"fewer than {count} {kind!r} answers within {timeout} s: "
                    f"{Counter(o.kind for o in self.outcomes)}"
                )
            time.sleep(0.02)


def retry_unanswered(
    portals: list[Portal], outcomes: Iterable[Outcome], threads: int = 4
) -> list[Outcome]:
    """Post again, with the same key, every post that got no success answer: what a
    person does with the "could not save" page (the browser sends the same form)."""

    def again(outcome: Outcome) -> Outcome:
        portal = portals[outcome.patient]
        return classify(
            outcome.key, outcome.patient, time.monotonic(), lambda: portal.post(outcome.key)
        )

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(again, [o for o in outcomes if o.kind != OK]))


# The database afterwards -------------------------------------------------------------------


@dataclass
class Stored:
    """What the database holds after a drill."""

    entry_ids_by_key: dict[str, list[int]]
    problems: list[str]  # half-written changes, each said in words


def stored(app: Flask, clinic_id: int) -> Stored:
    """The clinic's diary entries by key, and anything half-written: an entry without its
    audit event, an audit event of an entry that is not there, a summary that is not what
    a refresh from scratch computes, a red flag without its alert in the outbox or an
    alert without its flag."""
    from clinic.extensions import db
    from clinic.models import AuditEvent, Clinic, DiaryEntry, PatientSummary, RedFlag
    from clinic.models.outbox import OutboxMessage
    from clinic.monitoring.services import refresh_patients
    from clinic.outbox.kinds import MessageKind

    problems: list[str] = []
    with app.app_context():
        entries = db.session.execute(
            select(DiaryEntry.id, DiaryEntry.submission_key).where(
                DiaryEntry.clinic_id == clinic_id
            )
        ).all()
        by_key: dict[str, list[int]] = {}
        for entry_id, key in entries:
            by_key.setdefault(key, []).append(entry_id)
        ids = {entry_id for entry_id, _ in entries}
        logged = Counter(
            db.session.scalars(
                select(AuditEvent.object_id).where(
                    AuditEvent.action == "diary.log", AuditEvent.object_type == "diary_entry"
                )
            )
        )
        for entry_id in sorted(ids):
            if logged[entry_id] != 1:
                problems.append(f"entry {entry_id} has {logged[entry_id]} 'diary.log' events")
        problems += [f"'diary.log' event of entry {i} not stored" for i in set(logged) - ids]

        flags = db.session.execute(
            select(RedFlag.id, RedFlag.entry_id).where(RedFlag.clinic_id == clinic_id)
        ).all()
        anchors: dict[int, int] = {}
        for flag_id, entry_id in flags:
            anchors[entry_id] = min(flag_id, anchors.get(entry_id, flag_id))
        alerts = Counter(
            int(key.split("flag-")[1].split(":")[0])
            for key in db.session.scalars(
                select(OutboxMessage.key).where(
                    OutboxMessage.clinic_id == clinic_id,
                    OutboxMessage.kind == MessageKind.RED_FLAG_ALERT.value,
                )
            )
        )
        problems += [
            f"red flag {a} (entry {e}) has no alert" for e, a in anchors.items() if not alerts[a]
        ]
        problems += [
            f"alert of flag {a} without its flag" for a in set(alerts) - set(anchors.values())
        ]

        table = PatientSummary.__table__

        def summaries() -> dict[int, dict[str, Any]]:
            rows = db.session.execute(select(table).where(table.c.clinic_id == clinic_id))
            return {
                row["patient_id"]: {
                    k: v for k, v in row.items() if k not in ("computed_at", "version")
                }
                for row in rows.mappings()
            }

        kept = summaries()
        db.session.rollback()
        refresh_patients(db.session.get_one(Clinic, clinic_id), None)
        fresh = summaries()
        db.session.rollback()
        problems += [
            f"summary of patient {p} is not what its entries make"
            for p in kept
            if kept[p] != fresh.get(p)
        ]
    return Stored(by_key, problems)

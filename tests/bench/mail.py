"""The mail benchmark: messages per second through the real worker to an SMTP server,
against a plain smtplib loop to the same server in the same run, and how long a red-flag
diary entry takes to reach the clinician as an email at the server.

`make bench` runs it after the pages (`--mail only` for it alone, `--mail skip` to leave
it out); `measure_mail` is called by tests/bench/run.py with a database already seeded
with the demo data.

- The SMTP server is aiosmtpd in a process of its own (`python tests/bench/mail.py sink
  PORT`): it prints a line per message it accepts, with the time it arrived, so neither
  sender competes with it for the interpreter.
- Worker: `--messages` messages are posted into the outbox first (as features post them,
  in a unit of work), then `huey_consumer clinic.worker.huey` starts and sends them (its
  start-up pass, 50 per claim, one SMTP connection per batch, each marked sent in its own
  transaction). Plain loop: the same number of messages of the same size over one
  smtplib connection, before and after the worker (the machine's load moves; their mean
  is the baseline). Rates are counted from the first message's arrival to the last's, so
  the worker's start-up is not in them. Target: the worker at least half the loop's rate.
- Latency: with the worker running and idle, a demo patient (Avery Quinn) logs a session
  with sharp pain through the diary service, one at a time, as the diary form does
  (`record` in a unit of work): the rules raise a red flag and the session's listeners post
  the alert to the responsible clinician. The time from just before `record` to the
  alert's arrival at the SMTP server, median and 95th percentile of `--latency-samples`,
  so it includes the entry's own work (rules, summaries, audit) and the commit. With the
  SQLite queue an idle worker polls it (`-m`: at most every second here, as `make run`
  starts it); with Redis (measured too when 127.0.0.1:6379 answers) it waits on the queue.
"""

from __future__ import annotations

import os
import random
import signal
import smtplib
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parents[2]
TARGET = 0.5  # the worker sends at least half as many messages per second as the loop
CONSUMER = Path(sys.executable).with_name("huey_consumer")
REDIS_URL = "redis://127.0.0.1:6379/14"  # a db of its own, flushed before and after
# The demo patient whose red-flag entries the latency measures (responsible clinician:
# physio@northside.example).
LATENCY_PATIENT = "avery.quinn@example.org"
BODY = (
    "Hello,\n\nSomething in the clinic's diary needs your attention. Sign in to see it:\n\n"
    "https://diary.example.org/dashboard/?flags=red\n\nThis message was sent automatically.\n"
)


@dataclass
class Sink:
    """The SMTP server process and what it reported: (arrival time, recipient) per message."""

    port: int
    process: subprocess.Popen[str]
    arrivals: list[tuple[float, str]] = field(default_factory=list)

    def read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith("arrived "):
                _, at, to = line.split(" ", 2)
                self.arrivals.append((float(at), to.strip()))

    def wait_for(self, count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while len(self.arrivals) < count:
            if time.monotonic() > deadline:
                raise SystemExit(f"only {len(self.arrivals)} of {count} messages arrived")
            time.sleep(0.01)

    def rate(self, first: int, count: int) -> float:
        """Messages per second of arrivals first..first+count-1, first to last."""
        times = sorted(t for t, _ in self.arrivals[first : first + count])
        return (len(times) - 1) / (times[-1] - times[0])


@contextmanager
def sink_process(port: int) -> Iterator[Sink]:
    """The SMTP server in a process of its own, reporting arrivals on its stdout."""
    process = subprocess.Popen(
        [sys.executable, __file__, "sink", str(port)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    sink = Sink(port, process)
    assert process.stdout is not None
    if process.stdout.readline().strip() != "ready":
        raise SystemExit("the SMTP sink did not start")
    reader = threading.Thread(target=sink.read, daemon=True)
    reader.start()
    try:
        yield sink
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)


def plain_loop(port: int, count: int) -> None:
    """`count` messages over one smtplib connection, as a script would send them."""
    with smtplib.SMTP("127.0.0.1", port) as server:
        for n in range(count):
            email = EmailMessage()
            email["From"] = "Northside Pelvic Health <no-reply@diary.example.org>"
            email["To"] = f"loop.{n}@example.org"
            email["Subject"] = "Something needs your attention"
            email["Message-ID"] = f"<loop-{n}@diary.example.org>"
            email.set_content(BODY)
            server.send_message(email)


@dataclass
class MailFigures:
    """What the mail benchmark measured."""

    messages: int
    loop_rates: list[float]  # before and after the worker
    worker_rate: float
    # queue name -> latencies (seconds) from commit to arrival
    latency: dict[str, list[float]]


def _post(app, clinic_id: int, recipients: list[str]) -> None:
    """Post one message per recipient in one unit of work (delivery is queued after it)."""
    from clinic.core.uow import unit_of_work
    from clinic.outbox import Content, post
    from clinic.outbox.kinds import MessageKind

    with app.app_context(), unit_of_work():
        for to in recipients:
            post(
                MessageKind.PASSWORD_RESET,
                f"bench:{to}",
                to=to,
                clinic_id=clinic_id,
                content=Content("Something needs your attention", BODY),
            )


@contextmanager
def worker(env: dict[str, str], log: Path, max_delay: str) -> Iterator[subprocess.Popen[bytes]]:
    """`huey_consumer clinic.worker.huey` for the block, stopped afterwards."""
    with log.open("ab") as out:
        process = subprocess.Popen(
            [str(CONSUMER), "clinic.worker.huey", "-w", "1", "-m", max_delay],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def _report_red_flag(app, patient_email: str, key: str) -> str:
    """The patient with this portal account logs a session with sharp pain through the
    diary service, in a unit of work as the diary form does (a red flag, whose alert the
    session's listeners post). Returns the address the alert goes to."""
    from sqlalchemy import select

    from clinic.core.uow import unit_of_work
    from clinic.diary.services import SessionDetails, record
    from clinic.domain.diary import Bleeding
    from clinic.domain.protocols import ProtocolStatus
    from clinic.extensions import db
    from clinic.models import Patient, Protocol, User
    from clinic.models.types import utcnow

    with app.app_context(), unit_of_work():
        user = db.session.scalars(select(User).where(User.email == patient_email)).one()
        patient = db.session.scalars(select(Patient).where(Patient.user_id == user.id)).one()
        protocol = db.session.scalars(
            select(Protocol).where(
                Protocol.patient_id == patient.id, Protocol.status == ProtocolStatus.ACTIVE
            )
        ).one()
        size_id = protocol.versions[0].stages[0].dilator_size_id
        details = SessionDetails(utcnow(), size_id, 10, 3, 2, Bleeding.NONE, True, None, "")
        record(patient, protocol, user, key, details)
        return str(patient.responsible_clinician.email)


def _latencies(app, sink: Sink, samples: int, tag: str) -> list[float]:
    """A red-flag entry at a time with an idle worker; seconds from just before the entry
    is recorded to the alert's arrival at the SMTP server, each."""
    rng = random.Random(tag)
    times: list[float] = []
    for n in range(samples):
        time.sleep(rng.uniform(0.5, 2.0))  # idle, as a worker is between alerts
        before = len(sink.arrivals)
        started = time.time()
        clinician = _report_red_flag(app, LATENCY_PATIENT, f"bench-red-{tag}-{n}")
        deadline = time.monotonic() + 60
        while not any(to == clinician for _, to in sink.arrivals[before:]):
            if time.monotonic() > deadline:
                raise SystemExit("a red-flag alert did not arrive within 60 s")
            time.sleep(0.005)
        arrived = min(at for at, to in sink.arrivals[before:] if to == clinician)
        times.append(arrived - started)
    return times


def percentile(values: list[float], share: float) -> float:
    """The `share` (0-1) quantile of `values`, interpolated between the nearest ranks."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    position = share * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def measure_mail(
    database_url: str, folder: Path, messages: int, samples: int, free_port
) -> MailFigures:
    """Run the mail benchmark on a database holding the demo data."""
    import redis
    from sqlalchemy import select

    from clinic import create_app
    from clinic.extensions import db
    from clinic.models import Clinic
    from clinic.models.outbox import OutboxMessage

    port = free_port()
    queue_file = f"sqlite:///{folder / 'mail-queue.sqlite3'}"
    base_env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "CLINIC_ENV": "development",
        "CLINIC_DATABASE_URL": database_url,
        "CLINIC_INSTANCE_PATH": str(folder / "mail-instance"),
        "CLINIC_SMTP_HOST": "127.0.0.1",
        "CLINIC_SMTP_PORT": str(port),
        "CLINIC_SMTP_SECURITY": "none",
        "CLINIC_MAIL_FROM": "no-reply@diary.example.org",
    }
    latency: dict[str, list[float]] = {}
    with sink_process(port) as sink:
        print("mail: plain smtplib loop ...", file=sys.stderr, flush=True)
        plain_loop(port, messages)
        sink.wait_for(messages, 120)
        loop_rate = sink.rate(0, messages)

        os.environ.update({"CLINIC_QUEUE_URL": queue_file, "CLINIC_DATABASE_URL": database_url})
        app = create_app()  # this process's queue is now the worker's
        with app.app_context():
            clinic_id = db.session.scalar(select(Clinic.id).order_by(Clinic.id))
            db.session.execute(db.delete(OutboxMessage))
            db.session.commit()
        print(f"mail: posting {messages} messages ...", file=sys.stderr, flush=True)
        for start in range(0, messages, 100):
            count = min(100, messages - start)
            _post(app, clinic_id, [f"worker.{start + n}@example.org" for n in range(count)])
        env = {**base_env, "CLINIC_QUEUE_URL": queue_file}
        with worker(env, folder / "mail-worker.log", "1"):
            print("mail: the worker sends them ...", file=sys.stderr, flush=True)
            sink.wait_for(2 * messages, 300)
            worker_rate = sink.rate(messages, messages)
            # The loop again, after the worker, as the pages' baseline is measured before
            # and after them: the machine's load moves between the two.
            print("mail: plain smtplib loop again ...", file=sys.stderr, flush=True)
            plain_loop(port, messages)
            sink.wait_for(3 * messages, 120)
            loop_rates = [loop_rate, sink.rate(2 * messages, messages)]
            print("mail: latency, SQLite queue ...", file=sys.stderr, flush=True)
            latency["SQLite queue (worker -m 1)"] = _latencies(app, sink, samples, "s")

        client = redis.Redis.from_url(REDIS_URL)
        try:
            client.ping()
        except redis.ConnectionError:
            client = None
        if client is not None:
            client.flushdb()
            os.environ["CLINIC_QUEUE_URL"] = REDIS_URL
            app = create_app()
            env = {**base_env, "CLINIC_QUEUE_URL": REDIS_URL}
            try:
                with worker(env, folder / "mail-worker-redis.log", "10"):
                    time.sleep(3)  # started and idle
                    print("mail: latency, Redis queue ...", file=sys.stderr, flush=True)
                    latency["Redis queue"] = _latencies(app, sink, samples, "r")
            finally:
                client.flushdb()
                client.close()
        os.environ.pop("CLINIC_QUEUE_URL", None)
    return MailFigures(messages, loop_rates, worker_rate, latency)


def report_mail(figures: MailFigures) -> None:
    """The mail benchmark's results, and the ratio against the target."""
    before, after = figures.loop_rates
    loop_rate = (before + after) / 2
    ratio = figures.worker_rate / loop_rate
    print(f"\nmail: {figures.messages} messages to an SMTP server on the loopback (aiosmtpd)\n")
    print(f"{'sender':44} {'msg/s':>8}")
    print(f"{'plain smtplib loop, one connection':44} {before:8.0f}")
    print(f"{'worker (outbox -> huey_consumer -> SMTP)':44} {figures.worker_rate:8.0f}")
    print(f"{'plain smtplib loop, again':44} {after:8.0f}")
    verdict = "within" if ratio >= TARGET else "UNDER"
    print(
        f"\nratio: the worker sends {ratio:.2f}x the loops' mean ({verdict} the target of", end=" "
    )
    print(f"at least {TARGET}x)")
    print("\ntime from a red-flag diary entry (sharp pain, recorded through the diary service)")
    print("to the clinician's alert at the SMTP server (idle worker)\n")
    print(f"{'queue':30} {'median s':>9} {'p95 s':>7} {'max s':>7} {'samples':>8}")
    for queue, times in figures.latency.items():
        print(
            f"{queue:30} {median(times):9.2f} {percentile(times, 0.95):7.2f}"
            f" {max(times):7.2f} {len(times):8d}"
        )


def run_sink(port: int) -> None:
    """The SMTP sink process: accept everything, print "arrived <time> <to>" per message."""
    from aiosmtpd.controller import Controller

    class Handler:
        async def handle_DATA(self, server, session, envelope) -> str:
            print(f"arrived {time.time()} {envelope.rcpt_tos[0]}", flush=True)
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    stopped.wait()
    controller.stop()


if __name__ == "__main__":
    if sys.argv[1:2] == ["sink"]:
        run_sink(int(sys.argv[2]))
    else:
        raise SystemExit("run the mail benchmark through tests/bench/run.py (--mail only)")

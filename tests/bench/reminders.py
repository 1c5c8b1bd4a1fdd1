"""The reminders benchmark: `--reminder-patients` patients (default 10,000) whose reminders
all fall due in the same minute, queued by the reminders job and delivered by the real
worker to an SMTP server on the loopback, against a plain smtplib loop sending as many
messages to the same server in the same run.

`make bench` runs it after the mail benchmark (`--reminders only` for it alone, without
wrk or gunicorn; `--reminders skip` to leave it out); `measure_reminders` is called by
tests/bench/run.py with a database already seeded with the demo data.

- Seeding: the patients, their portal accounts, an active programme each (its row and its
  start event: all the job reads of it) and reminders on with one slot this minute (UTC),
  written with table-level bulk inserts (the bench measures sending, not seeding; these
  patients have no summaries, which the job does not read).
- Worker: `huey_consumer clinic.worker.huey` is started, idle, then asked to run the job
  (`send_reminders`, as the scheduler asks each minute): it looks at the plans due in
  batches of 500, posts one email each into the outbox, and the worker then delivers
  them. Timed from the request to the last arrival at the SMTP server ("due to
  delivered"), and split: how long until every message was in the outbox, and the
  delivery rate (first arrival to last).
- Plain loop: the same number of messages of the same size over one smtplib connection,
  before and after the worker (the machine's load moves; their mean is the baseline).
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from tests.bench.mail import ROOT, plain_loop, sink_process, worker

TARGET = 0.5  # the whole path at least half as fast as the plain loop


@dataclass
class ReminderFigures:
    """What the reminders benchmark measured."""

    patients: int
    loop_seconds: list[float]  # before and after the worker
    queued_seconds: float  # from the job's request until every message is in the outbox
    delivered_seconds: float  # from the job's request until the last arrival
    delivery_rate: float  # messages per second, first arrival to last


def _seed(app, count: int, now: datetime) -> None:
    """`count` patients with portal accounts, an active programme and reminders due now."""
    import sqlalchemy as sa

    from clinic.domain.indications import Indication
    from clinic.domain.protocols import EventKind, ProtocolStatus, Route
    from clinic.domain.reminders import Slot, slots_text
    from clinic.extensions import db
    from clinic.models import (
        Clinic,
        Patient,
        Protocol,
        ProtocolEvent,
        ReminderPlan,
        Role,
        User,
    )

    minute = now.replace(second=0, microsecond=0)
    slots = slots_text((Slot(minute.weekday(), minute.time()),))
    with app.app_context():
        clinic = db.session.scalar(sa.select(Clinic).order_by(Clinic.id))
        password_hash = db.session.scalar(
            sa.select(User.password_hash).where(User.password_hash.is_not(None)).limit(1)
        )
        first_user = (db.session.scalar(sa.select(sa.func.max(User.id))) or 0) + 1
        first_patient = (db.session.scalar(sa.select(sa.func.max(Patient.id))) or 0) + 1
        first_protocol = (db.session.scalar(sa.select(sa.func.max(Protocol.id))) or 0) + 1
        started = (now - timedelta(days=30)).date()
        for start in range(0, count, 2000):
            numbers = range(start, min(start + 2000, count))
            db.session.execute(
                User.__table__.insert(),
                [
                    {
                        "id": first_user + n,
                        "clinic_id": clinic.id,
                        "email": f"reminder.bench.{n:05d}@example.org",
                        "full_name": f"Reminder Bench {n:05d}",
                        "role": Role.PATIENT,
                        "password_hash": password_hash,
                    }
                    for n in numbers
                ],
            )
            db.session.execute(
                Patient.__table__.insert(),
                [
                    {
                        "id": first_patient + n,
                        "clinic_id": clinic.id,
                        "user_id": first_user + n,
                        "full_name": f"Reminder Bench {n:05d}",
                        "date_of_birth": date(1980, 1, 1),
                        "clinic_identifier": f"RB{n:06d}",
                        "indication": Indication.VAGINISMUS,
                    }
                    for n in numbers
                ],
            )
            db.session.execute(
                Protocol.__table__.insert(),
                [
                    {
                        "id": first_protocol + n,
                        "clinic_id": clinic.id,
                        "patient_id": first_patient + n,
                        "name": "Bench programme",
                        "indication": Indication.VAGINISMUS,
                        "route": Route.VAGINAL,
                        "status": ProtocolStatus.ACTIVE,
                    }
                    for n in numbers
                ],
            )
            db.session.execute(
                ProtocolEvent.__table__.insert(),
                [
                    {
                        "protocol_id": first_protocol + n,
                        "kind": EventKind.START,
                        "effective_on": started,
                        "version_number": 1,
                        "stage": 1,
                        "chain_hash": "0" * 64,
                    }
                    for n in numbers
                ],
            )
            db.session.execute(
                ReminderPlan.__table__.insert(),
                [
                    {
                        "clinic_id": clinic.id,
                        "patient_id": first_patient + n,
                        "enabled": True,
                        "since": now - timedelta(hours=1),
                        "slots_text": slots,
                        "timezone": "UTC",
                        "next_due_at": minute,
                    }
                    for n in numbers
                ],
            )
        db.session.commit()


def measure_reminders(database_url: str, folder: Path, patients: int, free_port) -> ReminderFigures:
    """Run the reminders benchmark on a database holding the demo data."""
    from sqlalchemy import func, select

    from clinic import create_app, queue
    from clinic.extensions import db
    from clinic.models.outbox import OutboxMessage
    from clinic.reminders.jobs import send_reminders

    port = free_port()
    queue_file = f"sqlite:///{folder / 'reminders-queue.sqlite3'}"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "CLINIC_ENV": "development",
        "CLINIC_DATABASE_URL": database_url,
        "CLINIC_INSTANCE_PATH": str(folder / "reminders-instance"),
        "CLINIC_SMTP_HOST": "127.0.0.1",
        "CLINIC_SMTP_PORT": str(port),
        "CLINIC_SMTP_SECURITY": "none",
        "CLINIC_MAIL_FROM": "no-reply@diary.example.org",
        "CLINIC_QUEUE_URL": queue_file,
    }
    os.environ.update({"CLINIC_QUEUE_URL": queue_file, "CLINIC_DATABASE_URL": database_url})
    app = create_app()  # this process's queue is now the worker's
    with app.app_context():
        db.session.execute(db.delete(OutboxMessage))
        db.session.commit()
    print(f"reminders: seeding {patients} patients ...", file=sys.stderr, flush=True)
    _seed(app, patients, datetime.now(UTC))

    def in_outbox() -> int:
        with app.app_context():
            return int(db.session.scalar(select(func.count()).select_from(OutboxMessage)) or 0)

    with sink_process(port) as sink:
        print("reminders: plain smtplib loop ...", file=sys.stderr, flush=True)
        started = time.perf_counter()
        plain_loop(port, patients)
        sink.wait_for(patients, 600)
        loops = [time.perf_counter() - started]
        with worker(env, folder / "reminders-worker.log", "0.2"):
            time.sleep(3)  # started and idle
            print("reminders: the job queues them, the worker sends them ...", file=sys.stderr)
            started = time.perf_counter()
            with app.app_context():
                queue.enqueue(send_reminders)
            queued = None
            while len(sink.arrivals) < 2 * patients:
                if queued is None and in_outbox() >= patients:
                    queued = time.perf_counter() - started
                if time.perf_counter() - started > 1800:
                    raise SystemExit(f"only {len(sink.arrivals) - patients} reminders arrived")
                time.sleep(0.05)
            delivered = time.perf_counter() - started
            rate = sink.rate(patients, patients)
        print("reminders: plain smtplib loop again ...", file=sys.stderr, flush=True)
        started = time.perf_counter()
        plain_loop(port, patients)
        sink.wait_for(3 * patients, 600)
        loops.append(time.perf_counter() - started)
    os.environ.pop("CLINIC_QUEUE_URL", None)
    return ReminderFigures(patients, loops, queued or delivered, delivered, rate)


def report_reminders(figures: ReminderFigures) -> None:
    """The reminders benchmark's results, and the ratio against the target."""
    loop = sum(figures.loop_seconds) / len(figures.loop_seconds)
    ratio = loop / figures.delivered_seconds
    n = figures.patients
    print(f"\nreminders: {n} patients' reminders due in the same minute, to an SMTP server on")
    print("the loopback (aiosmtpd)\n")
    print(f"{'':52} {'seconds':>8} {'msg/s':>8}")
    before, after = figures.loop_seconds
    print(f"{'plain smtplib loop, one connection':52} {before:8.1f} {n / before:8.0f}")
    print(f"{'reminders job: every message in the outbox':52} {figures.queued_seconds:8.1f}")
    print(
        f"{'reminders job + worker: due to last delivered':52} "
        f"{figures.delivered_seconds:8.1f} {n / figures.delivered_seconds:8.0f}"
    )
    print(f"{'  (delivery alone, first arrival to last)':52} {'':8} {figures.delivery_rate:8.0f}")
    print(f"{'plain smtplib loop, again':52} {after:8.1f} {n / after:8.0f}")
    verdict = "within" if ratio >= TARGET else "UNDER"
    print(
        f"\nratio: due to delivered takes {1 / ratio:.2f}x the loops' mean time "
        f"({ratio:.2f} of their speed; {verdict} the target of at least {TARGET})"
    )

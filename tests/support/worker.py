"""A real worker process (`huey_consumer clinic.worker.huey`) for tests, and the test
process's queue pointed at the worker's, so that what a test posts reaches the worker
the way a web process's posts do.

The worker runs as production runs it (CLINIC_ENV=production, SMTP to a sink on the
loopback, the queue in a SQLite file or Redis) on the test run's database. Its output
goes to a log file, printed when a test fails (`Worker.log`).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask

from clinic import queue
from clinic.extensions import db
from clinic.models.outbox import OutboxMessage

ROOT = Path(__file__).resolve().parents[2]
CONSUMER = Path(sys.executable).with_name("huey_consumer")


def worker_environment(
    database_url: str, queue_url: str, smtp_port: int, folder: Path, **extra: str
) -> dict[str, str]:
    """The environment of a production worker on this database, queue and mail server."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("CLINIC_")},
        "PYTHONPATH": str(ROOT),
        "CLINIC_ENV": "production",
        "SECRET_KEY": "worker-test-secret",
        "CLINIC_BASE_URL": "https://clinic.test",
        "CLINIC_INSTANCE_PATH": str(folder / "instance"),
        "CLINIC_DATABASE_URL": database_url,
        "CLINIC_QUEUE_URL": queue_url,
        "CLINIC_SMTP_HOST": "127.0.0.1",
        "CLINIC_SMTP_PORT": str(smtp_port),
        "CLINIC_SMTP_SECURITY": "none",
        "CLINIC_MAIL_FROM": "no-reply@clinic.test",
        "CLINIC_OUTBOX_LEASE_SECONDS": "2",
        **extra,
    }


@dataclass
class Worker:
    """One worker process at a time, started (and started again) with the same settings."""

    environment: dict[str, str]
    log_path: Path
    # -n: no periodic sweep, so that what a test sees delivered was delivered by the
    # mechanism it tests (a queued job, the start-up pass, a follow-up), not by the sweep.
    options: tuple[str, ...] = ("--no-periodic",)
    process: subprocess.Popen[bytes] | None = None
    started: list[float] = field(default_factory=list)

    def start(self) -> None:
        """Start the worker process (in the background)."""
        assert self.process is None or self.process.poll() is not None, "already running"
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own consumer, fixed arguments
                # -m 0.2: the SQLite queue is polled; poll often, as a test is short.
                [str(CONSUMER), "clinic.worker.huey", "-w", "1", "-m", "0.2", *self.options],
                cwd=ROOT,
                env=self.environment,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.started.append(time.monotonic())

    def kill(self) -> None:
        """SIGKILL: the process dies at once, mid-send, releasing nothing."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        """Stop it (SIGTERM: at once, interrupting a task; killed if it does not stop)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@contextmanager
def running_worker(environment: dict[str, str], folder: Path) -> Iterator[Worker]:
    """A worker for the block, stopped (or killed) whatever happens; its log is printed
    when the block fails."""
    worker = Worker(environment, folder / "worker.log")
    worker.start()
    try:
        yield worker
    except BaseException:
        print(f"--- worker log ---\n{worker.log}", file=sys.stderr)
        raise
    finally:
        worker.stop()


@contextmanager
def queue_shared_with_worker(app: Flask, url: str) -> Iterator[None]:
    """Make `app` queue its jobs where the worker reads them for the block (apps under
    test otherwise run jobs at once, in memory); put it back afterwards."""
    previous_app, previous = queue._worker_app, app.config["QUEUE_IMMEDIATE"]
    app.config["QUEUE_IMMEDIATE"] = False
    queue._connect(url)
    try:
        yield
    finally:
        app.config["QUEUE_IMMEDIATE"] = previous
        queue.huey.immediate = True  # back to an in-memory queue
        queue._worker_app = previous_app


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Wait until `condition()` holds, or fail saying `what` did not happen."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(0.05)


def outbox_rows(app: Flask) -> list[OutboxMessage]:
    """Every outbox row, as the database has it now."""
    with app.app_context():
        rows = list(db.session.scalars(db.select(OutboxMessage).order_by(OutboxMessage.id)))
        db.session.expunge_all()
        return rows

"""The task queue: Huey runs background and scheduled work; the database holds the truth.

Why Huey rather than Celery: one small dependency with periodic tasks built in, an
embedded SQLite storage (no server to run in development) and Redis in production, which
the project already uses for rate limits. Nothing here needs Celery's routing, canvases or
brokers, and a job never carries state that matters: the outbox rows and the clinic's
data are in the database, so a lost queue entry costs a delay, never a message.

- `huey` is the process's queue. `init_app` points it at the storage the app's
  configuration names: `CLINIC_QUEUE_URL` = `redis://...` (production: every web process
  and worker shares it), otherwise a SQLite file in the instance folder. Huey's queue is
  one object per process, so the last app created with a real queue decides where it is
  (one app per process outside the tests). An app with `QUEUE_IMMEDIATE` (tests) runs its
  jobs at once in the caller's thread, whatever the queue.
- `@job` and `@periodic(crontab)` declare work. Each run has an app context of its own,
  hence a database session of its own; the body opens its unit(s) of work.
- `enqueue_after_commit(job, ...)` queues a job once the current unit of work is saved.
  When the queue is unreachable (Redis down), the page still works: the work waits for the
  periodic sweep that runs when the worker is back (every job is safe to run again).
- The worker is `huey_consumer clinic.worker.huey` (see README: one consumer with the
  scheduler, others with `--no-periodic`).
"""

from __future__ import annotations

import argparse
import importlib
import logging
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from flask import Flask, current_app, has_app_context
from huey import Huey, RedisHuey, SqliteHuey, crontab
from huey.api import TaskWrapper
from huey.storage import MemoryStorage

from clinic.core.uow import after_commit

P = ParamSpec("P")
T = TypeVar("T")

logger = logging.getLogger(__name__)

# Results are never read (jobs write what they produce to the database).
huey = Huey("clinic", results=False, immediate=True, storage_class=MemoryStorage)

# The modules that declare jobs, imported by `init_app` so that every process (web and
# worker) knows every job by name.
JOB_MODULES = (
    "clinic.outbox.jobs",
    "clinic.auth.invitations",
    "clinic.alerts.jobs",
    "clinic.schedule.jobs",
    "clinic.mdt.jobs",
    "clinic.audit.jobs",
    "clinic.jobs.tasks",
    "clinic.reminders.jobs",
)

_worker_app: Flask | None = None


def init_app(app: Flask) -> None:
    """Point the process's queue at the storage this app's configuration names (an app
    whose jobs run at once, in tests, leaves the queue as it is: see `enqueue`)."""
    global _worker_app  # one queue per process, by Huey's design
    config = app.config
    if not config.get("QUEUE_IMMEDIATE"):
        url = config["QUEUE_URL"] or f"sqlite:///{Path(app.instance_path) / 'queue.sqlite3'}"
        _connect(url)
    _worker_app = app
    for module in JOB_MODULES:
        importlib.import_module(module)


def consumer_threads(argv: list[str]) -> int:
    """How many jobs a consumer started with `argv` (`huey_consumer ... -w N -k TYPE`) runs
    at once in one process: N for threads (and greenlets), 1 for process workers, each of
    which has its own pool. Each running job holds one database connection."""
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    parser.add_argument("-w", "--workers", type=int, default=1)
    parser.add_argument("-k", "--worker-type", default="thread")
    known, _ = parser.parse_known_args(argv[1:])
    return 1 if known.worker_type == "process" else max(1, known.workers)


def _connect(url: str) -> None:
    """Use Redis (`redis://`) or a SQLite file (`sqlite:///path`) for the queue."""
    if url.startswith(("redis://", "rediss://", "unix://")):
        huey.storage_class = RedisHuey.storage_class
        huey.storage_kwargs = {"url": url}
    elif url.startswith("sqlite:///"):
        huey.storage_class = SqliteHuey.storage_class
        huey.storage_kwargs = {"filename": url.removeprefix("sqlite:///")}
    else:
        raise ValueError(f"CLINIC_QUEUE_URL must start with redis:// or sqlite:///, not {url!r}")
    huey.immediate = False
    huey.storage = huey.create_storage()


def _app() -> Flask:
    if has_app_context():
        return current_app._get_current_object()  # type: ignore[attr-defined]
    if _worker_app is None:
        raise RuntimeError("No app: the worker imports clinic.worker, which creates it.")
    return _worker_app


def _in_app_context(function: Callable[P, T]) -> Callable[P, T]:
    @wraps(function)
    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        # A context of its own, hence a session of its own: a job run at once (tests)
        # after a request's commit never shares the request's transaction.
        with _app().app_context():
            return function(*args, **kwargs)

    return run


def job(function: Callable[P, T]) -> TaskWrapper:
    """Declare background work: `enqueue_after_commit(function, ...)` queues it."""
    return huey.task(name=function.__name__)(_in_app_context(function))


def periodic(schedule: Callable[..., bool]) -> Callable[[Callable[[], T]], TaskWrapper]:
    """Declare scheduled work, run by the worker that runs the scheduler (`crontab(...)`)."""

    def declare(function: Callable[[], T]) -> TaskWrapper:
        return huey.periodic_task(schedule, name=function.__name__)(_in_app_context(function))

    return declare


def _runs_at_once() -> bool:
    """Whether jobs run in the caller's thread: the current app's choice (tests), so that
    a test app with a real queue never changes what another test's app does."""
    if has_app_context():
        return bool(current_app.config.get("QUEUE_IMMEDIATE"))
    return bool(huey.immediate)


def enqueue(task: TaskWrapper, *args: Any, run_here_if_unreachable: bool = False) -> None:
    """Queue `task` now. In tests (immediate) it runs at once and its errors propagate.
    An unreachable queue is logged, not raised: the periodic sweep does the work later.

    A job whose work exists nowhere but in its arguments (a password-reset request: no
    row says it was asked for) would be lost with the queue down: with
    `run_here_if_unreachable` it runs in this process instead (the message it posts then
    waits in the outbox for a worker like any other)."""
    if _runs_at_once():
        task.call_local(*args)
        return
    try:
        task(*args)
    except Exception:  # redis.ConnectionError, sqlite3.OperationalError, ...
        if run_here_if_unreachable:
            logger.warning("The task queue is unreachable; %s runs in this process", task.name)
            task.call_local(*args)
            return
        logger.warning("The task queue is unreachable; %s waits for the next sweep", task.name)


def enqueue_after_commit(task: TaskWrapper, *args: Any) -> None:
    """Queue `task` once the current unit of work has committed (never if it rolls back)."""
    after_commit(lambda: enqueue(task, *args))


__all__ = [
    "consumer_threads",
    "crontab",
    "enqueue",
    "enqueue_after_commit",
    "huey",
    "init_app",
    "job",
    "periodic",
]

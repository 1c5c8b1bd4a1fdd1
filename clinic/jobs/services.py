"""Asking for a background run, running it, and keeping (then emptying) what it made.

A run is asked for in the request's unit of work (`request_run`), and its job is queued
once that commits (`enqueue_after_commit`). The job calls `run_job` with the function
that makes the file:

1. the run is claimed (queued -> running) in a short transaction: a second worker given
   the same run, or a run already finished, does nothing;
2. the file is made in a unit of work that only reads; between its steps (patients) the
   progress is saved by `report_progress`, each in a transaction of its own, on a session
   of its own, so the objects being read stay loaded and the progress page sees it at once;
3. the file is stored with its expiry (a day), or, when making it raised, the run is marked
   failed with plain words for the person who asked, and nothing of it is kept.

Every look-up for a page is scoped by clinic, by the account that asked and by the kinds
its role asks for (`own_run`): anyone else is told the run does not exist.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from clinic.core.statements import affected_rows
from clinic.core.uow import unit_of_work
from clinic.extensions import db
from clinic.jobs.kinds import KINDS, JobKind, kinds_for
from clinic.models import JobRun, JobStatus, User
from clinic.models.types import utcnow

logger = logging.getLogger(__name__)

# The largest file kept in the database. A pack of 40 patients is about 1 MB; anything
# near this cap is a fault, not a bigger meeting.
MAX_RESULT_BYTES = 20 * 1024 * 1024
# How long a made file is kept for its download.
KEPT_FOR = timedelta(hours=24)
# How long a run's row (without its file) stays, so its page can say the file expired.
ROWS_KEPT_FOR = timedelta(days=7)
# A run not finished this long after it was asked for lost its worker (a crash, a deploy).
GIVEN_UP_AFTER = timedelta(hours=1)

FAILED_UNEXPECTEDLY = (
    "Something went wrong while making it, and nothing was kept. Try again; if it fails "
    "again, tell your administrator."
)
STOPPED = "It stopped before it was finished (the server was restarted). Try again."

Progress = Callable[[int], None]


class JobRefused(Exception):
    """The run cannot make its file, for a reason the person who asked can act on (said
    in plain words: it is shown on the progress page as it is)."""


@dataclass(frozen=True)
class JobResult:
    """A made file: its bytes, a neutral file name and its media type."""

    content: bytes
    file_name: str
    media_type: str


def request_run(kind: JobKind, params: Mapping[str, Any], total: int, *, by: User) -> JobRun:
    """Ask for a run of `kind` for `by` (queued; the caller queues its job after commit)."""
    run = JobRun(
        clinic_id=by.clinic_id,
        requested_by_id=by.id,
        kind=kind.key,
        params=json.dumps(dict(params), sort_keys=True, default=str),
        status=JobStatus.QUEUED,
        total=total,
    )
    db.session.add(run)
    db.session.flush()
    return run


def own_run(run_id: int, user: User) -> JobRun | None:
    """The run `run_id` if `user` asked for it (in their clinic) and it is of a kind
    their role asks for (an MDT pack: a clinician's; an audit export: an administrator's);
    None otherwise."""
    return db.session.scalar(
        sa.select(JobRun).where(
            JobRun.id == run_id,
            JobRun.clinic_id == user.clinic_id,
            JobRun.requested_by_id == user.id,
            JobRun.kind.in_(kinds_for(user.role)),
        )
    )


def params_of(run: JobRun) -> dict[str, Any]:
    """The run's parameters, as `request_run` was given them (dates as ISO text)."""
    params: dict[str, Any] = json.loads(run.params)
    return params


def kind_of(run: JobRun) -> JobKind:
    return KINDS[run.kind]


def is_expired(run: JobRun, now: datetime | None = None) -> bool:
    """Whether a done run's file is no longer kept (emptied, or past its expiry)."""
    if run.status is not JobStatus.DONE or run.expires_at is None:
        return False
    return run.expires_at <= (now or utcnow()) or run.result_size == 0


def run_job(run_id: int, make: Callable[[JobRun, Progress], JobResult]) -> None:
    """Claim the run, make its file with `make(run, progress)` and store it; on an error,
    mark the run failed with plain words and keep nothing. For the body of a `@job`."""
    with unit_of_work():
        if not _claim(run_id):
            return  # finished already, or another worker has it
    try:
        with unit_of_work():
            run = db.session.get_one(JobRun, run_id)
            too_large = kind_of(run).too_large
            result = make(run, lambda done: report_progress(run_id, done))
        if len(result.content) > MAX_RESULT_BYTES:
            raise JobRefused(too_large)
    except JobRefused as refusal:
        message = str(refusal)
    except Exception:
        # The details are for the logs; the person who asked reads plain words.
        logger.exception("background run %s failed", run_id)
        message = FAILED_UNEXPECTEDLY
    else:
        with unit_of_work():
            _finish(run_id, result)
        return
    with unit_of_work():
        _fail(run_id, message)


def report_progress(run_id: int, done: int) -> None:
    """Save that `done` units of the run are made, at once and on its own: a session of
    its own (a nested app context), so the caller's unit of work is left as it is."""
    with current_app.app_context(), unit_of_work():
        db.session.execute(
            sa.update(JobRun)
            .where(JobRun.id == run_id, JobRun.status == JobStatus.RUNNING)
            .values(done=done)
        )


def _claim(run_id: int) -> bool:
    # Compare-and-set: only one worker moves a queued run on.
    return (
        affected_rows(
            sa.update(JobRun)
            .where(JobRun.id == run_id, JobRun.status == JobStatus.QUEUED)
            .values(status=JobStatus.RUNNING, started_at=utcnow(), done=0)
        )
        == 1
    )


def _finish(run_id: int, result: JobResult) -> None:
    now = utcnow()
    affected_rows(
        sa.update(JobRun)
        .where(JobRun.id == run_id, JobRun.status == JobStatus.RUNNING)
        .values(
            status=JobStatus.DONE,
            done=JobRun.total,
            finished_at=now,
            result=result.content,
            result_name=result.file_name,
            result_type=result.media_type,
            result_size=len(result.content),
            expires_at=now + KEPT_FOR,
        )
    )


def _fail(run_id: int, message: str) -> None:
    affected_rows(
        sa.update(JobRun)
        .where(JobRun.id == run_id, JobRun.status.in_((JobStatus.QUEUED, JobStatus.RUNNING)))
        .values(
            status=JobStatus.FAILED,
            finished_at=utcnow(),
            error=message[:300],
            result=None,
            result_size=0,
        )
    )


@dataclass(frozen=True)
class Purge:
    """What a clean-up did."""

    emptied: int  # files past their expiry, emptied
    given_up: int  # runs whose worker died, marked failed
    deleted: int  # old rows deleted


def purge_expired(now: datetime | None = None) -> Purge:
    """Empty the files past their expiry, mark failed the runs that lost their worker,
    and delete rows older than a week (each run's page then answers "not found")."""
    now = now or utcnow()
    emptied = affected_rows(
        sa.update(JobRun)
        .where(JobRun.expires_at <= now, JobRun.result_size > 0)
        .values(result=None, result_size=0)
    )
    given_up = affected_rows(
        sa.update(JobRun)
        .where(
            JobRun.status.in_((JobStatus.QUEUED, JobStatus.RUNNING)),
            JobRun.created_at <= now - GIVEN_UP_AFTER,
        )
        .values(status=JobStatus.FAILED, finished_at=now, error=STOPPED)
    )
    deleted = affected_rows(sa.delete(JobRun).where(JobRun.created_at <= now - ROWS_KEPT_FOR))
    return Purge(emptied, given_up, deleted)


def discard_runs_about(patient_id: int, clinic_id: int) -> int:
    """Delete the clinic's runs whose file holds (or may hold) this patient, for an
    erasure: a pack of many patients goes whole, as it cannot be kept without them, and so
    does every audit export (any event's patient may be named in it). How many were
    deleted."""
    runs = db.session.execute(
        sa.select(JobRun.id, JobRun.kind, JobRun.params).where(JobRun.clinic_id == clinic_id)
    ).all()
    about = [
        run_id
        for run_id, kind, params in runs
        if (kind in KINDS and KINDS[kind].holds_any_patient) or patient_id in _patient_ids(params)
    ]
    if not about:
        return 0
    return affected_rows(sa.delete(JobRun).where(JobRun.id.in_(about)))


def patient_ids(run: JobRun) -> list[int]:
    """The patients whose data the run's file holds."""
    return _patient_ids(run.params)


def _patient_ids(params: str) -> list[int]:
    ids = json.loads(params).get("patient_ids", [])
    return [int(i) for i in ids]

"""Running the scheduler's periodic jobs from a test, at a time the test chooses (see
tests/support/clock.py), and reading what they posted."""

from __future__ import annotations

from datetime import datetime

from flask import Flask
from sqlalchemy import select

from clinic.extensions import db
from clinic.models.outbox import OutboxMessage
from clinic.schedule import jobs
from tests.support.clock import Clock


def run_at(app: Flask, clock: Clock, when: datetime, job_name: str) -> object:
    """Set the clock to `when` and run the periodic job `job_name` as the scheduler
    would (in the test, at once); returns what it returned."""
    clock.set(when)
    with app.app_context():
        return getattr(jobs, job_name).call_local()


def outbox_keys(app: Flask, kind: str) -> list[str]:
    """The keys of the outbox's messages of `kind`, in the order they were posted."""
    with app.app_context():
        return list(
            db.session.scalars(
                select(OutboxMessage.key)
                .where(OutboxMessage.kind == kind)
                .order_by(OutboxMessage.id)
            )
        )

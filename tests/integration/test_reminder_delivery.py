"""A reminder reaches the patient's mailbox at its time: the real worker process
(`huey_consumer clinic.worker.huey`, as production runs it) runs the reminders job and
delivers to a real SMTP server on the loopback.

The worker reads the real clock (a moved clock in this process does not reach it), so
the test needs no clock of its own: it sets the patient's slot to the current minute,
and another to the next minute, and asks the worker to run the job now. The current
minute's reminder arrives once, with the patient's subject and no clinic name; the next
minute's does not arrive early, and the plan says the job looks again then. (Late in a
minute the test first waits for the next one to begin, at most 21 s.)
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask

from clinic import queue
from clinic.domain.reminders import Slot
from clinic.extensions import db
from clinic.models import Patient, ReminderPlan, User
from clinic.reminders.jobs import send_reminders
from clinic.reminders.services import ReminderChoice, save_reminders
from tests.support.languages import speaks
from tests.support.smtp import SmtpSink
from tests.support.worker import (
    outbox_rows,
    running_worker,
    wait_for,
    worker_environment,
)
from tests.support.world import World

pytestmark = pytest.mark.worker


@pytest.mark.parametrize(
    ("language", "subject", "words"),
    [
        ("en", "A quick note", "the reminder you set for {at}"),
        # Issue 20: the worker writes it in the patient's language.
        ("es", "Una nota breve", "el recordatorio que programó para las {at}"),
    ],
)
def test_a_reminder_arrives_at_its_time_through_the_worker(
    app: Flask,
    world: World,
    on_protocol: int,
    sink: SmtpSink,
    queue_url: str,
    database_url: str,
    tmp_path: Path,
    language: str,
    subject: str,
    words: str,
) -> None:
    """The slot of this minute is delivered once by the worker, in the patient's language;
    the next minute's is not sent early."""
    speaks(app, world.patient.patient_id, language)
    now = datetime.now(UTC)
    if now.second >= 40:
        # Late in a minute the next one could begin before the worker runs the job (and
        # both slots would be due): start at the next minute instead.
        time.sleep(61 - now.second)
        now = datetime.now(UTC)
    this_minute = now.replace(second=0, microsecond=0)
    next_minute = this_minute + timedelta(minutes=1)
    slots = (
        Slot(this_minute.weekday(), this_minute.time()),
        Slot(next_minute.weekday(), next_minute.time()),
    )
    with app.app_context():
        patient = db.session.get(Patient, world.patient.patient_id)
        choice = ReminderChoice(True, slots, None, "UTC", "note", show_clinic_name=False)
        save_reminders(
            patient, choice, db.session.get(User, world.patient.id), now - timedelta(minutes=5)
        )
        db.session.commit()
    env = worker_environment(database_url, queue_url, sink.port, tmp_path)
    with running_worker(env, tmp_path):
        with app.app_context():
            queue.enqueue(send_reminders)
        wait_for(lambda: len(sink.received) >= 1, 30, "the reminder at the SMTP server")
        with app.app_context():
            plan = db.session.scalar(db.select(ReminderPlan))
            due = plan.next_due_at
    (message,) = list(sink.received)
    assert message["Subject"] == subject
    assert message["To"] == world.patient.email
    assert str(message["From"]) == "no-reply@clinic.test"  # no clinic name, as chosen
    assert words.format(at=f"{this_minute:%H:%M}") in message.get_content()
    assert "https://clinic.test/login" in message.get_content()
    assert [r.kind for r in outbox_rows(app)] == ["reminder"]
    if datetime.now(UTC) < next_minute:
        assert due == next_minute

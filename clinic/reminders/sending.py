"""Sending the reminders that fall due: the minute's job (clinic.reminders.jobs) calls
`send_batch`, which reads a bounded batch of plans whose `next_due_at` has come, applies
the rules (clinic.domain.reminders) and hands each due reminder to `send_due`.

`send_due` is the one place that knows channels: it posts the email through the outbox
and, where the patient chose notifications, one Web Push message per device with
notifications on (clinic.push): one message per occasion, recipient and channel, so a job
run twice, or two workers, still send one.

Cost: six queries a batch (the plans with their patients and clinics, their accounts,
the latest entry of each patient and when they last noted one, the recent entries, their
open plans and when each last started or resumed, the devices of those who chose
notifications), then one insert per message and the plans' new `next_due_at` in one
executemany; each different message is written once a batch (`Composer`).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from clinic import push
from clinic.core.links import external_url
from clinic.domain.protocols import EventKind, ProtocolStatus
from clinic.domain.reminders import Due, Kind, PlanState, due, moment, next_due_at, zone_of
from clinic.extensions import db
from clinic.i18n import language, speaking
from clinic.models import (
    Clinic,
    DiaryEntry,
    Patient,
    Protocol,
    ProtocolEvent,
    PushSubscription,
    ReminderPlan,
    User,
)
from clinic.outbox import Content, patient_sender_name, post
from clinic.outbox.kinds import MessageKind
from clinic.outbox.text import render_text
from clinic.reminders.services import rules_for, zone_for

BATCH = 500
# When a plan's reminders fail (a bug, not a patient's doing), it is looked at again after
# this, not every minute: the log says so, and the others are not held back.
RETRY_FAILED = timedelta(minutes=15)

logger = logging.getLogger(__name__)
# Entries older than this only matter through the latest one (the nudge's count).
_RECENT = timedelta(days=2)


@dataclass(frozen=True)
class Batch:
    """What one batch did: plans looked at, messages posted."""

    looked_at: int
    posted: int


def reminder_content(
    plan: ReminderPlan, kind: Kind, local_time: str, link: str | None = None
) -> Content:
    """The email for a reminder or a nudge: the subject the patient chose, a neutral body,
    a link to sign in, and how to change or stop reminders, in the language being spoken
    (the page's, or the patient's: `speaking`)."""
    template = "reminder.txt" if kind is Kind.REMINDER else "reminder_nudge.txt"
    body = render_text(template, link=link or external_url("auth.login"), at=local_time)
    return Content(subject=_(plan.subject_text), body=body)


class Composer:
    """The messages of one batch, each different one written once: reminders due in the
    same minute mostly say the same thing (the sign-in link is worked out once too), each
    in the patient's language."""

    def __init__(self) -> None:
        self._link: str | None = None
        self._made: dict[tuple[str, Kind, str, str], Content] = {}

    def content(self, plan: ReminderPlan, kind: Kind, local_time: str, code: str = "en") -> Content:
        key = (plan.subject, kind, local_time, code)
        if key not in self._made:
            self._link = self._link or external_url("auth.login")
            with speaking(code):
                self._made[key] = reminder_content(plan, kind, local_time, self._link)
        return self._made[key]


def notification_words(plan: ReminderPlan, kind: Kind, local_time: str) -> tuple[str, str]:
    """A notification's title and text: the subject the patient chose and a line as
    neutral as the email's (a lock screen shows both), in the language being spoken."""
    if kind is Kind.REMINDER:
        return _(plan.subject_text), _(
            "The reminder you set for %(time)s. Open to sign in.", time=local_time
        )
    return _(plan.subject_text), _("Whenever you are ready, open to sign in and pick up again.")


def sender_for(plan: ReminderPlan, clinic: Clinic) -> str:
    """The From name: the clinic's sender name, or none if the patient prefers."""
    return patient_sender_name(clinic, shows_clinic_name=plan.show_clinic_name)


def send_due(
    plan: ReminderPlan,
    reminder: Due,
    *,
    account: User,
    clinic: Clinic,
    composer: Composer | None = None,
    devices: list[PushSubscription] | None = None,
) -> int:
    """Post one due reminder (or nudge) on each channel the patient chose; returns how many
    messages were new. The one function that knows channels. `devices`: the account's
    devices with notifications on, when the caller read them already (a batch). In the
    patient's language (`account.language`, loaded with the account: their record's,
    when their clinic has turned it on)."""
    composer = composer or Composer()
    code = language(account.language).code
    kind = MessageKind.REMINDER if reminder.kind is Kind.REMINDER else MessageKind.REMINDER_NUDGE
    local = reminder.occurrence.at.astimezone(zone_of(zone_for(plan, clinic)))
    posted = 0
    if plan.by_email:
        posted += post(
            kind,
            reminder.occasion,
            to=account,
            clinic_id=clinic.id,
            content=composer.content(plan, reminder.kind, f"{local:%H:%M}", code),
            sender_name=sender_for(plan, clinic),
        )
    if plan.by_push:
        with speaking(code):
            title, body = notification_words(plan, reminder.kind, f"{local:%H:%M}")
        posted += push.notify(
            kind,
            reminder.occasion,
            user=account,
            clinic_id=clinic.id,
            title=title,
            body=body,
            devices=devices,
        )
    return posted


def send_batch(now: datetime, limit: int = BATCH) -> Batch:
    """Look at up to `limit` plans whose time has come: post what is due, and set when to
    look next. Two workers at once: PostgreSQL hands each its own rows (SKIP LOCKED), and
    the outbox's keys keep any overlap to one message."""
    rows = db.session.execute(
        sa.select(ReminderPlan, Patient, Clinic)
        .join(
            Patient,
            sa.and_(
                Patient.id == ReminderPlan.patient_id, Patient.clinic_id == ReminderPlan.clinic_id
            ),
        )
        .join(Clinic, Clinic.id == ReminderPlan.clinic_id)
        .where(ReminderPlan.next_due_at <= now, ReminderPlan.enabled.is_(True))
        .order_by(ReminderPlan.next_due_at, ReminderPlan.id)
        .limit(limit)
        .with_for_update(of=ReminderPlan, skip_locked=True)
    ).all()
    if not rows:
        return Batch(0, 0)
    patient_ids = [patient.id for _, patient, _ in rows]
    accounts = _accounts(patient_ids)
    entries, noted = _entries(patient_ids, now)
    states = _plan_states(patient_ids)
    devices = push.devices_by_user(
        [
            account.id
            for plan, patient, _ in rows
            if plan.by_push and (account := accounts.get(patient.id))
        ]
    )
    posted = 0
    composer = Composer()
    # Set once everything is posted: a plan changed before a post would be flushed by it,
    # one UPDATE a plan instead of one for the batch.
    next_looks: list[tuple[ReminderPlan, datetime | None]] = []
    for plan, patient, clinic in rows:
        rules = rules_for(plan, clinic)
        if rules is None:
            next_looks.append((plan, None))
            continue
        account = accounts.get(patient.id)
        state, started_on, recorded = states.get(patient.id, (PlanState.NONE, None, None))
        # From the day it started or resumed, or from when that was recorded if later: a
        # resumption recorded days late must not leave a nudge behind that was never sent
        # (it fell while the plan still read as paused), silencing every reminder after it.
        marks = [moment(started_on, time(0, 0), rules.zone)] if started_on else []
        running_since = max([*marks, *([recorded] if recorded else [])], default=None)
        try:
            # One plan's failure is that plan's alone: its posts are undone and it is
            # looked at again later, while the batch (every plan due after it) goes on.
            with db.session.begin_nested():
                if account is not None:
                    found = due(
                        rules, state, entries[patient.id], now, running_since, noted.get(patient.id)
                    )
                    for reminder in found:
                        posted += send_due(
                            plan,
                            reminder,
                            account=account,
                            clinic=clinic,
                            composer=composer,
                            devices=devices.get(account.id, []),
                        )
                next_look = next_due_at(rules, now)
        except Exception:  # any failure: the rest of the batch still goes
            logger.exception("reminders of plan %s failed; tried again later", plan.id)
            next_look = now + RETRY_FAILED
        next_looks.append((plan, next_look))
    for plan, at in next_looks:
        plan.next_due_at = at
    db.session.flush()
    return Batch(len(rows), posted)


def _accounts(patient_ids: list[int]) -> dict[int, User]:
    """The portal accounts that can receive reminders (active, with a password)."""
    return {
        patient_id: user
        for patient_id, user in db.session.execute(
            sa.select(Patient.id, User)
            .join(User, sa.and_(User.id == Patient.user_id, User.clinic_id == Patient.clinic_id))
            .where(
                Patient.id.in_(patient_ids),
                User.active.is_(True),
                User.password_hash.is_not(None),
            )
        )
    }


def _entries(
    patient_ids: list[int], now: datetime
) -> tuple[dict[int, list[datetime]], dict[int, datetime]]:
    """Each patient's entries of the last days and their latest one (still in force), and
    when they last noted one (an entry may be dated days before it was noted)."""
    found: dict[int, list[datetime]] = defaultdict(list)
    noted: dict[int, datetime] = {}
    kept = sa.and_(
        DiaryEntry.patient_id.in_(patient_ids),
        DiaryEntry.withdrawn_at.is_(None),
        DiaryEntry.occurred_at <= now,
    )
    for patient_id, latest, last_noted in db.session.execute(
        sa.select(
            DiaryEntry.patient_id,
            sa.func.max(DiaryEntry.occurred_at),
            sa.func.max(DiaryEntry.created_at),
        )
        .where(kept)
        .group_by(DiaryEntry.patient_id)
    ):
        found[patient_id].append(_aware(latest))
        noted[patient_id] = _aware(last_noted)
    for patient_id, at in db.session.execute(
        sa.select(DiaryEntry.patient_id, DiaryEntry.occurred_at).where(
            kept, DiaryEntry.occurred_at >= now - _RECENT
        )
    ):
        found[patient_id].append(_aware(at))
    return found, noted


def _plan_states(
    patient_ids: list[int],
) -> dict[int, tuple[PlanState, date | None, datetime | None]]:
    """Each patient's open plan: active or paused, the day it last started or resumed,
    and when that was last recorded (a resumption may be recorded days after its date)."""
    started = (
        sa.select(
            ProtocolEvent.protocol_id,
            sa.func.max(ProtocolEvent.effective_on).label("on"),
            sa.func.max(ProtocolEvent.created_at).label("recorded"),
        )
        .where(ProtocolEvent.kind.in_([EventKind.START, EventKind.RESUME]))
        .group_by(ProtocolEvent.protocol_id)
        .subquery()
    )
    found: dict[int, tuple[PlanState, date | None, datetime | None]] = {}
    for patient_id, status, on, recorded in db.session.execute(
        sa.select(Protocol.patient_id, Protocol.status, started.c.on, started.c.recorded)
        .outerjoin(started, started.c.protocol_id == Protocol.id)
        .where(
            Protocol.patient_id.in_(patient_ids),
            Protocol.status.in_([ProtocolStatus.ACTIVE, ProtocolStatus.PAUSED]),
        )
    ):
        state = PlanState.ACTIVE if status is ProtocolStatus.ACTIVE else PlanState.PAUSED
        found[patient_id] = (state, on, _aware(recorded) if recorded else None)
    return found


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)

"""Red flags raised the way a patient raises them (through the diary service), and the
outbox and sent messages read back, for the alert tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import uuid4

from flask import Flask
from sqlalchemy import select, update

from clinic.diary.services import SessionDetails, correct, record
from clinic.domain.diary import Bleeding
from clinic.extensions import db
from clinic.models import DiaryEntry, Patient, Protocol, RedFlag, User
from clinic.models.outbox import OutboxMessage
from clinic.models.types import utcnow
from clinic.outbox.kinds import MessageKind


@dataclass(frozen=True)
class Posted:
    """An outbox row as tests compare it."""

    kind: str
    key: str
    recipient: str
    status: str
    subject: str
    sender_name: str


def session_details(
    *, pain: int = 3, bleeding: Bleeding = Bleeding.NONE, sharp: bool = False, size_id: int
) -> SessionDetails:
    return SessionDetails(utcnow(), size_id, 10, pain, pain, bleeding, sharp, None, "")


def log_session(
    app: Flask,
    person,
    protocol_id: int,
    *,
    pain: int = 3,
    bleeding: Bleeding = Bleeding.NONE,
    sharp: bool = False,
) -> int:
    """The patient logs a session through the diary (committed); returns the entry id."""
    with app.app_context():
        patient = db.session.get_one(Patient, person.patient_id)
        protocol = db.session.get_one(Protocol, protocol_id)
        size_id = protocol.versions[0].stages[0].dilator_size_id
        entry = record(
            patient,
            protocol,
            db.session.get_one(User, person.id),
            uuid4().hex,
            session_details(pain=pain, bleeding=bleeding, sharp=sharp, size_id=size_id),
        )
        db.session.commit()
        return entry.id


def correct_session(
    app: Flask, person, protocol_id: int, entry_id: int, *, pain: int, bleeding: Bleeding
) -> None:
    """The patient corrects an entry (sharp pain kept), committed."""
    with app.app_context():
        entry = db.session.get_one(DiaryEntry, entry_id)
        protocol = db.session.get_one(Protocol, protocol_id)
        details = session_details(
            pain=pain, bleeding=bleeding, sharp=True, size_id=entry.dilator_size_id
        )
        correct(entry, protocol, db.session.get_one(User, person.id), details)
        db.session.commit()


def outbox(app: Flask, *kinds: MessageKind) -> list[Posted]:
    """The outbox rows of these kinds (all alert kinds when none is given), oldest first."""
    wanted = [k.value for k in kinds] or [
        MessageKind.RED_FLAG_ALERT.value,
        MessageKind.RED_FLAG_ESCALATION.value,
    ]
    with app.app_context():
        rows = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind.in_(wanted)).order_by(OutboxMessage.id)
        )
        return [
            Posted(r.kind, r.key, r.recipient, r.status.value, r.subject, r.sender_name)
            for r in rows
        ]


def flags_raised_at(app: Flask, moment: datetime) -> None:
    """Every red flag as if raised at `moment` (to run escalation against a clock)."""
    with app.app_context():
        db.session.execute(update(RedFlag).values(raised_at=moment))
        db.session.commit()


def hours(n: float) -> timedelta:
    return timedelta(hours=n)

"""The audit trail as tests read it back."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from clinic.extensions import db
from clinic.models import AuditEvent


def events(app: Flask, action: str | None = None, **where: object) -> list[AuditEvent]:
    """The stored events of `action` (any, when None) matching `where` (column=value),
    oldest first, detached."""
    with app.app_context():
        stmt = select(AuditEvent).order_by(AuditEvent.id)
        if action is not None:
            stmt = stmt.where(AuditEvent.action == action)
        for column, value in where.items():
            stmt = stmt.where(getattr(AuditEvent, column) == value)
        found = list(db.session.scalars(stmt))
        db.session.expunge_all()
        return found

"""One audit event as people read it, the same on the page and in the CSV export."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_babel import gettext as _
from sqlalchemy import Row

from clinic.audit.actions import action_words, object_words, outcome_words, role_words


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


@dataclass(frozen=True)
class EventLine:
    """An event in words: when (in the clinic's zone), who, what, about whom, the outcome."""

    id: int
    at_utc: datetime
    at_local: datetime
    who: str
    role: str
    action: str
    action_words: str
    patient_id: int | None
    patient: str  # "Name (identifier)", "erased patient #12", or ""
    patient_name: str
    patient_identifier: str
    object: str
    outcome: str
    ip: str
    detail: str

    @property
    def when(self) -> str:
        """ "23 Nov 2026 09:07:12", the clinic's local time."""
        return self.at_local.strftime("%d %b %Y %H:%M:%S")

    @classmethod
    def of(cls, row: Row, zone: str) -> EventLine:
        """The line for a row of `clinic.audit.queries` (an event with names joined)."""
        event = row.AuditEvent
        if event.actor_id is None:
            who = _api_token(event.detail) if event.actor_role == "api" else _("Nobody signed in")
        elif row.actor_name is None:
            who = _("Account %(number)s (no longer on record)", number=event.actor_id)
        else:
            who = row.actor_name
        if event.patient_id is None:
            patient = ""
        elif row.patient_found is None:
            patient = _("erased patient #%(number)s", number=event.patient_id)
        else:
            patient = f"{row.patient_name} ({row.patient_identifier})"
        return cls(
            id=event.id,
            at_utc=event.at.astimezone(UTC),
            at_local=event.at.astimezone(_zone(zone)),
            who=who,
            role=role_words(event.actor_role) if event.actor_role else "",
            action=event.action,
            action_words=action_words(event.action, event.outcome),
            patient_id=event.patient_id,
            patient=patient,
            patient_name=row.patient_name or "",
            patient_identifier=row.patient_identifier or "",
            object=object_words(event.object_type, event.object_id),
            outcome=outcome_words(event.outcome),
            ip=event.ip,
            detail="" if event.detail in ("", "{}") else event.detail,
        )


def _api_token(detail: str) -> str:
    """Who made a call of the FHIR API: the token its event names (clinic.fhirapi)."""
    try:
        token_id = json.loads(detail).get("token_id")
    except (ValueError, AttributeError):
        token_id = None
    return (
        _("API token %(number)s", number=token_id)
        if isinstance(token_id, int)
        else _("An API token")
    )

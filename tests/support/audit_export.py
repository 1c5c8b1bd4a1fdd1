"""Events in the audit trail as the app writes them, and exporting the trail as an
administrator's browser does: the export button (a POST with the search's filters in its
address), then the run's progress page and its download (tests.support.jobs)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from flask import Flask
from werkzeug.test import TestResponse

from clinic.extensions import db
from clinic.models import AuditEvent
from tests.support.jobs import download_from_progress

URL = "/admin/audit/export"
JAN_10 = datetime(2026, 1, 10, 15, 4, 5, tzinfo=UTC)  # 10:04:05 in New York


def add_event(
    app: Flask,
    clinic_id: int,
    *,
    actor: int | None = None,
    role: str = "clinician",
    action: str = "timeline.view",
    patient_id: int | None = None,
    at: datetime = JAN_10,
    marker: int | None = None,
    ip: str = "10.0.0.1",
) -> int:
    """An event as the app would have written it; `marker` becomes a clinical note id,
    shown as "clinical note <marker>" so tests can tell events apart on the page."""
    with app.app_context():
        event = AuditEvent(
            clinic_id=clinic_id,
            actor_id=actor,
            actor_role=role if actor else "",
            action=action,
            patient_id=patient_id,
            object_type="note" if marker is not None else "",
            object_id=marker,
            ip=ip,
            at=at,
        )
        db.session.add(event)
        db.session.commit()
        return event.id


def read_csv(response: TestResponse) -> list[dict[str, str]]:
    """The rows of a downloaded export, by column name."""
    return list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"))))


def ask_for_export(client, **query: object) -> TestResponse:
    """The answer to the export button for a search with these filters: a redirect to the
    run's progress page, or the search page again."""
    return client.post(URL, query_string=query)


def export_csv(client, **query: object) -> TestResponse:
    """The downloaded CSV file (or the refusal) for a search with these filters."""
    return download_from_progress(client, ask_for_export(client, **query))

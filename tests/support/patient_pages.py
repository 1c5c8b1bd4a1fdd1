"""Patients' pages as served, for the tests of what they keep (clinic.monitoring.kept):
a page and the statements it sent, the templates drawn, and a colleague's decision made
through another app."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, template_rendered

from clinic.core.clock import clinic_today
from clinic.domain.protocols import EventKind
from clinic.extensions import db
from clinic.models import User
from clinic.protocols.queries import get_protocol_or_404
from clinic.protocols.services import record_event
from tests.support.auth import act_as
from tests.support.queries import count_queries
from tests.support.world import World


def load(app: Flask, person_id: int, url: str) -> tuple[str, int]:
    """The page at `url` as this person sees it on `app`, and the statements it sent."""
    client = app.test_client()
    act_as(client, person_id)
    with app.app_context():
        engine = db.engine
    with count_queries(engine) as statements:
        response = client.get(url)
    assert response.status_code == 200
    return response.get_data(as_text=True), len(statements)


def advance_today(app: Flask, protocol_id: int, world: World) -> None:
    """The colleague moves the patient up to the next size today, on `app`."""
    with app.app_context():
        protocol = get_protocol_or_404(protocol_id, world.patient.patient_id, world.clinic_a)
        record_event(
            protocol,
            EventKind.ADVANCE,
            db.session.get(User, world.colleague.id),
            expected_lock=str(protocol.lock_version),
            reason="Comfortable at this size.",
            effective_on=clinic_today("Europe/London"),
            today=clinic_today("Europe/London"),
        )
        db.session.commit()


@contextmanager
def templates_drawn(app: Flask) -> Iterator[list[str]]:
    """The names of the templates `app` renders inside the block (a part served as kept
    draws none of its own)."""
    names: list[str] = []

    def note(_sender: Flask, template: object, **_extra: object) -> None:
        names.append(getattr(template, "name", ""))

    with template_rendered.connected_to(note, app):
        yield names

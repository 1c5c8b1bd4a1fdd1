"""A protocol's versions and events are loaded by statements of their own
(clinic.protocols.queries: `open_protocol`, `patient_protocols`), not by the relationships:
they must give what the relationships give, in the same unit of work as elsewhere, and
the open protocol keeps the history it was read with when a colleague closes it between
the statements."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from flask import Flask
from sqlalchemy import Engine, event

from clinic.domain.protocols import EventKind
from clinic.extensions import db
from clinic.models import Protocol, User
from clinic.patients.queries import own_record_version_and_plan
from clinic.protocols import integrity
from clinic.protocols.queries import History, load_history, open_protocol, patient_protocols
from tests.support.auth import act_as
from tests.support.protocols import record_today, start_plan
from tests.support.world import World


@contextmanager
def _completed_before_the_history(
    engine: Engine, other: Flask, protocol_id: int, clinician_id: int
) -> Iterator[Callable[[], bool]]:
    """While inside: a colleague completes the protocol (committed through `other`) just
    before the first statement that reads protocol versions, as another request finishing
    in that instant would. Yields whether that happened."""
    fired: list[bool] = []

    def complete(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if not fired and "FROM protocol_versions" in statement:
            fired.append(True)
            with other.app_context():
                record_today(
                    db.session.get_one(Protocol, protocol_id), EventKind.COMPLETE, clinician_id
                )
                db.session.commit()

    event.listen(engine, "before_cursor_execute", complete)
    try:
        yield lambda: bool(fired)
    finally:
        event.remove(engine, "before_cursor_execute", complete)


def test_a_protocol_closed_between_the_statements_keeps_its_history(
    app: Flask, make_app, world: World
) -> None:
    """The open protocol read just before a colleague completes it comes with the
    versions and events it was read with (not an empty history)."""
    protocol_id = start_plan(app, world.patient.patient_id, world.clinician.id)
    with app.app_context():
        with _completed_before_the_history(
            db.engine, make_app(), protocol_id, world.clinician.id
        ) as happened:
            protocol = open_protocol(world.patient.patient_id, world.clinic_a)
        assert happened() and protocol is not None and protocol.id == protocol_id
        assert protocol.versions and protocol.events


@pytest.mark.parametrize("page", ["timeline", "today"])
def test_pages_read_while_a_protocol_is_completed_answer(
    app: Flask, make_app, client, world: World, page: str
) -> None:
    """The timeline and the portal's Today, read while the clinician completes the
    protocol, answer as usual (they read the protocol's first event and stages)."""
    protocol_id = start_plan(app, world.patient.patient_id, world.clinician.id)
    if page == "timeline":
        act_as(client, world.colleague.id)
        url = f"/patients/{world.patient.patient_id}/timeline"
    else:
        act_as(client, world.patient.id)
        url = "/diary/"
    with app.app_context():
        engine = db.engine
    with _completed_before_the_history(
        engine, make_app(), protocol_id, world.clinician.id
    ) as happened:
        response = client.get(url)
    assert happened() and response.status_code == 200


def test_a_change_in_the_same_unit_of_work_is_loaded_as_made(app: Flask, world: World) -> None:
    """An event recorded (not yet committed) on a loaded protocol, then the protocol
    loaded again in the same unit of work, by each loader, plain and afresh: the same
    object, every event in order, and a history that checks out."""
    start_plan(app, world.patient.patient_id, world.clinician.id)
    with app.app_context():
        patient_id, clinic_id = world.patient.patient_id, world.clinic_a
        protocol = open_protocol(patient_id, clinic_id)
        assert protocol is not None
        record_today(protocol, EventKind.ADVANCE, world.clinician.id)
        recorded = list(protocol.events)
        for again in (
            open_protocol(patient_id, clinic_id),
            _as_the_diary_post_reads_it(world),
            patient_protocols(patient_id, clinic_id)[0],
        ):
            assert again is protocol
            assert list(again.events) == recorded and len(recorded) == 2
            assert integrity.verify(again)
        db.session.rollback()


def _as_the_diary_post_reads_it(world: World) -> Protocol:
    """The open plan read with the patient's record, then its history, both afresh."""
    found = own_record_version_and_plan(db.session.get_one(User, world.patient.id))
    assert found is not None and found[2] is not None
    load_history(found[2], History.RULES, afresh=True)
    return found[2]

"""The fingerprint of a patient's open protocol's rows (clinic.protocols.integrity
`OPEN_ROWS` and `fingerprint`), which the protocol page is kept under: the same rows always give the
same one, and any change to any of them, through the app or behind its back, gives
another. Runs on SQLite and, in CI, on PostgreSQL (each writes values its own way)."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import Table, func, literal, null, select, update
from sqlalchemy import text as sa_text

from clinic.domain.protocols import EventKind
from clinic.extensions import db
from clinic.models import Protocol, ProtocolEvent, ProtocolStage, ProtocolVersion
from clinic.protocols.integrity import OPEN_ROWS, _row_text, fingerprint
from tests.support.auth import act_as
from tests.support.protocols import decide_today, start_plan
from tests.support.world import World

MATCH = "The history matches its recorded fingerprints."


def open_fingerprint(patient_id: int, clinic_id: int) -> str | None:
    """The fingerprint of the patient's open protocol's rows, read on their own (the page
    reads them with the patient's record)."""
    whose = {"patient_id": patient_id, "clinic_id": clinic_id}
    return fingerprint(db.session.scalar(select(OPEN_ROWS), whose))


def _fingerprint(app: Flask, world: World, patient_id: int | None = None) -> str | None:
    with app.app_context():
        return open_fingerprint(patient_id or world.patient.patient_id, world.clinic_a)


def test_the_same_rows_give_the_same_fingerprint(app: Flask, world: World) -> None:
    """Read twice with nothing changed, the fingerprint is the same; a patient with no
    open protocol, or asked about under another clinic, has none."""
    assert _fingerprint(app, world) is None
    start_plan(app, world.patient.patient_id, world.clinician.id)
    first = _fingerprint(app, world)
    assert first is not None and _fingerprint(app, world) == first
    with app.app_context():
        assert open_fingerprint(world.patient.patient_id, world.clinic_b) is None


@pytest.mark.parametrize(
    ("table", "values"),
    [
        (Protocol.__table__, {"surgeon_direction": "Changed directly"}),
        (ProtocolVersion.__table__, {"reason": "Changed directly"}),
        (ProtocolStage.__table__, {"minutes": 59}),
        (ProtocolEvent.__table__, {"reason": "Changed directly"}),
    ],
    ids=["protocol", "version", "stage", "event"],
)
def test_a_change_behind_the_apps_back_to_any_row_changes_it(
    app: Flask, world: World, table: Table, values: dict[str, object]
) -> None:
    """A column of the protocol, a version, a stage or an event changed in the database
    directly (which moves no summary version) gives another fingerprint."""
    start_plan(app, world.patient.patient_id, world.clinician.id)
    before = _fingerprint(app, world)
    with app.app_context():
        db.session.execute(update(table).values(**values))
        db.session.commit()
    assert _fingerprint(app, world) not in (before, None)


def test_a_decision_recorded_changes_it(app: Flask, world: World) -> None:
    """A stage decision (a new event, the protocol's head hash moved) gives another."""
    protocol_id = start_plan(app, world.patient.patient_id, world.clinician.id)
    before = _fingerprint(app, world)
    decide_today(app, protocol_id, EventKind.ADVANCE, world.clinician.id)
    assert _fingerprint(app, world) not in (before, None)


def test_other_protocols_leave_it_alone(app: Flask, world: World) -> None:
    """Another patient's protocol changing, even directly, leaves it as it was."""
    start_plan(app, world.patient.patient_id, world.clinician.id)
    other_id = start_plan(app, world.other_patient.patient_id, world.clinician.id)
    before = _fingerprint(app, world)
    with app.app_context():
        db.session.execute(
            update(ProtocolEvent.__table__)
            .where(ProtocolEvent.protocol_id == other_id)
            .values(reason="Changed directly")
        )
        db.session.commit()
    assert _fingerprint(app, world) == before


def _on_sqlite(app: Flask) -> None:
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            # PostgreSQL writes a row as a record (its own text form, which quotes what
            # needs it, tells NULL from "" and cannot hold a NUL); SQLite's is ours.
            pytest.skip("how SQLite's rows are written: PostgreSQL writes them as records")


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ((null(), literal("")), (literal(""), literal(""))),
        ((literal("a,b"), literal("c")), (literal("a"), literal("b,c"))),
        ((literal("a','b"), literal("c")), (literal("a"), literal("b','c"))),
        ((literal("ab"),), (literal("ab\x00 changed"),)),
        ((literal(0.1 + 0.2),), (literal(0.3),)),
    ],
    ids=["null-or-empty", "comma", "quote", "nul", "every-digit"],
)
def test_rows_that_differ_never_read_the_same(
    app: Flask, one: tuple[object, ...], other: tuple[object, ...]
) -> None:
    """Two rows whose values differ are written differently on SQLite, even where joining
    their values plainly would give the same text: NULL and "", a comma inside a value, a
    quote inside one, what follows a NUL inside one (SQLite's `quote()` stops there:
    found by review), and numbers apart in their last digit."""
    _on_sqlite(app)
    with app.app_context():
        first = db.session.scalar(select(_row_text(*one)))
        second = db.session.scalar(select(_row_text(*other)))
    assert first != second


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("ROW(NULL, '')", "ROW('', NULL)"),
        ("ROW('a,b', 'c')", "ROW('a', 'b,c')"),
        ("ROW('a\"b', 'c')", "ROW('a', '\"b,c')"),
        ("ROW('a)', 'b')", "ROW('a', ')b')"),
        ("ROW('a' || chr(10) || 'pb', 'c')", "ROW('a', 'pb' || chr(10) || 'c')"),
    ],
    ids=["null-or-empty", "comma", "quote", "parenthesis", "newline"],
)
def test_records_that_differ_never_read_the_same_on_postgresql(
    app: Flask, one: str, other: str
) -> None:
    """What the fingerprint relies on there: PostgreSQL writes a row as a record whose
    text tells NULL from "", and quotes a value holding a comma, a quote, a parenthesis or
    a newline (so the newline between the rows' lines never reads as one inside a row)."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("PostgreSQL's record text")
        first = db.session.scalar(sa_text(f"SELECT CAST({one} AS TEXT)"))
        second = db.session.scalar(sa_text(f"SELECT CAST({other} AS TEXT)"))
    assert first != second


def test_text_changed_after_a_nul_behind_the_apps_back_is_caught(
    app: Flask, client, world: World
) -> None:
    """On SQLite, a decision's reason given a NUL and more text in the database directly
    gives another fingerprint, so the protocol page is drawn and checked again and warns
    (with the fingerprint written by `quote()` alone, it served the kept page saying the
    history matched)."""
    _on_sqlite(app)
    protocol_id = start_plan(app, world.patient.patient_id, world.clinician.id)
    act_as(client, world.clinician.id)
    url = f"/patients/{world.patient.patient_id}/protocol/"
    assert MATCH in client.get(url).get_data(as_text=True)
    before = _fingerprint(app, world)
    with app.app_context():
        db.session.execute(
            update(ProtocolEvent.__table__)
            .where(ProtocolEvent.protocol_id == protocol_id)
            .values(reason=ProtocolEvent.reason + func.char(0) + " changed")
        )
        db.session.commit()
    assert _fingerprint(app, world) != before
    assert MATCH not in client.get(url).get_data(as_text=True)

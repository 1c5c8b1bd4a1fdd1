"""Tamper evidence for prescriptions: content hashes of versions, a hash chain of events.

A version's hash covers its number, reason, author and every prescribed value of its stages.
Each event's hash covers the event, the hash of the version it put in force, and the
previous event's hash; the first starts from the protocol's identity (genesis) and the
protocol keeps the last (head). Changing, inserting or deleting any record therefore breaks
the chain or its ends; `verify` recomputes it.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Label,
    Select,
    String,
    bindparam,
    literal_column,
    select,
    union_all,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from clinic.domain.protocols import STATUS_AFTER, ProtocolStatus
from clinic.models import Protocol, ProtocolEvent, ProtocolStage, ProtocolVersion


def _digest(payload: object) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def genesis(protocol: Protocol) -> str:
    """Where the chain starts: the protocol's identity, so changing whose protocol it is,
    its route, indication, surgeon's or specialist service's direction breaks every event
    hash."""
    identity: dict[str, object] = {
        "patient_id": protocol.patient_id if protocol.patient_id else protocol.patient.id,
        "clinic_id": protocol.clinic_id,
        "name": protocol.name,
        "route": protocol.route.value,
        "indication": protocol.indication.value,
        "surgeon_direction": protocol.surgeon_direction,
        "created_at": protocol.created_at.isoformat(),
    }
    if protocol.procedure_on is not None:
        # Only when recorded: protocols from before the procedure date existed keep the
        # hashes they were chained with.
        identity["procedure_on"] = protocol.procedure_on.isoformat()
    if protocol.specialist_direction:
        # Likewise: only a child's protocol names the service that leads it.
        identity["specialist_direction"] = protocol.specialist_direction
    return _digest(identity)


def _canonical_stage(stage: ProtocolStage) -> dict[str, object]:
    prescription = stage.stage_values()
    values = {"position": stage.position, **prescription.as_dict()}
    depth = prescription.target_depth_cm
    # Engines return a stored 15.0 as 15 or 15.0: hash the value, not its spelling.
    values["target_depth_cm"] = None if depth is None else f"{float(depth):.1f}"
    return values


def version_hash(version: ProtocolVersion) -> str:
    """The hash of a plan version: its number, reason, author and stages in order."""
    return _digest(
        {
            "number": version.number,
            "reason": version.reason,
            "created_by_id": version.created_by_id,
            "stages": [
                _canonical_stage(s) for s in sorted(version.stages, key=lambda s: s.position)
            ],
        }
    )


def event_hash(event: ProtocolEvent, version_content_hash: str, previous: str) -> str:
    """The chain hash of `event` following the event whose hash is `previous`."""
    return _digest(
        {
            "previous": previous,
            "version": version_content_hash,
            "kind": event.kind.value,
            "effective_on": event.effective_on.isoformat(),
            "version_number": event.version_number,
            "stage": event.stage,
            "reason": event.reason,
            "resume_on": event.resume_on.isoformat() if event.resume_on else None,
            "created_by_id": event.created_by_id,
            "created_at": event.created_at.isoformat(),
        }
    )


def verify(protocol: Protocol) -> bool:
    """Whether every version and event still matches the hashes recorded with it, the
    chain ends where the protocol says it does, and its status follows from its events."""
    versions = {v.number: v for v in protocol.versions}
    if any(version_hash(v) != v.content_hash for v in versions.values()):
        return False
    previous = genesis(protocol)
    status = None
    for event in protocol.events:
        version = versions.get(event.version_number)
        if version is None or event_hash(event, version.content_hash, previous) != event.chain_hash:
            return False
        previous = event.chain_hash
        status = STATUS_AFTER[event.kind] or status
    return previous == protocol.head_hash and status == protocol.status


def fingerprint(rows: str | None) -> str | None:
    """The digest of the patient's open protocol's rows as `OPEN_ROWS` reads them (None:
    no open protocol): every column of the rows `verify` reads (the protocol, its
    versions, their stages and its events).

    Rows that verified once verify again while their fingerprint is the same: a page
    built from them may be kept under it (the protocol page, which reads `OPEN_ROWS` with
    the patient's record) and need not load and check them again. A change to any column
    of any of the rows, or a row added or removed, gives another fingerprint, whether it
    came through the app or not."""
    return None if rows is None else hashlib.sha256(rows.encode()).hexdigest()


class _row_text(FunctionElement[str]):
    """A row of one table as text, given its columns in order: no two different rows read
    the same (NULL apart from '', "a,b" apart from two columns), and the same row always
    reads the same on one engine. PostgreSQL writes the row as a record (`protocols::text`:
    one expression, which its planner, run on every read, takes in its stride; a column
    by column expression took it twice as long to plan). SQLite writes each column as SQL
    would (`quote()`, which tells NULL from '' and keeps a number's every digit) and as
    its bytes in hex (`quote()` stops at a NUL inside a text; `hex()` does not), joined by
    commas."""

    type = String()
    inherit_cache = True


@compiles(_row_text)
def _row_text_sql(element: _row_text, compiler: SQLCompiler, **kw: Any) -> str:
    table = next(iter(element.clauses)).table
    return f"CAST({compiler.preparer.format_table(table)} AS TEXT)"


@compiles(_row_text, "sqlite")
def _row_text_sqlite(element: _row_text, compiler: SQLCompiler, **kw: Any) -> str:
    columns = (compiler.process(column, **kw) for column in element.clauses)
    return " || ',' || ".join(f"quote({c}) || '/' || hex({c})" for c in columns)


class _lines(FunctionElement[str]):
    """The aggregate of the rows' texts (the first argument), one line each, in the order
    of the other arguments. SQLite's `group_concat` takes no order of its own: its rows
    come from a subquery in that order. (Were they ever read in another order, the
    fingerprint would only differ, and the page be drawn and checked again: text that
    tells every row apart, joined in any order, never reads as other rows.)"""

    type = String()
    inherit_cache = True


@compiles(_lines)
def _lines_sql(element: _lines, compiler: SQLCompiler, **kw: Any) -> str:
    line, *order = (compiler.process(each, **kw) for each in element.clauses)
    return f"string_agg({line}, chr(10) ORDER BY {', '.join(order)})"


@compiles(_lines, "sqlite")
def _lines_sqlite(element: _lines, compiler: SQLCompiler, **kw: Any) -> str:
    line = compiler.process(next(iter(element.clauses)), **kw)
    return f"group_concat({line}, char(10))"


def _open_rows() -> Label[str]:
    protocol, versions, stages, events = (
        model.__table__ for model in (Protocol, ProtocolVersion, ProtocolStage, ProtocolEvent)
    )
    opened = (
        select(protocol.c.id)
        .where(
            protocol.c.patient_id == bindparam("patient_id"),
            protocol.c.clinic_id == bindparam("clinic_id"),
            protocol.c.status.in_(
                [literal_column(f"'{s.value}'") for s in ProtocolStatus if s.is_open]
            ),
        )
        .scalar_subquery()
    )
    of_versions = select(versions.c.id).where(versions.c.protocol_id == opened)

    def rows(kind: str, table: Any, which: ColumnElement[bool]) -> Select[Any]:
        text = literal_column(f"'{kind}'", String) + _row_text(*table.columns)
        return select(
            literal_column(f"'{kind}'").label("kind"), table.c.id, text.label("line")
        ).where(which)

    each = (
        union_all(
            rows("p", protocol, protocol.c.id == opened),
            rows("v", versions, versions.c.protocol_id == opened),
            rows("s", stages, stages.c.version_id.in_(of_versions)),
            rows("e", events, events.c.protocol_id == opened),
        )
        .order_by(literal_column("kind"), literal_column("id"))
        .subquery("open_rows")
    )
    return (
        select(_lines(each.c.line, each.c.kind, each.c.id))
        .select_from(each)
        .scalar_subquery()
        .label("open_rows")
    )


# The open protocol's rows as text, one line each (NULL: no open protocol), for the
# patient and clinic in the parameters `patient_id` and `clinic_id`. Built once: the
# protocol page reads it on every view, with the patient's record.
OPEN_ROWS = _open_rows()

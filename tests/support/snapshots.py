"""Every row of the database as plain values, to prove that a request changed nothing."""

from __future__ import annotations

from collections.abc import Iterable

from flask import Flask
from sqlalchemy import select

from clinic.extensions import db

Snapshot = dict[str, list[tuple]]


def database_rows(app: Flask, exclude: Iterable[str] = ()) -> Snapshot:
    """Each table's rows (sorted, as tuples of column values), except the tables named."""
    skipped = set(exclude)
    with app.app_context():
        return {
            table.name: sorted((tuple(row) for row in db.session.execute(select(table))), key=repr)
            for table in db.metadata.sorted_tables
            if table.name not in skipped
        }


def changes(before: Snapshot, after: Snapshot) -> dict[str, dict[str, list[tuple]]]:
    """The rows that appeared or disappeared in each table (changed rows show as both)."""
    found: dict[str, dict[str, list[tuple]]] = {}
    for name in before.keys() | after.keys():
        old, new = before.get(name, []), after.get(name, [])
        gone = [row for row in old if row not in new]
        added = [row for row in new if row not in old]
        if gone or added:
            found[name] = {"gone": gone, "added": added}
    return found

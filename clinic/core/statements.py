"""Bulk statements run in the request's session: UPDATE and DELETE with their row counts,
and an INSERT that leaves rows already there alone."""

from __future__ import annotations

from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from clinic.extensions import db


def insert_or_leave(table: sa.Table) -> postgresql.Insert | sqlite.Insert:
    """An INSERT into `table` for the session's database, which can be told to leave a
    row whose key is taken as it is (`.on_conflict_do_nothing(...)`): for a row two
    transactions may both write first."""
    if db.session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def affected_rows(statement: sa.Update | sa.Delete) -> int:
    """Run an UPDATE or DELETE in the current session; how many rows it matched. A
    conditional UPDATE that matched 0 rows lost a race (compare-and-set)."""
    # Session.execute is typed to return a plain Result; for an UPDATE or DELETE it is a
    # CursorResult, the one that carries the count (SQLAlchemy's documented way to type it).
    result = cast("sa.CursorResult[Any]", db.session.execute(statement))
    return result.rowcount

"""Bulk UPDATE and DELETE statements run in the request's session, with their row counts."""

from __future__ import annotations

from typing import Any, cast

import sqlalchemy as sa

from clinic.extensions import db


def affected_rows(statement: sa.Update | sa.Delete) -> int:
    """Run an UPDATE or DELETE in the current session; how many rows it matched. A
    conditional UPDATE that matched 0 rows lost a race (compare-and-set)."""
    # Session.execute is typed to return a plain Result; for an UPDATE or DELETE it is a
    # CursorResult, the one that carries the count (SQLAlchemy's documented way to type it).
    result = cast("sa.CursorResult[Any]", db.session.execute(statement))
    return result.rowcount

"""Pages of a list counted in the same statement as their rows.

Flask-SQLAlchemy's `paginate` sends two statements: the page's rows, then the count of
every row for "N patients" and "page 2 of 4". On PostgreSQL under load each round trip
costs more than either query, so `paginate_counted` asks for the count as a scalar
subquery next to the rows: the database counts once (the same `count(*)` over the same
statement), the rows still stop at the page's limit, and the page costs one round trip.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_sqlalchemy.pagination import SelectPagination
from sqlalchemy import orm as sa_orm

from clinic.extensions import db


class CountedPagination(SelectPagination):
    """A `SelectPagination` whose page query brings the total with it."""

    _counted: int | None = None

    def _query_items(self) -> list[Any]:
        select = self._query_args["select"]
        # The count of the whole statement, as Flask-SQLAlchemy counts it, evaluated once
        # (uncorrelated: an InitPlan on PostgreSQL) beside the page's rows.
        total = (
            sa.select(sa.func.count())
            .select_from(select.options(sa_orm.lazyload("*")).order_by(None).subquery())
            .scalar_subquery()
        )
        rows = (
            self._query_args["session"]
            .execute(
                select.add_columns(total.label("total_rows"))
                .limit(self.per_page)
                .offset(self._query_offset)
            )
            .unique()
            .all()
        )
        self._counted = rows[0][1] if rows else None
        return [row[0] for row in rows]

    def _query_count(self) -> int:
        # A page past the end has no row to carry the count: ask for it alone.
        return self._counted if self._counted is not None else super()._query_count()


def paginate_counted(
    select: sa.Select[Any], *, page: int, per_page: int, max_per_page: int
) -> CountedPagination:
    """`db.paginate(select, ...)` (never an error for a page past the end) in one
    statement when the page has rows."""
    return CountedPagination(
        select=select,
        session=db.session(),
        page=page,
        per_page=per_page,
        max_per_page=max_per_page,
        error_out=False,
        count=True,
    )

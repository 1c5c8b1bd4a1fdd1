"""Column types shared by the models."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator

from clinic.core import clock


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC (used as a column default callable), from
    the clock tests can move (clinic.core.clock)."""
    return clock.now()


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC in Python, whatever the engine.

    PostgreSQL keeps the offset (timestamptz); SQLite keeps none, so values are normalised to
    UTC on the way in and marked as UTC on the way out.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def enum_column(enum_cls: type[enum.Enum], name: str) -> sa.Enum:
    """A portable enum column: VARCHAR of the enum's values plus a named CHECK constraint."""
    return sa.Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(m.value) for m in enum_cls),
        values_callable=lambda cls: [m.value for m in cls],
        validate_strings=True,
    )


def render_migration_type(type_: str, obj: Any, _autogen_context: Any) -> str | bool:
    """Alembic render_item hook: write our column types as plain SQLAlchemy types, so
    migration files never import application code that may change later."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


E = TypeVar("E", bound=enum.Enum)


def enum_or_none(enum_cls: type[E], value: object) -> E | None:
    """The member whose value is `value`, or None for anything else (e.g. a URL tampered with)."""
    try:
        return enum_cls(value)
    except ValueError:
        return None

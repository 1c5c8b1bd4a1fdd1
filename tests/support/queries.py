"""Count the SQL statements a block of code, or a page, sends."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from clinic.extensions import db


@contextmanager
def count_queries(engine: Engine) -> Iterator[list[str]]:
    """Collect every statement `engine` executes inside the block."""
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def queries_for(app: Flask, client, url: str) -> int:
    """How many statements opening `url` on `client` sends (asserting it loads)."""
    with app.app_context():
        engine = db.engine
    with count_queries(engine) as statements:
        assert client.get(url).status_code == 200
    return len(statements)

"""Throwaway databases for the test run: a SQLite file, or a fresh PostgreSQL database.

With `CLINIC_TEST_DATABASE_URL` pointing at a PostgreSQL server, every run creates its own
database and drops it afterwards, so runs never see each other's data.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

SERVER_URL_VARIABLE = "CLINIC_TEST_DATABASE_URL"


def server_url() -> str | None:
    """The PostgreSQL server the suite should use, or None for SQLite."""
    url = os.environ.get(SERVER_URL_VARIABLE, "").strip()
    return url or None


@contextmanager
def temporary_database(directory: Path) -> Iterator[str]:
    """Yield the URL of an empty database that is removed afterwards."""
    base = server_url()
    if base is None:
        yield f"sqlite:///{directory / f'clinic-{uuid.uuid4().hex[:8]}.sqlite3'}"
        return
    url = make_url(base)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    name = f"clinic_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

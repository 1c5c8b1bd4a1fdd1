"""Backups of the application's SQLite database, and restoring one (`flask backup`,
`flask restore`; see clinic/cli.py). PostgreSQL has its own tools: for it the commands
print the `pg_dump` and `pg_restore` commands to use instead.

A backup is made with SQLite's online backup API while the application keeps running: the
whole copy is one step, so it reads one consistent snapshot of the database (in WAL mode
writers carry on meanwhile; their later commits are simply not in the copy). The copy is
written to a private temporary file beside the destination (owner-only from the start,
created exclusively), checked, and only then moved into place: a file that was there
is never overwritten without `--force`, and a symbolic link there is replaced, never
written through.

A restore copies a backup into an empty database with the same API in reverse, after
checking that the file is a sound SQLite database made by this application at the
current schema revision.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shlex
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from alembic.script import ScriptDirectory
from flask import current_app
from sqlalchemy.engine import URL, Engine

SQLITE_HEADER = b"SQLite format 3\x00"
PRIVATE = 0o600


class BackupError(Exception):
    """The backup or restore cannot be done; the message says why in plain words."""


@dataclass(frozen=True)
class BackupResult:
    """What a backup or restore wrote, for the command to report."""

    path: Path
    size_bytes: int
    sha256: str
    revision: str


def is_sqlite(url: URL) -> bool:
    """Whether the database is SQLite (the only engine these commands copy themselves)."""
    return url.get_backend_name() == "sqlite"


def sqlite_file(url: URL) -> Path:
    """The database file of a SQLite URL; an in-memory database has none."""
    if url.database in (None, "", ":memory:") or url.database.startswith("file::memory:"):
        raise BackupError("This is an in-memory SQLite database: there is no file to copy.")
    return Path(url.database)


def migration_heads() -> set[str]:
    """The schema revisions this version of the application migrates databases to."""
    migrate = current_app.extensions["migrate"]
    config = migrate.migrate.get_config(migrate.directory)
    return set(ScriptDirectory.from_config(config).get_heads())


def postgresql_instructions(url: URL, file: str, restoring: bool) -> str:
    """What to run instead on PostgreSQL, with the connection URL in libpq's form (and
    without its password)."""
    # No password in the printed URL (libpq would take a mask for the password itself).
    libpq_url = URL.create(
        "postgresql",
        username=url.username,
        host=url.host,
        port=url.port,
        database=url.database,
        query=url.query,
    )
    target = shlex.quote(libpq_url.render_as_string(hide_password=False))
    name = shlex.quote(file)
    lines = [
        "These commands copy SQLite databases only; this application uses PostgreSQL.",
        "Use PostgreSQL's own tools (give the password as PGPASSWORD or in ~/.pgpass):",
        "",
    ]
    if restoring:
        lines += [
            f"  pg_restore --exit-on-error --no-owner --dbname={target} {name}",
            "",
            "Restore into an empty database, then start the application.",
        ]
    else:
        lines += [
            f"  pg_dump --format=custom --file={name} {target}",
            "",
            f"Restore it into an empty database with: pg_restore --exit-on-error "
            f"--no-owner --dbname=URL {name}",
        ]
    return "\n".join(lines)


@contextlib.contextmanager
def _sqlite_connection(engine: Engine, *, autocommit: bool = False) -> Iterator[sqlite3.Connection]:
    """The engine's own sqlite3 connection (with the application's pragmas). With
    `autocommit`, Python's sqlite3 opens no transaction on it while it is lent here (the
    destination of a backup may have none open); it is given back as it was."""
    raw = engine.raw_connection()
    connection = raw.driver_connection
    if not isinstance(connection, sqlite3.Connection):
        raw.close()
        raise TypeError(f"{engine.url.drivername} is not Python's sqlite3 driver")
    previous = connection.isolation_level
    try:
        if autocommit:
            connection.isolation_level = None
        yield connection
    finally:
        connection.isolation_level = previous
        raw.close()


def backup(engine: Engine, destination: Path, *, force: bool = False) -> BackupResult:
    """Copy the live SQLite database to `destination`, readable by its owner only."""
    sqlite_file(engine.url)  # refuses an in-memory database
    folder = destination.parent
    if not folder.is_dir():
        raise BackupError(f"The folder {str(folder)!r} does not exist.")
    if not force and os.path.lexists(destination):
        raise BackupError(
            f"{str(destination)!r} already exists. Choose a new file name, or add --force "
            "to replace it."
        )
    # mkstemp creates the file exclusively, readable and writable by its owner only.
    descriptor, temporary_name = tempfile.mkstemp(
        dir=folder, prefix=f".{destination.name}.", suffix=".partial"
    )
    os.close(descriptor)
    temporary = Path(temporary_name)
    try:
        copy = sqlite3.connect(temporary)
        try:
            with _sqlite_connection(engine) as source:
                # One step (all pages at once): the copy is one consistent snapshot. Smaller
                # steps would restart whenever another connection writes in between.
                source.backup(copy)
            # A single self-contained file: no write-ahead log beside it.
            copy.execute("PRAGMA journal_mode=DELETE")
            _check_sound(copy, "The copy")
            revision = _revision(copy) or ""
        finally:
            copy.close()
        os.chmod(temporary, PRIVATE)
        _sync(temporary)
        _move_into_place(temporary, destination, force=force)
    except sqlite3.Error as exc:
        raise BackupError(f"The backup failed: {exc}.") from exc
    finally:
        for leftover in (
            temporary,
            *(Path(f"{temporary}{s}") for s in ("-journal", "-wal", "-shm")),
        ):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
    return _result(destination, revision)


def _move_into_place(temporary: Path, destination: Path, *, force: bool) -> None:
    """Put the finished copy at `destination`: a rename, which replaces whatever is there
    (a symbolic link itself, never the file it points to); without `force`, a hard link
    that fails if something appeared there meanwhile."""
    try:
        if force:
            os.replace(temporary, destination)
        else:
            os.link(temporary, destination, follow_symlinks=False)
    except FileExistsError as exc:
        raise BackupError(
            f"{str(destination)!r} appeared while the backup was running; nothing was "
            "replaced. Choose a new file name, or add --force."
        ) from exc
    except OSError as exc:
        raise BackupError(
            f"The backup could not be written to {str(destination)!r}: {exc.strerror}."
        ) from exc


def restore(engine: Engine, source: Path, heads: set[str]) -> str:
    """Copy the backup `source` into the application's database, which must be empty;
    returns the backup's schema revision."""
    target_file = sqlite_file(engine.url)
    revision = check_backup_file(source, heads)
    try:
        backup_copy = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise BackupError(f"{str(source)!r} cannot be read: {exc}.") from exc
    try:
        with _sqlite_connection(engine, autocommit=True) as target:
            problem = _not_empty(target)
            if problem:
                raise BackupError(
                    f"The database {str(target_file)!r} {problem}: a backup is restored "
                    "only into an empty database. Point CLINIC_DATABASE_URL at a new file "
                    "(or move this one aside) and run restore again."
                )
            backup_copy.backup(target)
            _check_sound(target, "The restored database")
    except sqlite3.Error as exc:
        raise BackupError(f"The restore failed: {exc}.") from exc
    finally:
        backup_copy.close()
    engine.dispose()  # pooled connections may hold the empty database's schema
    return revision


def check_backup_file(path: Path, heads: set[str]) -> str:
    """The backup's schema revision, once the file is known to be a sound SQLite database
    of this application at the revision it migrates to."""
    if not path.is_file():
        raise BackupError(f"{str(path)!r} is not a file.")
    with path.open("rb") as file:
        if file.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
            raise BackupError(f"{str(path)!r} is not a SQLite database, so it is not a backup.")
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            _check_sound(connection, "The backup")
            revision = _revision(connection)
        finally:
            connection.close()
    except sqlite3.Error as exc:
        raise BackupError(f"{str(path)!r} cannot be read as a SQLite database: {exc}.") from exc
    if revision is None:
        raise BackupError(
            f"{str(path)!r} is a SQLite database, but not one of this application (it has "
            "no schema revision)."
        )
    if revision not in heads:
        raise BackupError(
            f"The backup is at schema revision {revision}; this version of the application "
            f"expects {', '.join(sorted(heads))}. Restore it with the version that made it."
        )
    return revision


def _not_empty(connection: sqlite3.Connection) -> str:
    """Why the database cannot take a restore ("" when it can): it may have no tables, or
    only the empty ones `flask db upgrade` creates."""
    tables = [
        name
        for (name,) in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    for name in tables:
        if name == "alembic_version":
            continue
        quoted = '"' + name.replace('"', '""') + '"'
        if connection.execute(f"SELECT 1 FROM {quoted} LIMIT 1").fetchone():  # noqa: S608 (a name from sqlite_master, quoted)
            return "already holds data"
    return ""


def _check_sound(connection: sqlite3.Connection, what: str) -> None:
    result = [row[0] for row in connection.execute("PRAGMA integrity_check")]
    if result != ["ok"]:
        raise BackupError(f"{what} is damaged: {'; '.join(result[:3])}.")
    if connection.execute("PRAGMA foreign_key_check").fetchone() is not None:
        raise BackupError(f"{what} has rows that point at rows missing from it.")


def _revision(connection: sqlite3.Connection) -> str | None:
    try:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError:
        return None
    return row[0] if row else None


def _sync(path: Path) -> None:
    """Make sure the bytes are on disk before the file takes its final name."""
    descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _result(path: Path, revision: str) -> BackupResult:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return BackupResult(path, path.stat().st_size, digest.hexdigest(), revision)

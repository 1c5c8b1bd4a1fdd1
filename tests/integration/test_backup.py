"""`flask backup` and `flask restore` on SQLite: a consistent copy while rows are being
written, owner-only and never written through a link or over a file without --force;
restored only into an empty database, and only from a sound backup of this application at
its current schema. On PostgreSQL the commands point to pg_dump and pg_restore.

These tests make their own SQLite files (whatever database the suite runs on): the
commands are about SQLite files."""

from __future__ import annotations

import shutil
import sqlite3
import stat
import threading
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest
from flask import Flask
from flask_migrate import upgrade

from clinic import create_app
from clinic.backup import migration_heads
from clinic.extensions import db
from clinic.models import Patient, Role
from tests.support.apps import config_for_tests
from tests.support.diaries import add_entries
from tests.support.factories import make_clinic, make_patient, make_user
from tests.support.protocols import start_plan

SEED_ENTRIES = 3000


def make_app(path: Path) -> Flask:
    return create_app(config_for_tests(f"sqlite:///{path}"))


def run(app: Flask, *args: str):
    return app.test_cli_runner().invoke(args=list(args))


def count_entries(path: Path) -> int:
    connection = sqlite3.connect(path)
    try:
        return connection.execute("SELECT count(*) FROM diary_entries").fetchone()[0]
    finally:
        connection.close()


@pytest.fixture(scope="module")
def seeded_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated database with a clinic, a patient, a protocol and a few thousand diary
    entries; each test works on its own copy."""
    path = tmp_path_factory.mktemp("backup") / "seeded.sqlite3"
    app = make_app(path)
    with app.app_context():
        upgrade()
        clinic = make_clinic(name="Backup Clinic")
        clinician = make_user(clinic, Role.CLINICIAN)
        patient = make_patient(clinic, portal=True, responsible_clinician=clinician)
        ids = (patient.id, patient.user_id, clinician.id)
        db.session.commit()
    patient_id, user_id, clinician_id = ids
    protocol_id = start_plan(app, patient_id, clinician_id)
    add_entries(app, protocol_id, _Person(user_id, patient_id), range(1, 15))
    connection = sqlite3.connect(path)
    _copy_entries(connection, SEED_ENTRIES)
    connection.commit()
    connection.close()
    with app.app_context():
        db.engine.dispose()
    return path


class _Person:
    def __init__(self, user_id: int, patient_id: int) -> None:
        self.id, self.patient_id = user_id, patient_id


def _copy_entries(connection: sqlite3.Connection, n: int) -> None:
    """Add n copies of the first diary entry (each with its own submission key)."""
    columns = [
        row[1] for row in connection.execute("PRAGMA table_info(diary_entries)") if row[1] != "id"
    ]
    template = connection.execute(
        f"SELECT {', '.join(columns)} FROM diary_entries ORDER BY id LIMIT 1"  # noqa: S608
    ).fetchone()
    key = columns.index("submission_key")
    insert = (
        f"INSERT INTO diary_entries ({', '.join(columns)}) "  # noqa: S608
        f"VALUES ({', '.join('?' for _ in columns)})"
    )
    for _ in range(n):
        values = list(template)
        values[key] = uuid4().hex
        connection.execute(insert, values)


@pytest.fixture
def live(seeded_file: Path, tmp_path: Path) -> Iterator[tuple[Flask, Path]]:
    """The application on its own copy of the seeded database."""
    path = tmp_path / "live.sqlite3"
    shutil.copyfile(seeded_file, path)
    app = make_app(path)
    yield app, path
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[tuple[Flask, Path]]:
    """The application on a database file that does not exist yet."""
    path = tmp_path / "restored.sqlite3"
    app = make_app(path)
    yield app, path
    with app.app_context():
        db.engine.dispose()


class Writer(threading.Thread):
    """Logs diary entries as fast as it can, each in its own transaction, until stopped."""

    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        self.path = path
        self.stop = threading.Event()
        self.writing = threading.Event()
        self.written = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            connection = sqlite3.connect(self.path, isolation_level=None, timeout=10)
            connection.execute("PRAGMA foreign_keys=ON")
            try:
                while not self.stop.is_set():
                    _copy_entries(connection, 1)
                    self.written += 1
                    if self.written >= 20:
                        self.writing.set()
            finally:
                connection.close()
        except BaseException as exc:  # reported by the test, not lost in the thread
            self.error = exc
            self.writing.set()


def test_a_backup_taken_during_writes_restores_consistently(
    live: tuple[Flask, Path], fresh: tuple[Flask, Path], tmp_path: Path
) -> None:
    """With a writer committing entries throughout, the backup is one consistent snapshot:
    restored into an empty database it passes SQLite's integrity and foreign-key checks,
    is at the current schema revision, and holds a number of entries between the counts
    before and after the backup."""
    app, path = live
    writer = Writer(path)
    writer.start()
    try:
        assert writer.writing.wait(timeout=30)
        at_start = count_entries(path)
        result = run(app, "backup", str(tmp_path / "copy.sqlite3"))
    finally:
        writer.stop.set()
        writer.join(timeout=30)
    assert writer.error is None, writer.error
    at_end = count_entries(path)
    assert result.exit_code == 0, result.output
    assert "SHA-256:" in result.output
    assert at_start < at_end  # rows really were being written around the backup

    restored_app, restored_path = fresh
    result = run(restored_app, "restore", str(tmp_path / "copy.sqlite3"))
    assert result.exit_code == 0, result.output

    connection = sqlite3.connect(restored_path)
    try:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
        (revision,) = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        restored = connection.execute("SELECT count(*) FROM diary_entries").fetchone()[0]
    finally:
        connection.close()
    assert at_start <= restored <= at_end
    with restored_app.app_context():
        assert revision in migration_heads()
        assert db.session.query(Patient).count() == 1  # the app reads it


def test_the_backup_is_private_and_never_overwrites_by_accident(
    live: tuple[Flask, Path], tmp_path: Path
) -> None:
    """The file is readable by its owner only; an existing file is refused without
    --force; a symbolic link in the way is replaced, never written through."""
    app, _ = live
    target = tmp_path / "backup.sqlite3"
    assert run(app, "backup", str(target)).exit_code == 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    first = target.read_bytes()

    refused = run(app, "backup", str(target))
    assert refused.exit_code == 1 and "already exists" in refused.output
    assert target.read_bytes() == first

    victim = tmp_path / "victim.txt"
    victim.write_text("not to be touched")
    link = tmp_path / "link.sqlite3"
    link.symlink_to(victim)
    refused = run(app, "backup", str(link))
    assert refused.exit_code == 1 and "already exists" in refused.output
    forced = run(app, "backup", "--force", str(link))
    assert forced.exit_code == 0, forced.output
    assert victim.read_text() == "not to be touched"
    assert not link.is_symlink() and link.read_bytes()[:16] == b"SQLite format 3\x00"
    assert stat.S_IMODE(link.stat().st_mode) == 0o600
    # No temporary copy is left behind.
    assert not [p.name for p in tmp_path.iterdir() if ".partial" in p.name]

    missing_folder = run(app, "backup", str(tmp_path / "nowhere" / "b.sqlite3"))
    assert missing_folder.exit_code == 1 and "does not exist" in missing_folder.output


def test_restore_refuses_a_database_that_holds_data(
    live: tuple[Flask, Path], tmp_path: Path
) -> None:
    """A restore never replaces data: into the live database it is refused, plainly."""
    app, path = live
    assert run(app, "backup", str(tmp_path / "copy.sqlite3")).exit_code == 0
    before = count_entries(path)
    result = run(app, "restore", str(tmp_path / "copy.sqlite3"))
    assert result.exit_code == 1
    assert "already holds data" in result.output and "empty database" in result.output
    assert count_entries(path) == before


def test_restore_into_a_freshly_migrated_database(
    live: tuple[Flask, Path], fresh: tuple[Flask, Path], tmp_path: Path
) -> None:
    """A database with the tables but no rows (just after `flask db upgrade`) counts as
    empty and takes the backup."""
    app, path = live
    assert run(app, "backup", str(tmp_path / "copy.sqlite3")).exit_code == 0
    restored_app, restored_path = fresh
    with restored_app.app_context():
        upgrade()
    result = run(restored_app, "restore", str(tmp_path / "copy.sqlite3"))
    assert result.exit_code == 0, result.output
    assert count_entries(restored_path) == count_entries(path)


def test_restore_refuses_what_is_not_a_backup_of_this_app(
    live: tuple[Flask, Path], fresh: tuple[Flask, Path], tmp_path: Path
) -> None:
    """A missing file, a file that is not a database, a database of something else and a
    backup at another schema revision are each refused with a clear message, and the
    empty database stays empty."""
    app, _ = live
    restored_app, restored_path = fresh
    text = tmp_path / "notes.txt"
    text.write_text("SQLite format 3 is not what this is\n")
    foreign = tmp_path / "foreign.sqlite3"
    connection = sqlite3.connect(foreign)
    connection.execute("CREATE TABLE things (id INTEGER PRIMARY KEY)")
    connection.commit()
    connection.close()
    older = tmp_path / "older.sqlite3"
    assert run(app, "backup", str(older)).exit_code == 0
    connection = sqlite3.connect(older)
    connection.execute("UPDATE alembic_version SET version_num = '0123456789ab'")
    connection.commit()
    connection.close()

    for file, words in (
        (tmp_path / "missing.sqlite3", "is not a file"),
        (text, "is not a SQLite database"),
        (foreign, "not one of this application"),
        (older, "schema revision 0123456789ab"),
    ):
        result = run(restored_app, "restore", str(file))
        assert result.exit_code == 1, file
        assert words in result.output, result.output
        assert "Traceback" not in result.output
    assert not restored_path.exists() or count_tables(restored_path) == 0


def count_tables(path: Path) -> int:
    connection = sqlite3.connect(path)
    try:
        return connection.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
        ).fetchone()[0]
    finally:
        connection.close()


@pytest.mark.parametrize("command", ["backup", "restore"])
def test_postgresql_is_pointed_to_its_own_tools(command: str, tmp_path: Path) -> None:
    """On PostgreSQL the commands copy nothing, say they handle SQLite, print the
    pg_dump / pg_restore command with the connection URL (never its password), and exit
    with an error so a script notices."""
    app = create_app(config_for_tests("postgresql+psycopg://clinic:s3cret@db.internal:5432/clinic"))
    target = tmp_path / "clinic.dump"
    result = run(app, command, str(target))
    assert result.exit_code == 1
    assert "SQLite databases only" in result.output
    tool = "pg_dump --format=custom" if command == "backup" else "pg_restore"
    assert tool in result.output
    assert "postgresql://clinic@db.internal:5432/clinic" in result.output
    assert "s3cret" not in result.output and "psycopg" not in result.output
    assert not target.exists()

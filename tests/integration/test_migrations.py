"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from clinic import create_app
from clinic.extensions import db
from clinic.outbox import IDS_NEVER_REUSED
from tests.support.apps import config_for_tests
from tests.support.databases import temporary_database


def test_migrations_match_models_and_downgrade(tmp_path: Path) -> None:
    """`upgrade` on an empty database leaves no difference from the models, and
    `downgrade` to the start removes every table again."""
    with temporary_database(tmp_path) as url:
        app = create_app(config_for_tests(url))
        with app.app_context():
            upgrade()
            with db.engine.connect() as conn:
                diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
            assert diff == []
            downgrade(revision="base")
            assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
            db.engine.dispose()


def test_ids_of_accounts_and_patients_are_never_reused_after_every_migration(
    tmp_path: Path,
) -> None:
    """On SQLite, the tables whose ids must never come back keep AUTOINCREMENT through every
    later migration: `users` and `patients` (an erased patient's id must not become a new
    colleague's, or the audit trail would mix the two) and every table whose ids go into a
    message (`clinic.outbox.IDS_NEVER_REUSED`: a flag's id reused after an erasure would
    make a new report's alert a duplicate of the old one, never written). A migration
    that rebuilds one of them in batch mode must say so. PostgreSQL never reuses ids."""
    never_reused = {"users", "patients"} | IDS_NEVER_REUSED
    with temporary_database(tmp_path) as url:
        app = create_app(config_for_tests(url))
        with app.app_context():
            upgrade()
            if db.engine.dialect.name == "sqlite":
                with db.engine.connect() as conn:
                    tables = dict(conn.exec_driver_sql("SELECT name, sql FROM sqlite_master").all())
                missing = {t for t in never_reused if "AUTOINCREMENT" not in tables[t]}
                assert not missing, f"ids reused after deletion in {sorted(missing)}"
            db.engine.dispose()

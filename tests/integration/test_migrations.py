"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from clinic import create_app
from clinic.extensions import db
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
    """On SQLite, `users` and `patients` keep AUTOINCREMENT through every later migration
    (a migration that rebuilds either table in batch mode must say so, or SQLite would
    reuse an erased patient's id for the next account). PostgreSQL never reuses ids."""
    with temporary_database(tmp_path) as url:
        app = create_app(config_for_tests(url))
        with app.app_context():
            upgrade()
            if db.engine.dialect.name == "sqlite":
                with db.engine.connect() as conn:
                    tables = dict(
                        conn.exec_driver_sql(
                            "SELECT name, sql FROM sqlite_master"
                            " WHERE name IN ('users', 'patients')"
                        ).all()
                    )
                assert all("AUTOINCREMENT" in sql for sql in tables.values()), tables.keys()
            db.engine.dispose()

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

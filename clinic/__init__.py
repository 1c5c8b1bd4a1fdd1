"""The clinic application: `create_app` builds a configured Flask app.

Settings come from the environment (see config.py); tests pass `test_config` to override
them. Templates live in the top-level `templates/` folder, print templates in `reports/`.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from flask import Flask
from jinja2 import ChoiceLoader, FileSystemLoader, PrefixLoader
from sqlalchemy import event
from sqlalchemy.engine import Engine

from clinic import access
from clinic.admin.views import bp as admin_bp
from clinic.auth.views import bp as auth_bp
from clinic.catalogue.views import bp as catalogue_bp
from clinic.cli import register_commands
from clinic.core.errors import register_error_handlers, set_security_headers
from clinic.core.health import bp as health_bp
from clinic.core.requests import DatabaseIdConverter, refuse_nul_in_query
from clinic.core.templating import register_template_helpers
from clinic.dashboard.views import bp as dashboard_bp
from clinic.extensions import cache, csrf, db, login_manager, migrate
from clinic.library.views import bp as library_bp
from clinic.mdt.views import bp as mdt_bp
from clinic.models import User
from clinic.models.types import render_migration_type
from clinic.notes.views import bp as notes_bp
from clinic.patients.views import bp as patients_bp
from clinic.portal import entries, progress  # noqa: F401 (their routes join portal_bp)
from clinic.portal.views import bp as portal_bp
from clinic.protocols.views import bp as protocols_bp
from clinic.reporting.views import bp as reporting_bp
from clinic.timeline.views import bp as timeline_bp
from config import load_config

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: configuration, extensions, blueprints, error pages and commands."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder="static",
    )
    # Pages come from templates/; print documents from reports/, named "reports/...".
    app.jinja_loader = ChoiceLoader(
        [
            FileSystemLoader(str(ROOT / "templates")),
            PrefixLoader({"reports": FileSystemLoader(str(ROOT / "reports"))}),
        ]
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(load_config(app.instance_path))
    if test_config:
        app.config.from_mapping(test_config)

    register_extensions(app)
    # Before any route is added: every <int:...> in a URL is a database id that fits.
    app.url_map.converters["int"] = DatabaseIdConverter
    app.before_request(refuse_nul_in_query)
    for blueprint in (
        auth_bp,
        health_bp,
        dashboard_bp,
        mdt_bp,
        admin_bp,
        patients_bp,
        notes_bp,
        protocols_bp,
        timeline_bp,
        reporting_bp,
        catalogue_bp,
        library_bp,
        portal_bp,
    ):
        app.register_blueprint(blueprint)
    app.before_request(access.enforce_access_policy)
    app.after_request(set_security_headers)
    register_error_handlers(app)
    register_template_helpers(app)
    register_commands(app)
    return app


def register_extensions(app: Flask) -> None:
    """Bind the unbound extensions to this app."""
    db.init_app(app)
    migrate.init_app(
        app,
        db,
        directory=str(ROOT / "migrations"),
        render_as_batch=True,  # SQLite alters tables by copying them
        render_item=render_migration_type,
    )
    csrf.init_app(app)
    cache.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "info"
    # Flask-Login's "strong" protection compares a hash of IP and user agent; phones change
    # networks all day, so rely on the rotating session token instead.
    login_manager.session_protection = "basic"


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The account behind a session id "<id>:<token>"; None once the token has rotated
    (password changed, deactivated) so old cookies stop working."""
    raw_id, _, token = user_id.partition(":")
    if not raw_id.isdigit() or not token:
        return None
    user = db.session.get(User, int(raw_id))
    if user is None or not user.active or user.session_token != token:
        return None
    return user


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # SQLite ignores foreign keys unless asked, and without WAL a reader blocks the writer.
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()

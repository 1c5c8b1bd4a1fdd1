"""The clinic application: `create_app` builds a configured Flask app.

Settings come from the environment (see clinic/config.py); tests pass `test_config` to
override them. Page templates come from `templates/`, print templates from `reports/` and
migrations from `migrations/`: top-level folders in the repository, inside the package once
installed (see clinic.bundled). Production starts the app through Flask's factory
convention, independent of the working directory: `flask --app clinic ...` and
`gunicorn "clinic:create_app()"`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask
from jinja2 import ChoiceLoader, FileSystemLoader, PrefixLoader
from sqlalchemy import event
from werkzeug.middleware.proxy_fix import ProxyFix

from clinic import access, i18n, queue
from clinic.account import notifications  # noqa: F401 (its routes join account_bp)
from clinic.account import upkeep as account_upkeep
from clinic.account.guards import enforce_mandatory_enrolment
from clinic.account.views import bp as account_bp
from clinic.admin.views import bp as admin_bp
from clinic.alerts import upkeep as alerts_upkeep
from clinic.audit.log import record_refused_access
from clinic.audit.privacy import keep_patient_data_out_of_logs
from clinic.audit.views import bp as audit_bp
from clinic.auth import limits, reset, sessions, timeout  # noqa: F401 (routes join auth_bp)
from clinic.auth.views import bp as auth_bp
from clinic.bundled import MIGRATIONS, REPORTS, TEMPLATES
from clinic.catalogue.views import bp as catalogue_bp
from clinic.cli import register_commands
from clinic.config import engine_options, instance_path_from_environment, load_config
from clinic.core import mail, transactions, uow, words
from clinic.core.errors import register_error_handlers, set_security_headers
from clinic.core.health import bp as health_bp
from clinic.core.requests import (
    DatabaseIdConverter,
    refuse_files_and_json,
    refuse_nul_in_query,
)
from clinic.core.templating import register_template_helpers
from clinic.dashboard.views import bp as dashboard_bp
from clinic.domain.text import N_
from clinic.extensions import babel, cache, csrf, db, login_manager, migrate
from clinic.fhir.views import bp as fhir_record_bp
from clinic.fhirapi import admin as api_admin  # noqa: F401 (its routes join admin_bp)
from clinic.fhirapi import reads as api_reads  # noqa: F401 (its routes join fhir_bp)
from clinic.fhirapi.views import bp as fhir_bp
from clinic.jobs.views import bp as jobs_bp
from clinic.languages import bp as languages_bp
from clinic.letters.address_book import bp as recipients_bp
from clinic.letters.views import bp as letters_bp
from clinic.library.views import bp as library_bp
from clinic.mdt.views import bp as mdt_bp
from clinic.measures.views import bp as measures_bp
from clinic.measures.views import instruments_bp
from clinic.models import User
from clinic.models.types import render_migration_type
from clinic.monitoring import upkeep
from clinic.notes.views import bp as notes_bp
from clinic.patients.views import bp as patients_bp
from clinic.portal import entries, measures, progress, session  # noqa: F401 (their routes join portal_bp)
from clinic.portal.views import bp as portal_bp
from clinic.protocols.views import bp as protocols_bp
from clinic.push.views import bp as push_bp
from clinic.reminders import views as reminder_views  # noqa: F401 (its route joins portal_bp)
from clinic.reporting.views import bp as reporting_bp
from clinic.rights.views import bp as rights_bp
from clinic.safety.views import bp as safety_bp
from clinic.timeline.views import bp as timeline_bp


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: configuration, extensions, blueprints, error pages and commands."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        instance_path=instance_path_from_environment(),
        template_folder=str(TEMPLATES),
        static_folder="static",
    )
    # Pages come from templates/; print documents from reports/, named "reports/...".
    app.jinja_loader = ChoiceLoader(
        [
            FileSystemLoader(str(TEMPLATES)),
            PrefixLoader({"reports": FileSystemLoader(str(REPORTS))}),
        ]
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(load_config(app.instance_path))
    if test_config:
        app.config.from_mapping(test_config)
    # From the final URL (tests name theirs in test_config), unless given whole.
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", engine_options(app.config))

    if app.config.get("PROXY_COUNT"):
        # Behind reverse proxies, the client's address (rate limits, audit) is the one they
        # forwarded, trusting exactly that many hops.
        count = app.config["PROXY_COUNT"]
        # Flask documents wrapping wsgi_app in middleware this way; mypy sees a method.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)  # type: ignore[method-assign]

    register_extensions(app)
    keep_patient_data_out_of_logs()
    # Before any route is added: every <int:...> in a URL is a database id that fits.
    app.url_map.converters["int"] = DatabaseIdConverter
    app.before_request(refuse_nul_in_query)
    app.before_request(refuse_files_and_json)
    for blueprint in (
        auth_bp,
        account_bp,
        health_bp,
        dashboard_bp,
        mdt_bp,
        jobs_bp,
        admin_bp,
        audit_bp,
        patients_bp,
        notes_bp,
        measures_bp,
        instruments_bp,
        protocols_bp,
        timeline_bp,
        reporting_bp,
        letters_bp,
        recipients_bp,
        rights_bp,
        fhir_record_bp,
        safety_bp,
        catalogue_bp,
        library_bp,
        portal_bp,
        push_bp,
        fhir_bp,
        languages_bp,
    ):
        app.register_blueprint(blueprint)
    # Before the access check: the session is checked (idle, lifetime, ended) on its own.
    app.before_request(sessions.load_early)
    app.before_request(access.enforce_access_policy)
    # After the access check: staff whose clinic requires two-factor set it up first.
    app.before_request(enforce_mandatory_enrolment)
    app.after_request(record_refused_access)
    app.after_request(set_security_headers)
    app.after_request(sessions.add_idle_warning)
    register_error_handlers(app)
    register_template_helpers(app)
    words.register(app)
    register_commands(app)
    # Last, once every route exists: each view runs in the request's unit of work.
    uow.init_app(app)
    return app


def register_extensions(app: Flask) -> None:
    """Bind the unbound extensions to this app."""
    db.init_app(app)
    # Summaries follow every change to what they are made of (clinic.monitoring.upkeep).
    upkeep.install(db.session)
    # New red flags reach the clinic at once; acknowledged ones stop (clinic.alerts).
    alerts_upkeep.install(db.session)
    # A new password or second factor withdraws open email changes (clinic.account.upkeep).
    account_upkeep.install(db.session)
    pragmas = _sqlite_pragmas(app.config["SQLITE_BUSY_TIMEOUT_MS"])
    with app.app_context():
        for engine in db.engines.values():
            event.listen(engine, "connect", pragmas)
            if engine.dialect.name == "postgresql":
                # A transaction from the first write on, no ping under load.
                transactions.install(engine)
    migrate.init_app(
        app,
        db,
        directory=str(MIGRATIONS),
        render_as_batch=True,  # SQLite alters tables by copying them
        render_item=render_migration_type,
    )
    csrf.init_app(app)
    cache.init_app(app)
    babel.init_app(
        app,
        locale_selector=i18n.select_locale,
        timezone_selector=i18n.select_timezone,
        default_translation_directories=str(i18n.TRANSLATIONS),
    )
    i18n.install_fast_gettext(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = N_("Please sign in to continue.")
    login_manager.login_message_category = "info"
    # Flask-Login's "strong" protection compares a hash of IP and user agent; phones change
    # networks all day, so rely on the server-side session record instead (auth.sessions).
    login_manager.session_protection = "basic"
    limits.init_app(app)
    mail.init_app(app)
    queue.init_app(app)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The account behind this browser's server-side session, or None when the session is
    unknown, ended, idle or too old, or the account deactivated (clinic.auth.sessions)."""
    return sessions.load_user(user_id)


def _sqlite_pragmas(busy_timeout_ms: int) -> Callable[[Any, Any], None]:
    """A "connect" listener for the app's engine.

    SQLite ignores foreign keys unless asked, and without WAL a reader blocks the writer.
    A writer waits up to `busy_timeout_ms` for another one to finish; after that the request
    answers 503 (see clinic.core.errors). Python's sqlite3 (legacy transaction control,
    which we keep) opens the transaction just before a request's first INSERT, UPDATE or
    DELETE: reads before it need no lock, and the first write waits for the write lock under
    that timeout, so the "read, then fail to upgrade" SQLITE_BUSY of a deferred transaction
    that began with a read cannot happen and no `BEGIN IMMEDIATE` is needed. Services that
    read, then write what they read, take the row first (an UPDATE; see
    clinic.monitoring.services.refresh_patients)."""

    def set_pragmas(dbapi_connection: Any, _record: Any) -> None:
        if isinstance(dbapi_connection, sqlite3.Connection):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            cursor.close()

    return set_pragmas

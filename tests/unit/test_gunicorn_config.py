"""The gunicorn settings we ship (clinic.gunicorn_config, used by the README's production
command; gunicorn.conf.py names them in the project folder) write no access log, and a log
turned on never holds a query string (what was typed in a search box), a Referer, a
redirect's Location, cookies or an invitation link's token."""

from __future__ import annotations

import runpy
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from gunicorn.config import Config

from clinic import create_app, gunicorn_config
from clinic.extensions import db
from tests.support.apps import config_for_tests

ROOT = Path(__file__).resolve().parents[2]
# What `--config python:clinic.gunicorn_config` hands gunicorn: the module's names.
SETTINGS = vars(gunicorn_config)
TOKEN = "Zq3" + "x" * 40  # the shape of an invitation token (43 URL-safe characters)


def test_no_access_log_and_a_format_without_the_query_string() -> None:
    """Access logging is off; the format, for when it is turned on, names the path without
    the query string (%(U)s) and neither the request line, the query nor the Referer."""
    assert SETTINGS["accesslog"] is None
    log_format = SETTINGS["access_log_format"]
    assert "%(U)s" in log_format
    for leaky in ("%(r)s", "%(q)s", "%(f)s", "}i)s", "}e)s", "}o)s"):
        assert leaky not in log_format


def test_the_readme_runs_gunicorn_with_these_settings() -> None:
    """The documented production command names the settings module."""
    readme = (ROOT / "README.md").read_text()
    assert "gunicorn --config python:clinic.gunicorn_config" in readme


def test_the_project_folder_gets_the_same_settings() -> None:
    """gunicorn started from the project folder (which reads gunicorn.conf.py by itself)
    gets the same settings as production."""
    in_repository = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    for name in ("accesslog", "access_log_format", "logger_class", "post_fork"):
        assert in_repository[name] is SETTINGS[name]


@pytest.mark.parametrize(
    "log_format",
    [
        None,  # ours
        # gunicorn's default, as someone might pass it with --access-log-format
        '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"',
        "%(U)s %(q)s %({referer}i)s %({query_string}e)s %({raw_uri}e)s %({location}o)s "
        "%({cookie}i)s",
    ],
)
def test_a_log_turned_on_shows_nothing_typed(tmp_path: Path, log_format: str | None) -> None:
    """With an access log turned on, a search and an invitation link are logged without the
    name searched for, the previous page's query, the redirect's target, the cookie or the
    token, whatever the format asks for."""
    config = Config()
    for name in ("accesslog", "access_log_format", "logger_class", "post_fork"):
        if name == "access_log_format" and log_format is not None:
            config.set(name, log_format)
        elif name == "accesslog":
            config.set(name, str(tmp_path / "access.log"))
        else:
            config.set(name, SETTINGS[name])
    logger = config.logger_class(config)
    requests = [
        ("/patients/", "q=Avery+Quinn", "https://clinic.example/dashboard/?q=Avery"),
        (f"/invitation/{TOKEN}", "", "https://clinic.example/login?next=/x%3Fq%3DAvery"),
    ]
    for path, query, referer in requests:
        environ = {
            "REQUEST_METHOD": "GET",
            "RAW_URI": f"{path}?{query}" if query else path,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "192.0.2.7",
            "HTTP_REFERER": referer,
            "HTTP_COOKIE": "session=secret-cookie",
        }
        response = SimpleNamespace(
            status="302 FOUND", sent=0, headers=[("Location", f"/login?next={path}?{query}")]
        )
        request = SimpleNamespace(
            headers=[("REFERER", referer), ("COOKIE", "session=secret-cookie")]
        )
        logger.access(response, request, environ, timedelta(milliseconds=12))
    # gunicorn's loggers are process-wide: close and remove what this test added.
    for log in (logger.access_log, logger.error_log):
        for handler in list(log.handlers):
            handler.close()
            log.removeHandler(handler)
    written = (tmp_path / "access.log").read_text()

    assert "/patients/" in written and "/invitation/[token]" in written
    for secret in ("Avery", "Quinn", TOKEN, "secret-cookie", "next="):
        assert secret not in written, secret


def test_a_worker_forked_from_a_preloading_master_opens_its_own_connections(
    tmp_path: Path,
) -> None:
    """With `--preload` the master builds the app; the `post_fork` hook makes each worker
    drop the pool it inherited (leaving the master's connection open, for the master),
    so no connection is ever used by two processes. Without a preloaded app it does
    nothing."""
    app = create_app(config_for_tests(f"sqlite:///{tmp_path / 'clinic.sqlite3'}"))
    with app.app_context():
        engine = db.engine
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
            inherited = connection.connection.dbapi_connection
        pool = engine.pool
        assert pool.checkedin() == 1  # what a forked worker would share with the master
        gunicorn_config.post_fork(SimpleNamespace(app=SimpleNamespace(callable=None)), None)
        assert engine.pool is pool
        gunicorn_config.post_fork(SimpleNamespace(app=SimpleNamespace(callable=app)), None)
        assert engine.pool is not pool and engine.pool.checkedin() == 0
        assert inherited.execute("SELECT 1").fetchone() == (1,)  # still the master's
        with engine.connect() as connection:
            assert connection.connection.dbapi_connection is not inherited
        engine.dispose()
    inherited.close()

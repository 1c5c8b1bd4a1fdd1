"""Configuration from the environment, and refusing unsafe production settings."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from clinic import create_app
from clinic.config import ConfigError, engine_options, instance_path_from_environment, load_config

POOL_VARIABLES = (
    "CLINIC_DATABASE_POOL_SIZE",
    "CLINIC_DATABASE_MAX_OVERFLOW",
    "CLINIC_DATABASE_POOL_TIMEOUT",
    "CLINIC_DATABASE_POOL_RECYCLE",
    "CLINIC_DATABASE_PGBOUNCER",
)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in (
        "CLINIC_ENV",
        "SECRET_KEY",
        "CLINIC_DATABASE_URL",
        "CLINIC_MAX_CONTENT_LENGTH",
        *POOL_VARIABLES,
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CLINIC_BASE_URL", "https://diary.example.org")
    return monkeypatch


def test_production_refuses_to_start_without_a_secret_key(env, tmp_path: Path) -> None:
    """Production is the default environment and needs SECRET_KEY."""
    with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
        load_config(tmp_path)


def test_development_key_is_generated_once_and_kept(env, tmp_path: Path) -> None:
    """In development a random key is created in the instance folder and reused."""
    env.setenv("CLINIC_ENV", "development")
    first = load_config(tmp_path)["SECRET_KEY"]
    second = load_config(tmp_path)["SECRET_KEY"]
    assert first == second and len(first) == 64
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0  # owner-only


def test_defaults_to_sqlite_in_the_instance_folder(env, tmp_path: Path) -> None:
    """Without CLINIC_DATABASE_URL the database is a SQLite file in the instance folder."""
    env.setenv("SECRET_KEY", "k")
    url = load_config(tmp_path)["SQLALCHEMY_DATABASE_URI"]
    assert url == f"sqlite:///{tmp_path / 'clinic.sqlite3'}"


def test_plain_postgresql_url_uses_psycopg3(env, tmp_path: Path) -> None:
    """A postgresql:// URL is given the psycopg 3 driver that the project ships."""
    env.setenv("SECRET_KEY", "k")
    env.setenv("CLINIC_DATABASE_URL", "postgresql://u@db/clinic")
    assert load_config(tmp_path)["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db/clinic"


def test_postgresql_pools_are_small_by_default_and_sized_from_the_environment(
    env, tmp_path: Path
) -> None:
    """On PostgreSQL each process keeps 2 connections, may open 2 more for a moment, waits
    10 s for one, 5 s for the server to answer a new one, and renews them every half
    hour; each setting can be changed. Prepared
    statements stay on (psycopg's default) unless PgBouncer in transaction mode is named.
    SQLite keeps Flask-SQLAlchemy's own pool."""
    env.setenv("SECRET_KEY", "k")
    env.setenv("CLINIC_DATABASE_URL", "postgresql://u@db/clinic")
    options = engine_options(load_config(tmp_path))
    assert {k: options[k] for k in ("pool_size", "max_overflow", "pool_timeout")} == {
        "pool_size": 2,
        "max_overflow": 2,
        "pool_timeout": 10,
    }
    # Pinged after sitting idle instead (clinic.core.transactions), not on every checkout.
    assert options["pool_recycle"] == 1800 and "pool_pre_ping" not in options
    assert options["connect_args"] == {"connect_timeout": 5}
    for name, value in zip(POOL_VARIABLES, ("4", "0", "3", "600", "transaction"), strict=True):
        env.setenv(name, value)
    options = engine_options(load_config(tmp_path))
    assert (options["pool_size"], options["max_overflow"], options["pool_timeout"]) == (4, 0, 3)
    assert options["pool_recycle"] == 600
    assert options["connect_args"] == {"connect_timeout": 5, "prepare_threshold": None}
    env.setenv("CLINIC_DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite3'}")
    assert engine_options(load_config(tmp_path)) == {"pool_pre_ping": True, "hide_parameters": True}


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("CLINIC_DATABASE_POOL_SIZE", "0", "at least 1"),
        ("CLINIC_DATABASE_MAX_OVERFLOW", "some", "whole number"),
        ("CLINIC_DATABASE_POOL_TIMEOUT", "0", "at least 1"),
        ("CLINIC_DATABASE_PGBOUNCER", "statement", "'transaction' or empty"),
    ],
)
def test_a_pool_setting_that_makes_no_sense_stops_the_app(
    env, tmp_path: Path, name: str, value: str, message: str
) -> None:
    """A pool of no connections, a typo, or a PgBouncer mode the app cannot work behind
    (statement pooling breaks transactions) is refused at start-up."""
    env.setenv("SECRET_KEY", "k")
    env.setenv(name, value)
    with pytest.raises(ConfigError, match=message):
        load_config(tmp_path)


def test_production_cookies_are_secure(env, tmp_path: Path) -> None:
    """Outside development, cookies are sent over HTTPS only."""
    env.setenv("SECRET_KEY", "k")
    config = load_config(tmp_path)
    assert config["SESSION_COOKIE_SECURE"] and config["REMEMBER_COOKIE_SECURE"]


def test_unknown_environment_is_an_error(env, tmp_path: Path) -> None:
    """A typo in CLINIC_ENV stops the app instead of silently meaning production."""
    env.setenv("CLINIC_ENV", "prod")
    with pytest.raises(ConfigError, match="CLINIC_ENV must be one of"):
        load_config(tmp_path)


def test_rate_limits_count_in_memory_unless_redis_is_named(env, tmp_path: Path) -> None:
    """Rate-limit counts stay in each process by default, in Redis when it is named."""
    env.setenv("SECRET_KEY", "k")
    env.delenv("CLINIC_RATELIMIT_STORAGE_URL", raising=False)
    assert load_config(tmp_path)["RATELIMIT_STORAGE_URI"] == "memory://"
    env.setenv("CLINIC_RATELIMIT_STORAGE_URL", "redis://127.0.0.1:6379/0")
    assert load_config(tmp_path)["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/0"


def test_sessions_last_twelve_hours_unless_configured(env, tmp_path: Path) -> None:
    """The absolute session lifetime is 12 hours, or CLINIC_SESSION_HOURS."""
    env.setenv("SECRET_KEY", "k")
    env.delenv("CLINIC_SESSION_HOURS", raising=False)
    assert load_config(tmp_path)["SESSION_ABSOLUTE_LIFETIME"] == timedelta(hours=12)
    env.setenv("CLINIC_SESSION_HOURS", "8")
    assert load_config(tmp_path)["SESSION_ABSOLUTE_LIFETIME"] == timedelta(hours=8)


@pytest.mark.parametrize("base_url", ["", "diary.example.org", "  "])
def test_production_refuses_to_start_without_its_public_address(
    env, tmp_path: Path, base_url: str
) -> None:
    """Production needs CLINIC_BASE_URL: otherwise reset and invitation links would be
    built on the request's Host header, which a stranger can set to their own site."""
    env.setenv("SECRET_KEY", "k")
    env.setenv("CLINIC_BASE_URL", base_url)
    with pytest.raises(ConfigError, match="CLINIC_BASE_URL is not set"):
        load_config(tmp_path)


def test_development_links_default_to_the_development_server(env, tmp_path: Path) -> None:
    """In development the address may be left out: links (built by the worker, without a
    request) point at `make run`'s server."""
    env.setenv("CLINIC_ENV", "development")
    env.delenv("CLINIC_BASE_URL")
    assert load_config(tmp_path)["CLINIC_BASE_URL"] == "http://127.0.0.1:5000"


def test_the_instance_folder_can_be_named_in_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """CLINIC_INSTANCE_PATH moves the instance folder, and with it the default database,
    wherever the app is installed; without it Flask's default stands."""
    monkeypatch.delenv("CLINIC_INSTANCE_PATH", raising=False)
    monkeypatch.delenv("CLINIC_DATABASE_URL", raising=False)
    assert instance_path_from_environment() is None
    monkeypatch.setenv("CLINIC_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app()
    assert app.instance_path == str(tmp_path / "instance")
    assert (tmp_path / "instance").is_dir()
    expected = f"sqlite:///{tmp_path / 'instance' / 'clinic.sqlite3'}"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == expected


def test_a_relative_instance_folder_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """A relative CLINIC_INSTANCE_PATH would move with the directory the server starts in:
    the app refuses it instead."""
    monkeypatch.setenv("CLINIC_INSTANCE_PATH", "var/instance")
    with pytest.raises(ConfigError, match="must be an absolute path"):
        instance_path_from_environment()

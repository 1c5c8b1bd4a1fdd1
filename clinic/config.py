"""Settings read from the environment.

`load_config(instance_path)` returns a plain dict that `create_app` applies. Every setting
has a safe default except `SECRET_KEY`, which production must provide: an app that would
sign sessions with a guessable key refuses to start instead.

Environment variables:

- `CLINIC_ENV`: `production` (default), `development` or `testing`.
- `CLINIC_INSTANCE_PATH`: the instance folder (an absolute path), where the default SQLite
  database, the development secret key and the development outbox live. Default: Flask's,
  `instance/` beside `clinic/` in a source checkout and `<prefix>/var/clinic-instance` for
  an installed package (`<prefix>` being the virtualenv or the Python installation).
- `SECRET_KEY`: required in production. In development a random key is generated
  once and kept in the instance folder, so sessions survive restarts.
- `CLINIC_DATABASE_URL`: SQLAlchemy URL. Defaults to a SQLite file in the instance folder;
  `postgresql+psycopg://user@host/db` is the production choice.
- `CLINIC_DATABASE_POOL_SIZE` (2): connections each process keeps open to PostgreSQL. A
  gunicorn sync worker serves one request at a time, which holds one connection (two when
  a job runs in the request because the queue is down), so 2 is enough. A worker started
  with `huey_consumer --workers N` (threads) needs N, one per thread: unset, that is its
  default (clinic.worker).
- `CLINIC_DATABASE_MAX_OVERFLOW` (2): connections a process may open beyond the pool for a
  moment (closed when given back). At most pool size + overflow per process: size
  PostgreSQL's `max_connections` on that (README: More than one machine).
- `CLINIC_DATABASE_POOL_TIMEOUT` (10): seconds a request waits for a free connection when
  the process has pool size + overflow in use; after that it answers the calm 503.
- `CLINIC_DATABASE_POOL_RECYCLE` (1800): seconds after which a connection is closed and
  opened afresh instead of reused (under firewalls' and PgBouncer's idle limits); -1 never.
- `CLINIC_DATABASE_CONNECT_TIMEOUT` (5): seconds to wait for the database to answer when
  opening a connection; a server that accepts the connection but never answers (a host
  stuck under load, a half-open network path) then costs a request this long and the
  calm 503, not gunicorn's worker time-out with nothing said.
- `CLINIC_DATABASE_PGBOUNCER`: `transaction` when the database URL points at PgBouncer in
  transaction pooling mode: each transaction may run on another server connection, so
  psycopg's server-side prepared statements are turned off (PgBouncer 1.18 cannot carry
  them). Empty (default) for a direct connection or session pooling. The app keeps no
  other state on a connection across transactions (no session-level SET, advisory lock,
  LISTEN, temporary table or WITH HOLD cursor). These six apply to PostgreSQL only.
- `CLINIC_MAX_CONTENT_LENGTH`: largest accepted request body in bytes (default 1 MiB).
- `CLINIC_BASE_URL`: the public address (https://diary.example.org) that links sent to
  people are built on. Required in production; in development, without it, links use the
  development server's default address, http://127.0.0.1:5000.
- `CLINIC_SESSION_HOURS`: a signed-in session ends this many hours after sign-in, however
  active (default 12). Idle time-outs are clinic settings (15 minutes for staff, 30 for
  patients by default).
- `CLINIC_RATELIMIT_FHIR`: calls one FHIR API token may make (Flask-Limiter's notation;
  default "120 per minute;3000 per hour").
- `CLINIC_RATELIMIT_STORAGE_URL`: where rate-limit counts are kept, e.g.
  `redis://127.0.0.1:6379/0`, so that every worker and server shares them. Default
  `memory://`: each process counts on its own.
- `CLINIC_PROXY_COUNT`: how many reverse proxies (which set X-Forwarded-For) stand in front
  of the app (default 0). Rate limits count per client address, so behind a proxy set this,
  or every visitor looks like the proxy.
- `CLINIC_SMTP_HOST`, `CLINIC_SMTP_PORT` (587), `CLINIC_SMTP_USERNAME`,
  `CLINIC_SMTP_PASSWORD`, `CLINIC_SMTP_SECURITY` (`starttls`, `ssl` or `none`): the mail
  server for password-reset links. Without a host, messages are written as .eml files to
  the instance folder's `outbox/` (development).
- `CLINIC_MAIL_FROM`: the sender address of those messages.
- `CLINIC_QUEUE_URL`: the task queue's storage (clinic.queue): `redis://host:6379/1` in
  production, shared by every web process and worker. Default: a SQLite file in the
  instance folder (`queue.sqlite3`), for one machine.
- `CLINIC_OUTBOX_LEASE_SECONDS` (120): how long a worker holds the messages it is sending;
  a worker that dies leaves them to others once it has run out.
- `CLINIC_OUTBOX_SERVER_RETRY_SECONDS` (60): how soon messages are tried again after the
  mail server could not be reached (no attempt is used).
- `CLINIC_VAPID_PRIVATE_KEY`: the key that signs Web Push messages (a PEM, EC P-256).
  Without it the key is made on first need and kept in the instance folder
  (`vapid-private.pem`, owner-readable only); set it in production when the instance
  folder is not kept, or shared by several machines. Changing it silences every device
  that subscribed with the old one until the patient turns notifications on again.
- `CLINIC_VAPID_SUBJECT`: who runs the deployment, for the push services (a `mailto:` or
  `https:` address). Default: `CLINIC_BASE_URL` when it is https, else a mailto: of
  `CLINIC_MAIL_FROM`.
- `CLINIC_PUSH_SERVICE_HOSTS`: the push services messages may be sent to, comma-separated
  host names (a name matches itself and its subdomains). Default: the services of Chrome,
  Firefox, Edge and Safari. The worker posts to whatever endpoint a browser gave, so this
  list keeps it from being pointed at anything else (an address inside the network).
- `CLINIC_PUSH_TTL_SECONDS` (14400): how long a push service keeps a message for a device
  that is offline; a reminder older than that is no use.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

ENVIRONMENTS = ("production", "development", "testing")
PGBOUNCER_MODES = ("", "transaction")
# The push services of the browsers people use (Chrome, Firefox, Edge/Windows, Safari).
PUSH_SERVICE_HOSTS = (
    "fcm.googleapis.com",
    "push.services.mozilla.com",
    "notify.windows.com",
    "push.apple.com",
)


class ConfigError(RuntimeError):
    """Raised when the environment does not describe a safe configuration."""


def _secret_key(env: str, instance_path: Path) -> str:
    key = os.environ.get("SECRET_KEY", "").strip()
    if key:
        return key
    if env == "production":
        raise ConfigError(
            "SECRET_KEY is not set. Set it to a long random value "
            "(python -c 'import secrets; print(secrets.token_hex(32))') before starting."
        )
    # Development and tests: one random key per instance folder, created on first start
    # and readable only by its owner.
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    # Created owner-only from the start: never readable by others, not even briefly.
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def instance_path_from_environment() -> str | None:
    """The instance folder `CLINIC_INSTANCE_PATH` names, or None for Flask's default."""
    value = os.environ.get("CLINIC_INSTANCE_PATH", "").strip()
    if not value:
        return None
    path = Path(value).expanduser()
    if not path.is_absolute():
        # A relative folder would move with the directory the server happens to start in.
        raise ConfigError(f"CLINIC_INSTANCE_PATH must be an absolute path, not {value!r}.")
    return str(path)


def _int(name: str, default: int, *, least: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {value!r}.") from None
    if number < least:
        raise ConfigError(f"{name} must be at least {least}, not {number}.")
    return number


def _pgbouncer_mode() -> str:
    mode = os.environ.get("CLINIC_DATABASE_PGBOUNCER", "").strip().lower()
    if mode not in PGBOUNCER_MODES:
        raise ConfigError(
            f"CLINIC_DATABASE_PGBOUNCER must be 'transaction' or empty, not {mode!r}."
        )
    return mode


def engine_options(config: Mapping[str, Any]) -> dict[str, Any]:
    """SQLAlchemy's engine options for the configured database: the pool of each process
    on PostgreSQL (SQLite keeps Flask-SQLAlchemy's own), and what PgBouncer needs."""
    # hide_parameters: a database error must never write patient data into the logs.
    options: dict[str, Any] = {"hide_parameters": True}
    if make_url(config["SQLALCHEMY_DATABASE_URI"]).get_backend_name() == "sqlite":
        return {**options, "pool_pre_ping": True}
    # No pool_pre_ping: a PostgreSQL connection is pinged only when it has not heard from
    # the server for a while (clinic.core.transactions, installed by create_app): a round
    # trip saved per request under load.
    options.update(
        pool_size=config["DATABASE_POOL_SIZE"],
        max_overflow=config["DATABASE_MAX_OVERFLOW"],
        pool_timeout=config["DATABASE_POOL_TIMEOUT"],
        pool_recycle=config["DATABASE_POOL_RECYCLE"],
    )
    connect_args: dict[str, Any] = {"connect_timeout": config["DATABASE_CONNECT_TIMEOUT"]}
    if config["DATABASE_PGBOUNCER"] == "transaction":
        # psycopg prepares a statement on the server once it has run 5 times on a
        # connection, then reuses it by name; behind PgBouncer the next transaction may run
        # on a server connection that never saw it ("prepared statement does not exist").
        connect_args["prepare_threshold"] = None
    options["connect_args"] = connect_args
    return options


def load_config(instance_path: str | Path) -> dict[str, Any]:
    """Build the Flask configuration from the environment for this instance folder."""
    instance_path = Path(instance_path)
    env = os.environ.get("CLINIC_ENV", "production").strip().lower()
    if env not in ENVIRONMENTS:
        raise ConfigError(f"CLINIC_ENV must be one of {', '.join(ENVIRONMENTS)}, not {env!r}.")

    default_db = f"sqlite:///{instance_path / 'clinic.sqlite3'}"
    database_url = os.environ.get("CLINIC_DATABASE_URL", "").strip() or default_db
    if database_url.startswith("postgresql://"):
        # The driver we ship is psycopg 3; a bare postgresql:// URL would ask for psycopg2.
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")

    production = env == "production"
    base_url = os.environ.get("CLINIC_BASE_URL", "").strip().rstrip("/")
    if env == "development" and not base_url:
        # The worker builds links without a request to read an address from.
        base_url = "http://127.0.0.1:5000"
    if production and not base_url.startswith(("https://", "http://")):
        # Without it, reset and invitation links would be built on the request's Host
        # header, which anyone can set: a reset link pointing at their own site.
        raise ConfigError(
            "CLINIC_BASE_URL is not set. Set it to the public address people use "
            "(https://diary.example.org) before starting."
        )
    session_lifetime = timedelta(hours=int(os.environ.get("CLINIC_SESSION_HOURS", "12")))
    smtp_host = os.environ.get("CLINIC_SMTP_HOST", "").strip()
    return {
        "CLINIC_ENV": env,
        "SECRET_KEY": _secret_key(env, instance_path),
        "SQLALCHEMY_DATABASE_URI": database_url,
        # The connection pool of each process (PostgreSQL; see engine_options, which
        # create_app turns these into once the URL is final).
        "DATABASE_POOL_SIZE": _int("CLINIC_DATABASE_POOL_SIZE", 2, least=1),
        "DATABASE_MAX_OVERFLOW": _int("CLINIC_DATABASE_MAX_OVERFLOW", 2, least=0),
        "DATABASE_POOL_TIMEOUT": _int("CLINIC_DATABASE_POOL_TIMEOUT", 10, least=1),
        "DATABASE_POOL_RECYCLE": _int("CLINIC_DATABASE_POOL_RECYCLE", 1800, least=-1),
        "DATABASE_CONNECT_TIMEOUT": _int("CLINIC_DATABASE_CONNECT_TIMEOUT", 5, least=1),
        "DATABASE_PGBOUNCER": _pgbouncer_mode(),
        # How long a SQLite write waits for another to finish before the request gives up
        # with a 503 ("nothing was changed, try again").
        "SQLITE_BUSY_TIMEOUT_MS": 5000,
        # Absolute session lifetime, checked on the server (clinic.auth.sessions): a stolen
        # cookie stops working within a working day, however busy.
        "SESSION_ABSOLUTE_LIFETIME": session_lifetime,
        "PERMANENT_SESSION_LIFETIME": session_lifetime,
        "MAX_CONTENT_LENGTH": int(os.environ.get("CLINIC_MAX_CONTENT_LENGTH", 1024 * 1024)),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        # Flask-Login's "remember me" cookie is never set (sign-in passes remember=False, and
        # a session needs its server-side record); should one appear, it is locked down too.
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "PREFERRED_URL_SCHEME": "https" if production else "http",
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
        # argon2id parameters (argon2-cffi's RFC 9106 low-memory profile by default).
        # Tests lower them: hashing strength is argon2's business, not our suite's.
        "PASSWORD_HASH_PARAMS": {},
        "PATIENTS_PER_PAGE": 25,
        # Rendered dashboard tables, per process, keyed by the clinic's data version (see
        # clinic.dashboard.views): a cache entry can only be replaced, never go stale.
        "CACHE_TYPE": "SimpleCache",
        "CACHE_DEFAULT_TIMEOUT": 600,
        "CACHE_THRESHOLD": 500,
        # Links sent to people (invitations) are built on this address when set, never on
        # whatever Host header a request arrived with.
        "CLINIC_BASE_URL": base_url,
        "PROXY_COUNT": int(os.environ.get("CLINIC_PROXY_COUNT", "0")),
        # Rate limits per client address (Flask-Limiter; see clinic.auth.limits). If the
        # shared storage is unreachable, each process keeps limiting on its own meanwhile.
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": (
            os.environ.get("CLINIC_RATELIMIT_STORAGE_URL", "").strip() or "memory://"
        ),
        "RATELIMIT_STRATEGY": "moving-window",
        "RATELIMIT_HEADERS_ENABLED": True,
        "RATELIMIT_KEY_PREFIX": "clinic",
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_SIGN_IN": "20 per minute;200 per hour",
        "RATELIMIT_RESET_REQUEST": "5 per minute;30 per hour",
        "RATELIMIT_LINKS": "10 per minute;60 per hour",
        # Per API token (clinic.fhirapi): a system reading records in bulk, not a person.
        "RATELIMIT_FHIR": os.environ.get("CLINIC_RATELIMIT_FHIR", "").strip()
        or "120 per minute;3000 per hour",
        # The largest referral the FHIR API takes (a ServiceRequest with its Patient).
        "FHIR_IMPORT_MAX_BYTES": 256 * 1024,
        # Email (clinic.core.mail): SMTP when a host is set, else .eml files; tests keep
        # messages in memory whatever the environment says.
        "MAIL_OUTBOX": "memory" if env == "testing" else ("smtp" if smtp_host else "files"),
        "MAIL_SMTP_HOST": smtp_host,
        "MAIL_SMTP_PORT": int(os.environ.get("CLINIC_SMTP_PORT", "587")),
        "MAIL_SMTP_USERNAME": os.environ.get("CLINIC_SMTP_USERNAME", ""),
        "MAIL_SMTP_PASSWORD": os.environ.get("CLINIC_SMTP_PASSWORD", ""),
        "MAIL_SMTP_SECURITY": os.environ.get("CLINIC_SMTP_SECURITY", "starttls").strip().lower(),
        "MAIL_FROM": os.environ.get("CLINIC_MAIL_FROM", "").strip() or "no-reply@localhost",
        # The task queue (clinic.queue). Tests run jobs at once, in the caller's thread.
        "QUEUE_URL": os.environ.get("CLINIC_QUEUE_URL", "").strip(),
        "QUEUE_IMMEDIATE": env == "testing",
        # How long a worker may hold a claimed message before another may send it (a
        # worker that died mid-send); well above one SMTP send's time-out.
        "OUTBOX_LEASE": timedelta(
            seconds=int(os.environ.get("CLINIC_OUTBOX_LEASE_SECONDS", "120"))
        ),
        # How soon messages are tried again after the mail server could not be reached.
        "OUTBOX_SERVER_RETRY": timedelta(
            seconds=int(os.environ.get("CLINIC_OUTBOX_SERVER_RETRY_SECONDS", "60"))
        ),
        # Web Push (clinic.push): the signing key (else made in the instance folder), who
        # runs the deployment, the push services the worker may post to (https only),
        # and how long a service keeps a message for a device that is offline.
        "VAPID_PRIVATE_KEY": os.environ.get("CLINIC_VAPID_PRIVATE_KEY", "").strip(),
        "VAPID_SUBJECT": os.environ.get("CLINIC_VAPID_SUBJECT", "").strip(),
        "PUSH_SERVICE_HOSTS": tuple(
            host.strip().lower()
            for host in os.environ.get(
                "CLINIC_PUSH_SERVICE_HOSTS", ",".join(PUSH_SERVICE_HOSTS)
            ).split(",")
            if host.strip()
        ),
        "PUSH_ALLOW_HTTP": False,  # tests only: their push service is on the loopback
        "PUSH_TTL": timedelta(seconds=int(os.environ.get("CLINIC_PUSH_TTL_SECONDS", "14400"))),
    }

"""A private PgBouncer (the Debian package `pgbouncer`, 1.18 here) in transaction pooling
mode, in front of the test run's PostgreSQL, for tests of the app behind it.

It listens on a free port on the loopback and offers each database under a name of the
test's choosing, with a number of server connections that every client shares (one, so
that whatever one client leaves on a server connection the next client meets). It trusts
every client (auth_type trust, with an auth_file naming the user) and connects to
PostgreSQL as the URLs' user. PgBouncer refuses to run as root: as root it runs as
`postgres`.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from tests.support.smtp import free_port

BINARY = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"


def available() -> bool:
    """Whether PgBouncer is installed here (CI installs it: .ci/system-deps)."""
    return Path(BINARY).is_file() and os.access(BINARY, os.X_OK)


@dataclass
class PgBouncer:
    """A running PgBouncer; `url(name)` is the app's database URL through it."""

    port: int
    user: str
    folder: Path
    process: subprocess.Popen[bytes]

    def url(self, name: str) -> str:
        """The SQLAlchemy URL of the database PgBouncer offers as `name`."""
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{name}"

    @property
    def log(self) -> str:
        path = self.folder / "pgbouncer.log"
        return path.read_text(errors="replace") if path.exists() else ""


def _config(aliases: Mapping[str, tuple[str, int]], port: int, folder: Path) -> str:
    databases = []
    for name, (server_url, pool_size) in aliases.items():
        url = make_url(server_url)
        databases.append(
            f"{name} = host={url.host or '127.0.0.1'} port={url.port or 5432} "
            f"dbname={url.database} pool_size={pool_size}"
        )
    return "\n".join(
        [
            "[databases]",
            *databases,
            "",
            "[pgbouncer]",
            "listen_addr = 127.0.0.1",
            f"listen_port = {port}",
            "unix_socket_dir =",
            "auth_type = trust",
            f"auth_file = {folder / 'users.txt'}",
            "pool_mode = transaction",
            "max_client_conn = 200",
            # A client left waiting for a server connection fails in 20 s, not 120.
            "query_wait_timeout = 20",
            "ignore_startup_parameters = extra_float_digits",
            f"logfile = {folder / 'pgbouncer.log'}",
            f"pidfile = {folder / 'pgbouncer.pid'}",
            "",
        ]
    )


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


@contextmanager
def running_pgbouncer(aliases: Mapping[str, tuple[str, int]]) -> Iterator[PgBouncer]:
    """PgBouncer in transaction mode for the block, offering each database URL of
    `aliases` ({name: (url, server connections)}) as that name."""
    user = make_url(next(iter(aliases.values()))[0]).username or "postgres"
    # Not under pytest's tmp_path: that is readable by its owner only, and PgBouncer may
    # run as another user.
    folder = Path(tempfile.mkdtemp(prefix="pgbouncer-"))
    folder.chmod(0o777)  # its log and pid file, written as `postgres` under root
    port = free_port()
    (folder / "users.txt").write_text(f'"{user}" ""\n')
    (folder / "pgbouncer.ini").write_text(_config(aliases, port, folder))
    as_postgres = {"user": "postgres", "group": "postgres", "extra_groups": []}
    process = subprocess.Popen(  # noqa: S603 - fixed arguments, our own config
        [BINARY, str(folder / "pgbouncer.ini")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        **(as_postgres if os.geteuid() == 0 else {}),
    )
    bouncer = PgBouncer(port=port, user=user, folder=folder, process=process)
    try:
        deadline = time.monotonic() + 10
        while not _listening(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"PgBouncer did not start:\n{bouncer.log}")
            time.sleep(0.05)
        yield bouncer
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        shutil.rmtree(folder, ignore_errors=True)

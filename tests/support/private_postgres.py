"""A PostgreSQL server of the test's own, to stop, restart or crash while an app runs on it.

The suite's PostgreSQL (127.0.0.1:5432) is shared by every test and helper and is never
restarted; a drill that takes the database away runs on a throwaway cluster instead:
`initdb` into a temporary folder, `pg_ctl start` on a free port (TCP on the loopback, its
socket in the same folder), and `pg_ctl stop` / `restart` in the middle of the load. The
cluster is stopped (`-m immediate`) and its folder removed when the block ends, whatever
happens in it; its log is printed when the block fails.

PostgreSQL refuses to run as root: as root, the cluster belongs to the `postgres` OS user
(commands run through `runuser -u postgres --`); otherwise to whoever runs the tests. The
superuser is always named `postgres`, with trust authentication on the loopback only.
The binaries are PostgreSQL's own (`/usr/lib/postgresql/<version>/bin`, the newest there,
or `initdb` on the PATH); `server_binaries()` is None when there are none.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from tests.support.smtp import free_port

# Debian's layout: one folder per major version.
DEBIAN_BINARIES = Path("/usr/lib/postgresql")
SERVER_USER = "postgres"


def server_binaries() -> Path | None:
    """The folder holding initdb and pg_ctl, or None when PostgreSQL's server is not
    installed here."""
    if DEBIAN_BINARIES.is_dir():
        versions = sorted(
            (p for p in DEBIAN_BINARIES.iterdir() if (p / "bin" / "initdb").exists()),
            key=lambda p: int(p.name) if p.name.isdigit() else 0,
        )
        if versions:
            return versions[-1] / "bin"
    found = shutil.which("initdb")
    return Path(found).parent if found else None


@dataclass
class PrivatePostgres:
    """A running throwaway cluster: `url(database)` to reach it, `stop`/`start`/`restart`
    to take it away and bring it back."""

    binaries: Path
    folder: Path  # owned by the server's user; data/, the socket and the log inside
    port: int

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @property
    def log_path(self) -> Path:
        return self.folder / "server.log"

    def url(self, database: str = "postgres") -> str:
        """The SQLAlchemy URL of a database on this server (psycopg 3)."""
        return f"postgresql+psycopg://{SERVER_USER}@127.0.0.1:{self.port}/{database}"

    def _run(self, *command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        as_owner = ["runuser", "-u", SERVER_USER, "--"] if os.geteuid() == 0 else []
        return subprocess.run(  # noqa: S603 - PostgreSQL's own tools, fixed arguments
            [*as_owner, *command], capture_output=True, text=True, check=check, timeout=120
        )

    def _pg_ctl(self, *arguments: str) -> None:
        self._run(str(self.binaries / "pg_ctl"), "-D", str(self.data), "-w", *arguments)

    def initdb(self) -> None:
        """Make the cluster (superuser `postgres`, trust on the loopback)."""
        self._run(
            str(self.binaries / "initdb"),
            "-D",
            str(self.data),
            "-U",
            SERVER_USER,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",  # a throwaway cluster: no need to wait for the disk
        )

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
            # Enough for a few gunicorn workers, a worker and the test's own pools.
            "-c max_connections=60 -c shared_buffers=32MB -c log_min_messages=warning"
        )
        self._pg_ctl("-l", str(self.log_path), "-o", options, "start")

    def stop(self, mode: str = "fast") -> None:
        """Stop the server: `fast` ends every connection (what a service manager does),
        `immediate` is a crash (recovery at the next start)."""
        self._pg_ctl("-m", mode, "stop")

    def ensure_running(self) -> None:
        """Start it if a drill left it stopped (a drill that failed half-way)."""
        if not self.running:
            self.start()

    def restart(self, mode: str = "fast") -> None:
        """Stop and start again with the same settings."""
        self.stop(mode)
        self.start()

    @property
    def running(self) -> bool:
        status = self._run(
            str(self.binaries / "pg_ctl"), "-D", str(self.data), "status", check=False
        )
        return status.returncode == 0

    def create_database(self, name: str) -> str:
        """Create an empty database; its URL."""
        from sqlalchemy import create_engine, text

        engine = create_engine(self.url(), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            engine.dispose()
        return self.url(name)

    @property
    def log(self) -> str:
        with suppress(OSError):
            return self.log_path.read_text(errors="replace")
        return ""


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    """A fresh cluster for the block, running on a free port; stopped and removed after
    (its log printed if the block failed)."""
    binaries = server_binaries()
    if binaries is None:
        raise RuntimeError("PostgreSQL's server (initdb, pg_ctl) is not installed here")
    # Not under pytest's tmp_path: its folders are private to root, and the server's user
    # must reach its own folder.
    folder = Path(tempfile.mkdtemp(prefix="clinic-private-pg-"))
    if os.geteuid() == 0:
        owner = pwd.getpwnam(SERVER_USER)
        os.chown(folder, owner.pw_uid, owner.pw_gid)
    server = PrivatePostgres(binaries, folder, free_port())
    try:
        server.initdb()
        for attempt in range(3):
            try:
                server.start()
                break
            except subprocess.CalledProcessError:
                # Another process took the free port in between: try another one.
                if attempt == 2:
                    raise
                server.port = free_port()
        yield server
    except BaseException:
        print(f"--- private PostgreSQL log ---\n{server.log}", file=sys.stderr)
        raise
    finally:
        if server.data.exists():
            with suppress(subprocess.SubprocessError):
                if server.running:
                    server.stop("immediate")
        shutil.rmtree(folder, ignore_errors=True)

"""PostgreSQL connections that open a transaction at the first write, as SQLite's do here.

A page that only reads used to pay three round trips to PostgreSQL besides its queries: a
`BEGIN` before the first one, a `ROLLBACK` when the session closed, and the pool's ping
when it lent the connection. On a machine where PostgreSQL shares the CPU with the web
processes, each round trip waits for the server to be scheduled: a 0.1 ms statement
answers in 1 to 5 ms under load, so round trips, not queries, were what pages cost.

So each connection sits in autocommit while it reads, and psycopg opens a transaction
just before the first statement that needs one (`needs_transaction`: anything but a plain
SELECT, a SELECT that takes locks or moves a sequence, or a server-side cursor). From
there on everything runs in that transaction until the unit of work commits or rolls it
back (clinic.core.uow), and the connection goes back to reading in autocommit.

Why this loses nothing: PostgreSQL's default isolation, READ COMMITTED, gives every
statement its own snapshot, inside a transaction or not, so a read sees exactly what it
would have seen in a transaction; what a transaction adds to reads is row locks, and
locking reads open the transaction first. Writes are as before: all of a unit's writes,
and every read after the first of them, are one transaction, committed once. It is also
what the app already does on SQLite, where Python's sqlite3 opens the transaction just
before the first INSERT, UPDATE or DELETE (see clinic._sqlite_pragmas).

One statement may run alone: a page view's audit row (clinic.audit.log), written when the
request wrote nothing else, is its own transaction (`ALONE_IF_READING`) instead of
`BEGIN`, `INSERT`, `COMMIT`. A single INSERT is atomic and, committed, as durable as any.

The pool's ping (`pool_pre_ping`) is replaced by one that runs only on a connection that
has not heard from the server for longer than `PING_AFTER_IDLE` (since its last
statement, not since its return to the pool: a request may hold a connection quietly for
seconds): a busy process lends its connection again within a millisecond or two of its
last statement and pays no ping, a quiet one pings as before. A connection cannot miss a
restart of the server that way: stopping and starting PostgreSQL takes far longer than
that, so a connection that sat through one is pinged (and replaced) before it is used,
and one in use while the server is down fails its request with the calm 503, as any
would (clinic.core.errors). What a busy process does not notice before using it is a
single connection cut on its own (a server process killed, a network fault): that
request answers the calm 503, SQLAlchemy replaces the process's pool, and the next
request works.
"""

from __future__ import annotations

import re
import time
from functools import lru_cache
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus
from sqlalchemy import Connection, Engine, event, exc
from sqlalchemy.pool import ConnectionPoolEntry

# An execution option: the statement may commit by itself when nothing was written before
# it (see the module's docstring).
ALONE_IF_READING = "clinic_alone_if_reading"

# A connection unused for longer than this is pinged before it is lent again: far less
# than a restart of PostgreSQL takes, far more than a busy process leaves it unused.
PING_AFTER_IDLE = 0.1  # seconds

_PLAIN_READ = re.compile(r"\s*\(*\s*SELECT\b", re.IGNORECASE)
# In a SELECT: row locks (FOR UPDATE, FOR NO KEY UPDATE, FOR SHARE, FOR KEY SHARE),
# advisory locks, sequences, settings, notifications, the transaction's id and SELECT ...
# INTO: what a transaction must hold or what changes something. (No function of the app's
# database writes; one that did would have to be named here.)
_NOT_ONLY_READING = re.compile(
    r"\bFOR\s+(?:NO\s+KEY\s+)?(?:UPDATE|KEY\s+SHARE|SHARE)\b"
    r"|\bpg_(?:try_)?advisory|\b(?:nextval|setval|set_config|pg_notify|txid_current)\s*\("
    r"|\bINTO\b",
    re.IGNORECASE,
)
_LAST_USED_AT = "clinic.last_used_at"


class BeginOnWrite(psycopg.Connection[Any]):
    """A psycopg connection that reads in autocommit, opens a transaction when told a
    write is coming (`begin_for_write`) and goes back to reading when that transaction
    ends. A transaction SQLAlchemy asked for itself (an explicit isolation level) is left
    alone."""

    began_for_write = False

    def begin_for_write(self) -> None:
        """Leave autocommit: psycopg sends BEGIN before the next statement."""
        self.autocommit = False
        self.began_for_write = True

    def back_to_reading(self) -> None:
        """Autocommit again, if nothing is in progress (a connection lent by the pool)."""
        if (
            not self.closed
            and not self.autocommit
            and self.info.transaction_status == TransactionStatus.IDLE
        ):
            self.autocommit = True
        self.began_for_write = False

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            if self.began_for_write:
                self.back_to_reading()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            if self.began_for_write:
                self.back_to_reading()


@lru_cache(maxsize=4096)
def needs_transaction(statement: str) -> bool:
    """Whether `statement` must run inside a transaction: whatever is not a plain read.
    (The same statement strings come back from SQLAlchemy's cache, hence the memo.)"""
    return not _PLAIN_READ.match(statement) or bool(_NOT_ONLY_READING.search(statement))


def in_transaction(connection: Connection) -> bool | None:
    """Whether a PostgreSQL connection of this module is inside a transaction now (one
    opened for a write or a locking read, or one SQLAlchemy asked for): what its unit of
    work must commit. None for any other connection (SQLite), whose driver does not say."""
    dbapi_connection = connection.connection.dbapi_connection
    if not isinstance(dbapi_connection, BeginOnWrite):
        return None
    return dbapi_connection.info.transaction_status != TransactionStatus.IDLE


def install(engine: Engine) -> None:
    """Make `engine`'s PostgreSQL connections begin on the first write, and ping only the
    connections that sat idle. Call it on an engine created without `pool_pre_ping`."""

    @event.listens_for(engine, "do_connect")
    def connect(_dialect: Any, _record: Any, cargs: Any, cparams: dict[str, Any]) -> Any:
        return BeginOnWrite.connect(*cargs, **{**cparams, "autocommit": True})

    @event.listens_for(engine, "before_cursor_execute")
    def begin_before_writing(
        conn: Connection, cursor: Any, statement: str, _params: Any, context: Any, _many: bool
    ) -> None:
        connection = cursor.connection
        if not connection.autocommit:
            return  # already in a transaction
        if "isolation_level" in conn.get_execution_options():
            return  # SQLAlchemy was told how (AUTOCOMMIT for VACUUM, say): as it says
        if isinstance(cursor, psycopg.ServerCursor) or needs_transaction(statement):
            if context is not None and context.execution_options.get(ALONE_IF_READING):
                return
            # psycopg sends BEGIN just before this statement.
            connection.begin_for_write()

    @event.listens_for(engine, "after_cursor_execute")
    def note_use(conn: Connection, *_args: Any) -> None:
        # The last time the connection heard from the server. Not the time it went back
        # to the pool: a request may hold it quietly for seconds (a PDF, an email) while
        # the server restarts, and give it back without a word to the server.
        conn.info[_LAST_USED_AT] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def ping_if_idle(dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        if isinstance(dbapi_connection, BeginOnWrite):
            # Back from SQLAlchemy's reset of an isolation level it was asked for.
            dbapi_connection.back_to_reading()
        last_used = record.info.get(_LAST_USED_AT)
        if last_used is not None and time.monotonic() - last_used < PING_AFTER_IDLE:
            return
        try:
            dbapi_connection.execute("SELECT 1")
        except psycopg.Error as error:
            # The pool tries again with a new connection (SQLAlchemy's documented way).
            raise exc.DisconnectionError() from error
        record.info[_LAST_USED_AT] = time.monotonic()

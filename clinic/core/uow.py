"""The unit of work: the one place where a transaction is committed or rolled back.

Everything a request (or a command, or a background job) changes in the database is one
unit of work: it is committed once, at the end, when the work finished without error, and
rolled back whole otherwise. Services and views only change objects and flush; nothing
else in `clinic/` calls `commit()` or `rollback()` (tests/unit/test_architecture.py fails
when something does).

The whole story, in the order a request meets it:

1. The session check (clinic.auth.sessions.load_early, a before_request hook) is a unit
   of work of its own, before the request's: what it writes (the session's last activity,
   a session ended for idleness, with its audit event) is kept whatever the page does
   next, and no write lock is held while the page is worked out.
2. The view runs inside the request's unit of work (`init_app` wraps every view function).
   When the view returns, the unit commits, still inside Flask's dispatch: a commit that
   fails (the database gone or busy) reaches the error handlers like any error, and the
   person sees the calm 503 page (clinic.core.errors), never a half-saved change.
   A unit that wrote nothing ends without a COMMIT (there is nothing to keep; the read
   transaction ends with the app context, as Flask-SQLAlchemy closes the session).
3. The unit rolls back instead of committing when the view raised (any exception,
   `abort(404)` included), when its answer is an error status (4xx, 5xx), or when it was
   discarded: `discard()` is called by `clinic.core.forms.show_refusal` and
   `flash_refusal` (a service refused the change), by a sent form that fails its checks
   (`ClinicForm.validate_on_submit`), and by a view that answers a refusal its own way.
   Discarding rolls back at once, so the page shown next reads the data as it was, and
   nothing written after it in the same unit is kept.
4. What must be kept although the request fails (a failed sign-in counted towards the
   back-off and audited, a refused page in the audit trail, the attempt of an audited
   change) is written by `persist_despite_failure`, in a transaction of its own.
5. After-request hooks and error handlers run after the unit ended: they write only
   through `persist_despite_failure` (clinic.audit.log.record_refused_access). A streamed
   response's body is produced after the commit, so it may only read.
6. What leaves the system because of a change (a message, a job put in the queue) is
   handed to `after_commit`: it happens once the change is saved, and never for a change
   that was not. Messages themselves are rows written in the unit (clinic.outbox.post):
   `after_commit` only asks the worker to send them.

A command or a job is a unit of work around its body: `@transactional` under a click
command's `with_appcontext` (clinic/cli.py), or `with unit_of_work():` around a part of
it. A background job (clinic.queue) runs in an app context of its own, hence a session of
its own:

    @job
    def send_reset_links(email: str) -> None:
        with unit_of_work():
            ...                # change objects, flush, post messages; raise to keep nothing

A unit of work entered inside another joins it (the outer one commits), so a job calling
a function that is also a command's body commits once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from flask import Flask, current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import ORMExecuteState, Session
from werkzeug.wrappers import Response

from clinic.core.transactions import in_transaction
from clinic.extensions import db

P = ParamSpec("P")
T = TypeVar("T")

# Kept in the database session's `info`: how many units of work are open on it, and
# whether the open one was discarded.
_DEPTH = "clinic.unit_of_work.depth"
_DISCARDED = "clinic.unit_of_work.discarded"
_AFTER_COMMIT = "clinic.unit_of_work.after_commit"
# Set when the session sent a write (a flush, or a statement other than a SELECT) since
# its last commit or rollback.
_WROTE = "clinic.unit_of_work.wrote"
# Marks a view function already wrapped by `init_app`.
_IN_UNIT_OF_WORK = "in_unit_of_work"


@contextmanager
def unit_of_work() -> Iterator[None]:
    """Commit once when the block ends without error (and was not discarded); roll back
    when it raises, and re-raise. Inside another unit of work, join it: an error there
    dooms the outer one too."""
    info = db.session.info
    depth = info.get(_DEPTH, 0)
    info[_DEPTH] = depth + 1
    try:
        yield
        if depth == 0:
            if info.get(_DISCARDED):
                _roll_back()
            else:
                if _has_changes():
                    _commit()
                for action in info.pop(_AFTER_COMMIT, {}).values():
                    action()
    except BaseException:
        if depth == 0:
            _roll_back()
        else:
            info[_DISCARDED] = True
        raise
    finally:
        info[_DEPTH] = depth
        if depth == 0:
            info.pop(_DISCARDED, None)
            info.pop(_AFTER_COMMIT, None)


def transactional(function: Callable[P, T]) -> Callable[P, T]:
    """Decorator: run `function` as one unit of work (for commands and background jobs;
    put it below `with_appcontext`, closest to the function)."""

    @wraps(function)
    def in_unit_of_work(*args: P.args, **kwargs: P.kwargs) -> T:
        with unit_of_work():
            return function(*args, **kwargs)

    return in_unit_of_work


def discard() -> None:
    """Throw away what the unit of work changed so far (rolled back at once) and end it
    with a rollback: for a refusal, a form that failed its checks, an error. Outside a
    unit of work, only the rollback."""
    _roll_back()
    info = db.session.info
    info.pop(_AFTER_COMMIT, None)
    if info.get(_DEPTH):
        info[_DISCARDED] = True


def in_unit_of_work() -> bool:
    """Whether a unit of work is open on the session (if not, whoever commits is a test,
    a script, or a session listener running inside a plain commit)."""
    return bool(db.session.info.get(_DEPTH))


def after_commit(action: Callable[[], object], *, once_as: str | None = None) -> None:
    """Run `action` once the unit of work has committed, and never when it rolls back
    (or was discarded): for what leaves the system because of a change, such as an
    email. Outside a unit of work, at once. Actions given the same `once_as` name run
    once per unit (the first one given), however often they were asked for."""
    info = db.session.info
    if not info.get(_DEPTH):
        action()
        return
    if info.get(_DISCARDED):
        return  # the unit will roll back: what it changed is not kept, so nothing follows
    pending: dict[object, Callable[[], object]] = info.setdefault(_AFTER_COMMIT, {})
    pending.setdefault(once_as if once_as is not None else object(), action)


def persist_despite_failure(write: Callable[[], T]) -> T:
    """Keep what `write` writes although the request fails: a failed sign-in counted
    towards the back-off and its audit event, a refused page or a failed change in the
    audit trail. Returns what `write` returns.

    The request has failed, so what it changed so far is discarded first (see `discard`);
    then `write` runs and is committed alone, at once. Rolling back first is what keeps
    this safe on SQLite: the request's connection then holds no write lock, so the commit
    cannot wait on the request itself (a second connection writing while the first holds
    the lock would wait out the busy timeout and fail). It also means nothing the request
    did can slip into this commit. Whatever the request writes afterwards is discarded."""
    discard()
    try:
        result = write()
        _commit()
    except BaseException:
        _roll_back()
        raise
    return result


def init_app(app: Flask) -> None:
    """Run every view of `app` in the request's unit of work. Call it once every
    blueprint is registered (a view added later runs outside any unit of work: call it
    again)."""
    for endpoint, view in app.view_functions.items():
        if not getattr(view, _IN_UNIT_OF_WORK, False):
            app.view_functions[endpoint] = _in_request_unit_of_work(view)


def _in_request_unit_of_work(view: Callable[..., Any]) -> Callable[..., Response]:
    @wraps(view)
    def view_in_unit_of_work(*args: Any, **kwargs: Any) -> Response:
        with unit_of_work():
            # The answer is made here, inside the unit, to see its status: an error
            # status saves nothing.
            response = current_app.make_response(view(*args, **kwargs))
            if response.status_code >= 400:
                discard()
            return response

    setattr(view_in_unit_of_work, _IN_UNIT_OF_WORK, True)
    return view_in_unit_of_work


def _commit() -> None:
    db.session.commit()
    db.session.info.pop(_WROTE, None)


def _roll_back() -> None:
    """Roll the session back; with the connection gone the rollback itself may fail, and
    the transaction is void anyway."""
    db.session.info.pop(_WROTE, None)
    try:
        db.session.rollback()
    except SQLAlchemyError:
        if has_app_context():
            current_app.logger.warning("rollback failed after a database error")


def _has_changes() -> bool:
    """Whether the session holds anything to commit: changed objects not yet flushed, or
    a write already sent. On PostgreSQL the connection itself says whether a write was
    sent: it is inside a transaction (clinic.core.transactions opens one at the first
    write or locking read; a page view's audit row, committed alone, leaves none). The
    session's own note of statements it sent (`_WROTE`) answers for SQLite."""
    session = db.session()
    if session.new or session.dirty or session.deleted:
        return True
    if session.in_transaction():
        opened = in_transaction(session.connection())
        if opened is not None:
            return opened
    return bool(session.info.get(_WROTE))


def is_discarded() -> bool:
    """Whether the open unit of work was discarded (it will roll back)."""
    return bool(db.session.info.get(_DISCARDED))


@event.listens_for(db.session, "after_flush")
def _note_flush(session: Session, _context: object) -> None:
    session.info[_WROTE] = True


@event.listens_for(db.session, "do_orm_execute")
def _note_statement(state: ORMExecuteState) -> None:
    if not state.is_select:  # an UPDATE, INSERT or DELETE (or text SQL: counted as one)
        state.session.info[_WROTE] = True

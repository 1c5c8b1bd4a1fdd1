"""Alerts kept by the session: new red flags are announced, acknowledged ones withdrawn.

No write path calls anything. This module listens to the sessions of `db` (the pattern of
clinic.monitoring.upkeep):

1. Before each flush (`before_flush`), it notes the open `RedFlag` objects about to be
   inserted. Flags loaded with history (inside `clinic.monitoring.upkeep.deferred()`: demo
   data, benchmarks) are not news: they are marked as past escalation and not noted.
2. It notes flags that may have been acknowledged: changed objects whose
   `acknowledged_at` was set (after each flush), and the open rows a bulk UPDATE of
   red flags matches (before it runs; clinic.monitoring.services.acknowledge is one).
3. Just before the transaction commits (`before_commit`), it flushes, then posts the
   alerts for the new flags and withdraws the pending messages of reports now fully
   acknowledged (clinic.alerts.services), in the same transaction. A rollback forgets all.

A bulk INSERT of red flags is not seen: it is how history is loaded in bulk, never how a
patient's report arrives.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Update, inspect, select
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, UOWTransaction
from sqlalchemy.orm.scoping import scoped_session

from clinic.alerts import services
from clinic.core.session_events import listen_once
from clinic.models import RedFlag
from clinic.monitoring.upkeep import loading_history

_S = TypeVar("_S", bound=Session)

_NEW = "clinic.alerts.new_flags"
_MAYBE_ACKNOWLEDGED = "clinic.alerts.maybe_acknowledged"


def install(session: scoped_session[_S]) -> None:
    """Listen to the sessions `session` makes (once, however often the app is created)."""
    listen_once(
        session,
        (
            ("before_flush", _before_flush),
            ("after_flush", _after_flush),
            ("do_orm_execute", _on_execute),
            ("before_commit", _before_commit),
            ("after_transaction_end", _after_transaction_end),
        ),
    )


def _before_flush(session: Session, _context: UOWTransaction, _instances: object) -> None:
    for obj in session.new:
        if isinstance(obj, RedFlag) and obj.acknowledged_at is None:
            if loading_history(session):
                obj.escalated_level = services.SECOND  # not news: never announced
            else:
                new: list[RedFlag] = session.info.setdefault(_NEW, [])
                if obj not in new:
                    new.append(obj)


def _after_flush(session: Session, _context: UOWTransaction) -> None:
    for obj in session.dirty:
        if isinstance(obj, RedFlag):
            history = inspect(obj).attrs["acknowledged_at"].history
            if history.added and history.added[0] is not None:
                _maybe_acknowledged(session).add(obj.id)


def _maybe_acknowledged(session: Session) -> set[int]:
    found: set[int] = session.info.setdefault(_MAYBE_ACKNOWLEDGED, set())
    return found


def _on_execute(state: ORMExecuteState) -> None:
    """Note the open flags a bulk UPDATE of red flags matches, before it runs."""
    if not state.is_update:
        return
    mapper = state.bind_mapper
    statement: Any = state.statement
    if mapper is None or mapper.class_ is not RedFlag or not isinstance(statement, Update):
        return
    matched = select(RedFlag.id).where(RedFlag.acknowledged_at.is_(None))
    if statement.whereclause is not None:
        matched = matched.where(statement.whereclause)
    _maybe_acknowledged(state.session).update(state.session.scalars(matched))


def _before_commit(session: Session) -> None:
    if session.in_nested_transaction() or loading_history(session):
        return
    session.flush()
    new: list[RedFlag] = session.info.pop(_NEW, [])
    acknowledged: set[int] = session.info.pop(_MAYBE_ACKNOWLEDGED, set())
    if new:
        services.announce(new)
    if acknowledged:
        services.withdraw_for_acknowledged(acknowledged)


def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None and not loading_history(session):
        session.info.pop(_NEW, None)
        session.info.pop(_MAYBE_ACKNOWLEDGED, None)

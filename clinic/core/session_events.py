"""Listening to every session a scoped session makes, once.

Derived work is kept by the session (clinic.monitoring.upkeep keeps summaries,
clinic.alerts.upkeep writes alerts): each installs its listeners with `listen_once`, which
adds a listener only if it is not there yet, since the app factory may run many times in
one process (the tests) against the one `db.session`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.orm import Session
from sqlalchemy.orm.scoping import scoped_session

_S = TypeVar("_S", bound=Session)


def listen_once(
    session: scoped_session[_S], listeners: Iterable[tuple[str, Callable[..., Any]]]
) -> None:
    """Add each (event name, listener) to the sessions `session` makes, unless present."""
    for name, listener in listeners:
        if not event.contains(session, name, listener):
            event.listen(session, name, listener)

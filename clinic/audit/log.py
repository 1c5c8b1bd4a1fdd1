"""Writing to the audit trail.

`record(action, ...)` adds one `AuditEvent` to the current transaction, so an audited change
and its audit row commit or roll back together: services call it next to the change.

Views declare what they show with `@audited(...)`:

    @bp.get("/<int:patient_id>/timeline")
    @roles(Role.CLINICIAN)
    @audited("timeline.view", patient="patient_id")
    def show(patient_id): ...

Put it under the access decorator, just above the function. A GET that answers 2xx
records its `read` action, committed with the request's unit of work (a redirect or an
error showed nothing and records nothing). For any other method, `change` names what the
request tries to do: the service records the change itself, with the ids it made, and the
request's unit of work commits both. When the request ends without such an event (a form
with errors, a refusal, nothing to change) or with an error status, the decorator discards
whatever the view changed and keeps the attempt with its outcome ("invalid", "refused",
"unchanged") through `clinic.core.uow.persist_despite_failure`, so every request to an
audited route leaves a trace. `record_each` writes one event per patient of a document
about many (the MDT pack) in one statement.

Never pass what a person typed or a patient's details: `detail` is for non-identifying facts
(field names changed, a count, a reason code). Ids are enough to find the record.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar, cast

from flask import current_app, g, has_app_context, has_request_context, make_response, request
from flask_login import current_user
from sqlalchemy import insert
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from clinic.core.refusals import not_done_reason
from clinic.core.transactions import ALONE_IF_READING
from clinic.core.uow import is_discarded, persist_despite_failure
from clinic.extensions import db
from clinic.models import AuditEvent, User
from clinic.models.types import utcnow
from clinic.patients.queries import own_patient_id

F = TypeVar("F", bound=Callable[..., Any])

# How a view names the patient (and object) it shows: the name of a URL argument, or a
# function of the URL arguments (e.g. `own_patient` for portal pages).
IdSource = str | Callable[[Mapping[str, Any]], int | None] | None


def record(
    action: str,
    *,
    patient_id: int | None = None,
    object_type: str = "",
    object_id: int | None = None,
    outcome: str = "ok",
    actor: User | None = None,
    clinic_id: int | None = None,
    detail: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Add an audit event for `action` (e.g. "patient.view") to the session.

    The actor defaults to the signed-in user and the clinic to the actor's clinic; the
    address comes from the request when there is one.
    """
    return _add(
        _values(action, patient_id, object_type, object_id, outcome, actor, clinic_id, detail)
    )


def _add(values: Mapping[str, Any]) -> AuditEvent:
    event = AuditEvent(**values)
    db.session.add(event)
    if has_app_context():
        # Lets `audited` see whether the request's service recorded its change.
        g.setdefault("audit_events", []).append(event)
    return event


def record_each(
    action: str,
    patient_ids: Iterable[int],
    *,
    object_type: str = "",
    object_id: int | None = None,
    actor: User | None = None,
    clinic_id: int | None = None,
) -> None:
    """One event per patient (one document about many), written in one statement: a
    pack of 40 patients costs what a pack of one does."""
    rows = [
        _values(action, patient_id, object_type, object_id, "ok", actor, clinic_id, None)
        for patient_id in patient_ids
    ]
    if rows:
        db.session.execute(insert(AuditEvent), rows)
        if has_app_context():
            g.audit_written_in_bulk = True


def _values(
    action: str,
    patient_id: int | None,
    object_type: str,
    object_id: int | None,
    outcome: str,
    actor: User | None,
    clinic_id: int | None,
    detail: Mapping[str, Any] | None,
) -> dict[str, Any]:
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user._get_current_object()
    return {
        "at": utcnow(),
        "clinic_id": clinic_id if clinic_id is not None else (actor.clinic_id if actor else None),
        "actor_id": actor.id if actor else None,
        "actor_role": actor.role.value if actor else "",
        "action": action,
        "patient_id": patient_id,
        "object_type": object_type,
        "object_id": object_id,
        "outcome": outcome,
        "ip": (request.remote_addr or "")[:45] if has_request_context() else "",
        "detail": json.dumps(dict(detail or {}), sort_keys=True, default=str),
    }


def own_patient(_arguments: Mapping[str, Any]) -> int | None:
    """The signed-in patient's own record (portal pages take no patient id from the URL;
    the one the view loaded, without another query)."""
    return own_patient_id(current_user)


@dataclass(frozen=True)
class AuditSpec:
    """What an audited view records; kept on the view so tests can read it."""

    read: str | None
    change: str | None
    patient: IdSource
    object_type: str
    object_id: IdSource
    detail: Callable[[], Mapping[str, Any]] | None


def audited(
    read: str | None = None,
    *,
    change: str | None = None,
    patient: IdSource = None,
    object_type: str = "",
    object_id: IdSource = None,
    detail: Callable[[], Mapping[str, Any]] | None = None,
) -> Callable[[F], F]:
    """Record every use of the view: `read` after a successful GET, or the attempted
    `change` of any other request whose service recorded nothing (see the module's
    docstring). `patient` and `object_id` name URL arguments (or compute the id)."""
    if read is None and change is None:
        raise ValueError("audited() needs a read or a change action")
    spec = AuditSpec(read, change, patient, object_type, object_id, detail)

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            response = make_response(view(*args, **kwargs))
            _after(spec, kwargs, response.status_code)
            return response

        # A function takes attributes; its Callable type does not say so.
        wrapper.audit = spec  # type: ignore[attr-defined]
        return cast(F, wrapper)  # wraps() keeps the view's signature

    return decorator


# A page view's row: a plain INSERT of the table, built once (the ORM's bulk insert of a
# one-row list cost more than the statement).
_PAGE_VIEW_IN_UNIT = AuditEvent.__table__.insert()
_PAGE_VIEW = _PAGE_VIEW_IN_UNIT.execution_options(**{ALONE_IF_READING: True})


def _after(spec: AuditSpec, arguments: Mapping[str, Any], status: int) -> None:
    if request.method in ("GET", "HEAD"):
        if spec.read is None or not 200 <= status < 300:
            return  # a redirect or a refusal showed nothing
        # One INSERT statement, committed with the unit of work, as `record` would write
        # it but without an object to track: nothing reads a page view's event back, and
        # the ORM's flush of one object cost more than the statement (about 0.6 ms of a
        # 6 ms dashboard view on PostgreSQL). When the request wrote nothing else, on
        # PostgreSQL the row is a transaction of its own: one round trip, not three
        # (clinic.core.transactions). A view that discarded its unit yet answers 2xx
        # leaves its row in the unit, rolled back with it as on SQLite.
        statement = _PAGE_VIEW_IN_UNIT if is_discarded() else _PAGE_VIEW
        db.session.execute(statement, _values_from(spec, spec.read, arguments, "ok"))
    else:
        if spec.change is None:
            return
        if status >= 400 or not _recorded_in_this_request():
            # Nothing was changed, or the change failed: keep only the attempt, never
            # anything the view changed. (The event's values are read first: discarding
            # the view's changes expires the signed-in user.)
            attempt = _values_from(spec, spec.change, arguments, _outcome(status))
            persist_despite_failure(lambda: _keep_attempt(attempt))


def _keep_attempt(attempt: Mapping[str, Any]) -> None:
    g.pop("audit_written_in_bulk", None)
    # Unless an event of this request was kept already despite the failure (a refused
    # step of signing in, counted towards the back-off): that one says what happened.
    if not _recorded_in_this_request():
        _add(attempt)


def _recorded_in_this_request() -> bool:
    # An event rolled back with a failed change is no longer in the session. (Events
    # written in bulk are not tracked one by one: they come last, just before the answer.)
    return g.get("audit_written_in_bulk", False) or any(
        event in db.session for event in g.get("audit_events", [])
    )


def _outcome(status: int) -> str:
    """The attempted change's outcome, from the answer the view gave."""
    if status < 400:
        # A form shown again with its errors or a refusal, else a change not needed.
        return not_done_reason() or "unchanged"
    return "invalid" if status in (400, 422) else "refused"


def _resolve(source: IdSource, arguments: Mapping[str, Any]) -> int | None:
    if source is None:
        return None
    if callable(source):
        return source(arguments)
    return arguments.get(source)


def _values_from(
    spec: AuditSpec, action: str, arguments: Mapping[str, Any], outcome: str
) -> dict[str, Any]:
    return _values(
        action,
        patient_id=_resolve(spec.patient, arguments),
        object_type=spec.object_type,
        object_id=_resolve(spec.object_id, arguments),
        outcome=outcome,
        actor=None,
        clinic_id=None,
        detail=spec.detail() if spec.detail else None,
    )


REFUSED_STATUSES = frozenset({403, 404})


def record_refused_access(response: Response) -> Response:
    """after_request hook: a signed-in person refused a page (403, wrong role) or told it
    does not exist (404, e.g. another clinic's record) leaves an "access.refused" event,
    so probing for other people's records shows in the trail (ASVS 7.2.2). The id asked
    for is kept as a number in `detail`, never as the event's patient: it may be another
    clinic's. Nothing the request changed is kept (the event is written through
    `clinic.core.uow.persist_despite_failure`)."""
    if (
        response.status_code not in REFUSED_STATUSES
        or request.endpoint in (None, "static")
        or not current_user.is_authenticated
        or g.get("audit_events")  # the view's own audit already said what happened
    ):
        return response
    detail = {"status": response.status_code, "endpoint": request.endpoint}
    detail.update(
        {name: value for name, value in (request.view_args or {}).items() if isinstance(value, int)}
    )
    try:
        values = _values("access.refused", None, "", None, "refused", None, None, detail)
        persist_despite_failure(lambda: _add(values))
    except SQLAlchemyError:  # the refusal still stands; the 503 handling covers outages
        current_app.logger.warning("a refused page could not be kept in the audit trail")
    return response

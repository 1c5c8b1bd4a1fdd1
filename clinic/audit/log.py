"""Writing to the audit trail.

`record(action, ...)` adds one `AuditEvent` to the current transaction, so an audited change
and its audit row commit or roll back together. For reads (views, downloads) the view calls
`record` and commits once like any other request.

Never pass what a person typed or a patient's details: `detail` is for non-identifying facts
(field names changed, a count, a reason code). Ids are enough to find the record.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from flask import has_request_context, request
from flask_login import current_user

from clinic.extensions import db
from clinic.models import AuditEvent, User


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
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user._get_current_object()
    event = AuditEvent(
        clinic_id=clinic_id if clinic_id is not None else (actor.clinic_id if actor else None),
        actor_id=actor.id if actor else None,
        actor_role=actor.role.value if actor else "",
        action=action,
        patient_id=patient_id,
        object_type=object_type,
        object_id=object_id,
        outcome=outcome,
        ip=(request.remote_addr or "")[:45] if has_request_context() else "",
        detail=json.dumps(dict(detail or {}), sort_keys=True, default=str),
    )
    db.session.add(event)
    return event

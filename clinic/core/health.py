"""Liveness and database check for load balancers and monitoring."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import literal, select
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from clinic.access import public
from clinic.core.uow import discard
from clinic.extensions import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@public
def healthz() -> tuple[Response, int]:
    """200 when the app and its database answer, 503 when the database does not."""
    try:
        db.session.execute(select(literal(1)))  # a read: the probe commits nothing
    except SQLAlchemyError as exc:
        discard()
        # The class name is enough to diagnose; the message may carry connection details.
        current_app.logger.warning("health check: database unreachable (%s)", type(exc).__name__)
        return jsonify(status="unavailable", database="unreachable"), 503
    return jsonify(status="ok", database="ok"), 200

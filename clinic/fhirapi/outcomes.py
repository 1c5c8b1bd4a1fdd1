"""How the FHIR API says something went wrong: an OperationOutcome, as JSON, with the
HTTP status that fits. Everything under /fhir/ answers this way, errors raised before
any view runs (an unknown address, a method not allowed, a rate limit) included: the
app's error handlers ask `api_error` first (clinic.core.errors)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from flask import Response, request

PREFIX = "/fhir/"
FHIR_JSON = "application/fhir+json"

# HTTP status -> the OperationOutcome issue's code (FHIR's IssueType value set).
ISSUE_CODES: dict[int, str] = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    409: "conflict",
    410: "deleted",
    413: "too-costly",
    415: "not-supported",
    422: "processing",
    429: "throttled",
    500: "exception",
    503: "transient",
}

# The words for errors the views do not word themselves.
DEFAULT_TEXT: dict[int, str] = {
    400: "The request was not understood.",
    401: "A valid API token is needed (Authorization: Bearer <token>).",
    403: "This token may not do that.",
    404: "There is nothing at this address.",
    405: "This method is not allowed here.",
    406: "This API answers in FHIR JSON only (application/fhir+json).",
    409: "That clashes with a change saved a moment ago; nothing was changed.",
    413: "The request body is too large.",
    415: "Send FHIR JSON (Content-Type: application/fhir+json).",
    429: "Too many requests for this token. Wait and try again.",
    500: "Something went wrong on the server. Nothing was changed.",
    503: "The service is not available right now. Try again in a moment.",
}


def is_api_request() -> bool:
    """Whether this request is to the FHIR API (and must never get an HTML page)."""
    return request.path.startswith(PREFIX)


def operation_outcome(
    status: int,
    text: str | None = None,
    *,
    expression: list[str] | None = None,
    severity: str = "error",
) -> dict[str, Any]:
    """An OperationOutcome with one issue for `status`."""
    issue: dict[str, Any] = {
        "severity": severity,
        "code": ISSUE_CODES.get(status, "exception" if status >= 500 else "invalid"),
        "diagnostics": text
        or DEFAULT_TEXT.get(status, DEFAULT_TEXT[500 if status >= 500 else 400]),
    }
    if expression:
        issue["expression"] = expression
    return {"resourceType": "OperationOutcome", "issue": [issue]}


def outcome_with_issues(issues: list[dict[str, Any]]) -> dict[str, Any]:
    """An OperationOutcome listing several problems (each an issue dict)."""
    return {"resourceType": "OperationOutcome", "issue": issues}


def fhir_response(
    resource: Mapping[str, Any], status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """`resource` as FHIR JSON."""
    response = Response(
        json.dumps(resource, ensure_ascii=False, separators=(",", ":")),
        status=status,
        content_type=f"{FHIR_JSON}; charset=utf-8",
    )
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def error_response(
    status: int, text: str | None = None, *, expression: list[str] | None = None
) -> Response:
    """An error answer: the OperationOutcome and its status (401 says how to authenticate)."""
    headers = {}
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="fhir"'
    return fhir_response(operation_outcome(status, text, expression=expression), status, headers)


def api_error(status: int) -> Response | None:
    """For the app's error handlers: the OperationOutcome to answer with when the request
    is to the API, else None (the usual page)."""
    if not is_api_request():
        return None
    return error_response(status)

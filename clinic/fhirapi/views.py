"""The FHIR R4 API, under /fhir/r4/: JSON only (application/fhir+json), for systems the
clinic authorises with an API token (`Authorization: Bearer <token>`).

- `GET metadata`: the CapabilityStatement (no token needed: it says what is served,
  nothing about anyone);
- `GET Patient?identifier=system|value`: a searchset Bundle of the clinic's patients;
- `GET <Type>/<id>` for each type the mapping serves (clinic.fhir.RESOURCE_TYPES), and
  `GET Patient/<id>/$everything`;
- `POST ServiceRequest`: a referral, kept for an administrator to accept (tokens made
  with `can_import` only), and `GET ServiceRequest/<id>` to read one back.

A token sees its own clinic only; anything of another clinic is "not found" (404), never
"forbidden", so its existence is not revealed. No token, an unknown or a revoked one:
401 with `WWW-Authenticate`. A browser's session cookie opens nothing here: views never
look at the signed-in account, and CSRF (a defence for cookie-authenticated forms) does
not apply. Each call with a token is rate-limited per token and leaves an audit event
under the token's clinic naming the token (actor role "api", `detail.token_id`), refused
calls included: a revoked token still in use ("refused", `detail.reason` "revoked"), a
406, a 429, a 500, an address not served. A call with no token or an unknown one belongs to
no clinic: it is rate-limited per address and leaves nothing. Errors are OperationOutcomes
(clinic.fhirapi.outcomes).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Blueprint, current_app, g, request, url_for
from sqlalchemy import insert
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from clinic.access import api_token
from clinic.core.clock import clinic_today
from clinic.core.requests import takes_json
from clinic.core.uow import persist_despite_failure
from clinic.extensions import csrf, db, limiter
from clinic.fhir.views import base_url
from clinic.fhirapi.outcomes import (
    FHIR_JSON,
    error_response,
    fhir_response,
    is_api_request,
    operation_outcome,
    outcome_with_issues,
)
from clinic.fhirapi.referrals import (
    ImportProblem,
    keep_referral,
    parse_body,
    read_referral,
    service_request_of,
)
from clinic.fhirapi.tokens import note_use, token_of_secret
from clinic.models import ApiToken, AuditEvent, PendingReferral
from clinic.models.types import utcnow

bp = Blueprint("fhir", __name__, url_prefix="/fhir/r4")
# Tokens, not cookies, authenticate here: no form posts to these routes from a page.
csrf.exempt(bp)

F = TypeVar("F", bound=Callable[..., Any])

# The role the audit trail shows for a call made with an API token.
API_ROLE = "api"
# The audit action of each view (by endpoint name), for calls refused before it runs.
_ACTIONS: dict[str, str] = {"metadata": "fhir.metadata"}

log = logging.getLogger(__name__)


def presented_token() -> ApiToken | None:
    """The token whose secret this request carries, revoked or not (looked up once per
    request), or None."""
    if "api_presented_token" not in g:
        header = request.headers.get("Authorization", "")
        scheme, _, secret = header.partition(" ")
        g.api_presented_token = (
            token_of_secret(secret.strip()) if scheme.lower() == "bearer" and secret else None
        )
    return cast(ApiToken | None, g.api_presented_token)


def current_token() -> ApiToken | None:
    """The valid (unrevoked) token this request carries, or None."""
    token = presented_token()
    return token if token is not None and token.active else None


def rate_limit_key() -> str:
    """Calls are counted per token; without a valid one, per client address."""
    token = current_token()
    return f"api-token:{token.id}" if token else f"api-address:{request.remote_addr}"


api_limit = limiter.limit(lambda: current_app.config["RATELIMIT_FHIR"], key_func=rate_limit_key)


@bp.before_request
def refuse_what_we_cannot_answer() -> Response | None:
    """Before any view: a client that accepts no JSON is told so (406)."""
    accept = request.headers.get("Accept", "")
    wanted = request.args.get("_format", "")
    if wanted and wanted not in ("json", "application/json", FHIR_JSON):
        return error_response(406, "_format: this API answers in JSON only.")
    if accept and request.accept_mimetypes.best_match([FHIR_JSON, "application/json"]) is None:
        return error_response(406)
    return None


# The audit trail ----------------------------------------------------------------------


def _audit_row(
    token: ApiToken,
    action: str,
    outcome: str,
    patient_id: int | None,
    detail: Mapping[str, Any],
) -> dict[str, Any]:
    # Written by hand, not through clinic.audit.log.record: that names the signed-in
    # account, and here a browser's cookie must never make the call look like a person's.
    return {
        "at": utcnow(),
        "clinic_id": token.clinic_id,
        "actor_id": None,
        "actor_role": API_ROLE,
        "action": action,
        "patient_id": patient_id,
        "object_type": g.get("api_object_type", ""),
        "object_id": g.get("api_object_id"),
        "outcome": outcome,
        "ip": (request.remote_addr or "")[:45],
        "detail": json.dumps({"token_id": token.id, **detail}, sort_keys=True, default=str),
    }


def audit_patient(patient_id: int | None) -> None:
    """Name the patient the call read (or asked for) in its audit event."""
    g.api_patient_id = patient_id


def audit_detail(**detail: Any) -> None:
    """Add non-identifying facts (a FHIR reference, a count) to the call's audit event."""
    g.setdefault("api_detail", {}).update(detail)


def api_call(action: str) -> Callable[[F], F]:
    """A view the API serves to a token: 401 without a valid one; its use is audited
    as `action` (after an error too, as its attempt) and the token's last use noted."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Response:
            token = current_token()
            if token is None:
                return error_response(401)  # audited, if revoked, by audit_unaudited_call
            response: Response = view(token, *args, **kwargs)
            patient_id = g.get("api_patient_id")
            detail = g.get("api_detail", {})
            if response.status_code < 400:
                note_use(token)
                db.session.execute(
                    insert(AuditEvent), [_audit_row(token, action, "ok", patient_id, detail)]
                )
            else:
                outcome = "invalid" if response.status_code in (400, 413, 415) else "refused"
                row = _audit_row(
                    token, action, outcome, patient_id, {**detail, "status": response.status_code}
                )
                persist_despite_failure(lambda: db.session.execute(insert(AuditEvent), [row]))
            g.api_audited = True
            return response

        _ACTIONS[view.__name__] = action
        return cast(F, wrapper)

    return decorator


@bp.after_app_request
def audit_unaudited_call(response: Response) -> Response:
    """A call under /fhir/ with a token we know that no view put in the audit trail (a
    revoked token, a 406, a 429, a 500, an address not served, the CapabilityStatement
    read with a token) leaves its row under the token's clinic. Without a known token
    nothing is written: such a call belongs to no clinic."""
    if not is_api_request() or g.get("api_audited"):
        return response
    try:
        token = presented_token()
        if token is None:
            return response
        endpoint = (request.endpoint or "").rpartition(".")[2]
        action = (
            _ACTIONS.get(endpoint, "fhir.call") if request.blueprint == bp.name else "fhir.call"
        )
        detail: dict[str, Any] = {"method": request.method}
        if response.status_code >= 400:
            outcome = "failed" if response.status_code >= 500 else "refused"
            detail["status"] = response.status_code
            if not token.active:
                detail["reason"] = "revoked"
        else:
            outcome = "ok"
        row = _audit_row(token, action, outcome, None, detail)
        persist_despite_failure(lambda: db.session.execute(insert(AuditEvent), [row]))
        g.api_audited = True
    except SQLAlchemyError:
        # The database is what failed (the answer says so already): the call cannot be
        # written down, and an after-request hook must not turn the answer into another.
        log.warning("FHIR API call not audited: the database failed", exc_info=True)
    return response


# Routes ---------------------------------------------------------------------------------


@bp.post("/ServiceRequest")
@api_token
@api_limit
@takes_json
@api_call("fhir.import")
def create_service_request(token: ApiToken) -> Response:
    """Take a referral (a ServiceRequest with its Patient) and keep it as pending."""
    g.api_object_type = "pending_referral"
    if not token.can_import:
        return error_response(
            403, "This token may read only; ask the clinic for one that may import."
        )
    if request.mimetype not in (FHIR_JSON, "application/json"):
        return error_response(415)
    limit = current_app.config["FHIR_IMPORT_MAX_BYTES"]
    if request.content_length is not None and request.content_length > limit:
        return error_response(413, f"The body is larger than {limit} bytes.")
    body = request.get_data(cache=False)
    if len(body) > limit:
        return error_response(413, f"The body is larger than {limit} bytes.")
    try:
        data = parse_body(body)
        draft = read_referral(data, clinic_today(token.clinic.timezone))
    except ImportProblem as problem:
        return _problem_response(problem)
    referral, new = keep_referral(token, draft, data)
    g.api_object_id = referral.id
    location = base_url() + url_for("fhir.read_service_request", referral_id=referral.id)
    if new:
        status = 201
        text = (
            f"Referral received as ServiceRequest/{referral.id}; "
            "it waits for the clinic to accept it."
        )
    else:
        # A retry (after a timeout, say): the referral the clinic has already, not a second.
        status = 200
        text = f"This referral was received already, as ServiceRequest/{referral.id}."
        audit_detail(duplicate=True)
    outcome = operation_outcome(status, text, severity="information")
    outcome["issue"][0]["code"] = "informational"
    return fhir_response(outcome, status, {"Location": location})


def _problem_response(problem: ImportProblem) -> Response:
    issues = [
        {
            "severity": "error",
            "code": "invalid" if where else "structure",
            "diagnostics": text,
            **({"expression": [where]} if where else {}),
        }
        for text, where in problem.issues
    ]
    return fhir_response(outcome_with_issues(issues), 400)


@bp.get("/ServiceRequest/<int:referral_id>")
@api_token
@api_limit
@api_call("fhir.read")
def read_service_request(token: ApiToken, referral_id: int) -> Response:
    """A referral this clinic received, as it arrived (a ServiceRequest)."""
    g.api_object_type = "pending_referral"
    g.api_object_id = referral_id
    referral = db.session.scalar(
        db.select(PendingReferral).where(
            PendingReferral.id == referral_id, PendingReferral.clinic_id == token.clinic_id
        )
    )
    if referral is None:
        return error_response(404, f"ServiceRequest/{referral_id} is not known here.")
    audit_patient(referral.patient_id)
    resource = service_request_of(referral.resource)
    resource["id"] = str(referral.id)
    return fhir_response(resource)

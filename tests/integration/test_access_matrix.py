"""Every route, every kind of visitor: who gets in, who is refused, and how.

The matrix (tests/support/access_matrix.py, shared with the route-walking tests) is the
specification. A route added to the app without an entry there fails
`test_every_route_is_in_the_matrix`, and one without a declared policy fails
`test_every_route_declares_a_policy`, so access can never be an afterthought.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from flask import Flask

from clinic.access import policy_for
from tests.support.access_matrix import (
    ACTORS,
    ADMIN,
    ANONYMOUS,
    CLINICIAN,
    MATRIX,
    OTHER_CLINIC_ADMIN,
    OTHER_CLINIC_CLINICIAN,
    OTHER_PATIENT,
    OWN_ENTRY,
    REQUESTER_ONLY,
    SCOPED,
    STAFF,
    TOKEN_FREE,
    TOKEN_ROUTES,
    actor_user_id,
    url_of,
)
from tests.support.api_tokens import referral_json
from tests.support.auth import act_as
from tests.support.world import World


def routes(app: Flask) -> list[tuple[str, str]]:
    return sorted(
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    )


def test_every_route_declares_a_policy(app: Flask) -> None:
    """No endpoint is reachable without an explicit access policy."""
    with app.test_request_context():
        undeclared = [ep for ep, _ in routes(app) if policy_for(ep) is None]
    assert undeclared == []


def test_every_route_is_in_the_matrix(app: Flask) -> None:
    """Each route and method the app serves has an expected-access entry here (the FHIR
    API's, opened by tokens, in TOKEN_ROUTES)."""
    assert set(routes(app)) == set(MATRIX) | TOKEN_ROUTES
    assert not set(MATRIX) & TOKEN_ROUTES


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize(("endpoint", "method"), sorted(TOKEN_ROUTES))
def test_a_session_opens_no_token_route(
    app: Flask, client, world: World, targets, endpoint: str, method: str, actor: str
) -> None:
    """The FHIR API ignores who is signed in: with a session cookie and no token, every
    actor gets 401 with an OperationOutcome (never a page, a redirect to sign in, or the
    data), but for the CapabilityStatement, which is open to anyone."""
    url = url_of(app, endpoint, targets)
    user_id = actor_user_id(world, actor)
    if user_id is not None:
        act_as(client, user_id)
    if method == "POST":
        body = json.dumps(referral_json()).encode()
        response = client.post(url, data=body, content_type="application/fhir+json", csrf=False)
    else:
        response = client.get(url)

    assert response.mimetype == "application/fhir+json"
    if (endpoint, method) in TOKEN_FREE:
        assert response.status_code == 200
        return
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.get_json()["resourceType"] == "OperationOutcome"


def test_route_without_policy_is_refused(make_app: Callable[..., Flask]) -> None:
    """The enforcement hook fails closed: an undeclared view answers 403 even when
    signed out, instead of running."""
    other = make_app()

    @other.get("/forgotten")
    def forgotten() -> str:
        return "secret"

    response = other.test_client().get("/forgotten")
    assert response.status_code == 403
    assert b"secret" not in response.data


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize(("endpoint", "method"), sorted(MATRIX))
def test_access(
    app: Flask, client, world: World, targets, endpoint: str, method: str, actor: str
) -> None:
    """Allowed actors reach the route; others are sent to sign in (anonymous), refused
    (403, wrong role) or told it does not exist (404, another clinic's object, or another
    person's background run)."""
    url = url_of(app, endpoint, targets)
    user_id = actor_user_id(world, actor)
    if user_id is not None:
        act_as(client, user_id)
    response = client.post(url, data={}) if method == "POST" else client.get(url)
    body = response.get_data()
    response.close()  # static files stream from an open file

    if actor in MATRIX[(endpoint, method)]:
        # Reached the view: a page, a redirect after a change, or a form's own complaint
        # about the empty submission; never a refusal, a sign-in or a CSRF failure.
        assert response.status_code in (200, 302, 400), response.status_code
        assert "/login?next=" not in response.headers.get("Location", "")
        assert b"This form has expired" not in body
    elif actor == ANONYMOUS:
        assert response.status_code == 302
        assert "/login?next=" in response.headers["Location"]
    elif endpoint in OWN_ENTRY and actor == OTHER_PATIENT:
        assert response.status_code == 404
    elif endpoint in REQUESTER_ONLY and actor in STAFF:
        # Someone else's background run: not there, whatever the role or clinic.
        assert response.status_code == 404
    elif endpoint in SCOPED and actor in (OTHER_CLINIC_CLINICIAN, OTHER_CLINIC_ADMIN):
        # Staff of the other clinic whose role may use the route find nothing there (404).
        same_role = {OTHER_CLINIC_CLINICIAN: CLINICIAN, OTHER_CLINIC_ADMIN: ADMIN}[actor]
        assert response.status_code == (404 if same_role in MATRIX[(endpoint, method)] else 403)
    else:
        assert response.status_code == 403

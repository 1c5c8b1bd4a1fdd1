"""Security headers on every response of every route (walked from the access matrix, so
new routes join by themselves), including redirects and error pages: a Content Security
Policy with no inline or evaluated script, no plugins, no <base> and no framing; nosniff;
a strict referrer policy; `Cache-Control: no-store` on everything but static assets (pages
show patient data); and, in the production configuration, HSTS.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from tests.support import access_matrix as matrix
from tests.support.auth import act_as
from tests.support.routes import SIGNED_IN_FIRST, actor_for, client_as, endpoints, url_of
from tests.support.world import World

STRICT_REFERRER_POLICIES = {"no-referrer", "same-origin", "strict-origin"}
# Static assets (style sheets, fonts, images) hold no patient data and may be cached.
CACHEABLE = {"static"}


def policy_problems(headers, endpoint: str) -> list[str]:
    """What is missing or too loose in one response's headers."""
    problems = []
    directives = {
        name: value.split()
        for name, _, value in (
            part.strip().partition(" ")
            for part in headers.get("Content-Security-Policy", "").split(";")
        )
        if name
    }
    scripts = directives.get("script-src", directives.get("default-src"))
    if scripts is None:
        problems.append("no script-src or default-src")
    elif {"'unsafe-inline'", "'unsafe-eval'", "*", "data:", "http:", "https:"} & set(scripts):
        problems.append(f"scripts allowed from {scripts}")
    for name in ("object-src", "base-uri", "frame-ancestors"):
        if directives.get(name) != ["'none'"]:
            problems.append(f"{name} is {directives.get(name)}")
    if headers.get("X-Content-Type-Options") != "nosniff":
        problems.append("no nosniff")
    if headers.get("Referrer-Policy") not in STRICT_REFERRER_POLICIES:
        problems.append(f"referrer policy {headers.get('Referrer-Policy')}")
    if endpoint not in CACHEABLE and "no-store" not in headers.get("Cache-Control", ""):
        problems.append(f"Cache-Control is {headers.get('Cache-Control')}")
    return problems


def test_every_route_sends_the_security_headers(app: Flask, world: World, targets: dict) -> None:
    """Every route and method, used by an actor allowed to (pages, downloads, redirects
    after a change, forms' complaints) and by a visitor (sent to sign in or refused),
    answers with the full set of headers."""
    for method in ("GET", "POST"):
        missing = [e for e in endpoints(app, method) if (e, method) not in matrix.MATRIX]
        assert missing == [], "add these routes to the access matrix"
    problems: dict[str, list[str]] = {}
    for (endpoint, method), _allowed in sorted(matrix.MATRIX.items()):
        url = url_of(app, endpoint, targets)
        for actor in {actor_for(endpoint, method, SIGNED_IN_FIRST), matrix.ANONYMOUS}:
            client = client_as(app, world, actor)
            response = client.post(url, data={}) if method == "POST" else client.get(url)
            response.close()
            if found := policy_problems(response.headers, endpoint):
                problems[f"{actor} {method} {endpoint} ({response.status_code})"] = found
    assert problems == {}


@pytest.mark.parametrize(
    "request_",
    [
        ("GET", "/no/such/page", {}),  # 404
        ("PUT", "/login", {}),  # 405
        ("POST", "/login", {"data": {"email": "a@b.example"}}),  # 400: no CSRF token
        ("POST", "/login", {"data": {"email": "x" * (2 * 1024 * 1024)}}),  # 413
        ("GET", "/patients/?q=%00", {}),  # 400 from a guard before any view
    ],
    ids=["404", "405", "400 csrf", "413", "400 guard"],
)
def test_error_answers_send_the_security_headers(
    app: Flask, client, world: World, request_: tuple
) -> None:
    """Error pages carry the same headers as pages."""
    method, url, options = request_
    act_as(client, world.clinician.id)
    response = client.open(url, method=method, **options)
    assert response.status_code >= 400
    assert policy_problems(response.headers, "error") == []


@pytest.fixture
def production_app(make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch) -> Flask:
    """The app as configured for production (secure cookies, HTTPS)."""
    monkeypatch.setenv("CLINIC_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "production-like-test-key")
    monkeypatch.setenv("CLINIC_BASE_URL", "https://diary.example.org")
    production = make_app(TESTING=False)
    assert production.config["SESSION_COOKIE_SECURE"]
    return production


def test_production_sends_hsts_on_every_route(
    production_app: Flask, world: World, targets: dict
) -> None:
    """In production every answer, whatever the route, tells browsers to use HTTPS only."""
    client = production_app.test_client()
    unprotected = []
    for (endpoint, method), _allowed in sorted(matrix.MATRIX.items()):
        url = url_of(production_app, endpoint, targets)
        response = client.open(url, method=method, base_url="https://clinic.test")
        response.close()
        hsts = response.headers.get("Strict-Transport-Security", "")
        if not hsts.startswith("max-age=") or int(hsts.split("=")[1].split(";")[0]) < 31536000:
            unprotected.append(f"{method} {endpoint}: {hsts!r}")
    assert unprotected == []


def test_development_sends_no_hsts(
    make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a developer's machine (plain http://localhost) HSTS would lock the browser out
    of every other local project, so development does not send it."""
    monkeypatch.setenv("CLINIC_ENV", "development")
    development = make_app()
    response = development.test_client().get("/login")
    assert "Strict-Transport-Security" not in response.headers

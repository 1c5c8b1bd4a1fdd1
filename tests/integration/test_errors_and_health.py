"""Error pages, the health check, failure handling and the headers on every response."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import event, func, select

from clinic.access import public
from clinic.extensions import db
from clinic.models import Clinic
from tests.support.world import World


def test_not_found_page_uses_the_site_layout(client) -> None:
    """Unknown addresses get a friendly 404 page in the site's layout."""
    response = client.get("/no/such/page")
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "Page not found" in html and 'href="/"' in html and "<main" in html


def test_wrong_method_gets_405_page(client) -> None:
    """A method a route does not take answers 405 with an explanation."""
    response = client.put("/login")
    assert response.status_code == 405
    assert "not available here" in response.get_data(as_text=True)


def test_oversized_request_is_refused(client) -> None:
    """Bodies over the configured limit are refused with 413 before any processing."""
    response = client.post("/login", data={"email": "x" * (2 * 1024 * 1024)}, csrf=False)
    assert response.status_code == 413
    assert "too much to send" in response.get_data(as_text=True)


def test_health_check_reports_ok(client) -> None:
    """/healthz answers 200 with the database status when all is well."""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_health_check_commits_nothing(app: Flask, client) -> None:
    """A probe only reads: load balancers call it every few seconds, and a COMMIT per
    probe would be a write per probe."""
    with app.app_context():
        engine = db.engine
    commits: list[object] = []

    def count(connection: object) -> None:
        commits.append(connection)

    event.listen(engine, "commit", count)
    try:
        assert client.get("/healthz").status_code == 200
    finally:
        event.remove(engine, "commit", count)
    assert commits == []


def test_health_check_reports_unreachable_database(
    tmp_path: Path, make_app: Callable[..., Flask]
) -> None:
    """/healthz answers 503 when the database cannot be opened (a real failure: a SQLite
    file in a directory that does not exist)."""
    broken = make_app(url=f"sqlite:///{tmp_path / 'missing' / 'db.sqlite3'}")
    response = broken.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "database": "unreachable"}


@pytest.fixture
def failing_app(make_app: Callable[..., Flask]) -> Iterator[Flask]:
    """An app with one extra route that writes a row and then fails."""
    app = make_app(PROPAGATE_EXCEPTIONS=False)

    @app.get("/explode")
    @public
    def explode() -> str:
        db.session.add(Clinic(name="Half-written clinic"))
        db.session.flush()
        raise RuntimeError("boom")

    yield app
    with app.app_context():
        db.session.execute(Clinic.__table__.delete().where(Clinic.name == "Half-written clinic"))
        db.session.commit()


def test_server_error_rolls_back_and_explains(failing_app: Flask) -> None:
    """A crash mid-request answers a calm 500 page and leaves no partial rows behind."""
    response = failing_app.test_client().get("/explode")
    assert response.status_code == 500
    assert "Nothing you entered was saved" in response.get_data(as_text=True)
    with failing_app.app_context():
        count = db.session.scalar(
            select(func.count()).select_from(Clinic).where(Clinic.name == "Half-written clinic")
        )
    assert count == 0


def test_security_headers_on_every_page(client, world: World, as_clinician) -> None:
    """Pages forbid framing, inline script and sniffing, and are never cached."""
    for url in ("/login", "/patients/", f"/patients/{world.patient.patient_id}"):
        headers = client.get(url).headers
        csp = headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Cache-Control"] == "no-store"
        assert headers["Referrer-Policy"] == "same-origin"


def test_session_cookie_is_protected(client, world: World) -> None:
    """The session cookie is HttpOnly and SameSite=Lax."""
    response = client.post(
        "/login", data={"email": world.clinician.email, "password": "correct horse battery staple"}
    )
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie

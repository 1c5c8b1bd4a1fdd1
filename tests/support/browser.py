"""What the browser tests' fixtures (the conftest of tests/e2e) are built from: Debian's
Chromium and how it is started, the device shapes, and the live server (the app with the
demo data) the browser talks to.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Flask
from playwright.sync_api import Browser, BrowserContext
from sqlalchemy import select
from werkzeug.serving import BaseWSGIServer, make_server

from clinic import create_app
from clinic.demo import seed_demo
from clinic.extensions import db
from clinic.models import Patient
from tests.support.apps import config_for_tests

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]

# Playwright waits this long (ms) for an element or a navigation before failing a step.
STEP_TIMEOUT_MS = 10_000

DESKTOP = {"viewport": {"width": 1280, "height": 800}}
PHONE = {
    "viewport": {"width": 360, "height": 740},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}
# A common phone today, the width the accessibility checks use (CSS pixels).
PHONE_390 = {**PHONE, "viewport": {"width": 390, "height": 844}}


@dataclass(frozen=True)
class LiveServer:
    """The running app as the browser reaches it, with a look into its database."""

    base_url: str
    app: Flask

    def url(self, path: str) -> str:
        """The absolute URL of a path on the live server."""
        return self.base_url + path

    def patient_id(self, full_name: str) -> int:
        """The record id of the (seeded) patient with this name, in any clinic."""
        with self.app.app_context():
            return db.session.scalars(
                select(Patient.id).where(Patient.full_name == full_name)
            ).one()


def seeded_app(database_url: str, **overrides: Any) -> Flask:
    """The app on `database_url` (configured with `overrides`), its schema built and
    filled with the demo data."""
    # SERVER_NAME stays unset: the browser reaches the app at 127.0.0.1:<port>, and
    # invitation links are built from the host the request came to.
    app = create_app(config_for_tests(database_url, SERVER_NAME=None, **overrides))
    with app.app_context():
        db.create_all()
        seed_demo()
        db.session.commit()
    return app


def closing_responses(app: WSGIApplication) -> WSGIApplication:
    """`app` with every response closed however its sending ends.

    Werkzeug's development server closes a response only when its connection is still
    readable after the last write: when the browser drops a connection in the middle of a
    static file (a navigation while the stylesheet is on its way), the file stays open until
    the garbage collector finds it, and its ResourceWarning fails whichever test is running
    then (the suite turns warnings into errors). A generator's `finally` runs even then, when
    the server lets go of it."""

    def closing(environ: WSGIEnvironment, start_response: StartResponse) -> Iterator[bytes]:
        response = app(environ, start_response)
        try:
            yield from response
        finally:
            if hasattr(response, "close"):
                response.close()

    return closing


@contextmanager
def serving(app: Flask) -> Iterator[LiveServer]:
    """Serve `app` on a free port of 127.0.0.1 (threaded) for the block, then stop it and
    close its database connections."""
    server: BaseWSGIServer = make_server("127.0.0.1", 0, closing_responses(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}", app)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def open_context(
    browser: Browser, live_server: LiveServer, device: dict[str, Any]
) -> BrowserContext:
    """A fresh browser context (no cookies) on the live server, shaped like `device`."""
    # bypass_csp: the app's Content-Security-Policy would refuse the injected axe script.
    context = browser.new_context(base_url=live_server.base_url, bypass_csp=True, **device)
    context.set_default_timeout(STEP_TIMEOUT_MS)
    return context

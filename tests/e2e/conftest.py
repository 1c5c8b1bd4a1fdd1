"""Fixtures for the browser tests: a live server with the demo data, Chromium, and pages.

The live server has its own database (SQLite, or PostgreSQL when CLINIC_TEST_DATABASE_URL
is set), filled once per run with `clinic.demo.seed_demo()`; the browser tests therefore
never use the `app`/`client` fixtures of tests/conftest.py, whose tables are emptied after
every test. Tests that change data use names and identifiers no other test relies on.

Chromium is Debian's (/usr/bin/chromium): the suite never downloads a browser, and fails
with a clear message when that one is missing.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright
from sqlalchemy import select
from werkzeug.serving import BaseWSGIServer, make_server

from clinic import create_app
from clinic.demo import seed_demo
from clinic.extensions import db
from clinic.models import Patient
from tests.conftest import config_for_tests
from tests.e2e.helpers import AXE_SCRIPT
from tests.support.databases import temporary_database

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


def _seeded_app(database_url: str) -> Flask:
    # SERVER_NAME stays unset: the browser reaches the app at 127.0.0.1:<port>, and
    # invitation links are built from the host the request came to.
    app = create_app(config_for_tests(database_url, SERVER_NAME=None))
    with app.app_context():
        db.create_all()
        seed_demo()
        db.session.commit()
    return app


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The app with the demo data, served on a free port of 127.0.0.1 for the whole run."""
    with temporary_database(tmp_path_factory.mktemp("e2e-db")) as database_url:
        app = _seeded_app(database_url)
        server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
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


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Playwright]:
    """The Playwright driver, started once."""
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    """Debian's headless Chromium, shared by every test (each gets its own context)."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium is not installed at {CHROMIUM}. Install Debian's `chromium` package "
            "(make browser-deps); the browser tests never download a browser.",
            pytrace=False,
        )
    if not AXE_SCRIPT.exists():
        pytest.fail(
            f"axe-core is missing at {AXE_SCRIPT}. Run `npm ci --prefix tests/e2e` "
            "(make browser-deps).",
            pytrace=False,
        )
    chromium = playwright_driver.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
    yield chromium
    chromium.close()


def _open_context(
    browser: Browser, live_server: LiveServer, device: dict[str, Any]
) -> BrowserContext:
    # bypass_csp: the app's Content-Security-Policy would refuse the injected axe script.
    context = browser.new_context(base_url=live_server.base_url, bypass_csp=True, **device)
    context.set_default_timeout(STEP_TIMEOUT_MS)
    return context


@pytest.fixture
def page(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    """A fresh desktop-sized browser context (no cookies) and a page in it."""
    context = _open_context(browser, live_server, DESKTOP)
    yield context.new_page()
    context.close()


@pytest.fixture
def phone_page(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    """A fresh phone-sized context (360x740, touch, mobile viewport) and a page in it."""
    context = _open_context(browser, live_server, PHONE)
    yield context.new_page()
    context.close()

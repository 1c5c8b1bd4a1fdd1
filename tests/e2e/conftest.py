"""Fixtures for the browser tests: a live server with the demo data, Chromium, and pages.

The live server has its own database (SQLite, or PostgreSQL when CLINIC_TEST_DATABASE_URL
is set), filled once per run with `clinic.demo.seed_demo()`; the browser tests therefore
never use the `app`/`client` fixtures of the suite's root conftest, whose tables are emptied after
every test. Tests that change data use names and identifiers no other test relies on.

What they are built from is in tests/support/browser.py. Chromium is Debian's
(/usr/bin/chromium): the suite never downloads a browser, and fails with a clear message
when that one is missing.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright
from werkzeug.serving import BaseWSGIServer, make_server

from clinic.extensions import db
from tests.e2e.helpers import AXE_SCRIPT
from tests.support.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DESKTOP,
    PHONE,
    LiveServer,
    open_context,
    seeded_app,
)
from tests.support.databases import temporary_database


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The app with the demo data, served on a free port of 127.0.0.1 for the whole run."""
    with temporary_database(tmp_path_factory.mktemp("e2e-db")) as database_url:
        app = seeded_app(database_url)
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


@pytest.fixture
def page(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    """A fresh desktop-sized browser context (no cookies) and a page in it."""
    context = open_context(browser, live_server, DESKTOP)
    yield context.new_page()
    context.close()


@pytest.fixture
def phone_page(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    """A fresh phone-sized context (360x740, touch, mobile viewport) and a page in it."""
    context = open_context(browser, live_server, PHONE)
    yield context.new_page()
    context.close()

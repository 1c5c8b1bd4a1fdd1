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

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from tests.e2e.page_checks import AXE_SCRIPT, CopyChecker, EveryPageChecked, watching
from tests.support.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DESKTOP,
    PHONE,
    PHONE_390,
    LiveServer,
    open_context,
    seeded_app,
    serving,
)
from tests.support.databases import temporary_database
from tests.support.smtp import SmtpSink, smtp_sink


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The app with the demo data, served on a free port of 127.0.0.1 for the whole run."""
    with (
        temporary_database(tmp_path_factory.mktemp("e2e-db")) as database_url,
        serving(seeded_app(database_url)) as server,
    ):
        yield server


@pytest.fixture
def mailing_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[LiveServer, SmtpSink]]:
    """A live server of its own (its own demo database) whose messages go by SMTP to a
    real SMTP server on the loopback, returned with it. Its jobs still run at once, in the
    thread that queued them, so a message is at the SMTP server when the page that caused
    it has answered. Links in messages composed outside a request (the escalation job)
    point at the server too."""
    with (
        smtp_sink() as sink,
        temporary_database(tmp_path_factory.mktemp("e2e-mail-db")) as database_url,
    ):
        app = seeded_app(
            database_url,
            MAIL_OUTBOX="smtp",
            MAIL_SMTP_HOST="127.0.0.1",
            MAIL_SMTP_PORT=sink.port,
            MAIL_SMTP_SECURITY="none",
            MAIL_FROM="no-reply@clinic.test",
        )
        with serving(app) as server:
            app.config["CLINIC_BASE_URL"] = server.base_url
            yield server, sink


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


@pytest.fixture
def phone_390(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    """A fresh 390x844 phone context (touch, mobile viewport) and a page in it."""
    context = open_context(browser, live_server, PHONE_390)
    yield context.new_page()
    context.close()


@pytest.fixture(scope="session")
def copy_checker(browser: Browser) -> Iterator[CopyChecker]:
    """Checks copies of pages at 390 and 1280 px, for the whole run."""
    checker = CopyChecker(browser)
    yield checker
    checker.close()


@pytest.fixture(autouse=True)
def every_page_accessible(
    copy_checker: CopyChecker, monkeypatch: pytest.MonkeyPatch
) -> Iterator[EveryPageChecked]:
    """Every page any browser context of the test loads is checked by axe at 390 and 1280
    px (serious or critical WCAG 2.1 AA violations fail the test), whichever fixture or
    test made the context: `Browser.new_context` is wrapped for the test's duration."""
    checked = EveryPageChecked(copy_checker)
    new_context = Browser.new_context

    def watched_context(self: Browser, *args: Any, **kwargs: Any) -> BrowserContext:
        context = new_context(self, *args, **kwargs)
        checked.watch(context)
        return context

    monkeypatch.setattr(Browser, "new_context", watched_context)
    with watching(checked):
        yield checked
    monkeypatch.undo()
    if problems := checked.problems():
        pytest.fail(
            "accessibility violations on pages the test visited:\n" + "\n".join(problems),
            pytrace=False,
        )

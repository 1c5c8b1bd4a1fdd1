"""The main pages load without a single console error or script error, in a browser that
enforces the app's Content-Security-Policy (the other journeys bypass it to inject axe):
an image or style the policy refuses (Pico's data: URI icons were) shows as an error here.

Read-only: it opens pages and submits one form that is refused (nothing is saved), so it
runs in any order with the other browser tests.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from tests.e2e.helpers import expect_path, sign_in, sign_out
from tests.support.browser import STEP_TIMEOUT_MS, LiveServer

pytestmark = pytest.mark.e2e

# Rendering settled: two animation frames after "load", so the images style rules ask for
# (a select's arrow, a ticked box's mark) have been asked for.
_SETTLED = "() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))"


class ConsoleErrors:
    """The console errors and uncaught script errors of a page, with where they happened."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.seen: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.seen.append(f"{page.url}: {error}"))

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.seen.append(f"{self.page.url}: {message.text}")

    def open(self, path: str) -> None:
        """Go to `path` and wait until it has loaded and rendered."""
        self.page.goto(path)
        self.settle()

    def settle(self) -> None:
        """Wait until the page has loaded and rendered."""
        self.page.wait_for_load_state("load")
        self.page.evaluate(_SETTLED)


@pytest.fixture
def enforcing_page(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    """A desktop-sized page in a fresh context that enforces the Content-Security-Policy
    (no bypass). One width is enough: no style rule asks for an image at one width only."""
    context = browser.new_context(
        base_url=live_server.base_url, viewport={"width": 1280, "height": 800}
    )
    context.set_default_timeout(STEP_TIMEOUT_MS)
    yield context.new_page()
    context.close()


def test_main_pages_load_without_console_errors(
    enforcing_page: Page, live_server: LiveServer
) -> None:
    """Signed out, as a clinician, a patient and an administrator: the sign-in page, the
    dashboard, the patient list, a patient's record and timeline, the protocol start and
    revise forms, a form sent back with errors (the invalid-field marks), the patient's
    Today, log, plan and guided-session pages (its timer and breathing guide on) and the
    clinic settings (ticked boxes) log no error."""
    page = enforcing_page
    errors = ConsoleErrors(page)
    sam = live_server.patient_id("Sam Rivera")

    errors.open("/login")
    errors.open("/about")

    sign_in(page, "physio@northside.example")
    expect_path(page, "/dashboard/")
    errors.settle()
    for path in ("/patients/", f"/patients/{sam}", f"/patients/{sam}/timeline"):
        errors.open(path)
    errors.open(f"/patients/{sam}/protocol/")
    page.get_by_role("link", name="Change the plan").click()
    errors.settle()
    errors.open(f"/patients/{sam}/protocol/new")
    page.get_by_role("row").nth(1).get_by_role("link", name="Use").click()
    errors.settle()
    errors.open("/patients/new")
    page.get_by_role("button", name="Add patient").click()
    expect(page.locator("[aria-invalid=true]").first).to_be_visible()
    errors.settle()
    sign_out(page)

    sign_in(page, "sam.rivera@example.org")
    expect_path(page, "/diary/")
    errors.settle()
    for path in ("/diary/log", "/diary/plan"):
        errors.open(path)
    errors.open("/diary/session")  # its script runs under the policy: the timer shows
    expect(page.get_by_role("button", name="Start the timer")).to_be_visible()
    page.get_by_label("Breathing guide").check()
    errors.settle()
    sign_out(page)

    sign_in(page, "admin@northside.example")
    errors.settle()
    errors.open("/admin/clinic")
    expect(page.locator("input[type=checkbox]:checked").first).to_be_visible()

    assert errors.seen == []

"""Steps the browser journeys share: signing in and out, and checks every page must pass.

`assert_accessible` runs axe-core (WCAG 2.0/2.1 A and AA rules) on the page and fails on
every serious or critical violation, at a phone's and a desktop's width. Besides the
journeys' own calls, every page a journey loads is checked the same way once the journey
is over (tests/e2e/page_checks.py, wired to every test by tests/e2e/conftest.py).
"""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

from clinic.demo import DEMO_PASSWORD
from tests.e2e.page_checks import CHECKED_WIDTHS, blocking_violations, violations_report, watched

# Words that must never show in a patient's tab title or browser history.
REVEALING_WORDS = ("dilator", "vagin", "pelvic", "anal")


def assert_accessible(page: Page) -> None:
    """Fail listing every serious or critical WCAG 2.1 AA violation axe finds in the page:
    at a phone's and a desktop's width while a test's pages are being watched (see
    `EveryPageChecked`), else as the page is laid out now."""
    if (watch := watched()) is not None:
        problems = watch.check_now(page)
        assert not problems, "accessibility violations:\n" + "\n".join(problems)
        return
    blocking = blocking_violations(page)
    assert not blocking, f"accessibility violations on {page.url}:\n{violations_report(blocking)}"


def assert_accessible_at(page: Page, widths: tuple[int, ...] = (390, 1280)) -> None:
    """`assert_accessible` with the page laid out at each of `widths` (a phone and a
    desktop by default), then back at its own size."""
    if watched() is not None and widths == CHECKED_WIDTHS:
        assert_accessible(page)  # checked at those widths already
        return
    own = page.viewport_size
    assert own is not None
    try:
        for width in widths:
            page.set_viewport_size({"width": width, "height": own["height"]})
            blocking = blocking_violations(page)
            assert not blocking, (
                f"accessibility violations on {page.url} at {width} px:\n"
                + violations_report(blocking)
            )
    finally:
        page.set_viewport_size(own)


def sign_in(page: Page, email: str, password: str = DEMO_PASSWORD) -> None:
    """Open the sign-in page, check it, and submit the form as a person would."""
    page.goto("/login")
    expect(page.get_by_role("heading", level=1, name="Sign in")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def sign_out(page: Page) -> None:
    """Use the "Sign out" button in the page header."""
    page.get_by_role("banner").get_by_role("button", name="Sign out").click()


def expect_path(page: Page, path: str) -> None:
    """Wait until the page shows `path` on the live server, whatever its query or fragment.

    (A fragment outlives redirects: after following the skip link to #main, the page a form
    redirects to keeps it.)
    """
    expect(page).to_have_url(re.compile(r"^https?://[^/?#]+" + re.escape(path) + r"([?#].*)?$"))


def open_patient_list(page: Page) -> None:
    """Go from any staff page to the patient list through the main navigation."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Patients").click()
    expect_path(page, "/patients/")


def assert_discreet_title(page: Page) -> None:
    """The tab title names no body part or therapy (it shows in history and tab bars)."""
    title = page.title().lower()
    revealed = [word for word in REVEALING_WORDS if word in title]
    assert not revealed, f"the title {page.title()!r} reveals {revealed}"


def assert_no_horizontal_scrolling(page: Page) -> None:
    """Nothing is wider than the viewport, so the page never scrolls sideways."""
    page.wait_for_load_state("load")
    width = page.viewport_size["width"]
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, (
        f"{page.url} is {scroll_width}px wide on a {width}px screen: it scrolls sideways"
    )


def focus_path_to(page: Page, target: Locator, max_presses: int = 40) -> list[str]:
    """Press Tab until `target` has focus; return the ids of the elements focused on the way.

    An element that keeps focus over several presses (a date input's parts) counts once.
    """
    visited: list[str] = []
    for _ in range(max_presses):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return visited
        focused = page.evaluate("document.activeElement.id || document.activeElement.tagName")
        if not visited or visited[-1] != focused:
            visited.append(focused)
    raise AssertionError(f"Tab never reached the target; focus went through {visited}")

"""Browser checks of the safety case pages: "About this software" from the footer of the
sign-in page on a phone, and the administrators' hazard log, each accessible (axe-core,
WCAG 2.1 AA) and never wider than the screen."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import (
    assert_accessible,
    assert_discreet_title,
    assert_no_horizontal_scrolling,
    expect_path,
    sign_in,
)

pytestmark = pytest.mark.e2e


def test_anyone_reads_about_this_software_from_the_footer_on_a_phone(phone_page: Page) -> None:
    """Signed out, on a phone: the footer's link opens the intended use, under a discreet
    title, accessible and without sideways scrolling."""
    page = phone_page
    page.goto("/login")
    page.get_by_role("contentinfo").get_by_role("link", name="About this software").click()
    expect_path(page, "/about")
    expect(page.get_by_role("heading", level=1, name="About this software")).to_be_visible()
    expect(page.get_by_role("heading", name="Contraindications")).to_be_visible()
    assert_discreet_title(page)
    assert_accessible(page)
    assert_no_horizontal_scrolling(page)


@pytest.mark.parametrize("size", ["page", "phone_page"])
def test_an_administrator_opens_the_hazard_log(size: str, request: pytest.FixtureRequest) -> None:
    """From the main navigation: the log's summary table and every hazard, accessible, at
    desktop and phone width, with the PDF to download."""
    page: Page = request.getfixturevalue(size)
    sign_in(page, "admin@northside.example")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Safety case").click()
    expect_path(page, "/admin/safety-case")
    expect(page.get_by_role("heading", level=1, name="Safety case: hazard log")).to_be_visible()
    expect(page.get_by_role("heading", name="HAZ-01: Missed red flag")).to_be_visible()
    expect(page.get_by_role("link", name="Download the hazard log to sign (PDF)")).to_be_visible()
    assert_accessible(page)
    assert_no_horizontal_scrolling(page)

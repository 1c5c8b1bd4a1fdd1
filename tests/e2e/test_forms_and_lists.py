"""Browser journeys of issue 17 ("Forms and lists"): withdrawing a diary entry on a 390 px
phone asks first and is never one tap away from "Correct"; the invitation page's "Copy
link" copies the link and says so, and reloading the page never replaces the link."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.helpers import (
    assert_accessible_at,
    assert_discreet_title,
    assert_no_horizontal_scrolling,
    expect_path,
    sign_in,
)
from tests.support.browser import LiveServer, open_context

pytestmark = pytest.mark.e2e


@pytest.fixture
def clipboard_page(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    """A desktop context allowed to write and read the clipboard."""
    context = open_context(browser, live_server, {"viewport": {"width": 1280, "height": 800}})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.base_url)
    yield context.new_page()
    context.close()


def test_withdrawing_an_entry_on_a_phone_asks_first(phone_390: Page) -> None:
    """On a 390 px phone a patient notes a skipped session; on their entries "Correct" and
    "Withdraw…" sit at either end of a row of their own, apart. "Withdraw…" opens a page
    asking "Withdraw this entry?" that says what it means; "Keep it" goes back with the
    entry unchanged; only the page's button withdraws it. Every page fits and passes axe
    at 390 and 1280 px. (Morgan's diary: no other journey uses it.)"""
    page = phone_390
    sign_in(page, "morgan.ellis@example.org")
    expect_path(page, "/diary/")
    page.goto("/diary/skip")
    page.get_by_role("group", name="Why was it skipped?").get_by_label("Forgot", exact=True).check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1, name="Saved")).to_be_visible()

    page.get_by_role("link", name="All your entries").click()
    expect_path(page, "/diary/entries")
    newest = page.get_by_role("listitem").filter(has_text="skipped (forgot)").first
    correct = newest.get_by_role("link", name="Correct")
    withdraw = newest.get_by_role("link", name="Withdraw…")
    expect(withdraw).to_be_visible()
    apart, gap = _apart(correct.bounding_box(), withdraw.bounding_box())
    assert apart, f"Correct and Withdraw are {gap:.0f} px apart on a 390 px phone"
    assert withdraw.bounding_box()["height"] >= 44  # a whole fingertip's target
    assert_no_horizontal_scrolling(page)
    assert_accessible_at(page)

    withdraw.click()
    expect(page.get_by_role("heading", level=1, name="Withdraw this entry?")).to_be_visible()
    expect(page.get_by_text("You cannot undo this.")).to_be_visible()
    assert_discreet_title(page)
    assert_no_horizontal_scrolling(page)
    assert_accessible_at(page)
    page.get_by_role("link", name="Keep it").click()
    expect_path(page, "/diary/entries")
    newest = page.get_by_role("listitem").filter(has_text="skipped (forgot)").first
    expect(newest).not_to_contain_text("withdrawn")

    newest.get_by_role("link", name="Withdraw…").click()
    page.get_by_role("button", name="Withdraw this entry").click()
    expect_path(page, "/diary/entries")
    expect(page.get_by_role("status").filter(has_text="The entry was withdrawn.")).to_be_visible()
    expect(page.get_by_role("listitem").filter(has_text="skipped (forgot)").first).to_contain_text(
        "withdrawn"
    )
    assert_accessible_at(page)


def _apart(a: dict | None, b: dict | None) -> tuple[bool, float]:
    """Whether two boxes are at least 48 px apart (side by side or one above the other)."""
    assert a is not None and b is not None
    horizontal = max(b["x"] - (a["x"] + a["width"]), a["x"] - (b["x"] + b["width"]))
    vertical = max(b["y"] - (a["y"] + a["height"]), a["y"] - (b["y"] + b["height"]))
    gap = max(horizontal, vertical)
    return gap >= 48, gap


def test_the_invitation_link_is_copied_and_a_reload_keeps_it(clipboard_page: Page) -> None:
    """An administrator invites a colleague: the invitation page shows the link in a
    read-only field and a "Copy link" button that puts it on the clipboard and says
    "Copied" in a live region. Reloading shows no link, says the link given still works,
    and offers "Send a new link" saying it replaces it. Both pages pass axe at 390 and
    1280 px."""
    page = clipboard_page
    sign_in(page, "admin@northside.example")
    page.goto("/admin/staff/new")
    page.get_by_label("Full name").fill("Copy Journey")
    page.get_by_label("Email").fill("copy.journey@example.org")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_role("heading", level=1, name="Invitation for Copy Journey")).to_be_visible()
    field = page.get_by_label("Link")
    link = field.input_value()
    assert "/invitation/" in link
    expect(field).to_have_attribute("readonly", "")
    assert_accessible_at(page)

    page.get_by_role("button", name="Copy link").click()
    expect(page.get_by_role("status").filter(has_text="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == link

    invitation_url = page.url
    page.reload()
    assert page.url == invitation_url
    expect(page.get_by_label("Link")).to_have_count(0)
    expect(page.get_by_text("The link already given still works")).to_be_visible()
    expect(page.get_by_text("The earlier link then stops working.")).to_be_visible()
    expect(page.get_by_role("button", name="Send a new link")).to_be_visible()
    assert_accessible_at(page)

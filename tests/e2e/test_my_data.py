"""The patient reads their own data on screen: from the portal's home to the readable page
(the same one the download's ZIP holds), on a phone and on a desktop.

Works on Sam Rivera, a demo patient with ten weeks of diary, flags and questionnaires;
opening the page changes nothing another browser test looks at (an audit event only).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import (
    assert_accessible_at,
    assert_discreet_title,
    assert_no_horizontal_scrolling,
    expect_path,
    sign_in,
)
from tests.support.browser import LiveServer

pytestmark = pytest.mark.e2e


def test_a_patient_reads_their_data_on_a_phone(phone_page: Page, live_server: LiveServer) -> None:
    """The "Read my data" link on the portal's home opens a page titled "My data" that names no
    therapy in its title, reads without sideways scrolling at 360, 390 and 1280 px, passes
    axe at 390 and 1280 px, shows the diary and what the care team was told, and leads
    back to the diary."""
    page = phone_page
    sign_in(page, "sam.rivera@example.org")
    expect_path(page, "/diary/")
    page.get_by_role("link", name="Read my data").click()
    expect_path(page, "/diary/my-data/read")
    expect(page.get_by_role("heading", level=1, name="My data")).to_be_visible()
    assert page.title() == "My data"
    assert_discreet_title(page)
    for section in ("About you", "Your program", "Your diary", "What your care team was told"):
        expect(page.get_by_role("heading", level=2, name=section)).to_be_visible()
    expect(page.get_by_role("table").first).to_contain_text("Skipped")
    expect(page.get_by_text("High pain (8/10)").first).to_be_visible()
    for width in (360, 390, 1280):
        page.set_viewport_size({"width": width, "height": 800})
        assert_no_horizontal_scrolling(page)
    assert_accessible_at(page)

    page.get_by_role("link", name="Back to your diary").click()
    expect_path(page, "/diary/")


# What a patient might type in a note or a skip reason: a long address, and a word with
# no break in it (200 characters).
LONG_URL = "https://www.example.org/guides/" + "/".join(["pelvic-health-dilator-therapy"] * 6)
LONG_WORD = "A" * 200

# Puts the typed text where the page shows it (a note in the first diary row, a skip
# reason in the summary above the table), as the template would; no data is saved.
TYPE_LONG_TEXT = """
([url, word]) => {
  const cell = document.querySelector("table.diary tbody td");
  for (const text of [url, word]) {
    const note = document.createElement("span");
    note.className = "note";
    note.textContent = text;
    cell.append(note);
  }
  const summary = document.querySelector("table.diary").previousElementSibling;
  summary.append(` Reasons for skipping: ${word.toLowerCase()} (1).`);
}
"""


def test_long_typed_text_wraps_in_my_data(phone_page: Page) -> None:
    """A note or skip reason holding a long URL or a 200-character word wraps inside its
    cell (and paragraph) on "Read my data": the page never scrolls sideways at 360, 390
    and 1280 px, and "Pain during / after" stays on screen. (The text goes into the page
    Sam opens, so no entry is saved; before the fix a note like this made the page 474
    px wide at 390 px, and the 200-character one 1861 px.)"""
    page = phone_page
    sign_in(page, "sam.rivera@example.org")
    expect_path(page, "/diary/")
    page.goto("/diary/my-data/read")
    page.evaluate(TYPE_LONG_TEXT, [LONG_URL, LONG_WORD])
    pain = page.locator("table.diary thead th").last
    for width in (360, 390, 1280):
        page.set_viewport_size({"width": width, "height": 800})
        assert_no_horizontal_scrolling(page)
        assert pain.evaluate("th => th.getBoundingClientRect().right") <= width

"""Preparing the weekly meeting: from the dashboard to a downloaded MDT pack.

Making a pack adds only a background run of the clinician's own (no record changes), so
it can run in any order with the other browser tests.
"""

from __future__ import annotations

import re

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


def test_clinician_downloads_an_mdt_pack_of_their_patients(page: Page) -> None:
    """The dashboard links to the MDT pack; the form (accessible, discreet title) has the
    clinician's running programs ticked; the button leads to a progress page that updates
    itself until the pack is ready, and its link downloads a PDF with a neutral name."""
    sign_in(page, "physio@northside.example")
    expect_path(page, "/dashboard/")
    page.get_by_role("link", name="MDT pack").click()

    expect_path(page, "/mdt/")
    expect(page.get_by_role("heading", level=1, name="MDT pack")).to_be_visible()
    assert_discreet_title(page)
    assert_accessible(page)
    ticked = page.get_by_role("checkbox", checked=True)
    expect(ticked.first).to_be_visible()

    page.get_by_role("button", name="Make the MDT pack (PDF)").click()
    # The progress page refreshes itself (no script) until the pack is made.
    expect(page).to_have_url(re.compile(r"/jobs/\d+$"))
    assert_discreet_title(page)
    status = page.get_by_role("status")
    expect(status).to_contain_text("Ready:", timeout=30_000)
    assert_accessible(page)
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile(r"^Download the MDT pack \(PDF")).click()
    assert download.value.suggested_filename.startswith("mdt-pack-")
    assert download.value.suggested_filename.endswith(".pdf")
    with open(download.value.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"


def test_the_pack_form_fits_a_phone(phone_390: Page) -> None:
    """At 390 px the MDT pack form never scrolls sideways: the patients' table, inside the
    form's "Patients in the pack" fieldset, scrolls in its own box instead (a fieldset is
    as wide as its widest content by default, and once made the page 628 px wide)."""
    page = phone_390
    sign_in(page, "physio@northside.example")
    expect_path(page, "/dashboard/")
    page.goto("/mdt/")
    expect(page.get_by_role("heading", level=1, name="MDT pack")).to_be_visible()
    assert_no_horizontal_scrolling(page)
    table_box = page.locator("fieldset .table-wrap")
    assert table_box.evaluate("box => box.scrollWidth > box.clientWidth")
    assert table_box.evaluate("box => box.getBoundingClientRect().right") <= 390

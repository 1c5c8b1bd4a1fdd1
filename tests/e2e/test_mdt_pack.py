"""Preparing the weekly meeting: from the dashboard to a downloaded MDT pack.

Reads the demo data only (making a pack changes nothing), so it can run in any order with
the other browser tests.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import assert_accessible, assert_discreet_title, expect_path, sign_in

pytestmark = pytest.mark.e2e


def test_clinician_downloads_an_mdt_pack_of_their_patients(page: Page) -> None:
    """The dashboard links to the MDT pack; the form (accessible, discreet title) has the
    clinician's running programs ticked, and the button downloads a PDF with a neutral
    name."""
    sign_in(page, "physio@northside.example")
    expect_path(page, "/dashboard/")
    page.get_by_role("link", name="MDT pack").click()

    expect_path(page, "/mdt/")
    expect(page.get_by_role("heading", level=1, name="MDT pack")).to_be_visible()
    assert_discreet_title(page)
    assert_accessible(page)
    ticked = page.get_by_role("checkbox", checked=True)
    expect(ticked.first).to_be_visible()

    with page.expect_download() as download:
        page.get_by_role("button", name="Download the MDT pack (PDF)").click()
    assert download.value.suggested_filename.startswith("mdt-pack-")
    assert download.value.suggested_filename.endswith(".pdf")
    with open(download.value.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"

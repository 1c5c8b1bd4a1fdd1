"""A clinician's walk through one patient's chart: from the patients list to the Overview,
then through every section by the chart's own navigation, on a phone and on a desktop.

Reads the shared demo data only (Sam Rivera, whose diary is the richest).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import (
    assert_accessible_at,
    assert_no_horizontal_scrolling,
    expect_path,
    focus_path_to,
    open_patient_list,
    sign_in,
)
from tests.support.browser import LiveServer

pytestmark = pytest.mark.e2e

PATIENT = "Sam Rivera"
# The chart's sections in their order, with where each leads (under /patients/<id>).
SECTIONS = [
    ("Overview", "/timeline"),
    ("Protocol", "/protocol/"),
    ("Outcome measures", "/measures"),
    ("Notes", "/notes"),
    ("Reports", "/reports"),
    ("Letters", "/letters"),
    ("Record details", ""),
    ("Access history", "/access"),
]


def _check_section(page: Page, label: str) -> None:
    """The page is the patient's, with `label` marked as the current section, every
    section linked, no sideways scrolling on a phone, and no serious axe finding at
    390 and 1280 px."""
    chart = page.get_by_role("navigation", name="Patient chart")
    expect(page.get_by_role("heading", level=1, name=PATIENT)).to_be_visible()
    expect(chart.get_by_role("link")).to_have_text([name for name, _ in SECTIONS])
    expect(chart.locator("[aria-current='page']")).to_have_text(label)
    own = page.viewport_size
    assert own is not None
    page.set_viewport_size({"width": 390, "height": own["height"]})
    try:
        expect(chart.get_by_role("link", name="Access history")).to_be_visible()
        assert_no_horizontal_scrolling(page)
    finally:
        page.set_viewport_size(own)
    assert_accessible_at(page)


def test_clinician_moves_through_every_section_of_a_chart(
    page: Page, live_server: LiveServer
) -> None:
    """A name in the patients list opens the chart's Overview; each section is one click
    away in the chart's navigation, which marks where the clinician is, stays on the
    screen of a phone (wrapping, never scrolling the page sideways), is reached with the
    keyboard with a visible focus, and the header's red-flag count leads to the flags."""
    patient_id = live_server.patient_id(PATIENT)
    chart_path = f"/patients/{patient_id}"
    sign_in(page, "physio@northside.example")
    expect_path(page, "/dashboard/")
    open_patient_list(page)
    page.get_by_role("table").get_by_role("link", name=PATIENT, exact=True).click()

    expect_path(page, chart_path + "/timeline")
    _check_section(page, "Overview")
    chart = page.get_by_role("navigation", name="Patient chart")
    for label, path in SECTIONS[1:]:
        chart.get_by_role("link", name=label).click()
        expect_path(page, chart_path + path)
        _check_section(page, label)

    # By keyboard: from the link back to the list, Tab reaches the sections in order.
    page.get_by_role("link", name="← All patients").focus()
    notes = chart.get_by_role("link", name="Notes")
    focus_path_to(page, notes)
    outline = notes.evaluate("link => getComputedStyle(link).outlineStyle")
    assert outline == "solid", f"the focused section link shows no outline ({outline})"
    page.keyboard.press("Enter")
    expect_path(page, chart_path + "/notes")

    banner = page.locator("header.patient-banner")
    banner.get_by_role("link", name=re.compile(r"^\d+ (urgent )?red flags?\b")).click()
    expect(page).to_have_url(re.compile(re.escape(chart_path) + r"/timeline#flags-heading$"))
    expect(page.get_by_role("heading", level=2, name="Flags")).to_be_in_viewport()

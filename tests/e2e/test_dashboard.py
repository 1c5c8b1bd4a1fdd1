"""The clinician's morning: the dashboard shows who needs attention, the timeline shows
why, and a decision takes a few clicks.

Works on the demo's red-flagged patients and on Morgan Ellis, the demo patient who is
ready to move up; no other browser test changes those.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import assert_accessible, assert_discreet_title, expect_path, sign_in

pytestmark = pytest.mark.e2e


def test_clinician_acknowledges_a_red_flag_and_advances_a_ready_patient(page: Page) -> None:
    """After sign-in the dashboard lists a red-flagged patient first; their timeline shows
    the flag, which the clinician acknowledges with a note; then, filtering for patients
    ready to advance, the clinician accepts the suggestion for Morgan Ellis (its reasons
    shown beside the form and kept with the decision), and the timeline shows the new
    stage."""
    sign_in(page, "physio@northside.example")
    expect_path(page, "/dashboard/")
    expect(page.get_by_role("heading", level=1, name="Today")).to_be_visible()
    assert_discreet_title(page)
    assert_accessible(page)

    table = page.get_by_role("table")
    first_row = table.locator("tbody tr").first
    expect(first_row).to_contain_text("urgent red flag")
    name = first_row.get_by_role("link").inner_text()
    first_row.get_by_role("link", name=name).click()

    expect(page.get_by_role("heading", level=1, name=name)).to_be_visible()
    assert_accessible(page)
    flags = page.get_by_role("region", name="Flags").or_(page.locator("#flags"))
    red = flags.locator("article.urgent-card").first
    expect(red.get_by_role("heading")).to_contain_text("Red flag")
    red.get_by_label("What you did about it").fill("Phoned the patient; settled with rest.")
    # One flag, or the ticked flags of one session together (the card says which).
    red.get_by_role(
        "button", name=re.compile(r"^Acknowledge (this flag|the ticked flags)$")
    ).click()
    expect(page.get_by_role("status")).to_contain_text(
        re.compile(r"flags? (was|were) acknowledged")
    )
    page.get_by_text("Acknowledged flags").click()
    expect(page.get_by_text("Phoned the patient; settled with rest.").first).to_be_visible()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Today").click()
    page.get_by_label("Patients", exact=True).select_option(label="Whole clinic")
    page.get_by_label("Flag", exact=True).select_option(label="Ready to advance")
    page.get_by_role("button", name="Show patients").click()
    expect(table.locator("tbody tr")).to_have_count(1)
    table.get_by_role("link", name="Morgan Ellis", exact=True).click()

    expect(
        page.get_by_role("heading", level=2, name="Suggested next step: Advance")
    ).to_be_visible()
    expect(
        page.get_by_text(re.compile(r"Met: pain during and after ≤\s\d+ in \d+ of the last"))
    ).to_be_visible()
    stage_now = int(
        re.search(r"stage (\d+) of", page.locator("dl.details").first.inner_text()).group(1)
    )
    page.get_by_role("link", name=f"Advance to stage {stage_now + 1}").click()

    # Following the suggestion: the same form as an override, the reason optional (the
    # suggestion's reasons are kept with the decision) and never pre-filled with system text.
    reason = page.get_by_label("Reason (optional)")
    expect(reason).to_have_value("")
    assert_accessible(page)
    reason.fill("Agreed with the patient today.")
    page.get_by_role("button", name=re.compile("Record|Save|Move")).click()
    expect(page.get_by_role("status")).to_contain_text("Recorded")

    page.goto(page.url.split("/protocol")[0] + "/timeline")
    expect(page.locator("dl.details").first).to_contain_text(f"stage {stage_now + 1} of")
    # The history keeps the suggestion with the decision: followed, not overridden.
    expect(page.get_by_role("cell", name="Advance", exact=True).last).to_be_visible()

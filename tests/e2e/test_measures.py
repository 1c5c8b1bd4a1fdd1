"""Browser journey: a clinician assigns an outcome measure in a few clicks from the patient's
record, and reads the demo's scores with their meaning and the change from the first.

Assigns to Lee Chen, a demo patient no other browser test uses; reads Sam Rivera's demo
scores without changing them.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import assert_accessible, expect_path, sign_in
from tests.support.browser import LiveServer

pytestmark = pytest.mark.e2e

PAIN = "Pain numeric rating scale (0\N{EN DASH}10)"


def test_clinician_assigns_a_measure_in_a_few_clicks(page: Page, live_server: LiveServer) -> None:
    """From the patient's chart to an assignment: open its "Outcome measures" section
    (no measure asked yet), choose the measure (the schedule's defaults stand: at the
    start, every 4 weeks and at discharge), press Assign. Sent without a measure first,
    the form says so next to the field. Every page passes axe."""
    patient_id = live_server.patient_id("Lee Chen")
    sign_in(page, "physio@northside.example")
    expect_path(page, "/dashboard/")
    page.goto(f"/patients/{patient_id}")
    chart = page.get_by_role("navigation", name="Patient chart")
    chart.get_by_role("link", name="Outcome measures").click()

    expect_path(page, f"/patients/{patient_id}/measures")
    expect(page.get_by_role("heading", level=1, name="Lee Chen")).to_be_visible()
    expect(page.get_by_role("heading", level=2, name="Outcome measures")).to_be_visible()
    expect(chart.get_by_role("link", name="Outcome measures")).to_have_attribute(
        "aria-current", "page"
    )
    expect(page.get_by_text("No measures are being asked now.")).to_be_visible()
    schedule = page.get_by_role("group", name="When to ask")
    expect(schedule.get_by_label("At the start of the program, then repeating")).to_be_checked()
    expect(schedule.get_by_label("Repeat every (weeks)")).to_have_value("4")
    expect(schedule.get_by_label("Also at discharge")).to_be_checked()
    assert_accessible(page)

    page.get_by_role("button", name="Assign measure").click()
    expect(page.get_by_role("alert")).to_contain_text("Please correct the field marked below.")
    measure = page.get_by_label("Measure", exact=True)
    expect(measure).to_have_attribute("aria-invalid", "true")
    expect(measure).to_have_accessible_description(re.compile("Choose a measure."))
    assert_accessible(page)

    measure.select_option(label=f"{PAIN} (free to use)")
    page.get_by_role("button", name="Assign measure").click()

    expect(page.get_by_role("status")).to_contain_text("The measure was assigned.")
    assigned = page.get_by_role("region", name="Assigned").get_by_role("table")
    row = assigned.locator("tbody tr").first
    expect(row).to_contain_text("Pain numeric rating scale")
    expect(row).to_contain_text("At the start, every 4 weeks, and at discharge")
    expect(row).to_contain_text(re.compile(r"Week 4, \d{1,2} \w{3} \d{4}"))
    assert_accessible(page)


def test_clinician_reads_scores_with_their_meaning(page: Page, live_server: LiveServer) -> None:
    """Sam Rivera's demo pain scores: each with its band's meaning, the change from the first
    score in words, and one response in full."""
    patient_id = live_server.patient_id("Sam Rivera")
    sign_in(page, "physio@northside.example")
    expect_path(page, "/dashboard/")
    page.goto(f"/patients/{patient_id}/measures")
    scores = page.get_by_role("article").filter(has=page.get_by_role("heading", level=3, name=PAIN))
    expect(scores).to_contain_text("3 points lower than the first score (6 on")
    expect(scores).to_contain_text("improved")
    expect(scores.get_by_role("table")).to_contain_text("Moderate: Moderate pain")
    assert_accessible(page)
    scores.get_by_role("link", name=re.compile("^Answers")).first.click()
    expect(page.get_by_role("heading", level=2).first).to_contain_text("Pain numeric rating scale")
    expect(page.get_by_role("table")).to_contain_text("On average over the past 7 days")
    assert_accessible(page)


def test_admin_sees_the_questionnaires_and_a_broken_file_explained(page: Page) -> None:
    """The administrator's menu leads to the questionnaires with their licences; a broken
    file pasted for import is refused with its problem in words, the text kept. Both pages
    pass axe. (Nothing is imported: other tests see the shipped set.)"""
    sign_in(page, "admin@northside.example")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Questionnaires").click()
    expect_path(page, "/questionnaires/")
    current = page.get_by_role("region", name="In use").get_by_role("table")
    fsfi = current.get_by_role("row").filter(has_text="Female Sexual Function Index")
    expect(fsfi).to_contain_text("Terms not established")
    expect(fsfi).to_contain_text("No: scoring rules only")
    assert_accessible(page)

    page.get_by_label("Or paste the file's text").fill('{"format": 1,')
    page.get_by_label("The clinic may use this instrument as its licence status says").check()
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("alert")).to_contain_text("The file has 1 problem")
    expect(page.get_by_role("list", name="Problems in the file")).to_contain_text("Not valid JSON")
    expect(page.get_by_label("Or paste the file's text")).to_have_value('{"format": 1,')
    assert_accessible(page)

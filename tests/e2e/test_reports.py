"""The clinician's progress report: from a patient's timeline to a PDF on disk, with the
assessment typed in on the way and the report kept with the record.

Works on Sam Rivera, a demo patient on a program for ten weeks; the report this adds is
one no other browser test looks at.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from clinic.core.templating import short_date
from tests.e2e.helpers import assert_accessible, assert_discreet_title, expect_path, sign_in
from tests.support.browser import LiveServer

pytestmark = pytest.mark.e2e

ASSESSMENT = "Tolerating size 4 with breathing; pain down to 2/10."


def test_clinician_generates_and_downloads_a_progress_report(
    page: Page, live_server: LiveServer
) -> None:
    """From Sam Rivera's chart the clinician opens the Reports section, asks for a period that
    ends before it starts and is told so (the assessment typed is kept), corrects it,
    generates the report, sees it listed, and downloads a PDF under the neutral file name
    whose SHA-256 is the one listed."""
    patient_id = live_server.patient_id("Sam Rivera")
    sign_in(page, "physio@northside.example")
    expect_path(page, "/dashboard/")
    page.goto(f"/patients/{patient_id}/timeline")
    expect(page.get_by_role("heading", level=1, name="Sam Rivera")).to_be_visible()

    page.get_by_role("navigation", name="Patient chart").get_by_role("link", name="Reports").click()
    expect_path(page, f"/patients/{patient_id}/reports")
    expect(page.get_by_role("heading", level=2, name="Progress reports")).to_be_visible()
    assert_discreet_title(page)
    assert_accessible(page)

    page.get_by_role("link", name="Generate a progress report").click()
    expect_path(page, f"/patients/{patient_id}/reports/new")
    period_from, period_to = page.get_by_label("Period from"), page.get_by_label("Period to")
    today = period_to.input_value()
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", today)
    assert period_from.input_value() < today
    assert_discreet_title(page)
    assert_accessible(page)

    page.get_by_label("Assessment").fill(ASSESSMENT)
    period_to.fill(period_from.input_value())
    period_from.fill(today)
    page.get_by_role("button", name="Generate report").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("The end of the period must be on or after its start.")
    expect(page.get_by_label("Assessment")).to_have_value(ASSESSMENT)
    expect(page.get_by_label("Period to")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page)

    page.get_by_label("Period from").fill(page.get_by_label("Period to").input_value())
    page.get_by_label("Period to").fill(today)
    page.get_by_label("Plan").fill("Continue at size 4; review in four weeks.")
    page.get_by_role("button", name="Generate report").click()

    expect_path(page, f"/patients/{patient_id}/reports")
    expect(page.get_by_role("status")).to_contain_text("The progress report for")
    newest = page.locator("tbody tr").first
    expect(newest.get_by_role("rowheader")).to_have_text(
        re.compile(rf"to {re.escape(short_date(date.fromisoformat(today)))}$")
    )
    expect(newest).to_contain_text("Hannah Price")
    assert_accessible(page)

    newest.locator("summary").click()
    listed_hash = newest.locator("details code").last.inner_text().strip()
    assert re.fullmatch(r"[0-9a-f]{64}", listed_hash)
    with page.expect_download() as download_info:
        newest.get_by_role("link", name=re.compile(r"^Download")).click()
    download = download_info.value
    assert download.suggested_filename == f"progress-report-NPH-1002-{today}.pdf"
    data = Path(download.path()).read_bytes()
    assert data.startswith(b"%PDF")
    assert hashlib.sha256(data).hexdigest() == listed_hash

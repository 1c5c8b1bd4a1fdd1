"""The referral letter: from a patient's chart, a letter to two recipients of the
address book with the progress report attached, in a few clicks, kept with the record and
sent to the recipient who has a secure email address (the other's copy is marked to print).

Works on Margaret Holloway, a demo patient no other browser test writes letters for.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import assert_accessible, assert_discreet_title, expect_path, sign_in
from tests.support.browser import LiveServer

pytestmark = pytest.mark.e2e


def test_clinician_sends_a_referral_letter_with_the_report_attached(
    page: Page, live_server: LiveServer
) -> None:
    """Chart → Letters → Write a letter → Referral onward: the form comes filled in from
    the record; sent with the referral's placeholder still in it, it says what to complete
    (nothing else lost); completed, with both demo recipients and the report attached, the
    letter is kept, its page shows the emailed copy's delivery and the copy to print, and
    the download is a PDF under a discreet name whose hash is the one shown."""
    patient_id = live_server.patient_id("Margaret Holloway")
    sign_in(page, "physio@northside.example")
    page.goto(f"/patients/{patient_id}/timeline")
    page.get_by_role("navigation", name="Patient chart").get_by_role("link", name="Letters").click()
    expect_path(page, f"/patients/{patient_id}/letters")
    assert_discreet_title(page)
    assert_accessible(page)

    page.get_by_role("link", name="Write a letter").click()
    page.get_by_role("navigation", name="Kind of letter").get_by_role(
        "link", name="Referral onward"
    ).click()
    # Margaret Holloway does not use the portal: no diary, so no figure (not "0% (0 of 6)").
    expect(page.get_by_label("The programme and where it stands")).to_have_value(
        re.compile(r"Adherence from .*: not known \(the patient does not keep the clinic's online")
    )
    assert_discreet_title(page)
    assert_accessible(page)

    page.get_by_role("checkbox", name=re.compile(r"Dr Amira Shah")).check()
    page.get_by_role("checkbox", name=re.compile(r"Dr Tom Whitfield")).check()
    page.get_by_label("Attach the progress report").check()
    page.get_by_role("button", name="Write and send the letter").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "Complete or remove the part in square brackets."
    )
    expect(page.get_by_role("checkbox", name=re.compile(r"Dr Amira Shah"))).to_be_checked()
    assert_accessible(page)

    reason = page.get_by_label("Reason for this letter")
    reason.fill(
        re.sub(
            r"\[to complete[^\]]*\]",
            "assessment of persistent pain between sessions.",
            reason.input_value(),
        )
    )
    page.get_by_role("button", name="Write and send the letter").click()

    expect(page.get_by_role("status")).to_contain_text("The letter was written")
    expect(page.get_by_role("heading", level=2)).to_contain_text("Referral onward of")
    expect(page.get_by_role("note")).to_contain_text("To print")
    rows = page.get_by_role("table", name="Recipients and delivery")
    expect(rows).to_contain_text("Dr Amira Shah")
    expect(rows).to_contain_text(re.compile(r"Queued|Sent"))
    expect(rows).to_contain_text("To print and post")
    assert_discreet_title(page)
    assert_accessible(page)

    listed = page.locator("code.token").first.inner_text().strip().rstrip("…")
    with page.expect_download() as download_info:
        page.get_by_role("link", name=re.compile(r"^Download the letter")).click()
    download = download_info.value
    assert re.fullmatch(r"letter-\d{4}-\d{2}-\d{2}\.pdf", download.suggested_filename)
    data = Path(download.path()).read_bytes()
    assert data.startswith(b"%PDF")
    assert hashlib.sha256(data).hexdigest().startswith(listed)

    page.get_by_role("link", name="← Letters").click()
    expect(page.locator("tbody tr").first).to_contain_text("Referral onward")
    expect(page.locator("tbody tr").first).to_contain_text("with the progress report")

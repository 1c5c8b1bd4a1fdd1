"""Browser journey on a 390 px phone: a patient turns reminders on, proposed from their
plan, changes a time, sees what will arrive, and turns them off again."""

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


def test_patient_turns_reminders_on_and_off_on_a_phone(phone_390: Page) -> None:
    """From the main navigation the patient opens Reminders: off, said plainly, with days
    and times proposed from the plan. They turn them on, move Monday to 07:30, untick
    Sunday, pick a subject and save: the page says they are on, keeps the choices and the
    preview shows the subject chosen. A time inside quiet hours is refused in plain words
    with what was typed kept. Then they turn them off. Every page is discreet, fits 390 px
    and passes the accessibility checks."""
    page = phone_390
    sign_in(page, "sam.rivera@example.org")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Reminders").click()
    expect_path(page, "/diary/reminders")
    assert_discreet_title(page)
    assert_no_horizontal_scrolling(page)
    assert_accessible(page)
    expect(page.get_by_text("Your reminders are off.")).to_be_visible()
    expect(page.get_by_text("Proposed from your plan")).to_be_visible()

    page.get_by_label("Yes, send me reminders").check()
    page.get_by_label("Time for Monday", exact=True).fill("07:30")
    page.get_by_label("Sunday", exact=True).uncheck()
    page.get_by_label("A quick note").check()
    page.get_by_label("Time for Tuesday", exact=True).fill("23:15")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_text("23:15 is in your quiet hours (22:00 to 07:00).").first).to_be_visible()
    expect(page.get_by_label("Time for Monday", exact=True)).to_have_value("07:30")
    assert_no_horizontal_scrolling(page)
    assert_accessible(page)
    page.get_by_label("Time for Tuesday", exact=True).fill("19:00")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_text("Saved: your reminders are on.")).to_be_visible()
    expect(page.locator(".reminders-status")).to_contain_text("on, since")
    expect(page.get_by_label("Time for Monday", exact=True)).to_have_value("07:30")
    expect(page.get_by_label("Sunday", exact=True)).not_to_be_checked()
    expect(page.locator(".mail-headers")).to_contain_text("A quick note")
    assert_no_horizontal_scrolling(page)
    assert_accessible(page)

    page.get_by_label("No reminders").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved: you will not receive reminders.")).to_be_visible()
    expect(page.get_by_text("Your reminders are off.")).to_be_visible()

"""Browser journey on a phone: a patient logs a session, gets the red-flag guidance, and
finds the entry in their history."""

from __future__ import annotations

from urllib.parse import urlsplit

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


def test_patient_logs_a_painful_session_on_a_phone(phone_page: Page) -> None:
    """On a 360 px phone a patient opens "Log a session" from Today, finds it prefilled
    from the plan, answers the pain scales with large radio buttons, and on saving gets
    calm guidance: stop, the clinic has been sent a message and when it answers, and when
    to get emergency care; the entry then shows in their history with the clinic told,
    and Today asks them to speak to the clinic before the next session instead of
    offering to log one. Every page is discreet, fits and passes the accessibility
    checks."""
    page = phone_page
    sign_in(page, "sam.rivera@example.org")
    expect_path(page, "/diary/")
    page.get_by_role("link", name="Log a session").click()

    expect_path(page, "/diary/log")
    assert_discreet_title(page)
    assert_no_horizontal_scrolling(page)
    assert_accessible(page)
    expect(page.get_by_label("Minutes")).to_have_value("10")
    page.get_by_role("group", name="Pain during the session").get_by_label("8", exact=True).check()
    page.get_by_role("group", name="Pain afterwards").get_by_label("5", exact=True).check()
    page.get_by_role("group", name="Bleeding").get_by_label("None").check()
    page.get_by_role("group", name="Any sharp or sudden pain?").get_by_label("No").check()
    page.get_by_role("button", name="Save session").click()

    expect(page.get_by_role("heading", name="Please stop for today")).to_be_visible()
    expect(page.get_by_text("Your clinic has been sent a message about it.")).to_be_visible()
    expect(page.get_by_role("heading", name="When the clinic will answer")).to_be_visible()
    expect(page.get_by_role("heading", name="Get emergency care now")).to_be_visible()
    assert_discreet_title(page)
    assert_no_horizontal_scrolling(page)
    assert_accessible(page)

    page.get_by_role("link", name="All your entries").click()
    expect_path(page, "/diary/entries")
    expect(page.get_by_text("Clinic told: high pain").first).to_be_visible()
    assert_accessible(page)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Progress").click()
    expect_path(page, "/diary/progress")
    assert_discreet_title(page)
    assert_accessible(page)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Today").click()
    expect_path(page, "/diary/")
    expect(
        page.get_by_text("You reported something today that your clinic will look at.")
    ).to_be_visible()
    expect(page.get_by_role("link", name="Log a session", exact=True)).to_have_count(0)
    assert_discreet_title(page)
    assert_no_horizontal_scrolling(page)
    assert_accessible(page)


def test_back_after_saving_then_save_again_asks_before_a_second_entry(phone_390: Page) -> None:
    """On a 390 px phone a patient logs a session, presses Back (the form comes again,
    with a new key, saying the session was saved) and saves the same answers again: no
    second entry, the form again with every answer still chosen and a calm message,
    announced, with a link to the entry and a labelled box. Ticked, the save makes a
    second entry. Every page fits and passes axe. (Jordan's diary: no other journey logs
    sessions in it.)"""
    page = phone_390
    sign_in(page, "jordan.blake@example.org")
    expect_path(page, "/diary/")
    page.goto("/diary/log")

    def answer() -> None:
        page.get_by_role("group", name="Pain during the session").get_by_label(
            "3", exact=True
        ).check()
        page.get_by_role("group", name="Pain afterwards").get_by_label("1", exact=True).check()
        page.get_by_role("group", name="Bleeding").get_by_label("None").check()
        page.get_by_role("group", name="Any sharp or sudden pain?").get_by_label("No").check()
        page.get_by_label("Note").fill("Went back to the breathing first")

    answer()
    page.get_by_role("button", name="Save session").click()
    expect(page.get_by_role("heading", level=1, name="Saved")).to_be_visible()
    first = urlsplit(page.url).path

    page.go_back()
    expect_path(page, "/diary/log")
    expect(page.get_by_text("You saved a session at")).to_be_visible()
    answer()  # as the patient would, whether or not the browser kept the answers
    page.get_by_role("button", name="Save session").click()

    expect_path(page, "/diary/log")
    notice = page.get_by_role("alert").filter(has_text="You already saved this same session at")
    expect(notice).to_be_visible()
    expect(notice.get_by_role("link", name="See it")).to_have_attribute("href", first)
    another = page.get_by_role("checkbox", name="This was another session")
    expect(another).not_to_be_checked()
    pain = page.get_by_role("group", name="Pain during the session")
    expect(pain.get_by_label("3", exact=True)).to_be_checked()
    expect(page.get_by_label("Note")).to_have_value("Went back to the breathing first")
    assert_no_horizontal_scrolling(page)
    assert_accessible(page)

    another.check()
    page.get_by_role("button", name="Save session").click()
    expect(page.get_by_role("heading", level=1, name="Saved")).to_be_visible()
    second = urlsplit(page.url).path
    assert second != first

    page.get_by_role("link", name="All your entries").click()
    expect_path(page, "/diary/entries")
    listed = page.locator(".entry-list li > a").evaluate_all("(a) => a.map(l => l.pathname)")
    assert {first, second} <= set(listed)

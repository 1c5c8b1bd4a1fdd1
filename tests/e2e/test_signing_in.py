"""Browser journeys through sign-in and sign-out: each role lands on its own start page."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from clinic.auth.views import SIGN_IN_FAILED
from tests.e2e.helpers import (
    assert_accessible,
    assert_discreet_title,
    assert_no_horizontal_scrolling,
    expect_path,
    open_patient_list,
    sign_in,
    sign_out,
)
from tests.support.browser import LiveServer

pytestmark = pytest.mark.e2e


def test_clinician_sees_own_clinic_patients_only(page: Page, live_server: LiveServer) -> None:
    """A clinician lands on the caseload, opens a patient's record, and never sees a patient
    of another clinic: not in the list, not by searching, not by typing the record's URL."""
    sign_in(page, "physio@northside.example")

    expect_path(page, "/dashboard/")
    open_patient_list(page)
    expect(page.get_by_role("heading", level=1, name="Patients")).to_be_visible()
    expect(page.get_by_role("link", name="Avery Quinn")).to_be_visible()
    expect(page.get_by_text("Jordan Blake")).to_have_count(0)
    assert_accessible(page)

    page.get_by_role("link", name="Avery Quinn").click()
    expect(page.get_by_role("heading", level=1, name="Avery Quinn")).to_be_visible()
    expect(page.get_by_text("NPH-1001", exact=True)).to_be_visible()
    assert_accessible(page)

    page.goto("/patients/")
    page.get_by_label("Name or clinic identifier").fill("Jordan Blake")
    page.get_by_role("button", name="Show patients").click()
    expect(page.get_by_text("No patients match your search.")).to_be_visible()
    expect(page.get_by_text("Jordan Blake")).to_have_count(0)  # text, not the search box
    assert_accessible(page)

    other_clinic_record = live_server.patient_id("Jordan Blake")
    page.goto(f"/patients/{other_clinic_record}")
    expect(page.get_by_role("heading", level=1, name="Page not found")).to_be_visible()
    expect(page.get_by_text("RVP-2001")).to_have_count(0)
    assert_accessible(page)


def test_patient_lands_on_discreet_diary_on_a_phone(phone_page: Page) -> None:
    """On a 360px phone, a patient signs in and lands on the diary, whose title names no
    body part or therapy and which shows the clinic's phone number as a link to call;
    neither the sign-in page nor the diary scrolls sideways (WCAG 1.4.10 Reflow)."""
    page = phone_page
    page.goto("/login")
    assert_discreet_title(page)
    assert_no_horizontal_scrolling(page)
    sign_in(page, "avery.quinn@example.org")

    expect_path(page, "/diary/")
    expect(page.get_by_role("heading", level=1, name="Hello, Avery")).to_be_visible()
    assert_discreet_title(page)
    # The clinic's details (the calm reminder after a report today may show it again).
    expect(page.locator("dl").get_by_role("link", name="0113 496 0321")).to_have_attribute(
        "href", "tel:01134960321"
    )
    assert_no_horizontal_scrolling(page)
    assert_accessible(page)


def test_patient_reads_todays_stage_plan_and_safety_on_a_phone(phone_page: Page) -> None:
    """On a phone, a patient in the maintenance phase sees today's stage in plain words
    (with how long maintenance lasts for their program; was: "no end date" for everyone),
    opens the whole plan, and reaches the safety guidance in one tap from the header;
    every page is discreet, fits the screen and passes the accessibility checks."""
    page = phone_page
    sign_in(page, "avery.quinn@example.org")
    expect_path(page, "/diary/")
    expect(page.get_by_text("Stage 6 of 6")).to_be_visible()
    # After vaginoplasty the maintenance phase is lifelong, said as the template says it.
    expect(page.get_by_text("This routine is lifelong: keep it going.")).to_be_visible()

    page.get_by_role("link", name="See your whole plan").click()
    expect_path(page, "/diary/plan")
    expect(page.get_by_role("heading", name="Stage 6 — you are here")).to_be_visible()
    assert_discreet_title(page)
    assert_no_horizontal_scrolling(page)
    assert_accessible(page)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Staying safe").click()
    expect_path(page, "/diary/safety")
    expect(page.get_by_text("go to emergency care")).to_be_visible()
    assert_discreet_title(page)
    assert_no_horizontal_scrolling(page)
    assert_accessible(page)


def test_admin_lands_on_staff_list(page: Page) -> None:
    """An administrator signs in and lands on the clinic's staff list."""
    sign_in(page, "admin@northside.example")

    expect_path(page, "/admin/staff")
    expect(page.get_by_role("heading", level=1, name="Staff")).to_be_visible()
    expect(page.get_by_role("cell", name="Hannah Price", exact=True)).to_be_visible()
    assert_accessible(page)


def test_wrong_password_gives_generic_error_and_keeps_email(page: Page) -> None:
    """A wrong password and an unknown email get the same message, which says nothing about
    which part was wrong; the typed email stays in its field and the password is cleared."""
    sign_in(page, "physio@northside.example", "not-the-password")

    expect_path(page, "/login")
    error = page.get_by_role("alert")
    expect(error).to_have_text(SIGN_IN_FAILED)
    expect(page.get_by_label("Email")).to_have_value("physio@northside.example")
    expect(page.get_by_label("Password")).to_have_value("")
    assert_accessible(page)

    sign_in(page, "nobody@northside.example", "not-the-password")
    expect(page.get_by_role("alert")).to_have_text(SIGN_IN_FAILED)
    expect(page.get_by_label("Email")).to_have_value("nobody@northside.example")


def test_sign_out_from_header_ends_the_session(page: Page) -> None:
    """The header's "Sign out" button returns to the sign-in page with a confirmation, and
    the signed-out browser can no longer open staff pages."""
    sign_in(page, "physio@northside.example")
    expect_path(page, "/dashboard/")

    sign_out(page)

    expect_path(page, "/login")
    expect(page.get_by_role("status")).to_contain_text("You have signed out.")
    expect(page.get_by_role("heading", level=1, name="Sign in")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    assert_accessible(page)

    page.goto("/patients/")
    expect_path(page, "/login")
    expect(page.get_by_role("status")).to_contain_text("Please sign in to continue.")

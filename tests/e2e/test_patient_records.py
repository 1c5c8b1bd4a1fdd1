"""Browser journeys through a clinician's patient work: adding a record, inviting a patient.

These tests change the shared demo data, so each works on a record no other test reads.
"""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import (
    assert_accessible,
    assert_discreet_title,
    expect_path,
    focus_path_to,
    open_patient_list,
    sign_in,
    sign_out,
)
from tests.support.browser import LiveServer

pytestmark = pytest.mark.e2e

# The patient form's fields in the order Tab reaches them (ids as WTForms renders them).
PATIENT_FORM_FIELDS = [
    "full_name",
    "name_to_use",
    "date_of_birth",
    "clinic_identifier",
    "pronouns",
    "language",
    "indication",
    "indication_other",
    "referring_clinician",
    "status",
    "responsible_clinician_id",
    "review_on",
    "radiotherapy_ended_on",
]


def test_clinician_adds_patient_after_fixing_missing_name(page: Page) -> None:
    """Every field of the new-patient form is reached with the keyboard in reading order;
    submitted without a name, the form says so next to the name field (and in a summary
    linking to it) while keeping everything else typed; once the name is added, the new
    patient's record shows."""
    identifier = f"NPH-E2E-{uuid.uuid4().hex[:6].upper()}"
    sign_in(page, "physio@northside.example")
    expect_path(page, "/dashboard/")
    open_patient_list(page)
    page.get_by_role("link", name="Add a patient").click()

    expect_path(page, "/patients/new")
    expect(page.get_by_role("heading", level=1, name="Add a patient")).to_be_visible()
    assert_accessible(page)

    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("main")).to_be_focused()
    submit = page.get_by_role("button", name="Add patient")
    assert focus_path_to(page, submit) == PATIENT_FORM_FIELDS

    page.get_by_label("Date of birth").fill("1987-05-19")
    page.get_by_label("Clinic identifier").fill(identifier)
    page.get_by_label("Pronouns").fill("they/them")
    page.get_by_label("Indication", exact=True).select_option(label="Dyspareunia / vulvodynia")
    page.get_by_label("Referring clinician").fill("Dr S. Hale, gynaecology")
    submit.click()

    name = page.get_by_label("Full name")
    expect(page.get_by_role("alert")).to_contain_text("Please correct the field marked below.")
    expect(page.get_by_role("alert").get_by_role("link", name="Full name")).to_have_attribute(
        "href", "#full_name"
    )
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(name).to_have_accessible_description(re.compile("Enter the patient's name."))
    expect(name.locator("xpath=following-sibling::*[1]")).to_have_text(
        re.compile("Error: Enter the patient's name.")
    )
    expect(page.get_by_label("Date of birth")).to_have_value("1987-05-19")
    expect(page.get_by_label("Clinic identifier")).to_have_value(identifier)
    expect(page.get_by_label("Pronouns")).to_have_value("they/them")
    expect(page.get_by_label("Indication", exact=True)).to_have_value("dyspareunia")
    expect(page.get_by_label("Referring clinician")).to_have_value("Dr S. Hale, gynaecology")
    assert_accessible(page)

    name.fill("Robin Castell")
    page.get_by_role("button", name="Add patient").click()

    expect(page).to_have_url(re.compile(r"/patients/\d+(#main)?$"))
    expect(page.get_by_role("heading", level=1, name="Robin Castell")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("The patient was added.")
    details = page.get_by_role("article", name="Details")
    expect(details.get_by_text(identifier, exact=True)).to_be_visible()
    expect(details.get_by_text("Dyspareunia / vulvodynia")).to_be_visible()
    assert_accessible(page)


def test_invited_patient_chooses_password_and_reaches_diary(
    page: Page, live_server: LiveServer
) -> None:
    """A clinician invites a patient without portal access (the link is emailed, and shown
    once for in-clinic set-up; the page then says the email was sent); after the clinician
    signs out, the link opens a discreet page where the patient chooses a password and
    lands, signed in, on the diary, greeted by the name to use on their record (not the
    first word of the legal name). The link then no longer works."""
    sign_in(page, "physio@northside.example")
    expect_path(page, "/dashboard/")
    open_patient_list(page)
    page.get_by_role("link", name="Daniel Okafor").click()
    page.get_by_role("navigation", name="Patient chart").get_by_role(
        "link", name="Record details"
    ).click()

    expect(page.get_by_role("heading", level=1, name="Daniel Okafor")).to_be_visible()
    expect(page.get_by_text("The patient does not use the portal yet.")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Patient's email address").fill("daniel.okafor@example.org")
    page.get_by_role("button", name="Send invitation").click()

    expect(page.get_by_role("heading", name="Invitation for Daniel Okafor")).to_be_visible()
    expect(page.get_by_text("We are emailing the invitation to")).to_be_visible()
    link = page.get_by_label("Link", exact=True).input_value()
    assert link.startswith(live_server.url("/invitation/")), link
    assert_accessible(page)
    page.get_by_role("link", name="Done").click()
    expect(page.get_by_text("Invitation email:")).to_be_visible()

    sign_out(page)
    expect_path(page, "/login")
    page.goto(link)

    expect(page.get_by_role("heading", level=1, name="Choose a password")).to_be_visible()
    expect(page.get_by_text("daniel.okafor@example.org")).to_be_visible()
    assert_discreet_title(page)
    assert_accessible(page)
    page.get_by_label("New password").fill("a calm river at dawn 42")
    page.get_by_label("Type it again").fill("a calm river at dawn 42")
    page.get_by_role("button", name="Save password and sign in").click()

    expect_path(page, "/diary/")
    expect(page.get_by_role("heading", level=1, name="Hello, Dan")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("Your password is set")
    assert_discreet_title(page)
    assert_accessible(page)
    # The plan started a month before the invitation: nothing of that month counts
    # against the patient, who reads that their diary starts today.
    page.get_by_role("link", name="Progress").click()
    expect(page.get_by_text("nothing yet: your diary starts today")).to_have_count(2)
    expect(page.get_by_text("nothing in your plan")).to_have_count(0)
    assert_discreet_title(page)
    assert_accessible(page)

    sign_out(page)
    page.goto(link)
    expect(
        page.get_by_role("heading", level=1, name="This link can no longer be used")
    ).to_be_visible()
    assert_accessible(page)

"""Browser journey on a phone: a patient starts a questionnaire from Today, saves part of it,
comes back in a new session, finishes and sends it."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from clinic.extensions import db
from clinic.models import MeasureResponse
from tests.e2e.helpers import (
    assert_accessible,
    assert_discreet_title,
    assert_no_horizontal_scrolling,
    expect_path,
    sign_in,
    sign_out,
)
from tests.support.browser import LiveServer
from tests.support.measures import assign

pytestmark = pytest.mark.e2e


def question(page: Page, text: str):
    """The radio group (fieldset) of the question whose wording contains `text`."""
    return page.get_by_role("group", name=re.compile(re.escape(text)))


def check_page(page: Page) -> None:
    assert_discreet_title(page)
    assert_no_horizontal_scrolling(page)
    assert_accessible(page)


def test_patient_saves_a_questionnaire_and_finishes_it_later(
    phone_390: Page, live_server: LiveServer
) -> None:
    """On a 390 px phone a patient opens the questionnaire from Today, answers two of the
    five questions and saves; signed in again later, Today offers Continue, the page shows
    the two answers, and the patient answers the rest and sends it. They are thanked
    without being shown a score, and find it (date and name) among those sent; the clinic
    has it scored on version 1. Every page is discreet, fits the screen and passes the
    accessibility checks."""
    page = phone_390
    assignment = assign(
        live_server.app, live_server.patient_id("Jordan Blake"), "dilator-confidence"
    )
    link = f"/diary/questionnaires/{assignment}/once"

    sign_in(page, "jordan.blake@example.org")
    expect_path(page, "/diary/")
    expect(page.get_by_text("from your clinic", exact=False).first).to_be_visible()
    check_page(page)
    page.locator(f'a[href="{link}"]').click()

    expect_path(page, link)
    expect(page).to_have_title(re.compile(r"^Questionnaire"))
    expect(page.get_by_role("heading", level=1, name="Dilator confidence")).to_be_visible()
    check_page(page)
    question(page, "Putting your dilator in").get_by_label("Very confident").check()
    question(page, "on your own").get_by_label("Moderately confident").check()
    page.get_by_role("button", name="Save and finish later").click()

    expect_path(page, "/diary/")
    expect(page.get_by_text("Your answers are saved")).to_be_visible()
    sign_out(page)

    sign_in(page, "jordan.blake@example.org")  # later: a new session
    expect_path(page, "/diary/")
    continuing = page.locator(f'a[href="{link}"]')
    expect(continuing).to_contain_text("Continue")
    continuing.click()
    expect(page.get_by_text("Your saved answers are filled in")).to_be_visible()
    expect(question(page, "Putting your dilator in").get_by_label("Very confident")).to_be_checked()
    expect(question(page, "on your own").get_by_label("Moderately confident")).to_be_checked()
    check_page(page)
    question(page, "Managing discomfort").get_by_label("Moderately confident").check()
    question(page, "Keeping up your sessions").get_by_label("Very confident").check()
    question(page, "next size").get_by_label("A little confident").check()
    page.get_by_role("button", name="Submit", exact=True).click()

    expect(page.get_by_role("heading", level=1, name="Thank you")).to_be_visible()
    expect(page.get_by_text("were sent to your clinic")).to_be_visible()
    expect(page.get_by_text("Moderate")).to_have_count(0)
    check_page(page)

    page.get_by_role("link", name="Back to Today").click()
    expect_path(page, "/diary/")
    expect(page.locator(f'a[href="{link}"]')).to_have_count(0)
    page.get_by_role("link", name="Questionnaires you have sent").click()
    expect_path(page, "/diary/questionnaires")
    expect(page.get_by_role("listitem").filter(has_text="Dilator confidence").first).to_be_visible()
    check_page(page)

    with live_server.app.app_context():
        sent = db.session.scalars(
            select(MeasureResponse).where(MeasureResponse.assignment_id == assignment)
        ).one()
        # 3 + 2 + 2 + 3 + 1 = 11: the 8-14 band, "Moderate".
        assert (sent.instrument_version, sent.total, sent.band_label) == ("1", 11, "Moderate")
        assert json.loads(sent.answers) == {
            "insert": 3,
            "on_own": 2,
            "discomfort": 2,
            "keep_going": 3,
            "next_size": 1,
        }

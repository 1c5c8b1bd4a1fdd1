"""Browser journeys in the patient's language (issue 20): every portal page a patient opens
reads in Spanish or French, with no English word on it, declares its language, and keeps
its layout at 390 px with the longer words; a right-to-left language mirrors the layout.

Runs on a live server of its own (its own demo database): Northside turns Spanish and
French on, and demo patients read them, which the other browser tests must not see.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from playwright.sync_api import Browser, Page, expect

from clinic import i18n
from clinic.extensions import db
from clinic.models import Clinic, ClinicLanguage, Patient, User
from tests.e2e.helpers import (
    assert_discreet_title,
    assert_no_horizontal_scrolling,
    expect_path,
    sign_in,
)
from tests.support.browser import DESKTOP, PHONE_390, LiveServer, open_context, seeded_app, serving
from tests.support.databases import temporary_database
from tests.support.translations import english_on_page

pytestmark = pytest.mark.e2e

NORTHSIDE = "Northside Pelvic Health"
# Demo patients of Northside with a plan, and the language each reads here.
READERS = {"sam.rivera@example.org": "es", "morgan.ellis@example.org": "fr"}
# The portal's pages a patient opens from the navigation and Today.
PORTAL_PAGES = [
    "/diary/",
    "/diary/log",
    "/diary/skip",
    "/diary/entries",
    "/diary/progress",
    "/diary/plan",
    "/diary/safety",
    "/diary/session",
    "/diary/reminders",
    "/diary/questionnaires",
    "/account/",
]


@pytest.fixture(scope="module")
def multilingual_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A live server of its own whose Northside has turned Spanish and French on, with
    Sam reading Spanish and Morgan French."""
    with temporary_database(tmp_path_factory.mktemp("e2e-languages-db")) as database_url:
        app = seeded_app(database_url)
        with app.app_context():
            clinic = db.session.execute(db.select(Clinic).filter_by(name=NORTHSIDE)).scalar_one()
            for code in ("es", "fr"):
                db.session.add(
                    ClinicLanguage(
                        clinic_id=clinic.id,
                        code=code,
                        reviewed_by="Test reviewer",
                        reviewed_on=date(2026, 12, 1),
                    )
                )
            for email, code in READERS.items():
                patient = db.session.execute(
                    db.select(Patient)
                    .join(User, Patient.user_id == User.id)
                    .filter(User.email == email)
                ).scalar_one()
                patient.language = code
            db.session.commit()
        with serving(app) as server:
            yield server


# Where a portal page shows what the clinic typed (see `allowed_data`).
CLINIC_DATA = ", ".join(
    ("[data-clinic-text]", ".technique", ".clinic-contact", 'a[href^="tel:"]', 'a[href^="mailto:"]')
)


def allowed_data(page: Page) -> set[str]:
    """Words on a portal page that are data rather than the product's wording: the clinic's
    name, contact details and dilator labels, and the plan's technique notes, which the
    clinic types in its own language (the demo's are English)."""
    data = page.evaluate(
        """(selector) => Array.from(document.querySelectorAll(selector))
               .map(e => e.innerText).join(' ')""",
        CLINIC_DATA,
    )
    return set(data.split()) | {"Northside", "Pelvic", "Health", "Sam", "Morgan", "Rivera", "Ellis"}


def check_page(page: Page, code: str) -> None:
    """The page declares `code`, shows no English word of the product's patient wording,
    keeps a discreet title and fits the phone's width."""
    assert page.locator("html").get_attribute("lang") == code
    text = page.locator("body").inner_text()
    leaks = english_on_page(text, code, allowed_data(page))
    assert not leaks, f"{page.url} in {code} shows English: {sorted(leaks)[:20]}"
    assert_discreet_title(page)
    assert_no_horizontal_scrolling(page)


@pytest.mark.parametrize("email", sorted(READERS))
def test_every_portal_page_reads_in_the_patients_language(
    browser: Browser, multilingual_server: LiveServer, email: str
) -> None:
    """Signed in on a 390 px phone whose browser asks for English, a patient whose record
    reads Spanish (or French) gets every portal page in that language: no English word of
    the product's wording, <html lang>, a discreet title, nothing wider than the screen
    with the longer words. (Every page also passes axe at 390 and 1280 px.)"""
    code = READERS[email]
    with open_context(browser, multilingual_server, {**PHONE_390, "locale": "en-GB"}) as context:
        page = context.new_page()
        sign_in(page, email)
        expect_path(page, "/diary/")
        for path in PORTAL_PAGES:
            page.goto(path)
            check_page(page, code)


def test_a_right_to_left_language_mirrors_the_layout(
    browser: Browser, multilingual_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a right-to-left language registered (none ships yet: the catalogue is empty,
    so the words stay English), a patient reading it gets pages with dir="rtl" whose
    navigation starts at the right, and nothing wider than a 390 px screen."""
    monkeypatch.setitem(
        i18n.LANGUAGES, "he", i18n.Language("he", "Hebrew", "עברית", direction="rtl")
    )
    app = multilingual_server.app
    with app.app_context():
        patient = db.session.execute(
            db.select(Patient)
            .join(User, Patient.user_id == User.id)
            .filter(User.email == "avery.quinn@example.org")
        ).scalar_one()
        patient.language = "he"
        db.session.add(
            ClinicLanguage(
                clinic_id=patient.clinic_id,
                code="he",
                reviewed_by="Test reviewer",
                reviewed_on=date(2026, 12, 1),
            )
        )
        db.session.commit()
    try:
        for device in (PHONE_390, DESKTOP):
            with open_context(browser, multilingual_server, device) as context:
                page = context.new_page()
                sign_in(page, "avery.quinn@example.org")
                expect_path(page, "/diary/")
                expect(page.locator("html")).to_have_attribute("dir", "rtl")
                expect(page.locator("html")).to_have_attribute("lang", "he")
                brand = page.locator(".brand").bounding_box()
                width = page.viewport_size["width"]
                assert brand["x"] + brand["width"] > width / 2, "the brand should sit at the right"
                for path in ("/diary/", "/diary/log", "/diary/session", "/diary/progress"):
                    page.goto(path)
                    expect(page.locator("html")).to_have_attribute("dir", "rtl")
                    assert_no_horizontal_scrolling(page)
    finally:
        with app.app_context():
            db.session.execute(db.delete(ClinicLanguage).where(ClinicLanguage.code == "he"))
            db.session.commit()

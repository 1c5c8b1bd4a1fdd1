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
from clinic.core.timezones import known_zones
from clinic.extensions import db
from clinic.models import Clinic, ClinicLanguage, DilatorSet, DilatorSize, Patient, User
from tests.e2e.helpers import (
    assert_discreet_title,
    assert_no_horizontal_scrolling,
    expect_path,
    sign_in,
)
from tests.support.browser import DESKTOP, PHONE_390, LiveServer, open_context, seeded_app, serving
from tests.support.databases import temporary_database
from tests.support.translations import english_on_page, words

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
CLINIC_DATA = ", ".join((".clinic-words", ".out-of-hours", 'a[href^="tel:"]', 'a[href^="mailto:"]'))


def allowed_data(page: Page, server: LiveServer) -> set[str]:
    """Words on a portal page that are data rather than the product's wording: what the
    clinic typed in its own language (the demo's is English): its name and contact
    details, its dilators' sets and labels ("Size 4"), the plan's technique notes and its
    out-of-hours text; the patient's and clinician's names; the places time zones are
    named by."""
    data = page.evaluate(
        """(selector) => Array.from(document.querySelectorAll(selector))
               .map(e => e.innerText).join(' ')""",
        CLINIC_DATA,
    )
    with server.app.app_context():
        labels = " ".join(
            [
                *db.session.scalars(db.select(DilatorSize.label)),
                *db.session.scalars(db.select(DilatorSet.name)),
            ]
        )
        clinic = db.session.execute(db.select(Clinic).filter_by(name=NORTHSIDE)).scalar_one()
        typed = " ".join((clinic.name, clinic.address, clinic.email))
        names = " ".join(db.session.scalars(db.select(User.full_name)))
    # Time zones are named by their places ("Swift Current (America/Swift_Current)").
    places = " ".join(known_zones()).replace("_", " ").replace("/", " ")
    return set(words(f"{data} {labels} {typed} {names} {places}"))


def check_page(page: Page, code: str, server: LiveServer) -> None:
    """The page declares `code`, shows no English word of the product's patient wording,
    keeps a discreet title and fits the phone's width."""
    assert page.locator("html").get_attribute("lang") == code
    text = page.locator("body").inner_text()
    leaks = english_on_page(text, code, allowed_data(page, server))
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
            check_page(page, code, multilingual_server)


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

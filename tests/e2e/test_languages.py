"""Browser journeys in the patient's language (issue 20): every portal page a patient opens
reads in Spanish or French, with no English word on it, declares its language, and keeps
its layout at 390 px with the longer words; a right-to-left language mirrors the layout.

Runs on a live server of its own (its own demo database): Northside turns Spanish and
French on, and demo patients read them, which the other browser tests must not see.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect

from clinic import i18n
from clinic.core.mail import Message
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
from tests.support.languages import speaks
from tests.support.privacy import assert_discreet
from tests.support.smtp import SmtpSink
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
    "/account",
]


@pytest.fixture(scope="module")
def multilingual_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A live server of its own whose Northside has turned Spanish and French on, with
    Sam reading Spanish and Morgan French."""
    with temporary_database(tmp_path_factory.mktemp("e2e-languages-db")) as database_url:
        app = seeded_app(database_url)
        for email, code in READERS.items():
            speaks(app, patient_id_of(app, email), code)
        with serving(app) as server:
            yield server


# Where a portal page shows what the clinic typed (see `allowed_data`), and text the page
# itself declares to be in another language (`lang`: a language's own name in the
# account's choice of language, "English").
CLINIC_DATA = ", ".join(
    (".clinic-words", ".out-of-hours", 'a[href^="tel:"]', 'a[href^="mailto:"]', "[lang]:not(html)")
)


def clinic_words(server: LiveServer) -> set[str]:
    """Words that are data rather than the product's wording: what the clinic typed in its
    own language (the demo's is English): its name and contact details, its dilators' sets
    and labels ("Size 4"); the names on its records; the places time zones are named by
    ("Swift Current (America/Swift_Current)")."""
    with server.app.app_context():
        typed = [
            *db.session.scalars(db.select(DilatorSize.label)),
            *db.session.scalars(db.select(DilatorSet.name)),
            *db.session.scalars(db.select(User.full_name)),
        ]
        clinic = db.session.execute(db.select(Clinic).filter_by(name=NORTHSIDE)).scalar_one()
        typed += [clinic.name, clinic.address, clinic.email]
    places = " ".join(known_zones()).replace("_", " ").replace("/", " ")
    return words(" ".join(typed) + " " + places)


def patient_id_of(app: Flask, email: str) -> int:
    """The record of the demo patient who signs in as `email`."""
    with app.app_context():
        return db.session.execute(
            db.select(Patient.id).join(User, Patient.user_id == User.id).filter(User.email == email)
        ).scalar_one()


def allowed_data(page: Page, server: LiveServer) -> set[str]:
    """The data on a portal page (`clinic_words`), and what the page marks as the clinic's
    own words: the plan's technique notes, the out-of-hours text, phone and email links."""
    data = page.evaluate(
        """(selector) => Array.from(document.querySelectorAll(selector))
               .map(e => e.innerText).join(' ')""",
        CLINIC_DATA,
    )
    return words(data) | clinic_words(server)


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
    speaks(app, patient_id_of(app, "avery.quinn@example.org"), "he")
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


def test_a_spanish_speaking_patient_meets_no_english_from_invitation_to_red_flag(
    browser: Browser, mailing_server: tuple[LiveServer, SmtpSink]
) -> None:
    """The issue's journey, on a server of its own mailing a real SMTP server: Northside's
    administrator turns Spanish on after recording its review; a clinician records that
    Daniel reads Spanish and invites him. The invitation email is Spanish (and discreet);
    its link, opened on a 390 px phone whose browser asks for English, is Spanish; Daniel
    chooses a password, reaches Today, opens the guided session, stops it for sharp pain
    and logs the session with sharp pain; the red flag's guidance is Spanish. No page, and
    not the email, shows an English word of the product's wording."""
    server, sink = mailing_server
    with open_context(browser, server, DESKTOP) as staff:
        admin = staff.new_page()
        sign_in(admin, "admin@northside.example")
        admin.goto("/admin/languages/")
        admin.locator("#language-es").locator("xpath=..").get_by_text(
            "Turn Spanish on"
        ).first.click()
        admin.get_by_label("Reviewed by").first.fill("A. Ruiz, physiotherapist")
        admin.get_by_label("Reviewed on").first.fill("2026-12-01")
        admin.locator("#es-confirm").check()
        admin.get_by_role("button", name="Turn Spanish on").click()
        expect(admin.get_by_role("status")).to_contain_text("Spanish is on")
    with open_context(browser, server, DESKTOP) as staff:
        clinician = staff.new_page()
        sign_in(clinician, "physio@northside.example")
        open_daniels_record(clinician)
        clinician.get_by_role("link", name="Edit details").click()
        clinician.get_by_label("Language").select_option("es")
        clinician.get_by_role("button", name="Save").click()
        details = clinician.get_by_role("article", name="Details")
        expect(details).to_contain_text("Spanish (Español)")
        expect(details).not_to_contain_text("Not turned on")
        clinician.get_by_label("Patient's email address").fill(DANIEL)
        clinician.get_by_role("button", name="Send invitation").click()
        expect(clinician.get_by_text("We are emailing the invitation to")).to_be_visible()

    [email] = [m for m in list(sink.received) if m["To"] == DANIEL]
    body = email.get_content()
    assert_discreet(
        Message(to=DANIEL, subject=str(email["Subject"]), body=body),
        also=["Daniel", "Okafor", "NPH-1004"],
    )
    without_links = re.sub(r"https?://\S+", " ", body)
    mail_words = f"{email['Subject']} {without_links}"
    leaks = english_on_page(mail_words, "es", clinic_words(server))
    assert not leaks, f"the invitation email shows English: {sorted(leaks)}"
    link = re.search(r"https?://\S+/invitation/\S+", body).group(0)

    with open_context(browser, server, {**PHONE_390, "locale": "en-GB"}) as phone:
        page = phone.new_page()
        page.goto(link)
        check_page(page, "es", server)
        page.locator("#password").fill("un río tranquilo al alba 42")
        page.locator("#confirm").fill("un río tranquilo al alba 42")
        page.locator("main form button[type=submit]").click()
        expect_path(page, "/diary/")
        check_page(page, "es", server)
        page.goto("/diary/session")
        check_page(page, "es", server)
        page.locator("#timer-start").click()
        page.locator("#pain-stop").click()
        expect(page.locator("#pain-panel-heading")).to_be_focused()
        check_page(page, "es", server)  # the stop guidance, in the timer's page
        page.locator("#pain-panel a[href*='/diary/log']").click()
        expect_path(page, "/diary/log")
        check_page(page, "es", server)
        page.locator("input[name=pain_during][value='6']").check()
        page.locator("input[name=pain_after][value='3']").check()
        page.locator("input[name=bleeding][value='none']").check()
        page.locator("input[name=sharp_pain][value='yes']").check()
        page.locator("main form button[type=submit]").last.click()
        expect(page).to_have_url(re.compile(r"/diary/entries/\d+"))
        check_page(page, "es", server)
        assert "dolor agudo" in page.locator("main").inner_text().lower()


DANIEL = "daniel.okafor@example.org"


def open_daniels_record(page: Page) -> None:
    """From the clinician's dashboard to Daniel Okafor's record details."""
    page.goto("/patients/?q=Okafor")
    page.get_by_role("link", name="Daniel Okafor").click()
    page.get_by_role("navigation", name="Patient chart").get_by_role(
        "link", name="Record details"
    ).click()

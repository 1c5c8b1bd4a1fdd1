"""Browser check on a 390 px phone: a patient reading Spanish answers PGIC in Spanish
(issue 20). The longer Spanish wording fits the screen, the page declares Spanish and
passes the accessibility checks, and the answer is stored and scored as in English."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import delete, select

from clinic.extensions import db
from clinic.models import ClinicLanguage, MeasureResponse, Patient
from tests.e2e.helpers import (
    assert_accessible,
    assert_discreet_title,
    assert_no_horizontal_scrolling,
    expect_path,
    sign_in,
)
from tests.support.browser import LiveServer
from tests.support.measures import assign, today

pytestmark = pytest.mark.e2e

PATIENT = "Jordan Blake"


def check_page(page: Page) -> None:
    assert_discreet_title(page)
    assert_no_horizontal_scrolling(page)
    assert_accessible(page)


def _reads(live_server: LiveServer, patient_id: int, code: str) -> None:
    """The patient reads `code`, turned on by their clinic; English undoes it (the live
    server's data is shared by the run's browser tests)."""
    with live_server.app.app_context():
        patient = db.session.get(Patient, patient_id)
        patient.language = code
        if code == "en":
            db.session.execute(
                delete(ClinicLanguage).where(ClinicLanguage.clinic_id == patient.clinic_id)
            )
        else:
            db.session.add(
                ClinicLanguage(
                    clinic_id=patient.clinic_id,
                    code=code,
                    reviewed_by="A. Reviewer, physiotherapist",
                    reviewed_on=today(),
                )
            )
        db.session.commit()


def test_a_spanish_reader_answers_pgic_on_a_phone(phone_390: Page, live_server: LiveServer) -> None:
    """PGIC in Spanish at 390 px: Spanish heading, question and answers, the Spanish
    Submit button; the thank-you page is Spanish; the stored answer is the value 2 with
    PGIC's English band, as an English reader's would be."""
    page = phone_390
    patient_id = live_server.patient_id(PATIENT)
    _reads(live_server, patient_id, "es")
    try:
        assignment = assign(live_server.app, patient_id, "pgic")
        link = f"/diary/questionnaires/{assignment}/once"
        sign_in(page, "jordan.blake@example.org")
        expect_path(page, "/diary/")
        page.goto(link)
        expect(page.locator("html")).to_have_attribute("lang", "es")
        heading = "Impresión global de cambio del paciente (PGIC)"
        expect(page.get_by_role("heading", level=1, name=heading)).to_be_visible()
        check_page(page)
        group = page.get_by_role("group", name=re.compile("Desde que comenzó este programa"))
        group.get_by_label("Mucho mejor", exact=True).check()
        page.get_by_role("button", name="Enviar", exact=True).click()

        expect(page.get_by_role("heading", level=1, name="Gracias")).to_be_visible()
        expect(page.get_by_text("se enviaron a su clínica")).to_be_visible()
        check_page(page)
        with live_server.app.app_context():
            sent = db.session.scalars(
                select(MeasureResponse).where(MeasureResponse.assignment_id == assignment)
            ).one()
            assert (sent.answers, sent.total, sent.band_label) == (
                '{"change": 2}',
                2,
                "Much improved",
            )
    finally:
        _reads(live_server, patient_id, "en")

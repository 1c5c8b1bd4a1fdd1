"""The guided session in the patient's language, in the browser: a Spanish-speaking
patient whose clinic has turned Spanish on reads Today and the guided session in Spanish
on a 390 px phone (longer words, no sideways scrolling), and the timer's script speaks
Spanish too: its state, its buttons, what it announces and its end panel.

Sam's record is switched to Spanish for the test and back to English after it, so the
other journeys find the demo as it was. (Sam's plan: 10 minutes a session.)"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import delete

from clinic.extensions import db
from clinic.models import ClinicLanguage, Patient
from tests.e2e.helpers import assert_no_horizontal_scrolling, expect_path, sign_in
from tests.support.browser import LiveServer

pytestmark = pytest.mark.e2e


@pytest.fixture
def sam_in_spanish(live_server: LiveServer) -> Iterator[None]:
    """Sam reads Spanish, and Sam's clinic has turned Spanish on (after its review)."""
    patient_id = live_server.patient_id("Sam Rivera")
    with live_server.app.app_context():
        patient = db.session.get(Patient, patient_id)
        clinic_id = patient.clinic_id
        patient.language = "es"
        db.session.add(
            ClinicLanguage(
                clinic_id=clinic_id,
                code="es",
                reviewed_by="Dr A. Ruiz, pelvic-health physiotherapist",
                reviewed_on=date(2026, 11, 30),
            )
        )
        db.session.commit()
    try:
        yield
    finally:
        with live_server.app.app_context():
            db.session.get(Patient, patient_id).language = "en"
            db.session.execute(
                delete(ClinicLanguage).where(
                    ClinicLanguage.clinic_id == clinic_id, ClinicLanguage.code == "es"
                )
            )
            db.session.commit()


def test_the_guided_session_speaks_spanish(phone_390: Page, sam_in_spanish: None) -> None:
    """Today and the guided session in Spanish at 390 px without sideways scrolling; the
    timer runs, pauses at 1:30 ("En pausa en 1:30."), resumes and stops in Spanish, and its
    end panel says what was timed in Spanish."""
    page = phone_390
    page.clock.install()
    sign_in(page, "sam.rivera@example.org")
    expect_path(page, "/diary/")
    assert page.locator("html").get_attribute("lang") == "es"
    expect(page.get_by_role("heading", name="Sus sesiones")).to_be_visible()
    assert_no_horizontal_scrolling(page)
    page.get_by_role("link", name="Empezar una sesión").click()
    expect_path(page, "/diary/session")
    expect(page.get_by_role("heading", level=1, name="Su sesión")).to_be_visible()
    expect(page.get_by_role("heading", name="Paso a paso")).to_be_visible()
    assert_no_horizontal_scrolling(page)

    page.get_by_role("button", name="Iniciar el temporizador").click()
    expect(page.locator("#timer-state")).to_have_text("en marcha")
    expect(page.locator("#timer-announce")).to_have_text("Temporizador iniciado: 10 minutos.")
    page.clock.run_for(90_000)
    page.get_by_role("button", name="Pausa").click()
    expect(page.locator("#timer-state")).to_have_text("en pausa")
    expect(page.locator("#timer-announce")).to_have_text("En pausa en 1:30.")
    page.get_by_role("button", name="Reanudar").click()
    expect(page.locator("#timer-announce")).to_have_text(
        "El temporizador vuelve a estar en marcha."
    )
    page.get_by_role("button", name="Detener", exact=True).click()
    expect(page.get_by_role("heading", name="Temporizador detenido")).to_be_focused()
    expect(page.locator("#timer-end-summary")).to_have_text("Ha cronometrado 2 minutos.")
    assert_no_horizontal_scrolling(page)

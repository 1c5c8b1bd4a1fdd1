"""Browser journey: a clinician prescribes a graded protocol from a template and records
the first stage decision, keyboard and screen-reader friendly on every page."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect

from clinic.domain.indications import Indication
from clinic.extensions import db
from clinic.models import Clinic, Patient
from tests.e2e.helpers import assert_accessible, expect_path, open_patient_list, sign_in
from tests.support.browser import LiveServer

pytestmark = pytest.mark.e2e


def new_patient(
    live_server: LiveServer,
    *,
    full_name: str = "Robin Protocol",
    born: date = date(1992, 5, 4),
    indication: Indication = Indication.VAGINISMUS,
) -> int:
    """A Northside patient with no protocol yet, made directly in the database."""
    with live_server.app.app_context():
        clinic = db.session.scalars(
            db.select(Clinic).where(Clinic.name == "Northside Pelvic Health")
        ).one()
        patient = Patient(
            clinic_id=clinic.id,
            full_name=full_name,
            date_of_birth=born,
            clinic_identifier=f"NPH-P-{uuid.uuid4().hex[:6]}",
            indication=indication,
        )
        db.session.add(patient)
        db.session.commit()
        return patient.id


def test_clinician_builds_a_protocol_from_a_template(page: Page, live_server: LiveServer) -> None:
    """From the patient's chart (its Protocol section) a clinician picks the template for
    the patient's indication, adjusts the first stage, starts the protocol, sees the plan
    with the current stage marked, moves the patient up a stage with a reason, and opens
    the printable instruction sheet; every page passes the accessibility checks."""
    patient_id = new_patient(live_server)
    sign_in(page, "physio@northside.example")
    expect_path(page, "/dashboard/")
    open_patient_list(page)
    page.goto(f"/patients/{patient_id}")
    chart = page.get_by_role("navigation", name="Patient chart")
    chart.get_by_role("link", name="Protocol").click()

    expect_path(page, f"/patients/{patient_id}/protocol/")
    assert_accessible(page)
    # Templates for the patient's indication come first.
    first_row = page.get_by_role("row").nth(1)
    expect(first_row).to_contain_text("Vaginismus: graded exposure")
    first_row.get_by_role("link", name="Use").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Robin Protocol")
    expect(page.get_by_role("heading", level=2).first).to_have_text("Start a protocol")
    assert_accessible(page)
    page.locator("#stages-0-minutes").fill("5")
    page.locator("#stages-0-technique_notes").fill("Start with 5 minutes; breathe slowly.")
    page.get_by_role("button", name="Start protocol").last.click()

    expect_path(page, f"/patients/{patient_id}/protocol/")
    expect(page.get_by_text("was started")).to_be_visible()
    current = page.locator("tr[aria-current='step']")
    expect(current).to_contain_text("Current")
    expect(current).to_contain_text("Size 1 (13 mm)")
    expect(current).to_contain_text("5")
    assert_accessible(page)

    page.get_by_role("link", name="Move up a stage").click()
    expect(page.get_by_role("heading", level=2).first).to_have_text("Move up a stage")
    assert_accessible(page)
    page.get_by_label("Reason").fill("Comfortable at size 1 in every session.")
    page.get_by_role("button", name="Record").click()

    expect(page.locator("tr[aria-current='step']")).to_contain_text("Size 2 (17 mm)")
    expect(page.get_by_text("Comfortable at size 1 in every session.")).to_be_visible()
    expect(page.get_by_text("The history matches its recorded fingerprints.")).to_be_visible()

    page.get_by_role("link", name="Patient instruction sheet").click()
    expect(page).to_have_title("Your session plan · Clinic workspace")
    expect(page.get_by_role("heading", name="Stage 2 — you are here")).to_be_visible()
    expect(page.get_by_text("go to emergency care")).to_be_visible()
    assert_accessible(page)


def test_a_young_persons_program_names_the_specialist_service(
    page: Page, live_server: LiveServer
) -> None:
    """For a 14-year-old the start form says the age on the start date and asks which
    specialist service leads the program; sent without it, it is refused next to the
    fields with what was typed kept; with it, the protocol page says who leads it."""
    born = date.today() - timedelta(days=14 * 365 + 100)
    patient_id = new_patient(
        live_server,
        full_name="Sky Young",
        born=born,
        indication=Indication.VAGINAL_AGENESIS,
    )
    sign_in(page, "physio@northside.example")
    expect_path(page, "/dashboard/")
    page.goto(f"/patients/{patient_id}/protocol/")
    page.get_by_role("row").nth(1).get_by_role("link", name="Use").click()

    group = page.get_by_role("group", name="Under 18: a specialist service leads")
    expect(group).to_contain_text("Age on the start date")
    expect(group).to_contain_text(": 14, born")
    assert_accessible(page)
    page.get_by_label("Protocol name").fill("Kept name")
    page.get_by_role("button", name="Start protocol").last.click()

    expect(page.locator("#specialist_direction-error")).to_contain_text("under 18")
    expect(page.locator("#specialist_confirmed-error")).to_contain_text("Tick to confirm")
    expect(page.get_by_label("Protocol name")).to_have_value("Kept name")
    assert_accessible(page)
    page.get_by_label("Specialist service leading the program").fill(
        "Dr M. Osei, adolescent gynaecology"
    )
    page.get_by_label("I confirm a specialist service").check()
    page.get_by_role("button", name="Start protocol").last.click()

    expect_path(page, f"/patients/{patient_id}/protocol/")
    expect(page.get_by_text("was started")).to_be_visible()
    expect(
        page.get_by_text("Dr M. Osei, adolescent gynaecology (specialist service for children")
    ).to_be_visible()
    assert_accessible(page)

"""The instruction sheet as a PDF: the plan in force in plain words with the reviewed safety
guidance, under a neutral title and file name, for the clinician to print and for the
patient to download their own (and only their own) plan."""

from __future__ import annotations

import pytest
from flask import Flask

from clinic.core.clock import clinic_today
from clinic.extensions import db
from clinic.models import Clinic, Patient, Protocol
from clinic.protocols.prescriptions import prescription_on
from tests.support.auth import act_as
from tests.support.diaries import ZONE
from tests.support.protocols import start_plan
from tests.support.sheets import GIVEAWAYS, STOP_SIGNAL, clinician_url, download
from tests.support.world import World


# Words that would say what the therapy is, or where on the body.
@pytest.fixture
def on_stage_two(on_protocol: int) -> int:
    """PATIENT's plan, moved up to stage 2 (Size 2, 17 mm) five days ago (`on_protocol`)."""
    return on_protocol


def stage_now(app: Flask, protocol_id: int) -> tuple[str, int]:
    """The dilator (as prescriptions name it) and minutes of the stage in force today."""
    with app.app_context():
        stage = prescription_on(db.session.get(Protocol, protocol_id), clinic_today(ZONE)).stage
        return stage.dilator_size.display, stage.minutes


def test_clinician_sheet_spells_out_the_stage_and_the_safety_guidance(
    app: Flask, client, world: World, on_stage_two: int, as_clinician
) -> None:
    """The clinician's PDF names the current stage's dilator and minutes, marks where the
    patient is, and carries the reviewed stop signal and the clinic's phone."""
    sheet = download(client, clinician_url(world.patient.patient_id, on_stage_two))
    dilator, minutes = stage_now(app, on_stage_two)
    assert dilator == "Size 2 (17 mm)"
    assert f"Use {dilator} for {minutes} minutes" in sheet.text
    assert "Stage 2 — you are here" in sheet.text
    assert STOP_SIGNAL in sheet.text
    assert "go to emergency care" in sheet.text
    assert "0100 000 000" in sheet.text


def test_the_sheet_lists_the_warning_signs_of_the_plan_and_says_what_heavy_bleeding_is(
    client, world: World, on_stage_two: int, as_clinician
) -> None:
    """The printed sheet carries what the portal's safety page does: the warning signs
    this plan asks about (a vaginal plan: infection, stool, wind or urine from the
    vagina; never the anal plans' leakage), what to do about each, and heavy bleeding
    in plain words (clinical reference), without the portal's "tick these" line."""
    text = " ".join(
        download(client, clinician_url(world.patient.patient_id, on_stage_two)).text.split()
    )
    assert "A fever or signs of infection" in text
    assert "Stool (poo), wind or urine (pee) coming from the vagina" in text
    assert "New leaking of stool" not in text
    assert "soaking a pad, passing clots" in text
    assert "Contact the clinic about these, as each one says." in text
    assert "Anything else today?" not in text
    # On paper nothing tells the clinic of distress: the patient is asked to.
    assert "Tell your clinician, who will check in with you gently." in text


def test_sheet_is_discreet_and_anonymous(
    app: Flask, client, world: World, on_stage_two: int, as_clinician
) -> None:
    """Title metadata and file name are neutral; the sheet carries neither the patient's
    name nor their clinic identifier (it may be left on a printer)."""
    sheet = download(client, clinician_url(world.patient.patient_id, on_stage_two))
    assert sheet.title == "Your session plan"
    assert sheet.file_name == "session-plan.pdf"
    for word in GIVEAWAYS:
        assert word not in sheet.title.lower() and word not in sheet.file_name
    with app.app_context():
        patient = db.session.get(Patient, world.patient.patient_id)
        name, identifier = patient.full_name, patient.clinic_identifier
    assert name not in sheet.text and identifier not in sheet.text


def test_sheet_is_on_the_clinics_paper(
    app: Flask, client, world: World, on_stage_two: int, as_clinician
) -> None:
    """A clinic that prints on US Letter gets Letter pages (A4 is the default)."""
    url = clinician_url(world.patient.patient_id, on_stage_two)
    a4 = download(client, url).reader.pages[0].mediabox
    assert round(float(a4.width)) == 595
    with app.app_context():
        db.session.get(Clinic, world.clinic_a).paper_size = "letter"
        db.session.commit()
    letter = download(client, url).reader.pages[0].mediabox
    assert (round(float(letter.width)), round(float(letter.height))) == (612, 792)


def test_other_clinics_clinician_gets_not_found(
    app: Flask, client, world: World, on_stage_two: int
) -> None:
    """Another clinic's clinician cannot learn the sheet exists; nor is a protocol reached
    through another patient's URL."""
    act_as(client, world.other_clinician.id)
    assert client.get(clinician_url(world.patient.patient_id, on_stage_two)).status_code == 404
    act_as(client, world.clinician.id)
    wrong_patient = clinician_url(world.other_patient.patient_id, on_stage_two)
    assert client.get(wrong_patient).status_code == 404


def test_patient_downloads_their_own_plan_only(
    app: Flask, client, world: World, on_stage_two: int
) -> None:
    """The portal serves the signed-in patient's current plan: PATIENT gets stage 2,
    OTHER_PATIENT (on their own plan, still at stage 1) gets theirs."""
    start_plan(app, world.other_patient.patient_id, world.clinician.id)
    act_as(client, world.patient.id)
    mine = download(client, "/diary/plan.pdf")
    assert "Stage 2 — you are here" in mine.text and STOP_SIGNAL in mine.text
    assert mine.title == "Your session plan" and mine.file_name == "session-plan.pdf"
    act_as(client, world.other_patient.id)
    theirs = download(client, "/diary/plan.pdf")
    assert "Stage 1 — you are here" in theirs.text
    assert "Stage 2 — you are here" not in theirs.text


def test_patient_without_a_plan_gets_a_calm_page(client, world: World) -> None:
    """No plan yet: a page saying so (not found), never a server error or an empty PDF."""
    act_as(client, world.other_patient.id)
    response = client.get("/diary/plan.pdf")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "No session plan yet" in html and "has not set up your session plan" in html


def test_the_pages_offer_the_download(client, world: World, on_stage_two: int) -> None:
    """The clinician's printable sheet and the portal's plan page link to their PDF."""
    act_as(client, world.clinician.id)
    url = f"/patients/{world.patient.patient_id}/protocol/{on_stage_two}/instructions"
    html = client.get(url).get_data(as_text=True)
    assert f'href="{url}.pdf">Download as PDF' in html
    act_as(client, world.patient.id)
    html = client.get("/diary/plan").get_data(as_text=True)
    assert 'href="/diary/plan.pdf">Download as PDF' in html


def test_the_printable_page_addresses_the_patient_by_the_name_they_use(
    app: Flask, client, world: World, on_stage_two: int, as_clinician
) -> None:
    """The instruction page a clinician prints for the patient says who it is for with
    the name to use, and with no name to use names nobody (never the legal name's first
    word)."""
    url = f"/patients/{world.patient.patient_id}/protocol/{on_stage_two}/instructions"
    with app.app_context():
        patient = db.session.get(Patient, world.patient.patient_id)
        first_word = patient.full_name.split()[0]
    unnamed = client.get(url).get_data(as_text=True)
    assert f"For {first_word}" not in unnamed and "Plan version" in unnamed
    with app.app_context():
        db.session.get(Patient, world.patient.patient_id).name_to_use = "Robin"
        db.session.commit()
    assert "For Robin. Plan version" in client.get(url).get_data(as_text=True)

"""The instruction sheet in the patient's language (issue 20): the clinician prints it in
the language on the patient's record once the clinic has turned it on, with an English copy
for the clinic's file; the patient downloads their own in their language. Each PDF declares
its language (/Lang), and its title and file name stay neutral in every language."""

from __future__ import annotations

import pytest
from flask import Flask

from tests.support.auth import act_as
from tests.support.languages import speaks
from tests.support.sheets import (
    GIVEAWAYS,
    STOP_SIGNAL,
    clinician_url,
    download,
)
from tests.support.world import World

STOP_SIGNAL_ES = "Un dolor agudo o repentino es una señal para parar."
EMERGENCY_ES = "acuda a urgencias"
BLEEDING_ES = "Contacte con la clínica si el sangrado dura más de unos minutos"
STOP_SIGNAL_FR = "Une douleur vive ou soudaine est un signal pour arrêter."


def language_of(sheet) -> str:
    """The language the PDF's catalog declares (/Lang)."""
    return str(sheet.reader.trailer["/Root"]["/Lang"])


def test_clinician_prints_a_spanish_patients_sheet_in_spanish(
    app: Flask, client, world: World, on_protocol: int, as_clinician
) -> None:
    """For a patient reading Spanish (turned on by the clinic), the sheet is Spanish from
    title to safety guidance, declares /Lang "es", and is named neutrally in Spanish."""
    speaks(app, world.patient.patient_id, "es")
    sheet = download(client, clinician_url(world.patient.patient_id, on_protocol))
    assert language_of(sheet) == "es"
    assert sheet.title == "Su plan de sesiones"
    assert sheet.file_name == "plan-de-sesiones.pdf"
    for words in (STOP_SIGNAL_ES, EMERGENCY_ES, BLEEDING_ES, "Etapa 2 — usted está aquí"):
        assert words in sheet.text, words
    assert "Use Size 2 (17 mm) durante 10 minutos, una vez al día." in sheet.text
    assert "Permanezca en esta etapa al menos 14 días" in sheet.text
    # The page footer too (print.css words it in English; the sheet overrides it).
    assert "Confidencial: información personal de salud." in sheet.text
    assert "Página 1 de" in sheet.text
    for english in (STOP_SIGNAL, "go to emergency care", "Staying safe", "you are here", "Page 1"):
        assert english not in sheet.text, english
    for word in GIVEAWAYS:
        assert word not in sheet.title.lower() and word not in sheet.file_name


def test_the_clinic_gets_an_english_copy(
    app: Flask, client, world: World, on_protocol: int, as_clinician
) -> None:
    """`?copy=clinic` is the same sheet in English for the clinic's file: /Lang "en-GB",
    the English title and file name, the reviewed English stop signal."""
    speaks(app, world.patient.patient_id, "es")
    url = clinician_url(world.patient.patient_id, on_protocol) + "?copy=clinic"
    sheet = download(client, url)
    assert language_of(sheet) == "en-GB"
    assert sheet.title == "Your session plan" and sheet.file_name == "session-plan.pdf"
    assert STOP_SIGNAL in sheet.text and "Stage 2 — you are here" in sheet.text
    assert "Confidential: personal health information." in sheet.text and "Page 1 of" in sheet.text
    assert STOP_SIGNAL_ES not in sheet.text


def test_an_english_sheet_declares_british_english(
    client, world: World, on_protocol: int, as_clinician
) -> None:
    """A patient reading English gets the English sheet, declared en-GB."""
    sheet = download(client, clinician_url(world.patient.patient_id, on_protocol))
    assert language_of(sheet) == "en-GB" and STOP_SIGNAL in sheet.text


def test_a_language_the_clinic_has_not_turned_on_prints_in_english(
    app: Flask, client, world: World, on_protocol: int, as_clinician
) -> None:
    """Until the clinic has reviewed and turned on Spanish, a Spanish reader's sheet is
    printed in the reviewed English."""
    speaks(app, world.patient.patient_id, "es", turned_on=False)
    sheet = download(client, clinician_url(world.patient.patient_id, on_protocol))
    assert language_of(sheet) == "en-GB" and STOP_SIGNAL in sheet.text


def test_a_french_sheet(app: Flask, client, world: World, on_protocol: int, as_clinician) -> None:
    """French is shipped too: /Lang "fr", the French stop signal and file name."""
    speaks(app, world.patient.patient_id, "fr")
    sheet = download(client, clinician_url(world.patient.patient_id, on_protocol))
    assert language_of(sheet) == "fr" and STOP_SIGNAL_FR in sheet.text
    assert sheet.title == "Votre plan de séances" and sheet.file_name == "plan-de-seances.pdf"


def test_the_patient_downloads_their_plan_in_their_language(
    app: Flask, client, world: World, on_protocol: int
) -> None:
    """The portal's plan PDF speaks the patient's language."""
    speaks(app, world.patient.patient_id, "es")
    act_as(client, world.patient.id)
    sheet = download(client, "/diary/plan.pdf")
    assert language_of(sheet) == "es" and STOP_SIGNAL_ES in sheet.text
    assert sheet.file_name == "plan-de-sesiones.pdf"


def test_the_clinicians_page_shows_the_patients_copy_and_links_the_english_one(
    app: Flask, client, world: World, on_protocol: int, as_clinician
) -> None:
    """The printable page shows the sheet in Spanish (its own lang="es" inside the English
    page), says so, and links the English copy for the clinic (page and PDF), which shows
    the English sheet and links back."""
    speaks(app, world.patient.patient_id, "es")
    page = f"/patients/{world.patient.patient_id}/protocol/{on_protocol}/instructions"
    html = client.get(page).get_data(as_text=True)
    assert '<html lang="en-GB"' in html
    assert '<article class="instruction-sheet" lang="es"' in html
    assert "This sheet is in Spanish, the patient's language." in html
    assert STOP_SIGNAL_ES in html and "Su plan de sesiones" in html
    assert f'href="{page}?copy=clinic"' in html
    assert f'href="{page}.pdf?copy=clinic"' in html
    english = client.get(f"{page}?copy=clinic").get_data(as_text=True)
    assert '<article class="instruction-sheet" lang="en-GB"' in english
    assert STOP_SIGNAL in english and STOP_SIGNAL_ES not in english
    assert "This is the English copy for the clinic." in english
    assert f'href="{page}.pdf?copy=clinic"' in english


def test_an_english_readers_page_offers_no_second_copy(
    client, world: World, on_protocol: int, as_clinician
) -> None:
    """A patient reading English needs no separate clinic copy: no such link."""
    page = f"/patients/{world.patient.patient_id}/protocol/{on_protocol}/instructions"
    html = client.get(page).get_data(as_text=True)
    assert "copy=clinic" not in html and STOP_SIGNAL in html


@pytest.mark.parametrize("suffix", ["", ".pdf"])
def test_the_english_copy_keeps_the_access_policy(
    app: Flask, client, world: World, on_protocol: int, suffix: str
) -> None:
    """Another clinic's clinician cannot reach either copy (not found)."""
    speaks(app, world.patient.patient_id, "es")
    act_as(client, world.other_clinician.id)
    page = f"/patients/{world.patient.patient_id}/protocol/{on_protocol}/instructions{suffix}"
    assert client.get(page + "?copy=clinic").status_code == 404
    assert client.get(page).status_code == 404

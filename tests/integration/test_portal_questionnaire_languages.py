"""Questionnaires in the patient's language (issue 20): a patient reading Spanish answers
PGIC and the pain scale in Spanish (their files ship a Spanish translation whose terms
allow it), the page around them is Spanish, and the answers score exactly as the same
answers in English. An instrument with no usable translation is shown in English, with a
note in the patient's language saying so."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import select

from clinic.extensions import db
from clinic.models import MeasureResponse
from tests.support.auth import act_as
from tests.support.languages import speaks
from tests.support.measures import assign, import_instrument, shipped_data
from tests.support.questionnaire_pages import send, url
from tests.support.world import World

ONLY_ENGLISH_ES = "Este cuestionario solo está disponible en inglés."


def response_of(app: Flask, assignment_id: int) -> dict[str, Any]:
    """The stored score of the assignment's submitted response."""
    with app.app_context():
        found = db.session.scalars(
            select(MeasureResponse).where(MeasureResponse.assignment_id == assignment_id)
        ).one()
        return {
            "answers": found.answers,
            "total": found.total,
            "band": found.band_label,
            "domains": found.domains,
            "valid": found.valid,
            "invalid_reason": found.invalid_reason,
            "version": (found.instrument_key, found.instrument_version),
        }


def test_a_spanish_patient_reads_pgic_in_spanish(app: Flask, client, world: World) -> None:
    """The PGIC page: Spanish title, question, answers and buttons; the page declares
    Spanish, and no note about English."""
    speaks(app, world.patient.patient_id, "es")
    assignment = assign(app, world.patient.patient_id, "pgic")
    act_as(client, world.patient.id)
    html = client.get(url(assignment)).get_data(as_text=True)
    assert '<html lang="es"' in html
    assert "Impresión global de cambio del paciente (PGIC)" in html
    assert "Desde que comenzó este programa" in html
    for label in ("Muchísimo mejor", "Sin cambios", "Muchísimo peor"):
        assert label in html
    assert "Enviar" in html and "Guardar y terminar más tarde" in html
    assert "Desde el inicio del programa" in html  # the recall period, capitalised
    for english in ("Very much improved", "Since you started", "Submit", ONLY_ENGLISH_ES):
        assert english not in html, english


def test_the_spanish_pain_scale(app: Flask, client, world: World) -> None:
    """The 0-10 pain scale in Spanish, its ends labelled in Spanish."""
    speaks(app, world.patient.patient_id, "es")
    assignment = assign(app, world.patient.patient_id, "pain-nrs")
    act_as(client, world.patient.id)
    html = client.get(url(assignment)).get_data(as_text=True)
    dash = "\N{EN DASH}"
    assert f"Escala numérica de dolor (0{dash}10)" in html
    assert f"0 {dash} Sin dolor" in html and f"10 {dash} El peor dolor que pueda imaginar" in html
    assert "No pain" not in html


def test_answers_score_alike_in_spanish_and_english(app: Flask, client, world: World) -> None:
    """The same choices, made on the Spanish page by one patient and the English page by
    another, store the same answers, total, band, domains and validity on the same version."""
    speaks(app, world.patient.patient_id, "es")
    for key, chosen in (("pgic", {"change": 2}), ("pain-nrs", {"pain": 7})):
        spanish = assign(app, world.patient.patient_id, key)
        english = assign(app, world.other_patient.patient_id, key)
        act_as(client, world.patient.id)
        assert send(client, spanish, "submit", **chosen).status_code == 302
        act_as(client, world.other_patient.id)
        assert send(client, english, "submit", **chosen).status_code == 302
        assert response_of(app, spanish) == response_of(app, english)
        assert response_of(app, spanish)["total"] is not None


def test_an_instrument_without_a_translation_says_it_is_english_only(
    app: Flask, client, world: World
) -> None:
    """The clinic's own version of dilator confidence, imported without translations, is
    shown in English to a Spanish reader: the note says so in Spanish, the English wording
    is marked lang="en", and the buttons stay Spanish."""
    data = shipped_data("dilator-confidence.json")
    data.pop("translations")
    data["version"] = "2"
    import_instrument(app, world.clinic_a, data)
    speaks(app, world.patient.patient_id, "es")
    assignment = assign(app, world.patient.patient_id, "dilator-confidence")
    act_as(client, world.patient.id)
    html = client.get(url(assignment)).get_data(as_text=True)
    assert ONLY_ENGLISH_ES in html
    assert '<h1 lang="en">Dilator confidence</h1>' in html
    assert '<span lang="en">Not at all confident</span>' in html
    assert "Enviar" in html


def test_a_language_not_turned_on_keeps_the_english_questionnaire(
    app: Flask, client, world: World
) -> None:
    """Until the clinic turns Spanish on, the patient is served English throughout, with
    no note (English is their page's language)."""
    speaks(app, world.patient.patient_id, "es", turned_on=False)
    assignment = assign(app, world.patient.patient_id, "pgic")
    act_as(client, world.patient.id)
    html = client.get(url(assignment)).get_data(as_text=True)
    assert "Very much improved" in html and "Submit" in html
    assert "Muchísimo mejor" not in html and "only available in English" not in html


def test_today_and_the_list_name_questionnaires_in_spanish(
    app: Flask, client, world: World
) -> None:
    """Today's waiting list and the Questionnaires page give the Spanish title and count;
    once sent, the thank-you page and the list of sent ones name it in Spanish too."""
    speaks(app, world.patient.patient_id, "es")
    assignment = assign(app, world.patient.patient_id, "dilator-confidence")
    act_as(client, world.patient.id)
    listed = client.get("/diary/questionnaires").get_data(as_text=True)
    assert "Confianza con el dilatador" in listed and "5 preguntas" in listed
    assert "Empezar" in listed
    answers = {"insert": 2, "on_own": 2, "discomfort": 2, "keep_going": 2, "next_size": 1}
    sent = send(client, assignment, "submit", **answers)
    assert sent.status_code == 302
    thanks = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert "Gracias" in thanks and "Confianza con el dilatador" in thanks
    listed = client.get("/diary/questionnaires").get_data(as_text=True)
    assert "Ya enviados" in listed and "Confianza con el dilatador" in listed

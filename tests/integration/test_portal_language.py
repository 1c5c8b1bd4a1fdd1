"""The patient's portal in the patient's language (issue 20): a Spanish-speaking patient
whose clinic has turned Spanish on reads Today, the diary forms, a saved entry with the
red-flag guidance, their entries, Progress, the plan and the guided session in Spanish,
with no English sentence of the portal's left; without the clinic's row the same patient
reads English; the parts of Today and Progress kept under the summary version are kept
per language, so neither language is ever served the other's."""

from __future__ import annotations

import re
from datetime import date
from functools import cache

from babel.messages.pofile import read_po
from flask import Flask
from sqlalchemy import delete

from clinic.extensions import db
from clinic.i18n import TRANSLATIONS
from clinic.models import ClinicLanguage, Patient, Protocol
from tests.support.auth import act_as
from tests.support.forms import form_values
from tests.support.world import World

PAGES = {
    "today": "/diary/",
    "log": "/diary/log",
    "skip": "/diary/skip",
    "history": "/diary/entries",
    "progress": "/diary/progress",
    "plan": "/diary/plan",
    "session": "/diary/session",
    "reminders": "/diary/reminders",
}
# Where the portal's own messages come from (the questionnaires and the shared safety
# templates are checked where they are made).
PORTAL_SOURCES = re.compile(
    r"^(templates/portal/(?!questionnaire)[^/]+\.html"
    r"|clinic/portal/(?!measures)[^/]+\.py"
    r"|clinic/diary/.*\.py"
    r"|clinic/core/(words|timezones)\.py"
    r"|clinic/reminders/(forms|views)\.py"
    r"|clinic/domain/(diary|session_guide)\.py)$"
)
TAG = re.compile(r"<[^>]+>")
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def words(html: str) -> str:
    """The text a page shows, tags removed and whitespace collapsed."""
    body = html.split("<body", 1)[-1]
    body = re.sub(r"<script\b.*?</script>", " ", body, flags=re.S)
    return " ".join(TAG.sub(" ", body).replace("&#39;", "'").replace("&amp;", "&").split())


@cache
def portal_english() -> list[str]:
    """The portal's English sentences longer than three words: each message's text between
    its placeholders and tags (from the catalogue template, current by the unit tests)."""
    with (TRANSLATIONS / "messages.pot").open("rb") as source:
        template = read_po(source)
    found = set()
    for message in template:
        if not message.id or not any(PORTAL_SOURCES.match(f) for f, _ in message.locations):
            continue
        for text in message.id if isinstance(message.id, tuple) else [message.id]:
            for part in re.split(r"%\(\w+\)[sd]|<[^>]+>", text):
                part = " ".join(part.split()).strip(" .,:;")
                if len(part.split()) > 3:
                    found.add(part)
    return sorted(found)


def speaks(app: Flask, world: World, code: str, *, clinic_on: bool) -> None:
    """The world's patient reads `code` on their record; their clinic has turned it on
    (after its own review) or not."""
    with app.app_context():
        patient = db.session.get(Patient, world.patient.patient_id)
        patient.language = code
        db.session.execute(
            delete(ClinicLanguage).where(ClinicLanguage.clinic_id == patient.clinic_id)
        )
        if clinic_on:
            db.session.add(
                ClinicLanguage(
                    clinic_id=patient.clinic_id,
                    code=code,
                    reviewed_by="Dr A. Ruiz, pelvic-health physiotherapist",
                    reviewed_on=date(2026, 11, 30),
                )
            )
        db.session.commit()


def log_red_flag(client) -> str:
    """Log a session with sharp pain and bleeding beyond spotting through the form; the
    saved entry's page."""
    values = form_values(client.get("/diary/log").get_data(as_text=True))
    values.pop("concerns", None)
    values |= {"pain_during": "3", "pain_after": "2", "bleeding": "more", "sharp_pain": "yes"}
    saved = client.post("/diary/log", data=values)
    assert saved.status_code == 302, saved.get_data(as_text=True)
    return client.get(saved.headers["Location"]).get_data(as_text=True)


def clinic_notes(app: Flask, protocol_id: int) -> list[str]:
    """The clinician's technique notes of the plan's stages: the clinic's own words, shown
    as written (they may repeat the portal's stop rule in English)."""
    with app.app_context():
        protocol = db.session.get(Protocol, protocol_id)
        return [
            " ".join(stage.technique_notes.split())
            for version in protocol.versions
            for stage in version.stages
            if stage.technique_notes
        ]


def english_left(text: str, notes: list[str]) -> list[str]:
    """The portal's English sentences found in a page's text, the clinic's notes aside."""
    for note in notes:
        text = text.replace(note, " ")
    return [sentence for sentence in portal_english() if sentence in text]


def test_the_portal_english_list_is_not_empty() -> None:
    """The check below has something to look for: the portal's sentences, safety wording
    among them."""
    sentences = portal_english()
    assert len(sentences) > 100
    assert "If the bleeding is heavy, get urgent medical care now" in sentences
    assert "Stop if you feel sharp or sudden pain" in sentences


def test_a_spanish_patient_reads_the_portal_in_spanish(
    app: Flask, client, world: World, on_protocol: int
) -> None:
    """Spanish on the record and turned on by the clinic: every portal page, the form
    labels and the guided session's steps are in Spanish, the page says lang="es", and no
    English sentence of the portal's is left; after a session with sharp pain and heavy
    bleeding, the entry page asks them to stop and gives the bleeding guidance in Spanish."""
    speaks(app, world, "es", clinic_on=True)
    act_as(client, world.patient.id)
    notes = clinic_notes(app, on_protocol)
    expected = {
        "today": ["Sus sesiones", "Registrar una sesión", "Pare si siente un dolor agudo"],
        "log": ["¿Algún dolor agudo o repentino?", "Dolor durante la sesión", "Ninguno"],
        "skip": ["¿Por qué no se hizo?", "Falta de tiempo", "Otro motivo"],
        "history": ["Sus registros"],
        "progress": [
            "Progreso",
            "Sesiones hechas últimamente",
            "Hitos",
            "Sesiones hechas cada semana",
        ],
        "plan": ["Su plan de sesiones"],
        "session": ["Prepárese", "Use abundante lubricante", "Temporizador", "Paso a paso"],
        "reminders": [
            "Recordatorios",
            "Horario de silencio",
            "Segunda hora para Lunes",
            "Lo que llega",
        ],
    }
    for name, path in PAGES.items():
        response = client.get(path)
        assert response.status_code == 200, name
        html = response.get_data(as_text=True)
        assert '<html lang="es"' in html, name
        text = words(html)
        for spanish in expected[name]:
            assert spanish in text, (name, spanish)
        if name == "plan":
            # The plan is the shared session plan and safety guidance (templates/shared,
            # which say the same in the printed sheet): checked with them. Only the page's
            # own words here: the page up to the plan itself.
            text = text.split("Descargar en PDF", 1)[0]
        assert english_left(text, notes) == [], name

    reminders = client.get(PAGES["reminders"]).get_data(as_text=True)
    assert 'optgroup label="Más usadas"' in reminders  # the time zones' groups too
    session = client.get(PAGES["session"]).get_data(as_text=True)
    assert "Temporizador iniciado: {minutes}." in session  # what the timer's script says

    entry = log_red_flag(client)
    text = words(entry)
    assert "Pare por hoy, por favor" in text
    assert "Nos ha comunicado: sangrado más que un manchado, dolor agudo." in text
    assert "Si el sangrado es abundante, busque atención médica urgente ahora." in text
    assert "<strong>Sangrado abundante</strong>" in entry
    assert "Busque atención de urgencia ahora" in text
    assert english_left(text, notes) == []

    listed = words(client.get(PAGES["history"]).get_data(as_text=True))
    assert "Clínica avisada" in listed and english_left(listed, notes) == []
    progress = words(client.get(PAGES["progress"]).get_data(as_text=True))
    assert "Dolor durante y después de las sesiones" in progress
    assert "etapa 2, 17 mm" in progress and english_left(progress, notes) == []


def test_without_the_clinics_review_the_patient_reads_english(
    app: Flask, client, world: World, on_protocol: int
) -> None:
    """Spanish on the record, but the clinic has not turned Spanish on: English, as the
    portal has always read."""
    speaks(app, world, "es", clinic_on=False)
    act_as(client, world.patient.id)
    for name, path in PAGES.items():
        html = client.get(path).get_data(as_text=True)
        assert '<html lang="en-GB"' in html, name
    today = words(client.get(PAGES["today"]).get_data(as_text=True))
    assert "Your sessions" in today and "Sus sesiones" not in today
    session = words(client.get(PAGES["session"]).get_data(as_text=True))
    assert "Get ready" in session and "Prepárese" not in session


def test_kept_parts_are_kept_per_language(
    app: Flask, client, world: World, on_protocol: int
) -> None:
    """Today's sessions article and Progress are kept under the patient's summary
    version; turning the clinic's Spanish on and off changes no summary, yet each visit
    gets its own language: English kept first is never served in Spanish, nor the other
    way round."""
    act_as(client, world.patient.id)
    speaks(app, world, "es", clinic_on=False)
    for _ in range(2):
        today = words(client.get(PAGES["today"]).get_data(as_text=True))
        progress = words(client.get(PAGES["progress"]).get_data(as_text=True))
        assert "Your sessions" in today and "Sus sesiones" not in today
        assert "Moved to Size 2 (17 mm) in week 3" in progress
        speaks(app, world, "es", clinic_on=True)
        today = words(client.get(PAGES["today"]).get_data(as_text=True))
        progress = words(client.get(PAGES["progress"]).get_data(as_text=True))
        assert "Sus sesiones" in today and "Your sessions" not in today
        assert "Pasó a Size 2 (17 mm) en la semana 3" in progress
        assert "Moved to" not in progress
        speaks(app, world, "es", clinic_on=False)

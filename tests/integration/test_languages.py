"""Languages (issue 20): an administrator turns a shipped language on for their clinic only
after recording its review, or off again; the patient's record names their language and the
chart says whether they read it; the request's language follows the rules of clinic.i18n."""

from __future__ import annotations

import re
from datetime import date, timedelta

from babel.support import Translations
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale
from sqlalchemy import select

from clinic.auth.services import issue_invitation
from clinic.core.forms import ClinicForm
from clinic.extensions import db
from clinic.models import AuditEvent, ClinicLanguage, Patient, User
from clinic.models.invitations import RESET
from tests.support.auth import act_as
from tests.support.languages import speaks
from tests.support.world import World

TOKEN = re.compile(r'name="(es-csrf_token)"[^>]*value="([^"]+)"')


def turn_on_form(client: FlaskClient, **values: str) -> dict[str, str]:
    """The Spanish form's fields as the page gives them, with `values` filled in."""
    page = client.get("/admin/languages/").get_data(as_text=True)
    name, token = TOKEN.search(page).groups()
    return {name: token, **{f"es-{key}": value for key, value in values.items()}}


def rows(app: Flask, clinic_id: int) -> list[ClinicLanguage]:
    with app.app_context():
        return list(
            db.session.scalars(select(ClinicLanguage).where(ClinicLanguage.clinic_id == clinic_id))
        )


def set_language(app: Flask, patient_id: int, code: str) -> None:
    with app.app_context():
        db.session.get_one(Patient, patient_id).language = code
        db.session.commit()


def test_an_administrator_turns_a_language_on_after_recording_its_review(
    app: Flask, client: FlaskClient, world: World
) -> None:
    """Turning Spanish on records who reviewed it and when, is audited with both, applies
    to the administrator's clinic only, and the page then says it is on."""
    act_as(client, world.admin.id)
    page = client.get("/admin/languages/").get_data(as_text=True)
    assert "Spanish" in page and "Español" in page and "not yet reviewed" in page
    response = client.post(
        "/admin/languages/es/on",
        data=turn_on_form(
            client, reviewed_by="A. Ruiz, physiotherapist", reviewed_on="2026-11-30", confirm="y"
        ),
    )
    assert response.status_code == 302
    [row] = rows(app, world.clinic_a)
    assert (row.code, row.reviewed_by, row.reviewed_on) == (
        "es",
        "A. Ruiz, physiotherapist",
        date(2026, 11, 30),
    )
    assert rows(app, world.clinic_b) == []
    page = client.get("/admin/languages/").get_data(as_text=True)
    assert "reviewed by A. Ruiz, physiotherapist on 30 Nov 2026" in page
    with app.app_context():
        event = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "clinic.language_on")
        ).one()
        assert "A. Ruiz" in event.detail and '"es"' in event.detail


def test_turning_on_without_the_review_says_what_is_missing_and_keeps_what_was_typed(
    app: Flask, client: FlaskClient, world: World
) -> None:
    """No confirmation, no reviewer or a review date in the future: the page answers with
    plain-words errors, keeps what was typed and turns nothing on."""
    act_as(client, world.admin.id)
    future = (date.today() + timedelta(days=3)).isoformat()
    response = client.post(
        "/admin/languages/es/on",
        data=turn_on_form(client, reviewed_by="  ", reviewed_on=future),
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Enter who reviewed it" in page
    assert "Confirm the review before turning the language on." in page
    assert "today or earlier" in page
    assert f'value="{future}"' in page
    assert rows(app, world.clinic_a) == []


def test_unknown_languages_and_english_are_not_pages(client: FlaskClient, world: World) -> None:
    """Only shipped languages other than English can be turned on or off."""
    act_as(client, world.admin.id)
    for code in ("xx", "en", "de"):
        assert client.post(f"/admin/languages/{code}/on").status_code == 404
        assert client.post(f"/admin/languages/{code}/off").status_code == 404


def test_turning_off_leaves_the_patients_record_and_serves_english(
    app: Flask, client: FlaskClient, world: World
) -> None:
    """A Spanish patient reads Spanish while it is on (the page says lang="es") and English
    once it is off; their record keeps "es", so turning it on again restores it."""
    set_language(app, world.patient.patient_id, "es")
    act_as(client, world.admin.id)
    client.post(
        "/admin/languages/es/on",
        data=turn_on_form(client, reviewed_by="A. Ruiz", reviewed_on="2026-11-30", confirm="y"),
    )
    patient = app.test_client()
    act_as(patient, world.patient.id)
    assert '<html lang="es" dir="ltr">' in patient.get("/account").get_data(as_text=True)
    assert client.post("/admin/languages/es/off").status_code == 302
    assert '<html lang="en-GB" dir="ltr">' in patient.get("/account").get_data(as_text=True)
    with app.app_context():
        assert db.session.get_one(Patient, world.patient.patient_id).language == "es"
    assert "already off" in client.post("/admin/languages/es/off", follow_redirects=True).get_data(
        as_text=True
    )


def test_staff_read_english_and_visitors_their_browsers_language(
    app: Flask, client: FlaskClient, world: World
) -> None:
    """Before sign-in, Accept-Language chooses among the shipped languages; staff pages are
    English whatever the browser asks for."""
    visitor = app.test_client()
    for header, lang in (("es-ES,es;q=0.9", "es"), ("fr", "fr"), ("de, en;q=0.5", "en-GB")):
        page = visitor.get("/login", headers={"Accept-Language": header}).get_data(as_text=True)
        assert f'<html lang="{lang}"' in page
    act_as(client, world.clinician.id)
    page = client.get("/dashboard/", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert '<html lang="en-GB"' in page


def test_the_chart_shows_the_patients_language_and_whether_they_read_it(
    app: Flask, client: FlaskClient, world: World
) -> None:
    """The record details name the language, and say when the clinic has not turned it on
    (so the patient still reads English)."""
    set_language(app, world.patient.patient_id, "fr")
    act_as(client, world.clinician.id)
    page = client.get(f"/patients/{world.patient.patient_id}").get_data(as_text=True)
    assert "French" in page and "Français" in page
    assert "Not turned on at this clinic yet" in page


def test_the_clinician_records_the_language_on_the_patients_record(
    app: Flask, client: FlaskClient, world: World
) -> None:
    """Editing the record saves the chosen language; an unknown one is refused in plain
    words and nothing is saved."""
    act_as(client, world.clinician.id)
    form = client.get(f"/patients/{world.patient.patient_id}/edit").get_data(as_text=True)
    assert 'name="language"' in form and "Spanish (Español)" in form
    with app.app_context():
        patient = db.session.get_one(Patient, world.patient.patient_id)
        data = {
            "full_name": patient.full_name,
            "date_of_birth": patient.date_of_birth.isoformat(),
            "clinic_identifier": patient.clinic_identifier,
            "indication": patient.indication.value,
            "status": patient.status.value,
            "responsible_clinician_id": str(patient.responsible_clinician_id or ""),
        }
    refused = client.post(
        f"/patients/{world.patient.patient_id}/edit", data={**data, "language": "xx"}
    )
    assert refused.status_code == 200
    assert "Choose one of the languages listed." in refused.get_data(as_text=True)
    saved = client.post(
        f"/patients/{world.patient.patient_id}/edit", data={**data, "language": "es"}
    )
    assert saved.status_code == 302
    with app.app_context():
        assert db.session.get_one(Patient, world.patient.patient_id).language == "es"


def test_invitation_and_reset_links_open_in_the_patients_language(app: Flask, world: World) -> None:
    """A link emailed to a patient who reads Spanish opens in Spanish even in a browser that
    asks for English (the page knows whose link it is); a staff member's opens in English
    even in a browser that asks for Spanish."""
    speaks(app, world.patient.patient_id, "es")
    with app.app_context():
        patient = db.session.get_one(User, world.patient.id)
        patient.password_hash = None  # invited, not yet signed in
        invitation = issue_invitation(patient, created_by=None)
        reset = issue_invitation(
            db.session.get_one(User, world.other_patient.id), created_by=None, purpose=RESET
        )
        staff_reset = issue_invitation(
            db.session.get_one(User, world.clinician.id), created_by=None, purpose=RESET
        )
        db.session.commit()
    speaks(app, world.other_patient.patient_id, "es")
    visitor = app.test_client()
    english = {"Accept-Language": "en-GB"}
    page = visitor.get(f"/invitation/{invitation}", headers=english).get_data(as_text=True)
    assert '<html lang="es"' in page and "contraseña" in page.lower()
    page = visitor.get(f"/password/reset/{reset}", headers=english).get_data(as_text=True)
    assert '<html lang="es"' in page
    page = visitor.get(
        f"/password/reset/{staff_reset}", headers={"Accept-Language": "es"}
    ).get_data(as_text=True)
    assert '<html lang="en-GB"' in page


def test_wtforms_own_messages_follow_the_request_language_from_a_catalogue_read_once(
    app: Flask,
) -> None:
    """A form's built-in messages (WTForms' own, such as "Not a valid choice.") are in the
    language being spoken, French and Spanish as well as English, and each language's
    catalogue is read from disk once, not again for every request that makes a form."""
    said: dict[str, str] = {}
    catalogues = []
    for code in ("fr", "es", "en", "fr"):
        with app.test_request_context("/"), force_locale(code):
            form = ClinicForm(meta={"csrf": False})
            translations = form.meta.get_translations(form)
            said[code] = translations.gettext("Not a valid choice.")
            catalogues.append(translations)
    assert said == {
        "fr": "N'est pas un choix valide.",
        "es": "Opción inválida.",
        "en": "Not a valid choice.",
    }
    # The catalogue itself (not Flask-WTF's stand-in, which reads it again per request),
    # the same one for French both times.
    assert isinstance(catalogues[0], Translations) and catalogues[0] is catalogues[3]

"""The patient's side outside the portal pages speaks the patient's language (issue 20):
emails and notifications in the patient's effective language (their record's, when their
clinic has turned it on; English otherwise, and for staff), the choice of language on the
account page, the browser's Accept-Language before sign-in, and translated error pages."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from flask import Flask, abort
from flask.testing import FlaskClient
from sqlalchemy import select

from clinic.access import public
from clinic.account.services import change_password
from clinic.auth.invitations import remind
from clinic.auth.services import issue_invitation
from clinic.core.mail import Message
from clinic.core.uow import unit_of_work
from clinic.domain.protocols import EventKind
from clinic.domain.reminders import Kind, Slot
from clinic.extensions import db
from clinic.i18n import language_for, speaking
from clinic.models import (
    AuditEvent,
    CareFlag,
    Clinic,
    DilatorSet,
    DilatorSize,
    Invitation,
    MeasureResponse,
    Patient,
    Protocol,
    ProtocolEvent,
    RedFlag,
    ReminderPlan,
    Role,
    User,
)
from clinic.models.types import utcnow
from clinic.reminders.jobs import send_reminders_now
from clinic.reminders.sending import notification_words
from clinic.reminders.services import ReminderChoice, save_reminders
from tests.support.auth import act_as
from tests.support.clock import Clock, frozen_at
from tests.support.factories import PASSWORD, make_user
from tests.support.forms import form_values
from tests.support.invitations import choose_password, invite_patient
from tests.support.languages import language_of, speaks, turn_on
from tests.support.mail import link_path, to
from tests.support.privacy import assert_discreet
from tests.support.protocols import start_plan
from tests.support.records import full_record
from tests.support.translations import english_on_page
from tests.support.translations import words as words_of
from tests.support.world import World

MORNING = datetime(2027, 1, 12, 9, 5, tzinfo=UTC)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return frozen_at(monkeypatch, MORNING)


def page(response) -> str:
    """The page's HTML, its entities read (an apostrophe is sent as &#39;)."""
    return unescape(response.get_data(as_text=True))


# --- Emails in the patient's language ---------------------------------------------------


@pytest.mark.parametrize(
    ("code", "turned_on", "subject", "greeting", "expiry"),
    [
        ("es", True, "Configure su cuenta", "Hola:", "El enlace funciona una sola vez, hasta el"),
        ("fr", True, "Configurez votre compte", "Bonjour,", "Le lien ne fonctionne qu'une fois"),
        ("en", True, "Set up your account", "Hello,", "The link works once, until"),
        # The record says Spanish, but the clinic has not turned it on: English.
        ("es", False, "Set up your account", "Hello,", "The link works once, until"),
    ],
)
def test_an_invitation_is_emailed_in_the_patients_language(
    app: Flask,
    client,
    world: World,
    mail: list[Message],
    as_clinician,
    code: str,
    turned_on: bool,
    subject: str,
    greeting: str,
    expiry: str,
) -> None:
    """A clinician (whose pages are English) invites a patient: the email (subject and
    body, its date in the language's form) is in the patient's effective language, stays
    discreet, and its link works."""
    speaks(app, world.offline_patient_id, code, turned_on=turned_on)
    response = invite_patient(client, world.offline_patient_id, "new.patient@example.org")
    assert "We are emailing the invitation to" in page(response)  # the clinician's English
    [message] = to(mail, "new.patient@example.org")
    assert message.subject == subject
    assert message.body.startswith(greeting)
    assert expiry in message.body
    assert_discreet(message)
    assert choose_password(app.test_client(), link_path(message, "/invitation/")).status_code == 302


@pytest.mark.parametrize(
    ("code", "subject", "words"),
    [
        ("es", "Su cuenta está pendiente de configurar", "Busque el mensaje «Configure su cuenta»"),
        ("fr", "Votre compte attend d'être configuré", "Cherchez le message « Configurez votre"),
        (
            "en",
            "Your account is waiting to be set up",
            'Look for the message "Set up your account"',
        ),
    ],
)
def test_the_invitation_reminder_names_the_first_email_in_the_same_language(
    app: Flask, client, world: World, mail: list[Message], as_clinician, code, subject, words
) -> None:
    """The reminder three days on is in the patient's language, and names the invitation
    by the subject the patient received."""
    speaks(app, world.offline_patient_id, code)
    invite_patient(client, world.offline_patient_id, "later@example.org")
    with app.app_context(), unit_of_work():
        user_id = db.session.get_one(Patient, world.offline_patient_id).user_id
        invitation = db.session.scalars(
            select(Invitation).where(Invitation.user_id == user_id)
        ).one()
        assert remind(invitation)
    reminder = to(mail, "later@example.org")[-1]
    assert reminder.subject == subject
    assert words in reminder.body
    assert_discreet(reminder)


@pytest.mark.parametrize(
    ("code", "subject", "words"),
    [
        ("es", "Su enlace para iniciar sesión", "abra este enlace durante la próxima hora"),
        ("fr", "Votre lien de connexion", "ouvrez ce lien dans l'heure qui suit"),
        ("en", "Your sign-in link", "open this link within the next hour"),
    ],
)
def test_a_reset_link_is_emailed_in_the_patients_language(
    app: Flask, client, world: World, mail: list[Message], code, subject, words
) -> None:
    """Asked for from the sign-in page (whatever the browser's language), the reset email
    is in the language of the account it is for, and its link works."""
    speaks(app, world.patient.patient_id, code)
    client.post(
        "/password/forgot", data={"email": world.patient.email}, headers={"Accept-Language": "de"}
    )
    [message] = to(mail, world.patient.email)
    assert message.subject == subject
    assert words in message.body
    assert_discreet(message)
    assert app.test_client().get(link_path(message, "/password/reset/")).status_code == 200


def test_staff_emails_stay_english_whatever_the_browser_or_clinic(
    app: Flask, client, world: World, mail: list[Message]
) -> None:
    """A clinician's reset email is English, though the clinic has Spanish on and the
    request came from a Spanish browser: the clinician's side ships in English."""
    turn_on(app, world.clinic_a, "es")
    client.post(
        "/password/forgot",
        data={"email": world.clinician.email},
        headers={"Accept-Language": "es"},
    )
    [message] = to(mail, world.clinician.email)
    assert message.subject == "Your sign-in link"
    assert message.body.startswith("Hello,")
    with app.app_context():
        assert language_for(db.session.get_one(User, world.clinician.id)) == "en"


@pytest.mark.parametrize(
    ("code", "subject", "words"),
    [
        ("es", "Su recordatorio", "Este es el recordatorio que programó para las 10:00."),
        ("fr", "Votre rappel", "Voici le rappel que vous avez programmé pour 10:00."),
        ("en", "Your reminder", "This is the reminder you set for 10:00."),
    ],
)
def test_a_reminder_is_emailed_in_the_patients_language(
    app: Flask,
    world: World,
    on_protocol: int,
    clock: Clock,
    mail: list[Message],
    code: str,
    subject: str,
    words: str,
) -> None:
    """The minute's job sends the patient's reminder (the subject they chose, the body)
    in their language; a patient of the same batch in English gets English."""
    speaks(app, world.patient.patient_id, code)
    start_plan(app, world.other_patient.patient_id, world.clinician.id, [])
    at = MORNING.replace(hour=10, minute=0)
    every_day = tuple(Slot(day, at.time()) for day in range(7))
    with app.app_context(), unit_of_work():
        for person in (world.patient, world.other_patient):
            patient = db.session.get_one(Patient, person.patient_id)
            choice = ReminderChoice(True, every_day, None, "UTC", "reminder", False)
            save_reminders(patient, choice, db.session.get_one(User, person.id), clock())
    clock.set(at)
    with app.app_context():
        send_reminders_now()
    [message] = to(mail, world.patient.email)
    assert message.subject == subject
    assert words in message.body
    assert_discreet(message)
    [other] = to(mail, world.other_patient.email)
    assert other.subject == "Your reminder"


def test_notification_words_follow_the_language_they_are_composed_in(
    app: Flask, world: World
) -> None:
    """A Web Push notification's title and text are composed in the patient's language
    (the job composes them inside `speaking`), as neutral as in English."""
    with app.app_context():
        plan = ReminderPlan(subject="routine")
        with speaking("es"):
            title, body = notification_words(plan, Kind.REMINDER, "08:30")
        assert (title, body) == (
            "Es el momento de su rutina",
            "El recordatorio que programó para las 08:30. Ábralo para iniciar sesión.",
        )
        with speaking("fr"):
            title, body = notification_words(plan, Kind.NUDGE, "08:30")
        assert title == "C'est l'heure de votre routine"
        assert body == "Quand vous serez prêt·e, ouvrez pour vous connecter et reprendre."
        for text in (title, body):
            assert_discreet(Message(to="x@example.org", subject=text, body=""))


# --- The patient's choice of language ----------------------------------------------------


def test_the_account_page_offers_english_and_the_clinics_languages_by_their_own_names(
    app: Flask, client, world: World, as_patient
) -> None:
    """With Spanish turned on by the clinic, the account page offers English and
    "Español" (marked as Spanish for screen readers), not French; English is chosen."""
    turn_on(app, world.clinic_a, "es")
    html = page(client.get("/account"))
    assert 'action="/account/language"' in html
    assert '<span lang="es">Español</span>' in html
    assert '<span lang="en">English</span>' in html
    assert "Français" not in html
    assert re.search(r'<input checked[^>]* value="en">', html)


def test_no_choice_when_the_clinic_offers_english_only(client, world: World, as_patient) -> None:
    """A clinic that has turned on no other language shows no choice to make."""
    assert 'action="/account/language"' not in page(client.get("/account"))


def test_staff_are_not_offered_a_language_and_cannot_choose_one(
    app: Flask, client, world: World, as_clinician
) -> None:
    """Staff pages ship in English: no choice on their account page, and the address
    refuses them."""
    turn_on(app, world.clinic_a, "es")
    assert 'action="/account/language"' not in page(client.get("/account"))
    assert client.post("/account/language", data={"language": "es"}).status_code == 403


def test_choosing_a_language_saves_it_audits_it_and_the_next_page_speaks_it(
    app: Flask, client, world: World, as_patient
) -> None:
    """The patient chooses Español: it is saved on their record, the audit trail says
    from what to what, and the next page (and its menu) is in Spanish. Choosing English
    again brings English back."""
    turn_on(app, world.clinic_a, "es", "fr")
    response = client.post("/account/language", data={"language": "es"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/account"
    assert language_of(app, world.patient.patient_id) == "es"
    with app.app_context():
        event = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "account.language")
        ).one()
        assert event.patient_id == world.patient.patient_id
        assert event.actor_id == world.patient.id
        assert json.loads(event.detail) == {"from": "en", "to": "es"}
    html = page(client.get("/account"))
    assert '<html lang="es"' in html
    assert "<h1>Su cuenta</h1>" in html
    assert "Idioma guardado: Español." in html
    assert ">Hoy</a>" in html and ">Cerrar sesión</button>" in html
    assert re.search(r'<input checked[^>]* value="es">', html)
    client.post("/account/language", data={"language": "en"})
    html = page(client.get("/account"))
    assert '<html lang="en-GB"' in html and "<h1>Your account</h1>" in html


def test_a_language_the_clinic_has_not_turned_on_is_refused(
    app: Flask, client, world: World, as_patient
) -> None:
    """French, shipped but not turned on by this clinic, is refused with a clear message
    next to the choice; nothing is saved or audited as done."""
    turn_on(app, world.clinic_a, "es")
    for code in ("fr", "xx", ""):
        response = client.post("/account/language", data={"language": code})
        assert response.status_code == 400
        assert "Choose one of the languages listed." in page(response)
        assert language_of(app, world.patient.patient_id) == "en"
    with app.app_context():
        done = db.session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "account.language", AuditEvent.outcome == "ok"
            )
        ).all()
        assert done == []


def test_the_choice_needs_the_forms_csrf_token(
    app: Flask, client, world: World, as_patient
) -> None:
    """A choice sent without the page's CSRF token (another site's form) changes nothing."""
    turn_on(app, world.clinic_a, "es")
    response = client.post("/account/language", data={"language": "es"}, csrf=False)
    assert response.status_code == 400
    assert language_of(app, world.patient.patient_id) == "en"


def test_the_choice_is_always_the_signed_in_patients_own(
    app: Flask, client, world: World, as_patient
) -> None:
    """The record changed is the session's patient's: a patient id slipped into the form
    (or the address) changes no one else's language."""
    turn_on(app, world.clinic_a, "es")
    client.post(
        f"/account/language?patient_id={world.other_patient.patient_id}",
        data={"language": "es", "patient_id": world.other_patient.patient_id},
    )
    assert language_of(app, world.patient.patient_id) == "es"
    assert language_of(app, world.other_patient.patient_id) == "en"
    assert language_of(app, world.other_clinic_patient.patient_id) == "en"


def test_the_chosen_language_reaches_the_patients_emails(
    app: Flask, client, world: World, mail: list[Message], as_patient
) -> None:
    """Once chosen on the account page, the language is the one the patient's next email
    (here the notice of a password change) is written in."""
    turn_on(app, world.clinic_a, "fr")
    client.post("/account/language", data={"language": "fr"})
    with app.app_context(), unit_of_work():
        change_password(
            db.session.get_one(User, world.patient.id), PASSWORD, "a calm river at dawn 42"
        )
    [message] = to(mail, world.patient.email)
    assert message.subject == "Une modification de votre compte"
    assert message.body.startswith("Bonjour,")


# --- Before sign-in: the browser's language ---------------------------------------------


@pytest.mark.parametrize(
    ("header", "lang", "words"),
    [
        ("es", "es", ["<h1>Iniciar sesión</h1>", "¿Ha olvidado su contraseña?", "Contraseña"]),
        ("es-MX,es;q=0.9,en;q=0.5", "es", ["<h1>Iniciar sesión</h1>"]),
        ("fr-FR,fr;q=0.9", "fr", ["<h1>Se connecter</h1>", "Mot de passe oublié ?"]),
        ("de", "en-GB", ["<h1>Sign in</h1>", "Forgot your password?"]),
        (None, "en-GB", ["<h1>Sign in</h1>"]),
    ],
)
def test_the_sign_in_page_speaks_the_browsers_language(
    client: FlaskClient, header: str | None, lang: str, words: list[str]
) -> None:
    """Before sign-in, Accept-Language picks among the shipped languages; any other asks
    for English."""
    headers = {"Accept-Language": header} if header else {}
    html = page(client.get("/login", headers=headers))
    assert f'<html lang="{lang}"' in html
    for word in words:
        assert word in html


@pytest.mark.parametrize(
    ("header", "words"),
    [
        ("es", ["¿Ha olvidado su contraseña?", "Enviar el enlace", "Volver a iniciar sesión"]),
        ("fr", ["Mot de passe oublié ?", "Envoyer le lien", "Retour à la connexion"]),
        ("en", ["Forgotten your password?", "Send the link", "Back to sign in"]),
    ],
)
def test_the_reset_pages_speak_the_browsers_language(
    client: FlaskClient, header: str, words: list[str]
) -> None:
    """Asking for a reset link, and the page after it, in the browser's language."""
    html = page(client.get("/password/forgot", headers={"Accept-Language": header}))
    for word in words:
        assert word in html
    sent = client.post(
        "/password/forgot",
        data={"email": "nobody@example.org"},
        headers={"Accept-Language": header},
        follow_redirects=True,
    )
    expected = {"es": "Revise su correo electrónico", "fr": "Consultez vos e-mails"}
    assert expected.get(header, "Check your email") in page(sent)


@pytest.mark.parametrize(
    ("header", "words"),
    [
        ("es", ["<h1>Elija una contraseña</h1>", "Guardar la contraseña e iniciar sesión"]),
        ("fr", ["<h1>Choisissez un mot de passe</h1>", "Enregistrer le mot de passe"]),
        ("en-GB", ["<h1>Choose a password</h1>", "Save password and sign in"]),
    ],
)
def test_the_invitation_page_speaks_the_browsers_language(
    app: Flask, client: FlaskClient, world: World, header: str, words: list[str]
) -> None:
    """The page an invitation link opens, and its refusals, in the browser's language."""
    with app.app_context():
        user = db.session.get_one(User, world.other_patient.id)
        user.password_hash = None
        token = issue_invitation(user, created_by=None)
        db.session.commit()
    headers = {"Accept-Language": header}
    html = page(client.get(f"/invitation/{token}", headers=headers))
    for word in words:
        assert word in html
    refused = page(
        client.post(
            f"/invitation/{token}",
            data={"password": "short", "confirm": "short"},
            headers=headers,
        )
    )
    expected = {
        "es": "Use al menos 12 caracteres (tiene 5).",
        "fr": "Utilisez au moins 12 caractères (vous en avez 5).",
    }
    assert expected.get(header, "Use at least 12 characters (you have 5).") in refused


def test_signed_in_staff_get_english_whatever_the_browser(
    app: Flask, client, world: World, as_clinician
) -> None:
    """The clinician's side ships in English, even to a Spanish browser."""
    html = page(client.get("/account", headers={"Accept-Language": "es"}))
    assert '<html lang="en-GB"' in html and "<h1>Your account</h1>" in html


def test_a_signed_in_patient_reads_their_record_language_not_the_browsers(
    app: Flask, client, world: World
) -> None:
    """Signed in, the patient's chosen language wins over the browser's."""
    speaks(app, world.patient.patient_id, "fr")
    act_as(client, world.patient.id)
    html = page(client.get("/account", headers={"Accept-Language": "es"}))
    assert '<html lang="fr"' in html and "<h1>Votre compte</h1>" in html


# --- Error pages ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "title", "code_words"),
    [
        ("es", "Página no encontrada", "Código de error 404"),
        ("fr", "Page introuvable", "Code d'erreur 404"),
        ("en", "Page not found", "Error code 404"),
    ],
)
def test_the_not_found_page_is_translated(
    client: FlaskClient, header: str, title: str, code_words: str
) -> None:
    """404 in the browser's language (before sign-in)."""
    response = client.get("/no/such/page", headers={"Accept-Language": header})
    assert response.status_code == 404
    assert f"<h1>{title}</h1>" in page(response)
    assert code_words in page(response)


def test_a_spanish_patients_not_found_page_is_in_spanish(app: Flask, client, world: World) -> None:
    """Signed in, the error page follows the patient's language."""
    speaks(app, world.patient.patient_id, "es")
    act_as(client, world.patient.id)
    html = page(client.get("/diary/no-such-page"))
    assert "<h1>Página no encontrada</h1>" in html and "Ir a su página de inicio" in html


@pytest.fixture
def limited(make_app) -> Iterator[Flask]:
    """An app whose sign-in allows one attempt a minute."""
    yield make_app(
        RATELIMIT_ENABLED=True,
        RATELIMIT_SIGN_IN="1 per minute",
        RATELIMIT_STORAGE_URI="memory://",
    )


@pytest.mark.parametrize(
    ("header", "words"),
    [
        (
            "es",
            [
                "<h1>Espere un momento</h1>",
                "Espere aproximadamente un minuto",
                "Código de error 429",
            ],
        ),
        ("fr", ["<h1>Veuillez patienter un instant</h1>", "Patientez environ une minute"]),
        ("en", ["<h1>Please wait a moment</h1>", "Please wait about a minute"]),
    ],
)
def test_the_too_many_attempts_page_is_translated(
    limited: Flask, world: World, header: str, words: list[str]
) -> None:
    """429 (sign-in attempts over the limit) in the browser's language, its wait in words."""
    client = limited.test_client()
    headers = {"Accept-Language": header}
    answers = [
        client.post(
            "/login", data={"email": world.patient.email, "password": "wrong"}, headers=headers
        )
        for _ in range(2)
    ]
    assert answers[-1].status_code == 429
    for word in words:
        assert word in page(answers[-1])


@pytest.fixture
def unavailable(make_app) -> Flask:
    """An app with one extra page that is not available right now (503)."""
    made = make_app()

    @made.get("/resting")
    @public
    def resting() -> str:
        abort(503)

    return made


@pytest.mark.parametrize(
    ("header", "words"),
    [
        (
            "es",
            ["Esta página no está disponible en este momento", "Inténtelo de nuevo en un momento."],
        ),
        ("fr", ["Cette page n'est pas disponible pour le moment", "Réessayez dans un instant."]),
        ("en", ["This page is not available right now", "Please try again in a moment."]),
    ],
)
def test_the_unavailable_page_is_translated(
    unavailable: Flask, header: str, words: list[str]
) -> None:
    """503 in the browser's language."""
    response = unavailable.test_client().get("/resting", headers={"Accept-Language": header})
    assert response.status_code == 503
    for word in words:
        assert word in page(response)


def test_the_patients_own_data_page_is_in_their_language(
    app: Flask, client, world: World, on_protocol: int
) -> None:
    """The readable copy of their data a patient opens from the portal speaks their
    language (headings, labels, the program's decisions), with the page's lang."""
    speaks(app, world.patient.patient_id, "es")
    act_as(client, world.patient.id)
    response = client.get("/diary/my-data/read")
    assert response.status_code == 200
    html = page(response)
    assert '<html lang="es"' in html and "<title>Mis datos</title>" in html
    for words in ("<h1>Mis datos</h1>", "Sobre usted", "Fecha de nacimiento", "Su programa"):
        assert words in html
    assert "What your care team was told" not in html


def test_the_about_page_says_in_the_readers_language_that_the_statement_is_english(
    client: FlaskClient,
) -> None:
    """The public "About this software" page: its own words in the browser's language,
    and a note that the safety statement (the safety case's wording) is published in
    English, marked as English for screen readers."""
    html = page(client.get("/about", headers={"Accept-Language": "fr"}))
    assert "<h1>À propos de ce logiciel</h1>" in html
    assert "n'est publiée qu'en anglais" in html
    assert '<div class="about-statement" lang="en">' in html
    english = page(client.get("/about"))
    assert "published in English only" not in english


def test_choosing_among_accounts_names_the_roles_in_the_browsers_language(
    app: Flask, client, world: World
) -> None:
    """One address and password with accounts at two clinics: the choice names each
    clinic and the role in the page's language."""
    with app.app_context():
        clinic_b = db.session.get_one(Clinic, world.clinic_b)
        make_user(clinic_b, Role.CLINICIAN, email=world.patient.email)
        db.session.commit()
    response = client.post(
        "/login",
        data={"email": world.patient.email, "password": PASSWORD},
        headers={"Accept-Language": "es"},
        follow_redirects=True,
    )
    html = page(response)
    assert "Clinic A (paciente)" in html and "Clinic B (profesional clínico)" in html


def test_staff_alerts_raised_by_a_spanish_patients_report_are_english(
    app: Flask, client, world: World, on_protocol: int, mail
) -> None:
    """The clinician's alert is written inside the patient's request, in which Spanish is
    spoken: it is still English, wholly (no "Hola:")."""
    speaks(app, world.patient.patient_id, "es")
    act_as(client, world.patient.id)
    values = form_values(client.get("/diary/log").get_data(as_text=True))
    values.pop("concerns", None)
    values |= {"pain_during": "3", "pain_after": "2", "bleeding": "more", "sharp_pain": "yes"}
    assert client.post("/diary/log", data=values).status_code == 302
    alerts = [m for m in mail if m.to != world.patient.email]
    assert alerts, "the report should alert the clinic"
    for message in alerts:
        assert message.body.startswith("Hello,"), message.body[:40]
        assert "Hola" not in message.body and "paciente" not in message.body


@pytest.mark.parametrize(
    ("code", "phrases"),
    [
        (
            "es",
            (
                "Estado En curso",  # the patient's status
                "En curso · iniciado el",  # the program's
                "Paso a la etapa siguiente, etapa 2",
                "Inicio, etapa 1",
                "Iniciado a partir de la plantilla «Vaginismus: graded exposure».",
                "10 minutos una vez al día",
                "Al inicio · enviado el",
                "Semana 4 · enviado el",
                "Lunes 07:30",
                "Dolor intenso (8/10)",
                "Revisión pendiente",
                "Escala numérica de dolor",
            ),
        ),
        (
            "fr",
            (
                "En cours",
                "Passage à l'étape suivante, étape 2",
                "Commencé à partir du modèle « Vaginismus: graded exposure ».",
                "Au début · envoyé le",
                "Semaine 4 · envoyé le",
                "Lundi 07:30",
                "Bilan à prévoir",
            ),
        ),
    ],
)
def test_the_patients_own_data_page_has_no_english_of_the_products_wording(
    app: Flask, client, world: World, code: str, phrases: tuple[str, ...]
) -> None:
    """A Spanish (or French) patient's "my data" page, with a full record (a protocol
    started and moved up a stage, sessions, alerts, reminders, questionnaires at the start
    and in week 4), shows no English word of the product's wording: statuses, the
    program's changes, how often, the questionnaires (in their translation) and their
    occasions, the reminders' days and the alerts' names are all in the patient's
    language. Only the data is left as typed (see `data_words`)."""
    record = full_record(app, world.patient.patient_id, world.patient.id, world.clinician.id)
    with app.app_context():
        baseline = db.session.get_one(MeasureResponse, record.response_id)
        db.session.add(
            MeasureResponse(
                clinic_id=baseline.clinic_id,
                patient_id=baseline.patient_id,
                assignment_id=baseline.assignment_id,
                occasion_key="week-4",
                occasion_on=baseline.occasion_on + timedelta(weeks=4),
                instrument_key=baseline.instrument_key,
                instrument_version=baseline.instrument_version,
                answers=json.dumps({"pain": 3}),
                submitted_at=utcnow(),
                total=3.0,
                band_label=baseline.band_label,
                valid=True,
            )
        )
        db.session.commit()
    speaks(app, world.patient.patient_id, code)
    act_as(client, world.patient.id)
    response = client.get("/diary/my-data/read")
    assert response.status_code == 200
    html = re.sub(
        r"<style>.*?</style>|<!--.*?-->", " ", response.get_data(as_text=True), flags=re.S
    )
    text = " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())
    for phrase in phrases:
        assert phrase in text, phrase
    leaks = english_on_page(text, code, data_words(app, world))
    assert not leaks, f"my data in {code} shows English: {sorted(leaks)}"


def data_words(app: Flask, world: World) -> set[str]:
    """The words on the page that are data, not the product's wording: what the clinic and
    its people typed (names and email addresses, the clinic's details, its dilators' labels
    and sets, the plan's name, the reasons for decisions, how alerts were handled), and
    what the record stores as it was written: the alerts' details and the questionnaires'
    bands (the clinician's words, in the instrument's own language)."""
    with app.app_context():
        clinic = db.session.get_one(Clinic, world.clinic_a)
        typed = [
            clinic.name,
            clinic.address or "",
            clinic.email or "",
            *db.session.scalars(select(DilatorSize.label)),
            *db.session.scalars(select(DilatorSet.name)),
            *db.session.scalars(select(User.full_name)),
            *db.session.scalars(select(User.email)),
            *db.session.scalars(select(Protocol.name)),
            *db.session.scalars(
                select(ProtocolEvent.reason).where(ProtocolEvent.kind != EventKind.START)
            ),
            *db.session.scalars(select(CareFlag.detail)),
            *db.session.scalars(select(CareFlag.acknowledgement)),
            *db.session.scalars(select(RedFlag.acknowledgement)),
            *db.session.scalars(select(MeasureResponse.band_label)),
        ]
    return words_of(" ".join(filter(None, typed)))

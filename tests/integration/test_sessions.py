"""Server-side sessions: renewed at sign-in, really ended by sign-out and password changes,
ended after the clinic's idle limit (with a warning first) and after 12 hours whatever
happens, with nothing typed lost to a time-out."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from clinic import create_app
from clinic.auth.hashing import hash_password
from clinic.auth.sessions import SESSION_ID_KEY, page_takes_typing
from clinic.extensions import db
from clinic.models import AuditEvent, Clinic, ClinicalNote, User, UserSession
from clinic.models.types import utcnow
from tests.support.apps import config_for_tests
from tests.support.auth import act_as, sign_in
from tests.support.client import csrf_token_in
from tests.support.factories import PASSWORD
from tests.support.forms import form_values
from tests.support.protocols import start_plan
from tests.support.world import World

IDLE_STAFF = "You were signed out after 15 minutes without activity"
IDLE_PATIENT = "You were signed out after 30 minutes without activity"


def sessions_of(app: Flask, user_id: int) -> list[UserSession]:
    """The account's session records, oldest first, detached."""
    with app.app_context():
        rows = db.session.scalars(
            select(UserSession).where(UserSession.user_id == user_id).order_by(UserSession.id)
        ).all()
        db.session.expunge_all()
        return list(rows)


def age_session(
    app: Flask, user_id: int, idle: timedelta = timedelta(0), age: timedelta | None = None
) -> None:
    """Make the account's newest session look unused for `idle` (and started `age` ago)."""
    with app.app_context():
        record = db.session.scalars(
            select(UserSession)
            .where(UserSession.user_id == user_id)
            .order_by(UserSession.id.desc())
        ).first()
        now = utcnow()
        record.last_seen_at = now - idle
        record.created_at = now - (age if age is not None else idle)
        db.session.commit()


def audit_actions(app: Flask, user_id: int) -> list[tuple[str, dict]]:
    """The account's audit events as (action, detail), oldest first."""
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.actor_id == user_id).order_by(AuditEvent.id)
        ).all()
        return [(event.action, json.loads(event.detail)) for event in events]


def session_cookie(client) -> str:
    cookie = client.get_cookie("session", domain="clinic.test")
    assert cookie is not None
    return cookie.value


def copy_of(app: Flask, client):
    """Another browser holding a copy of `client`'s session cookie."""
    copy = app.test_client()
    copy.set_cookie("session", session_cookie(client), domain="clinic.test")
    return copy


# Renewal at sign-in, and ending sessions --------------------------------------------------


def test_sign_in_starts_a_new_server_side_session(app: Flask, client, world: World) -> None:
    """Signing in stores a session record (token hash only, the browser named) and puts
    a fresh token in the cookie; each sign-in gets a different token."""
    sign_in(client, world.clinician.email)
    with client.session_transaction() as cookie:
        first_token = cookie[SESSION_ID_KEY]
    client.post("/logout")
    sign_in(client, world.clinician.email)
    with client.session_transaction() as cookie:
        second_token = cookie[SESSION_ID_KEY]
    records = sessions_of(app, world.clinician.id)
    assert first_token != second_token
    assert len(records) == 2
    assert records[0].ended_at is not None and records[1].ended_at is None
    assert first_token not in {r.token_hash for r in records}  # only hashes are kept
    assert all(len(r.token_hash) == 64 for r in records)


def test_a_cookie_planted_before_sign_in_gains_nothing(app: Flask, client, world: World) -> None:
    """Session fixation: a copy of the visitor's cookie taken before they sign in stays
    signed out afterwards, since sign-in starts a new session."""
    client.get("/login")
    planted = copy_of(app, client)
    sign_in(client, world.clinician.email)
    assert client.get("/patients/").status_code == 200
    assert planted.get("/patients/").status_code == 302


def test_copied_cookie_stops_working_after_sign_out(app: Flask, client, world: World) -> None:
    """Sign-out ends the session on the server: a copy of the cookie is useless after it,
    and the sign-out is in the audit trail."""
    sign_in(client, world.clinician.email)
    stolen = copy_of(app, client)
    assert stolen.get("/patients/").status_code == 200
    client.post("/logout")
    assert stolen.get("/patients/").status_code == 302
    (record,) = sessions_of(app, world.clinician.id)
    assert record.end_reason == "sign_out"
    assert ("auth.sign_out", {}) in audit_actions(app, world.clinician.id)


def test_sign_out_ends_only_this_browsers_session(app: Flask, world: World) -> None:
    """Signing out of one device (a shared tablet) leaves the person's phone signed in."""
    tablet, phone = app.test_client(), app.test_client()
    sign_in(tablet, world.patient.email)
    sign_in(phone, world.patient.email)
    tablet.post("/logout")
    assert tablet.get("/diary/").status_code == 302
    assert phone.get("/diary/").status_code == 200


def test_password_change_ends_other_sessions_but_keeps_this_one(app: Flask, world: World) -> None:
    """Changing the password on the account page signs out every other device (a stolen
    cookie included) and keeps the person signed in where they changed it."""
    here, elsewhere = app.test_client(), app.test_client()
    sign_in(here, world.clinician.email)
    sign_in(elsewhere, world.clinician.email)
    stolen = copy_of(app, elsewhere)
    response = here.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "password": "a quiet harbour at noon 7",
            "confirm": "a quiet harbour at noon 7",
        },
    )
    assert response.status_code == 302
    assert here.get("/patients/").status_code == 200
    assert elsewhere.get("/patients/").status_code == 302
    assert stolen.get("/patients/").status_code == 302
    reasons = [r.end_reason for r in sessions_of(app, world.clinician.id)]
    assert reasons == ["", "password_changed"]


def test_deactivation_ends_the_session_record(app: Flask, client, world: World) -> None:
    """A deactivated account's session is refused and its record ended."""
    act_as(client, world.colleague.id)
    with app.app_context():
        db.session.get(User, world.colleague.id).active = False
        db.session.commit()
    assert client.get("/patients/").status_code == 302
    (record,) = sessions_of(app, world.colleague.id)
    assert record.end_reason == "revoked"


def test_a_session_without_its_record_is_signed_out(
    app: Flask, client, world: World, as_clinician
) -> None:
    """Flask-Login's id alone (an old cookie, a forged remember-me cookie) is not enough:
    without a live server-side record nobody is signed in."""
    with client.session_transaction() as cookie:
        cookie.pop(SESSION_ID_KEY)
    assert client.get("/patients/").status_code == 302


def test_sign_in_never_sets_a_remember_me_cookie(app: Flask, client, world: World) -> None:
    """Flask-Login's long-lived remember-me cookie is never used."""
    response = sign_in(client, world.clinician.email)
    cookies = " ".join(response.headers.getlist("Set-Cookie"))
    assert "remember_token" not in cookies
    assert client.get_cookie("remember_token", domain="clinic.test") is None


def test_production_cookies_are_locked_down(
    monkeypatch: pytest.MonkeyPatch, database_url: str, world: World
) -> None:
    """Outside development and tests the session cookie is Secure, HttpOnly and
    SameSite=Lax."""
    monkeypatch.setenv("CLINIC_ENV", "production")
    monkeypatch.setenv("CLINIC_BASE_URL", "https://diary.example.org")
    production = create_app(config_for_tests(database_url))
    try:
        assert production.config["SESSION_COOKIE_SECURE"] is True
        assert production.config["SESSION_COOKIE_HTTPONLY"] is True
        assert production.config["SESSION_COOKIE_SAMESITE"] == "Lax"
        browser = production.test_client()
        token = re.search(
            r'name="csrf_token"[^>]*value="([^"]+)"',
            browser.get("/login", base_url="https://clinic.test").get_data(as_text=True),
        ).group(1)
        response = browser.post(
            "/login",
            base_url="https://clinic.test",
            headers={"Referer": "https://clinic.test/login"},  # checked over HTTPS
            data={"email": world.clinician.email, "password": PASSWORD, "csrf_token": token},
        )
        assert response.status_code == 302
        cookie = response.headers["Set-Cookie"]
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    finally:
        with production.app_context():
            db.engine.dispose()


# Idle time-out and absolute lifetime -----------------------------------------------------


@pytest.mark.parametrize(
    ("who", "page", "limit_minutes", "message"),
    [
        ("clinician", "/patients/", 15, IDLE_STAFF),
        ("admin", "/admin/staff", 15, IDLE_STAFF),
        ("patient", "/diary/", 30, IDLE_PATIENT),
    ],
)
def test_idle_sessions_end_at_the_clinics_limit(
    app: Flask, client, world: World, who: str, page: str, limit_minutes: int, message: str
) -> None:
    """Staff are signed out after 15 minutes without activity, patients after 30 (the
    clinic's defaults); just inside the limit they are not. The sign-in page then says so
    calmly and shows nothing of the page before; the expiry is audited."""
    person = getattr(world, who)
    act_as(client, person.id)
    age_session(app, person.id, idle=timedelta(minutes=limit_minutes - 1))
    assert client.get(page).status_code == 200

    age_session(app, person.id, idle=timedelta(minutes=limit_minutes + 1, seconds=1))
    response = client.get(page)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    login_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert message in login_page
    assert "Please sign in to continue" not in login_page
    assert world.patient.name not in login_page
    assert sessions_of(app, person.id)[-1].end_reason == "idle"
    assert (
        "auth.session_expired",
        {"reason": "idle", "idle_minutes": limit_minutes},
    ) in audit_actions(app, person.id)
    assert client.get(page).status_code == 302  # and it stays ended


def test_the_idle_limit_is_the_clinics_setting(app: Flask, client, world: World) -> None:
    """A clinic that chose 5 minutes for its staff signs them out after 5."""
    with app.app_context():
        db.session.get(Clinic, world.clinic_a).staff_idle_minutes = 5
        db.session.commit()
    act_as(client, world.clinician.id)
    age_session(app, world.clinician.id, idle=timedelta(minutes=6, seconds=1))
    response = client.get("/patients/", follow_redirects=True)
    assert "You were signed out after 5 minutes without activity" in response.get_data(as_text=True)


def test_activity_is_written_at_most_once_a_minute(
    app: Flask, client, world: World, as_clinician
) -> None:
    """A request within a minute of the last written activity writes nothing; one after
    that moves `last_seen_at` to now (keeping the session alive)."""
    age_session(app, world.clinician.id, idle=timedelta(seconds=30))
    before = sessions_of(app, world.clinician.id)[-1].last_seen_at
    client.get("/patients/")
    assert sessions_of(app, world.clinician.id)[-1].last_seen_at == before

    age_session(app, world.clinician.id, idle=timedelta(minutes=10))
    client.get("/patients/")
    seen = sessions_of(app, world.clinician.id)[-1].last_seen_at
    assert utcnow() - seen < timedelta(seconds=30)


def test_sessions_end_after_their_absolute_lifetime(
    app: Flask, client, world: World, as_clinician
) -> None:
    """However active, a session ends 12 hours after sign-in (the configured lifetime)."""
    age_session(app, world.clinician.id, idle=timedelta(0), age=timedelta(hours=11, minutes=59))
    assert client.get("/patients/").status_code == 200
    age_session(app, world.clinician.id, idle=timedelta(0), age=timedelta(hours=12, seconds=1))
    response = client.get("/patients/", follow_redirects=True)
    assert "sessions end 12 hours after signing in" in response.get_data(as_text=True)
    assert sessions_of(app, world.clinician.id)[-1].end_reason == "lifetime"


def test_the_lifetime_is_configurable(
    app: Flask, client, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SESSION_ABSOLUTE_LIFETIME (CLINIC_SESSION_HOURS) sets the absolute lifetime."""
    monkeypatch.setitem(app.config, "SESSION_ABSOLUTE_LIFETIME", timedelta(hours=2))
    act_as(client, world.clinician.id)
    age_session(app, world.clinician.id, idle=timedelta(0), age=timedelta(hours=2, seconds=1))
    assert client.get("/patients/").status_code == 302


# The warning before an idle time-out ------------------------------------------------------


def test_pages_without_a_form_warn_two_minutes_before_the_limit(
    client, world: World, as_clinician
) -> None:
    """A page with nothing to type in reloads into the warning two minutes before the
    idle limit (15 minutes, plus the minute activity may be written late), and the
    warning knows the page to come back to."""
    response = client.get("/patients/")
    delay, url = response.headers["Refresh"].split("; url=")
    assert 14 * 60 - 5 <= int(delay) <= 14 * 60
    assert url == "/session/timeout?next=/patients/"


@pytest.mark.parametrize(
    ("who", "page"),
    [("patient", "/diary/log"), ("admin", "/admin/clinic"), ("clinician", "/patients/new")],
)
def test_pages_with_a_form_never_reload_themselves(
    app: Flask, client, world: World, who: str, page: str
) -> None:
    """A diary entry, a settings form or a new record being typed is never thrown away
    by a reload: such pages carry no Refresh."""
    start_plan(app, world.patient.patient_id, world.clinician.id)
    act_as(client, getattr(world, who).id)
    response = client.get(page)
    assert response.status_code == 200
    assert "Refresh" not in response.headers


def test_form_detection() -> None:
    """Typing forms are told apart from button-only and search forms."""
    sign_out = (
        b'<form method="post" action="/logout">'
        b'<input type="hidden" name="c"><button>x</button></form>'
    )
    search = b'<form method="get"><input name="q" type="search"></form>'
    note = (
        b'<form method="post"><input type="hidden" name="c"><textarea name="b"></textarea></form>'
    )
    choice = b'<form method="post"><input type="radio" name="pain" value="2"></form>'
    assert not page_takes_typing(sign_out + search)
    assert page_takes_typing(sign_out + note)
    assert page_takes_typing(choice)


def test_every_template_form_states_its_method_as_the_detection_expects() -> None:
    """The form detection looks for `method="post"` written just so: every form in the
    templates says method="post" or method="get" (lower case, double quotes)."""
    templates = Path(__file__).resolve().parents[2] / "templates"
    odd = [
        f"{path.relative_to(templates)}: {tag}"
        for path in templates.rglob("*.html")
        for tag in re.findall(r"<form\b[^>]*>", path.read_text())
        if not re.search(r'\bmethod="(post|get)"', tag)
    ]
    assert odd == []


def test_the_warning_offers_to_stay_signed_in(
    app: Flask, client, world: World, as_clinician
) -> None:
    """Two minutes before the limit the warning says so, without counting as activity
    itself; "Stay signed in" renews the session and goes back to the page."""
    age_session(app, world.clinician.id, idle=timedelta(minutes=14))
    before = sessions_of(app, world.clinician.id)[-1].last_seen_at
    warning = client.get("/session/timeout?next=/patients/")
    html = warning.get_data(as_text=True)
    assert warning.status_code == 200
    assert "you will be signed out in 2 minutes" in html
    assert "Stay signed in" in html
    delay, url = warning.headers["Refresh"].split("; url=")
    assert 115 <= int(delay) <= 122 and url == "/session/timeout?next=/patients/"
    assert sessions_of(app, world.clinician.id)[-1].last_seen_at == before

    stay = client.post("/session/stay", data={"next": "/patients/"})
    assert stay.headers["Location"] == "/patients/"
    assert utcnow() - sessions_of(app, world.clinician.id)[-1].last_seen_at < timedelta(seconds=30)
    assert client.get("/patients/").status_code == 200


def test_the_warning_left_alone_ends_on_the_sign_in_page(
    app: Flask, client, world: World, as_clinician
) -> None:
    """When the warning reloads after the limit, the person lands on the sign-in page with
    the calm message; "Stay signed in" is too late by then."""
    age_session(app, world.clinician.id, idle=timedelta(minutes=16, seconds=1))
    response = client.get("/session/timeout?next=/patients/")
    assert response.headers["Location"] == "/login"
    assert IDLE_STAFF in client.get("/login").get_data(as_text=True)
    late = client.post("/session/stay", data={"next": "/patients/"})
    assert late.headers["Location"].startswith("/login")


def test_stay_signed_in_goes_only_to_this_site(client, world: World, as_clinician) -> None:
    """The page to come back to must be on this site."""
    response = client.post("/session/stay", data={"next": "https://evil.example/"})
    assert response.headers["Location"] == "/dashboard/"


# Nothing typed is lost to a time-out -----------------------------------------------------


def _kept_form_after_timeout(
    app: Flask, client, world: World, body: str, other_tab_first: bool = False
):
    """A clinician's note form sent after the session timed out; returns the response.
    The form's own CSRF token is sent, as a browser would; with `other_tab_first`, another
    page of the same browser meets the time-out first."""
    act_as(client, world.clinician.id)
    url = f"/patients/{world.patient.patient_id}/notes"
    token = csrf_token_in(client.get(url).get_data(as_text=True).split('id="main"')[1])
    age_session(app, world.clinician.id, idle=timedelta(minutes=20))
    if other_tab_first:
        client.get("/patients/", follow_redirects=True)
    return client.post(url, data={"body": body, "csrf_token": token}, csrf=False)


def test_a_form_sent_after_a_timeout_is_kept_and_sent_after_signing_in(
    app: Flask, client, world: World
) -> None:
    """A clinical note typed past the idle limit is not lost: the answer asks for the
    password, then offers to send the note exactly as typed, and sending saves it."""
    body = 'Tolerating size 3.\nDiscussed "next steps" & breathing <calmly>.'
    response = _kept_form_after_timeout(app, client, world, body)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.count(IDLE_STAFF) == 1
    assert "What you typed has not been sent yet" in html
    kept = form_values(html, form_index=0)
    assert set(kept) == {"csrf_token", "kept", "password"}
    with app.app_context():
        assert db.session.scalar(select(ClinicalNote.id)) is None

    again = client.post("/session/resume", data={"kept": kept["kept"], "password": PASSWORD})
    page = again.get_data(as_text=True)
    assert again.status_code == 200
    assert "Send what I typed" in page
    to_send = form_values(page, form_index=1)
    assert to_send["body"] == body
    actions = re.findall(r'<form method="post" action="([^"]+)">', page)
    assert actions == [f"/patients/{world.patient.patient_id}/notes"]

    sent = client.post(actions[0], data=to_send, csrf=False)
    assert sent.status_code == 302
    with app.app_context():
        note = db.session.scalars(select(ClinicalNote)).one()
        assert note.body == body and note.author_id == world.clinician.id


def test_a_kept_form_needs_the_right_password(app: Flask, client, world: World) -> None:
    """The kept form is sent only after a correct password; a wrong one says so
    generically, keeps the form, and counts towards the back-off. (Here another tab met
    the time-out first: the form is kept all the same.)"""
    response = _kept_form_after_timeout(app, client, world, "Private words.", True)
    assert IDLE_STAFF in response.get_data(as_text=True)
    kept = form_values(response.get_data(as_text=True), form_index=0)["kept"]
    wrong = client.post("/session/resume", data={"kept": kept, "password": "not it at all"})
    html = wrong.get_data(as_text=True)
    assert "Those details did not match an active account" in html
    assert form_values(html, form_index=0)["kept"] == kept
    assert client.get("/patients/").status_code == 302
    with app.app_context():
        assert db.session.get(User, world.clinician.id).failed_sign_ins == 1


def test_a_kept_form_cannot_be_forged_or_moved_to_another_account(
    app: Flask, client, world: World
) -> None:
    """The kept form is signed by the server and bound to the account that typed it:
    altered, it is refused; another person's password does not open it."""
    response = _kept_form_after_timeout(app, client, world, "Private words.")
    kept = form_values(response.get_data(as_text=True), form_index=0)["kept"]
    # One character of the signature changed, away from its end: the last base64
    # character carries bits the signature does not use, so changing only the last two
    # ("xx") left the signature valid about once in a thousand runs.
    changed = "A" if kept[-10] != "A" else "B"
    forged_kept = kept[:-10] + changed + kept[-9:]
    forged = client.post("/session/resume", data={"kept": forged_kept, "password": PASSWORD})
    assert forged.headers["Location"] == "/login"
    with app.app_context():
        colleague = db.session.get(User, world.colleague.id)
        colleague.password_hash = hash_password("the colleague's own phrase")
        db.session.commit()
    attempt = client.post(
        "/session/resume", data={"kept": kept, "password": "the colleague's own phrase"}
    )
    assert "Send what I typed" not in attempt.get_data(as_text=True)
    assert client.get("/patients/").status_code == 302


def test_a_kept_form_is_offered_at_once_when_signed_in_meanwhile(
    app: Flask, client, world: World
) -> None:
    """Signed in again in another tab: the kept form is offered to send, no password asked."""
    response = _kept_form_after_timeout(app, client, world, "Kept words.")
    kept = form_values(response.get_data(as_text=True), form_index=0)["kept"]
    sign_in(client, world.clinician.email)
    again = client.post("/session/resume", data={"kept": kept})
    assert form_values(again.get_data(as_text=True), form_index=1)["body"] == "Kept words."


def test_a_plain_page_after_a_timeout_goes_to_sign_in_and_back(
    app: Flask, client, world: World, as_clinician
) -> None:
    """Opening a page after the time-out asks to sign in, then returns to that page."""
    age_session(app, world.clinician.id, idle=timedelta(minutes=20))
    response = client.get("/patients/?q=a")
    login_url = response.headers["Location"]
    assert login_url == "/login?next=%2Fpatients%2F%3Fq%3Da"
    token = csrf_token_in(client.get(login_url).get_data(as_text=True))
    back = client.post(
        login_url,
        data={"email": world.clinician.email, "password": PASSWORD, "csrf_token": token},
        csrf=False,
    )
    assert back.headers["Location"] == "/patients/?q=a"


def test_passwords_are_never_kept(app: Flask, client, world: World, as_clinician) -> None:
    """A password form sent after a time-out (the account page) is not kept: passwords
    are never written back into a page. The person is sent to sign in."""
    age_session(app, world.clinician.id, idle=timedelta(minutes=20))
    response = client.post(
        "/account/password",
        data={"current_password": PASSWORD, "password": "x" * 12, "confirm": "x" * 12},
    )
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")

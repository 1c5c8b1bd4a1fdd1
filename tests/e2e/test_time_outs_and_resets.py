"""Browser journeys: a forgotten password, the idle warning, and a note kept across a
time-out; each page checked with axe-core."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from clinic.core.mail import transport
from clinic.extensions import db
from clinic.models import Clinic, Patient, Role, User, UserSession
from clinic.models.types import utcnow
from tests.e2e.helpers import assert_accessible, assert_discreet_title, expect_path, sign_in
from tests.support.browser import LiveServer
from tests.support.factories import make_user

pytestmark = pytest.mark.e2e

NEW_PASSWORD = "a calm river at dawn 42"


def _make_account(live_server: LiveServer, email: str, role: Role) -> None:
    """A claimed account at the first demo clinic that no other journey uses."""
    with live_server.app.app_context():
        clinic = db.session.scalars(select(Clinic).order_by(Clinic.id)).first()
        make_user(clinic, role, email=email, password="an old password of mine")
        db.session.commit()


def _age_sessions(live_server: LiveServer, email: str, idle: timedelta) -> None:
    """Make the account's open sessions look unused for `idle`."""
    with live_server.app.app_context():
        user = db.session.scalars(select(User).where(User.email == email)).one()
        for record in db.session.scalars(select(UserSession).where(UserSession.user_id == user.id)):
            record.last_seen_at = utcnow() - idle
        db.session.commit()


def test_forgotten_password_journey(page: Page, live_server: LiveServer) -> None:
    """From the sign-in page a patient asks for a link, reads the neutral answer, opens
    the emailed link, chooses a new password and lands on the diary, signed in."""
    email = "reset.journey@example.org"
    _make_account(live_server, email, Role.PATIENT)
    page.goto("/login")
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page.get_by_role("heading", level=1, name="Forgotten your password?")).to_be_visible()
    assert_discreet_title(page)
    assert_accessible(page)
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_role("heading", level=1, name="Check your email")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("If an account exists for that address")
    assert_accessible(page)

    with live_server.app.app_context():
        (message,) = [m for m in transport().messages if m.to == email]
    assert message.subject == "Your sign-in link"
    link = re.search(r"http://\S+", message.body).group(0)
    page.goto(link)
    expect(page.get_by_role("heading", level=1, name="Choose a new password")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_label("Type it again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Save the new password").click()
    expect_path(page, "/diary/")
    expect(page.get_by_role("status")).to_contain_text("Your new password is saved")


def test_idle_warning_and_a_note_kept_across_a_time_out(
    page: Page, live_server: LiveServer
) -> None:
    """A clinician's page warns before the idle limit and "Stay signed in" keeps them
    in; later, a note typed past the limit is kept, and sent once they sign in again."""
    email = "idle.journey@clinic.example"
    _make_account(live_server, email, Role.CLINICIAN)
    sign_in(page, email, "an old password of mine")
    expect_path(page, "/dashboard/")

    _age_sessions(live_server, email, timedelta(minutes=14))
    page.goto("/session/timeout?next=/patients/")
    expect(page.get_by_role("heading", level=1, name="Are you still there?")).to_be_visible()
    expect(page.get_by_text("you will be signed out in 2 minutes")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Stay signed in").click()
    expect_path(page, "/patients/")

    with live_server.app.app_context():
        patient_id = db.session.scalars(
            select(Patient.id).where(Patient.full_name == "Avery Quinn")
        ).one()
    page.goto(f"/patients/{patient_id}/notes")
    page.get_by_label("Note", exact=True).fill("Kept across a time-out.\nSecond line.")
    _age_sessions(live_server, email, timedelta(minutes=20))
    page.get_by_role("button", name="Save note").click()

    expect(page.get_by_role("heading", level=1, name="Sign in again")).to_be_visible()
    expect(page.get_by_text("What you typed has not been sent yet")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Password").fill("an old password of mine")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1, name="You are signed in again")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Send what I typed").click()
    expect(page.get_by_text("Kept across a time-out.")).to_be_visible()

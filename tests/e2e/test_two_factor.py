"""Browser journey through two-factor sign-in: set it up from the account page with a code
computed from the key on the page, sign out, and sign in again with a fresh code."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from clinic.demo import DEMO_PASSWORD
from clinic.extensions import db
from clinic.models import Clinic, Role
from tests.e2e.helpers import (
    assert_accessible,
    assert_discreet_title,
    expect_path,
    sign_in,
    sign_out,
)
from tests.support.browser import LiveServer
from tests.support.factories import make_user
from tests.support.two_factor import code_for

pytestmark = pytest.mark.e2e

# An account of its own: the demo logins other journeys use keep signing in with a
# password alone.
EMAIL = "two.factor@northside.example"


@pytest.fixture
def clinician(live_server: LiveServer) -> str:
    """A clinician at the demo's first clinic, with the demo password and no two-factor."""
    with live_server.app.app_context():
        clinic = db.session.scalars(select(Clinic).order_by(Clinic.id)).first()
        make_user(clinic, Role.CLINICIAN, email=EMAIL, password=DEMO_PASSWORD)
        db.session.commit()
    return EMAIL


def test_set_up_two_factor_then_sign_in_with_a_code(page: Page, clinician: str) -> None:
    """A clinician turns two-factor on from "Your account" (QR code and a key to type,
    confirmed with the app's code), sees the recovery codes once, signs out, and signing
    in again asks for the code after the password; every page passes the accessibility
    checks and has a discreet title."""
    sign_in(page, clinician)
    expect_path(page, "/dashboard/")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Your account").click()
    expect_path(page, "/account")
    expect(page.get_by_role("heading", level=1, name="Your account")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Set up two-factor sign-in").click()
    expect_path(page, "/account/two-factor")
    assert_accessible(page)
    page.get_by_role("button", name="Start").click()

    expect(
        page.get_by_role("img", name="QR code to scan with your authenticator app")
    ).to_be_visible()
    key = page.locator("#manual-key").inner_text().replace(" ", "")
    assert len(key) == 32
    assert_discreet_title(page)
    assert_accessible(page)
    page.get_by_label("6-digit code from the app").fill(code_for(key))
    page.get_by_role("button", name="Turn on two-factor sign-in").click()

    expect(page.get_by_role("heading", level=1, name="Two-factor sign-in is on")).to_be_visible()
    expect(page.locator(".recovery-codes li")).to_have_count(10)
    assert_accessible(page)
    page.get_by_role("link", name="I have saved my codes").click()
    expect(page.get_by_text("Recovery codes left: 10 of 10.")).to_be_visible()

    sign_out(page)
    sign_in(page, clinician)
    expect_path(page, "/login/code")
    expect(page.get_by_role("heading", level=1, name="Enter your code")).to_be_visible()
    assert_discreet_title(page)
    assert_accessible(page)
    # The code of the next 30 seconds: the one that confirmed set-up is used up.
    page.get_by_label("Code").fill(code_for(key, 1))
    page.get_by_role("button", name="Continue").click()
    expect_path(page, "/dashboard/")
    expect(page.get_by_role("contentinfo")).to_contain_text("Signed in as")

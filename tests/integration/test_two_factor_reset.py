"""An administrator resets a colleague's two-factor sign-in (a lost phone and lost recovery
codes): only for a colleague of the same clinic who has it on, never their own, after a page
saying what happens and with the password entered within five minutes; the key and recovery
codes go, every session of the account ends, the person signs in with the password alone (and
sets it up again when the clinic requires it), and the audit trail shows who did it."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from clinic.audit.actions import ACTIONS
from clinic.auth import mfa
from clinic.extensions import db
from clinic.models import AuditEvent, Clinic, RecoveryCode, User, UserSession
from tests.support.auth import act_as, sign_in
from tests.support.factories import PASSWORD
from tests.support.reauth import confirmed_recently
from tests.support.two_factor import enrol
from tests.support.world import World

STAFF_PAGE = "/admin/staff"
ENROL_PAGE = "/account/two-factor"


def reset_url(user_id: int) -> str:
    return f"/admin/staff/{user_id}/two-factor-reset"


def as_confirmed(client: FlaskClient, user_id: int) -> None:
    """Signed in, with the password entered again just now."""
    act_as(client, user_id)
    confirmed_recently(client)


def require_for_staff(app: Flask, clinic_id: int) -> None:
    with app.app_context():
        db.session.get(Clinic, clinic_id).staff_mfa_required = True
        db.session.commit()


def two_factor_state(app: Flask, user_id: int) -> tuple[bool, int]:
    """Whether the account has two-factor on, and how many recovery codes it holds."""
    with app.app_context():
        user = db.session.get(User, user_id)
        codes = db.session.scalar(
            select(func.count()).select_from(RecoveryCode).where(RecoveryCode.user_id == user_id)
        )
        return mfa.is_enabled(user), codes


def reset_events(app: Flask) -> list[AuditEvent]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(AuditEvent)
                .where(AuditEvent.action == "auth.mfa_reset")
                .order_by(AuditEvent.id)
            )
        )


def page_text(response) -> str:
    return unescape(re.sub(r"\s+", " ", response.get_data(as_text=True)))


def test_the_staff_list_says_who_uses_two_factor(app: Flask, client, world: World) -> None:
    """Each row says "On" or "Off" in words, and a colleague with it on (never oneself)
    has a "Reset two-factor sign-in" link naming them for screen readers."""
    enrol(app, world.clinician.id)
    enrol(app, world.admin.id)
    act_as(client, world.admin.id)
    html = client.get(STAFF_PAGE).get_data(as_text=True)
    assert '<th scope="col">Two-factor sign-in</th>' in html
    rows = {
        email: row
        for row in re.findall(r"<tr>(.*?)</tr>", html, re.S)
        for email in (world.admin.email, world.clinician.email, world.colleague.email)
        if email in row
    }
    assert "<td>On</td>" in rows[world.clinician.email]
    assert "<td>On</td>" in rows[world.admin.email]
    assert "<td>Off</td>" in rows[world.colleague.email]
    assert reset_url(world.clinician.id) in rows[world.clinician.email]
    assert "Reset two-factor sign-in" not in rows[world.colleague.email]
    assert "Reset two-factor sign-in" not in rows[world.admin.email]
    assert f'<span class="visually-hidden"> for {world.clinician.name}</span>' in unescape(
        rows[world.clinician.email]
    )


def test_the_reset_clears_the_key_and_codes_ends_sessions_and_is_audited(
    app: Flask, client, world: World
) -> None:
    """The page says what will happen; the button clears the key and the recovery codes,
    ends every session of the account at once (the person's browser is signed out), and
    one "auth.mfa_reset" event names the administrator and the account."""
    enrol(app, world.clinician.id)
    assert two_factor_state(app, world.clinician.id) == (True, 10)
    theirs = app.test_client()
    act_as(theirs, world.clinician.id)
    assert theirs.get("/dashboard/").status_code == 200

    as_confirmed(client, world.admin.id)
    page = page_text(client.get(reset_url(world.clinician.id)))
    assert "<title>Reset two-factor sign-in" in page
    assert f"Reset two-factor sign-in for {world.clinician.name}?" in page
    assert "They are signed out everywhere they are signed in now." in page
    assert "sign in with their password alone" in page

    response = client.post(reset_url(world.clinician.id))
    assert response.headers["Location"] == STAFF_PAGE
    staff = page_text(client.get(STAFF_PAGE))
    assert f"Two-factor sign-in was reset for {world.clinician.name}" in staff

    assert two_factor_state(app, world.clinician.id) == (False, 0)
    with app.app_context():
        user = db.session.get(User, world.clinician.id)
        assert user.totp_secret is None and user.totp_last_step is None
        open_sessions = db.session.scalar(
            select(func.count())
            .select_from(UserSession)
            .where(UserSession.user_id == world.clinician.id, UserSession.ended_at.is_(None))
        )
        assert open_sessions == 0
    signed_out = theirs.get("/dashboard/")
    assert signed_out.status_code == 302 and "/login" in signed_out.headers["Location"]

    [event] = reset_events(app)
    assert (event.actor_id, event.clinic_id, event.outcome) == (
        world.admin.id,
        world.clinic_a,
        "ok",
    )
    assert (event.object_type, event.object_id) == ("user", world.clinician.id)
    assert json.loads(event.detail) == {"sessions_ended": 1}
    assert ACTIONS["auth.mfa_reset"] == "Reset a colleague's two-step sign-in"


def test_after_a_reset_the_password_alone_signs_in(app: Flask, client, world: World) -> None:
    """With two-factor not required, the person signs in with the password alone."""
    enrol(app, world.clinician.id)
    assert sign_in(client, world.clinician.email).headers["Location"] == "/login/code"
    admin = app.test_client()
    as_confirmed(admin, world.admin.id)
    admin.post(reset_url(world.clinician.id))

    fresh = app.test_client()
    assert sign_in(fresh, world.clinician.email, PASSWORD).headers["Location"] == "/dashboard/"
    assert fresh.get("/dashboard/").status_code == 200


def test_when_required_the_person_is_sent_to_set_it_up_again(
    app: Flask, client, world: World
) -> None:
    """Where the clinic requires two-factor for staff, the page says the person will set it
    up again at their next sign-in, and they do: signed in with the password, every page
    sends them to set-up."""
    enrol(app, world.admin.id)  # required for the administrator too
    enrol(app, world.clinician.id)
    require_for_staff(app, world.clinic_a)
    as_confirmed(client, world.admin.id)
    page = page_text(client.get(reset_url(world.clinician.id)))
    assert "they will be asked to set it up again, with their new phone" in page
    response = client.post(reset_url(world.clinician.id))
    assert "asked to set it up again" in page_text(client.get(response.headers["Location"]))

    theirs = app.test_client()
    assert sign_in(theirs, world.clinician.email).headers["Location"] == "/dashboard/"
    assert theirs.get("/dashboard/").headers["Location"] == ENROL_PAGE
    assert theirs.get(ENROL_PAGE).status_code == 200  # signing in just now counts as confirming


def test_another_clinics_account_is_not_found(app: Flask, client, world: World) -> None:
    """Another clinic's staff account, or a patient's login, is not found (404), even with
    two-factor on; nothing changes."""
    enrol(app, world.other_clinician.id)
    enrol(app, world.patient.id)
    as_confirmed(client, world.admin.id)
    for user_id in (world.other_clinician.id, world.patient.id):
        assert client.get(reset_url(user_id)).status_code == 404
        assert client.post(reset_url(user_id)).status_code == 404
        assert two_factor_state(app, user_id) == (True, 10)
    assert reset_events(app) == []


def test_an_administrator_cannot_reset_their_own(app: Flask, client, world: World) -> None:
    """Their own reset is refused in plain words (recovery codes, or another
    administrator); two-factor stays on."""
    enrol(app, world.admin.id)
    as_confirmed(client, world.admin.id)
    for send in (client.get, client.post):
        response = send(reset_url(world.admin.id))
        assert response.headers["Location"] == STAFF_PAGE
        assert mfa.RESET_OWN in page_text(client.get(STAFF_PAGE))
    assert two_factor_state(app, world.admin.id) == (True, 10)


def test_nothing_to_reset_is_said_so(app: Flask, client, world: World, as_admin) -> None:
    """A colleague without two-factor: the page says there is nothing to reset, before
    any password is asked for."""
    response = client.get(reset_url(world.colleague.id))
    assert response.headers["Location"] == STAFF_PAGE
    assert "does not use two-factor sign-in: there is nothing to reset" in page_text(
        client.get(STAFF_PAGE)
    )


def test_the_reset_needs_a_recent_password(app: Flask, client, world: World) -> None:
    """Without the password entered in the last five minutes, the page and the button send
    the administrator to confirm it is them, then back to the page; nothing is reset until
    then."""
    enrol(app, world.clinician.id)
    url = reset_url(world.clinician.id)
    act_as(client, world.admin.id)
    assert client.get(url).headers["Location"] == f"/account/confirm?next={url}"
    confirmed_recently(client, minutes_ago=6)
    assert client.post(url).headers["Location"] == f"/account/confirm?next={url}"
    assert two_factor_state(app, world.clinician.id) == (True, 10)

    back = client.post(f"/account/confirm?next={url}", data={"password": PASSWORD})
    assert back.headers["Location"] == url
    assert client.get(url).status_code == 200
    assert client.post(url).headers["Location"] == STAFF_PAGE
    assert two_factor_state(app, world.clinician.id) == (False, 0)


@pytest.mark.parametrize("method", ["get", "post"])
def test_clinicians_cannot_reset(app: Flask, client, world: World, method: str) -> None:
    """Only administrators may reset a colleague's two-factor sign-in (403)."""
    enrol(app, world.colleague.id)
    as_confirmed(client, world.clinician.id)
    assert getattr(client, method)(reset_url(world.colleague.id)).status_code == 403
    assert two_factor_state(app, world.colleague.id) == (True, 10)

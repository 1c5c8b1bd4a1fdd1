"""Two-factor sign-in end to end: setting it up with a real authenticator code, the second
sign-in step (app code or recovery code, each usable once), the clinic's "mandatory for
staff" setting, and the audit trail of it all."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm.attributes import set_committed_value

from clinic.auth import mfa
from clinic.auth.views import CODE_EXPIRED, CODE_PAUSED, PENDING_CODE
from clinic.demo import seed_demo
from clinic.extensions import db
from clinic.models import AuditEvent, Clinic, RecoveryCode, Role, User
from clinic.models.types import utcnow
from tests.support.audit import events
from tests.support.auth import act_as, sign_in
from tests.support.factories import PASSWORD, make_user
from tests.support.forms import form_values
from tests.support.two_factor import code_for, enrol, wrong_code_for
from tests.support.world import World

CODE_PAGE = "/login/code"
ENROL_PAGE = "/account/two-factor"


def require_for_staff(app: Flask, clinic_id: int) -> None:
    with app.app_context():
        db.session.get(Clinic, clinic_id).staff_mfa_required = True
        db.session.commit()


def is_signed_in(client: FlaskClient) -> bool:
    return client.get("/account").status_code == 200


# Setting it up ---------------------------------------------------------------------------


def test_enrolment_with_a_real_code_turns_two_factor_on(app: Flask, client, world: World) -> None:
    """A clinician starts set-up, sees the QR code and the key as text, is refused a wrong
    code, then confirms with the app's real code: two-factor is on, ten recovery codes are
    shown once and only their hashes are stored, and the change is in the audit trail."""
    sign_in(client, world.clinician.email)
    start_page = client.get(ENROL_PAGE).get_data(as_text=True)
    assert "Set up two-factor sign-in" in start_page
    assert client.post("/account/two-factor/start").headers["Location"] == ENROL_PAGE

    page = client.get(ENROL_PAGE).get_data(as_text=True)
    assert '<svg role="img" aria-label="QR code' in page
    key = re.search(r'id="manual-key">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    assert len(key) == 32

    wrong = client.post(ENROL_PAGE, data={"code": "000000" if code_for(key) != "000000" else "1"})
    assert "That code did not work" in wrong.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, world.clinician.id).totp_enabled_at is None

    done = client.post(ENROL_PAGE, data={"code": code_for(key)})
    html = done.get_data(as_text=True)
    assert done.status_code == 200
    codes = re.findall(r"<code>([0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4})</code>", html)
    assert len(codes) == 10
    with app.app_context():
        user = db.session.get(User, world.clinician.id)
        assert user.totp_enabled_at is not None and user.totp_secret == key
        stored = db.session.scalars(
            select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user.id)
        ).all()
        assert sorted(stored) == sorted(mfa.hash_recovery_code(c) for c in codes)
        assert not set(codes) & set(stored)
    [enabled] = events(app, "auth.mfa_enabled")
    assert (enabled.actor_id, enabled.clinic_id) == (world.clinician.id, world.clinic_a)
    # The codes are not shown again anywhere.
    assert codes[0] not in client.get("/account").get_data(as_text=True)
    assert client.get(ENROL_PAGE).status_code == 200  # offers a move to a new phone instead


def test_enrolment_page_needs_a_started_set_up_before_accepting_codes(
    app: Flask, client, world: World
) -> None:
    """A code sent before any key was made turns nothing on."""
    sign_in(client, world.patient.email)
    client.post(ENROL_PAGE, data={"code": "123456"})
    with app.app_context():
        assert db.session.get(User, world.patient.id).totp_enabled_at is None


def test_moving_to_a_new_phone_keeps_the_old_one_until_confirmed(
    app: Flask, client, world: World
) -> None:
    """Setting up a new phone makes a new key, but the old phone's codes keep working until
    a code from the new one confirms it; then only the new key works."""
    old_secret, _ = enrol(app, world.clinician.id)
    act_as(client, world.clinician.id)
    with client.session_transaction() as session:
        session["reauth_at"] = datetime.now(UTC).timestamp()
    client.post("/account/two-factor/start")
    page = client.get(ENROL_PAGE).get_data(as_text=True)
    assert "Move two-factor sign-in to a new phone" in page
    new_secret = re.search(r'id="manual-key">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    with app.app_context():
        assert db.session.get(User, world.clinician.id).totp_secret == old_secret

    client.post(ENROL_PAGE, data={"code": code_for(new_secret)})
    with app.app_context():
        assert db.session.get(User, world.clinician.id).totp_secret == new_secret
    assert json.loads(events(app, "auth.mfa_enabled")[-1].detail) == {"new_device": True}


# Signing in with a second factor ---------------------------------------------------------


def test_sign_in_asks_for_the_code_before_signing_in(app: Flask, client, world: World) -> None:
    """With two-factor on, the right password leads to the code page, not into the app;
    the right code signs in and lands on the role's home page."""
    secret, _ = enrol(app, world.clinician.id)
    response = sign_in(client, world.clinician.email)
    assert response.headers["Location"] == CODE_PAGE
    assert not is_signed_in(client)
    page = client.get(CODE_PAGE).get_data(as_text=True)
    assert "Enter the 6-digit code from your authenticator app" in page
    assert 'autocomplete="one-time-code"' in page

    done = client.post(CODE_PAGE, data={"code": code_for(secret, 1)})
    assert done.headers["Location"] == "/dashboard/"
    assert is_signed_in(client)
    signed_in = events(app, "auth.sign_in")[-1]
    assert signed_in.actor_id == world.clinician.id
    assert json.loads(signed_in.detail) == {"second_factor": "totp"}


def test_a_used_code_is_refused_the_next_time(app: Flask, client, world: World) -> None:
    """A code works once: signing in again with the same code (within its 90 seconds) is
    refused and audited as a failed sign-in; the next code works."""
    secret, _ = enrol(app, world.patient.id)
    code = code_for(secret, 1)
    sign_in(client, world.patient.email)
    assert client.post(CODE_PAGE, data={"code": code}).headers["Location"] == "/diary/"
    client.post("/logout")

    sign_in(client, world.patient.email)
    replay = client.post(CODE_PAGE, data={"code": code})
    assert replay.status_code == 200
    assert mfa.CODE_REFUSED.split(".")[0] in replay.get_data(as_text=True)
    assert not is_signed_in(client)
    failed = events(app, "auth.sign_in_failed")[-1]
    assert (failed.object_id, failed.clinic_id, failed.outcome) == (
        world.patient.id,
        world.clinic_a,
        "failed",
    )
    assert json.loads(failed.detail) == {"step": "second_factor"}


def test_two_requests_with_one_code_let_only_one_through(app: Flask, world: World) -> None:
    """Two sign-ins racing with the same code, each having read the account before the
    other saved: the database lets only the first use the code."""
    secret, _ = enrol(app, world.clinician.id)
    code = code_for(secret, 1)
    with app.app_context():
        first = db.session.get(User, world.clinician.id)
        stale_step = first.totp_last_step
        assert mfa.accept_totp(first, code)
        db.session.commit()
    with app.app_context():
        second = db.session.get(User, world.clinician.id)
        # As the second request saw the account: before the first one's code was stored.
        set_committed_value(second, "totp_last_step", stale_step)
        assert not mfa.accept_totp(second, code)


def test_a_recovery_code_works_once(app: Flask, client, world: World) -> None:
    """A recovery code (typed in any case, spaces or not) replaces the app's code once:
    it signs in, says how many are left, is audited, and is refused the next time."""
    _, codes = enrol(app, world.admin.id)
    sign_in(client, world.admin.email)
    typed = codes[3].upper().replace("-", " ")
    response = client.post(CODE_PAGE, data={"code": typed})
    assert response.headers["Location"] == "/admin/staff"
    assert "You signed in with a recovery code (9 left;" in client.get("/admin/staff").get_data(
        as_text=True
    )
    [used] = events(app, "auth.recovery_code_used")
    assert (used.actor_id, json.loads(used.detail)) == (world.admin.id, {"codes_left": 9})
    assert json.loads(events(app, "auth.sign_in")[-1].detail) == {"second_factor": "recovery"}
    client.post("/logout")

    sign_in(client, world.admin.email)
    again = client.post(CODE_PAGE, data={"code": codes[3]})
    assert again.status_code == 200
    assert not is_signed_in(client)
    assert client.post(CODE_PAGE, data={"code": codes[4]}).headers["Location"] == "/admin/staff"


def test_new_recovery_codes_replace_the_old_ones(app: Flask, client, world: World) -> None:
    """Making new recovery codes shows ten new ones once; the old ones stop working."""
    _, old_codes = enrol(app, world.clinician.id)
    sign_in(client, world.clinician.email)
    client.post(CODE_PAGE, data={"code": old_codes[0]})
    page = client.post("/account/two-factor/recovery-codes").get_data(as_text=True)
    new_codes = re.findall(r"<code>([0-9a-z-]{14})</code>", page)
    assert len(new_codes) == 10
    assert "Your earlier recovery codes no longer work" in page
    with app.app_context():
        user = db.session.get(User, world.clinician.id)
        assert not mfa.accept_recovery_code(user, old_codes[1])
        assert mfa.accept_recovery_code(user, new_codes[0])
    assert events(app, "auth.recovery_codes_replaced")


def test_wrong_codes_pause_the_account_like_wrong_passwords(
    app: Flask, client, world: World
) -> None:
    """Someone who has the password cannot guess codes without end: each wrong code counts
    towards the account's sign-in back-off like a wrong password, entering the right
    password again between guesses does not start the count again (only a whole sign-in
    does), and during the pause even the right code is refused, audited as blocked and
    not used up. Once the pause is over, the right code signs in and the count restarts."""
    secret, _ = enrol(app, world.clinician.id)
    guess = wrong_code_for(secret)
    for _ in range(3):
        assert sign_in(client, world.clinician.email).headers["Location"] == CODE_PAGE
        for _ in range(2):
            assert client.post(CODE_PAGE, data={"code": guess}).status_code == 200
    with app.app_context():
        user = db.session.get(User, world.clinician.id)
        assert user.failed_sign_ins == 6
        assert user.sign_in_blocked_until is not None
        step_before = user.totp_last_step

    paused = client.post(CODE_PAGE, data={"code": code_for(secret, 1)})
    assert paused.status_code == 200
    assert CODE_PAUSED in paused.get_data(as_text=True)
    assert not is_signed_in(client)
    assert json.loads(events(app, "auth.sign_in_failed")[-1].detail) == {
        "step": "second_factor",
        "reason": "blocked",
    }
    with app.app_context():
        user = db.session.get(User, world.clinician.id)
        assert (user.failed_sign_ins, user.totp_last_step) == (6, step_before)
        user.sign_in_blocked_until = utcnow() - timedelta(seconds=1)
        db.session.commit()

    done = client.post(CODE_PAGE, data={"code": code_for(secret, 1)})
    assert done.headers["Location"] == "/dashboard/"
    with app.app_context():
        user = db.session.get(User, world.clinician.id)
        assert (user.failed_sign_ins, user.sign_in_blocked_until) == (0, None)


def test_code_step_cannot_be_reached_without_the_password(client, world: World) -> None:
    """The code page without a right password just before it sends to the sign-in page."""
    assert client.get(CODE_PAGE).headers["Location"] == "/login"
    assert client.post(CODE_PAGE, data={"code": "123456"}).headers["Location"] == "/login"


def test_the_code_must_come_within_five_minutes(app: Flask, client, world: World) -> None:
    """A password entered more than five minutes ago no longer leads anywhere: the person
    signs in again, told why."""
    secret, _ = enrol(app, world.clinician.id)
    sign_in(client, world.clinician.email)
    with client.session_transaction() as session:
        pending = session[PENDING_CODE]
        session[PENDING_CODE] = {**pending, "since": pending["since"] - 5 * 60 - 1}
    response = client.post(CODE_PAGE, data={"code": code_for(secret, 1)})
    assert response.headers["Location"] == "/login"
    assert CODE_EXPIRED in client.get("/login").get_data(as_text=True)
    assert not is_signed_in(client)


@pytest.mark.parametrize("junk", ["", " ", "x" * 41, "12345\x00", "<script>"])
def test_junk_codes_are_refused_in_plain_words(app: Flask, client, world: World, junk: str) -> None:
    """Empty, overlong or strange input is refused on the page, never a server error."""
    enrol(app, world.clinician.id)
    sign_in(client, world.clinician.email)
    response = client.post(CODE_PAGE, data={"code": junk})
    assert response.status_code == 200
    assert 'id="code-error"' in response.get_data(as_text=True)
    assert not is_signed_in(client)


def test_next_page_is_kept_through_the_code_step(app: Flask, client, world: World) -> None:
    """A sign-in that started from a page (?next=) ends on that page after the code."""
    secret, _ = enrol(app, world.clinician.id)
    client.post(
        "/login",
        query_string={"next": "/patients/?q=a"},
        data={"email": world.clinician.email, "password": PASSWORD},
    )
    response = client.post(CODE_PAGE, data={"code": code_for(secret, 1)})
    assert response.headers["Location"] == "/patients/?q=a"


def test_account_choice_comes_before_the_code(app: Flask, client, world: World) -> None:
    """One email and password at two clinics: the person first chooses the account, then
    gives the code of that account (only if it has two-factor on)."""
    with app.app_context():
        second = make_user(
            db.session.get(Clinic, world.clinic_b), Role.CLINICIAN, email=world.patient.email
        ).id
        db.session.commit()
    secret, _ = enrol(app, second)
    assert sign_in(client, world.patient.email).headers["Location"] == "/login/clinic"
    chosen = client.post("/login/clinic", data={"account": str(second)})
    assert chosen.headers["Location"] == CODE_PAGE
    assert not is_signed_in(client)
    assert (
        client.post(CODE_PAGE, data={"code": code_for(secret, 1)}).headers["Location"]
        == "/dashboard/"
    )

    other = app.test_client()
    sign_in(other, world.patient.email)
    direct = other.post("/login/clinic", data={"account": str(world.patient.id)})
    assert direct.headers["Location"] == "/diary/"  # this account has no second factor


# The audit trail of signing in -----------------------------------------------------------


def test_sign_ins_and_failures_are_audited_without_the_typed_email(
    app: Flask, client, world: World
) -> None:
    """A sign-in is recorded against the account; a wrong password against the account
    (in its clinic's trail), an unknown email with no clinic at all; the typed address is
    stored nowhere in the trail."""
    sign_in(client, world.clinician.email, "not the password at all")
    sign_in(client, "nobody@nowhere.example", "not the password at all")
    sign_in(client, world.clinician.email)
    failed = events(app, "auth.sign_in_failed")
    assert [(e.clinic_id, e.object_id, e.outcome) for e in failed] == [
        (world.clinic_a, world.clinician.id, "failed"),
        (None, None, "failed"),
    ]
    assert all(json.loads(e.detail) == {"step": "password"} for e in failed)
    [signed_in] = events(app, "auth.sign_in")
    assert (signed_in.actor_id, signed_in.clinic_id) == (world.clinician.id, world.clinic_a)
    with app.app_context():
        everything = " ".join(
            f"{e.detail} {e.object_type}" for e in db.session.scalars(select(AuditEvent))
        )
    assert "nobody" not in everything and world.clinician.email not in everything


# Mandatory for staff ---------------------------------------------------------------------


def test_admin_can_make_two_factor_mandatory_for_staff(
    app: Flask, client, world: World, as_admin
) -> None:
    """The clinic settings page has the setting; saving it applies at once, to the admin
    who saved it too."""
    page = client.get("/admin/clinic").get_data(as_text=True)
    assert "Require two-factor sign-in for administrators and clinicians" in page
    values = form_values(page)
    assert "staff_mfa_required" not in values
    response = client.post("/admin/clinic", data={**values, "staff_mfa_required": "y"})
    assert response.headers["Location"] == "/admin/clinic"
    with app.app_context():
        assert db.session.get(Clinic, world.clinic_a).staff_mfa_required is True
        assert db.session.get(Clinic, world.clinic_b).staff_mfa_required is False
    assert client.get("/admin/clinic").headers["Location"] == ENROL_PAGE


def test_staff_without_two_factor_must_set_it_up_first(app: Flask, client, world: World) -> None:
    """When the clinic requires it, a clinician without two-factor is signed in but every
    page except set-up (and signing out, the styles) sends them to set it up, with the
    reason in plain words; once it is on, the app opens as usual."""
    require_for_staff(app, world.clinic_a)
    assert sign_in(client, world.clinician.email).headers["Location"] == "/dashboard/"
    for path in ("/dashboard/", "/patients/", "/account", "/account/password"):
        assert client.get(path).headers["Location"] == ENROL_PAGE, path
    assert client.post("/account/email", data={}).headers["Location"] == ENROL_PAGE
    page = client.get(ENROL_PAGE).get_data(as_text=True)
    assert "Your clinic requires two-factor sign-in for all staff" in page
    styles = client.get("/static/site.css")
    styles.close()  # a static file streams from an open file
    assert styles.status_code == 200

    client.post("/account/two-factor/start")
    page = client.get(ENROL_PAGE).get_data(as_text=True)
    key = re.search(r'id="manual-key">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    client.post(ENROL_PAGE, data={"code": code_for(key)})
    assert client.get("/dashboard/").status_code == 200

    assert client.post("/logout").headers["Location"] == "/login"


def test_required_set_up_can_confirm_the_password_on_the_way(
    app: Flask, client, world: World
) -> None:
    """Staff whose last password entry is long past are asked to confirm it on the way to
    set-up (that page is open to them), then reach set-up."""
    require_for_staff(app, world.clinic_a)
    act_as(client, world.admin.id)
    assert client.get("/admin/staff").headers["Location"] == ENROL_PAGE
    to_confirm = client.get(ENROL_PAGE).headers["Location"]
    assert to_confirm == f"/account/confirm?next={ENROL_PAGE}"
    page = client.get(to_confirm).get_data(as_text=True)
    assert "Your clinic requires two-factor sign-in for all staff" in page
    assert client.post(to_confirm, data={"password": PASSWORD}).headers["Location"] == ENROL_PAGE
    assert client.get(ENROL_PAGE).status_code == 200


def test_staff_without_two_factor_can_still_sign_out(app: Flask, client, world: World) -> None:
    """Sign-out is never blocked by the set-up requirement."""
    require_for_staff(app, world.clinic_a)
    sign_in(client, world.admin.email)
    assert client.post("/logout").headers["Location"] == "/login"
    assert not is_signed_in(client)


def test_patients_are_never_forced(app: Flask, client, world: World) -> None:
    """The staff requirement does not apply to patients: their diary opens as usual."""
    require_for_staff(app, world.clinic_a)
    sign_in(client, world.patient.email)
    assert client.get("/diary/").status_code == 200


def test_other_clinics_are_not_affected(app: Flask, client, world: World) -> None:
    """One clinic's requirement says nothing about another clinic's staff."""
    require_for_staff(app, world.clinic_a)
    sign_in(client, world.other_clinician.email)
    assert client.get("/dashboard/").status_code == 200


def test_two_factor_cannot_be_turned_off_when_mandatory(app: Flask, client, world: World) -> None:
    """Staff cannot turn off what their clinic requires; the page says so and offers no
    button. Without the requirement, turning it off works and is audited."""
    enrol(app, world.clinician.id)
    require_for_staff(app, world.clinic_a)
    act_as(client, world.clinician.id)
    with client.session_transaction() as session:
        session["reauth_at"] = datetime.now(UTC).timestamp()
    assert "Turn off two-factor sign-in" not in client.get("/account").get_data(as_text=True)
    response = client.post("/account/two-factor/turn-off")
    assert mfa.MANDATORY in client.get(response.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, world.clinician.id).totp_enabled_at is not None

    with app.app_context():
        db.session.get(Clinic, world.clinic_a).staff_mfa_required = False
        db.session.commit()
    client.post("/account/two-factor/turn-off")
    with app.app_context():
        user = db.session.get(User, world.clinician.id)
        assert (user.totp_secret, user.totp_enabled_at) == (None, None)
        assert not db.session.scalars(
            select(RecoveryCode).where(RecoveryCode.user_id == user.id)
        ).all()
    [disabled] = events(app, "auth.mfa_disabled")
    assert disabled.actor_id == world.clinician.id
    assert sign_in(client, world.clinician.email).headers["Location"] == "/dashboard/"


def test_patients_may_choose_two_factor(app: Flask, client, world: World) -> None:
    """A patient's account page offers two-factor as optional, and it works for them."""
    sign_in(client, world.patient.email)
    page = client.get("/account").get_data(as_text=True)
    assert "Set up two-factor sign-in" in page and "It is optional." in page


# Demo data -------------------------------------------------------------------------------


def test_demo_clinics_leave_two_factor_optional_and_off(app: Flask) -> None:
    """The demo logins keep working with a password alone: no clinic requires two-factor
    and no demo account has it on."""
    with app.app_context():
        seed_demo()
        db.session.flush()
        assert not db.session.scalars(select(Clinic).where(Clinic.staff_mfa_required)).all()
        users = db.session.scalars(select(User)).all()
        assert users
        assert all(u.totp_secret is None and u.totp_enabled_at is None for u in users)
        db.session.rollback()

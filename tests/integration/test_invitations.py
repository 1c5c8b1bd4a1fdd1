"""Portal and staff invitations: single-use, expiring links to choose a password."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask, session
from sqlalchemy import select

from clinic.auth.invitations import keep_to_show
from clinic.auth.sessions import _forget
from clinic.extensions import db
from clinic.models import Invitation, Patient, User
from clinic.models.types import utcnow
from tests.support.auth import act_as
from tests.support.clock import frozen_at
from tests.support.invitations import GOOD_PASSWORD, choose_password, invite_patient, link_in
from tests.support.world import World


def test_patient_invitation_journey(app: Flask, client, world: World, as_clinician) -> None:
    """A clinician invites a patient; the patient opens the link, chooses a password,
    lands in the portal, and can sign in with it afterwards."""
    response = invite_patient(client, world.offline_patient_id, "New.Person@Example.org")
    assert response.status_code == 200
    assert "new.person@example.org" in response.get_data(as_text=True)
    link = link_in(response)

    visitor = app.test_client()
    page = visitor.get(link)
    assert page.status_code == 200
    assert "new.person@example.org" in page.get_data(as_text=True)
    done = choose_password(visitor, link)
    assert done.headers["Location"] == "/diary/"
    assert visitor.get("/diary/").status_code == 200

    with app.app_context():
        patient = db.session.get(Patient, world.offline_patient_id)
        assert patient.user.email == "new.person@example.org"
        assert patient.user.clinic_id == world.clinic_a
        assert patient.user.has_password
    fresh = app.test_client()
    signed = fresh.post(
        "/login", data={"email": "new.person@example.org", "password": GOOD_PASSWORD}
    )
    assert signed.headers["Location"] == "/diary/"


def test_link_works_once(app: Flask, client, world: World, as_clinician) -> None:
    """A used link answers 410 and cannot set another password."""
    link = link_in(invite_patient(client, world.offline_patient_id, "once@example.org"))
    visitor = app.test_client()
    choose_password(visitor, link)
    again = app.test_client().get(link)
    assert again.status_code == 410
    assert "can no longer be used" in again.get_data(as_text=True)


def test_expired_link_is_refused(app: Flask, client, world: World, as_clinician) -> None:
    """A link past its expiry time cannot be used."""
    link = link_in(invite_patient(client, world.offline_patient_id, "late@example.org"))
    with app.app_context():
        invitation = db.session.scalars(select(Invitation)).one()
        invitation.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert app.test_client().get(link).status_code == 410


def test_invitation_expires_after_the_clinics_setting(
    app: Flask, client, world: World, as_clinician
) -> None:
    """Links expire after the clinic's configured number of days (7 by default)."""
    invite_patient(client, world.offline_patient_id, "days@example.org")
    with app.app_context():
        invitation = db.session.scalars(select(Invitation)).one()
        assert invitation.expires_at - invitation.created_at == timedelta(days=7)


def test_new_link_replaces_the_old_one(app: Flask, client, world: World, as_clinician) -> None:
    """Issuing a second link makes the first one unusable."""
    first = link_in(invite_patient(client, world.offline_patient_id, "twice@example.org"))
    second = link_in(invite_patient(client, world.offline_patient_id, "twice@example.org"))
    assert first != second
    assert app.test_client().get(first).status_code == 410
    assert app.test_client().get(second).status_code == 200


def test_unclaimed_invitation_email_can_be_corrected(
    app: Flask, client, world: World, as_clinician
) -> None:
    """Before the patient signs in, a new invitation may use a corrected address."""
    invite_patient(client, world.offline_patient_id, "typo@exmaple.org")
    invite_patient(client, world.offline_patient_id, "fixed@example.org")
    with app.app_context():
        assert db.session.get(Patient, world.offline_patient_id).user.email == "fixed@example.org"


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("", "Enter an email address."),
        ("not-an-email", "Enter an email address like name@example.org."),
    ],
)
def test_invitation_email_is_validated(
    client, world: World, email: str, message: str, as_clinician
) -> None:
    """A missing or malformed email gets a plain message next to the field."""
    response = invite_patient(client, world.offline_patient_id, email)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


@pytest.mark.parametrize("transform", [str, str.upper])
def test_email_of_another_account_here_cannot_be_reused(
    app: Flask, client, world: World, transform, as_clinician
) -> None:
    """An email that already signs in at this clinic, in any letter case, is refused
    with a plain message; nothing is created."""
    response = invite_patient(
        client, world.offline_patient_id, transform(world.other_patient.email)
    )
    assert response.status_code == 400
    assert "Another account at this clinic already uses this email address." in (
        response.get_data(as_text=True)
    )
    with app.app_context():
        assert db.session.get(Patient, world.offline_patient_id).user is None
        assert db.session.scalars(select(Invitation)).all() == []


def test_another_clinics_patient_is_not_revealed(
    app: Flask, client, world: World, as_clinician
) -> None:
    """Inviting an address that belongs to a patient of another clinic works like any
    other address: nothing tells this clinic that the person is a patient elsewhere, and
    the two accounts stay separate."""
    response = invite_patient(client, world.offline_patient_id, world.other_clinic_patient.email)
    assert response.status_code == 200
    assert "/invitation/" in response.get_data(as_text=True)
    with app.app_context():
        accounts = db.session.scalars(
            select(User).where(User.email == world.other_clinic_patient.email)
        ).all()
        assert sorted(u.clinic_id for u in accounts) == [world.clinic_a, world.clinic_b]


def test_patient_already_on_portal_is_not_reinvited(
    app: Flask, client, world: World, as_clinician
) -> None:
    """A patient who already signs in gets no new invitation."""
    page = invite_patient(client, world.patient.patient_id, world.patient.email)
    assert "already uses the portal" in page.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(select(Invitation)).all() == []


@pytest.mark.parametrize(
    ("password", "confirm", "message"),
    [
        ("short one", None, "Use at least 12 characters (you have 9)."),
        ("password1234", None, "This password is too common."),
        ("pat@example.org", None, "Do not use your email address as your password."),
        (GOOD_PASSWORD, "something else entirely", "The two passwords are not the same."),
    ],
)
def test_password_rules_on_acceptance(
    app: Flask, client, world: World, password: str, confirm: str | None, message: str, as_clinician
) -> None:
    """Weak or mistyped passwords are refused with a plain reason; the link still works."""
    link = link_in(invite_patient(client, world.offline_patient_id, "pat@example.org"))
    visitor = app.test_client()
    response = choose_password(visitor, link, password, confirm)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert visitor.get(link).status_code == 200


def test_staff_invitation_journey(app: Flask, client, world: World, as_admin) -> None:
    """An admin invites a clinician, who sets a password and lands on the patient list
    of the admin's clinic."""
    response = client.post(
        "/admin/staff/new",
        data={"full_name": "Robin Hart", "email": "robin@test.example", "role": "clinician"},
        follow_redirects=True,
    )
    assert response.status_code == 200
    link = link_in(response)
    visitor = app.test_client()
    assert choose_password(visitor, link).headers["Location"] == "/dashboard/"
    with app.app_context():
        robin = db.session.scalar(select(User).where(User.email == "robin@test.example"))
        assert robin.clinic_id == world.clinic_a


def test_deactivated_colleague_cannot_use_their_invitation(
    app: Flask, client, world: World, as_admin
) -> None:
    """An invitation stops working when its account is deactivated."""
    link = link_in(
        client.post(
            "/admin/staff/new",
            data={"full_name": "Kim Lee", "email": "kim@test.example", "role": "clinician"},
            follow_redirects=True,
        )
    )
    with app.app_context():
        kim = db.session.scalar(select(User).where(User.email == "kim@test.example"))
        kim_id = kim.id
    client.post(f"/admin/staff/{kim_id}/deactivate")
    assert app.test_client().get(link).status_code == 410


def test_only_a_hash_of_the_token_is_stored(app: Flask, client, world: World, as_clinician) -> None:
    """The database never holds the secret part of an invitation link."""
    token = link_in(invite_patient(client, world.offline_patient_id, "hash@example.org")).rsplit(
        "/", 1
    )[1]
    with app.app_context():
        stored = db.session.scalars(select(Invitation.token_hash)).one()
    assert token not in stored and len(stored) == 64


def test_links_use_the_configured_public_address(
    app: Flask, client, world: World, monkeypatch
) -> None:
    """With CLINIC_BASE_URL set, invitation links point there rather than at the address
    the request came to (so a forged Host header cannot redirect a patient's link)."""
    monkeypatch.setitem(app.config, "CLINIC_BASE_URL", "https://diary.example.org")
    act_as(client, world.clinician.id)
    response = client.post(
        f"/patients/{world.offline_patient_id}/invitation",
        data={"email": "host@example.org"},
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    assert ">https://diary.example.org/invitation/" in html
    assert "clinic.test/invitation" not in html


# ---------------------------------------------------------------------------------------
# The invitation page (issue 17): shown once after POST/redirect/GET, never re-made by a
# reload, a new link only on an explicit request that says it replaces the earlier one.


def _open_invitations(app: Flask, email: str) -> list[int]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(Invitation.id)
                .join(User, User.id == Invitation.user_id)
                .where(
                    User.email == email,
                    Invitation.revoked_at.is_(None),
                    Invitation.used_at.is_(None),
                )
            )
        )


@pytest.mark.parametrize("who", ["patient", "colleague"])
def test_reloading_the_invitation_page_never_replaces_the_link(
    app: Flask, client, world: World, who: str
) -> None:
    """The invitation request redirects to the invitation page (no token in its address),
    which shows the link once; reloading it shows no link, makes no new invitation and
    leaves the link given working, saying so; its "Send a new link" button, which says the
    earlier link then stops working, is the one way to replace it."""
    email = f"reload.{who}@example.org"
    if who == "patient":
        act_as(client, world.clinician.id)
        page_url = f"/patients/{world.offline_patient_id}/invitation"
        sent = client.post(page_url, data={"email": email})
    else:
        act_as(client, world.admin.id)
        sent = client.post(
            "/admin/staff/new",
            data={"full_name": "Reload Colleague", "email": email, "role": "clinician"},
        )
        with app.app_context():
            user_id = db.session.scalar(select(User.id).where(User.email == email))
        page_url = f"/admin/staff/{user_id}/invitation"
    assert sent.status_code == 302
    assert sent.headers["Location"] == page_url  # the token is in no address but the link's
    shown = client.get(page_url)
    link = link_in(shown)
    [first] = _open_invitations(app, email)
    with client.session_transaction() as kept:
        assert "invitation_to_show" not in kept  # shown: gone from the session

    reloaded = client.get(page_url)
    html = reloaded.get_data(as_text=True)
    assert reloaded.status_code == 200
    assert "/invitation/" not in html.replace(page_url, "")
    assert "reloading this page does not replace it" in html
    assert "The link already given still works, until" in html
    assert _open_invitations(app, email) == [first]
    assert app.test_client().get(link).status_code == 200  # still works

    assert "The earlier link then stops working." in html
    assert "Send a new link</button>" in html
    resend = re.search(r'<form method="post" action="([^"]+)" class="resend-form">', html)
    assert resend is not None
    values = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', html))
    again = client.post(resend.group(1), data=values, follow_redirects=True)
    new_link = link_in(again)
    assert new_link != link
    assert app.test_client().get(link).status_code == 410
    assert len(_open_invitations(app, email)) == 1


def test_the_link_has_a_copy_button_for_scripts_and_stays_plain_text_without(
    client, world: World, as_clinician
) -> None:
    """The link is selectable text in a read-only field; a "Copy link" button, hidden
    until the external script (deferred) finds the Clipboard API, reports through a
    polite live region."""
    html = invite_patient(client, world.offline_patient_id, "copy@example.org").get_data(
        as_text=True
    )
    assert re.search(r'<textarea id="invitation-link" class="link-field" readonly[^>]*>http', html)
    button = re.search(r"<button [^>]*data-copy-from=\"invitation-link\"[^>]*>Copy link<", html)
    assert button is not None and " hidden" in button.group(0)
    assert re.search(
        r'<script src="/static/copy-link.js\?[^"]*" defer></script>|'
        r'<script src="/static/copy-link.js" defer></script>',
        html,
    )
    assert re.search(r'<p id="copy-status"[^>]*role="status" aria-live="polite"', html)


def test_the_invitation_page_of_a_patient_on_the_portal_says_so(
    client, world: World, as_clinician
) -> None:
    """A patient who set up their account has no invitation waiting: the page says so and
    offers no new link."""
    html = client.get(f"/patients/{world.patient.patient_id}/invitation").get_data(as_text=True)
    assert "has set up the account: no invitation is waiting." in html
    assert "Send a new link" not in html


def test_a_link_waiting_for_its_page_is_never_shown_late(
    app: Flask, client, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The new link waits in the (signed, not encrypted) session cookie only for the one
    redirect to its page: not shown more than two minutes later (a tab closed on the way),
    and dropped when another page takes a look, so it never lingers in the cookie."""
    clock = frozen_at(monkeypatch, utcnow())
    act_as(client, world.clinician.id)
    page_url = f"/patients/{world.offline_patient_id}/invitation"
    assert client.post(page_url, data={"email": "late@example.org"}).status_code == 302
    clock.advance(timedelta(minutes=3))
    late = client.get(page_url).get_data(as_text=True)
    assert "/invitation/" not in late.replace(page_url, "")
    with client.session_transaction() as kept:
        assert "invitation_to_show" not in kept


def test_a_time_out_forgets_a_link_waiting_for_its_page(app: Flask) -> None:
    """A session ended by the app (time-out, revocation) drops a link still waiting to be
    shown, as the Sign out button does."""
    with app.test_request_context():
        keep_to_show(User(id=1, email="x@example.org"), "token-value")
        assert "invitation_to_show" in session
        _forget(1, "idle")
        assert "invitation_to_show" not in session

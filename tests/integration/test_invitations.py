"""Portal and staff invitations: single-use, expiring links to choose a password."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from clinic.extensions import db
from clinic.models import Invitation, Patient, User
from clinic.models.types import utcnow
from tests.support.auth import act_as
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


def test_patient_already_on_portal_is_not_reinvited(client, world: World, as_clinician) -> None:
    """A patient who already signs in gets no new invitation."""
    response = invite_patient(client, world.patient.patient_id, world.patient.email)
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "already uses the portal" in page


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
    )
    html = response.get_data(as_text=True)
    assert 'value="https://diary.example.org/invitation/' in html
    assert "clinic.test/invitation" not in html

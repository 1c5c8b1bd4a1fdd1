"""Invitations by email: the link goes out by email in the same unit of work as the
invitation (and is still shown once, for in-clinic set-up); resending makes a new link and
emails it (the old one stops working, and its emails not sent yet are withdrawn); the
patient's page and the staff list say whether the email went out; one reminder after three
days; no invitation while the clinic has no phone number."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select, update

from clinic.auth.invitations import remind_unaccepted
from clinic.extensions import db
from clinic.models import Clinic, Invitation, OutboxMessage, Patient, User
from clinic.models.outbox import MessageStatus
from clinic.models.types import utcnow
from clinic.outbox.kinds import MessageKind
from clinic.schedule.cleanup import clean_up
from tests.support.auth import act_as
from tests.support.invitations import choose_password, invite_patient, link_in
from tests.support.mail import link_path, to
from tests.support.privacy import assert_discreet
from tests.support.queries import count_queries
from tests.support.world import World


def patient_name(app: Flask, patient_id: int) -> list[str]:
    """What must never appear in a message about this patient: name and identifier."""
    with app.app_context():
        patient = db.session.get(Patient, patient_id)
        return [patient.full_name, patient.clinic_identifier]


def test_a_patient_invitation_is_emailed_and_shown_once(
    app: Flask, client, world: World, mail, as_clinician
) -> None:
    """Inviting a patient emails the link (neutral subject, when it expires, and no
    clinic name in From: a patient's email shows none until they choose to see it) and
    still shows it once on the page; the emailed link works."""
    page = invite_patient(client, world.offline_patient_id, "first.time@example.org")
    shown = link_in(page)
    [message] = to(mail, "first.time@example.org")
    assert message.subject == "Set up your account"
    assert_discreet(message, also=patient_name(app, world.offline_patient_id))
    assert link_path(message, "/invitation/") == shown
    assert "works once, until" in message.body
    assert message.sender_name == ""
    assert "We are emailing the invitation to" in page.get_data(as_text=True)
    assert choose_password(app.test_client(), shown).headers["Location"] == "/diary/"


def test_resending_emails_a_new_link_and_the_old_one_stops_working(
    app: Flask, client, world: World, mail, as_clinician
) -> None:
    """ "Resend invitation" (the same form, now labelled so) issues a fresh link and emails
    it: two messages, two different links, only the newest works."""
    invite_patient(client, world.offline_patient_id, "again@example.org")
    page = client.get(f"/patients/{world.offline_patient_id}").get_data(as_text=True)
    assert "Resend invitation" in page
    invite_patient(client, world.offline_patient_id, "again@example.org")
    first, second = to(mail, "again@example.org")
    old, new = link_path(first, "/invitation/"), link_path(second, "/invitation/")
    assert old != new
    assert app.test_client().get(old).status_code == 410
    assert app.test_client().get(new).status_code == 200


def test_the_patients_page_shows_the_emails_status(
    app: Flask, client, world: World, mail, as_clinician
) -> None:
    """The portal section says "sent" once the mail server took it, "waiting to be sent"
    before, and "failed" after the last attempt failed."""
    invite_patient(client, world.offline_patient_id, "status@example.org")
    path = f"/patients/{world.offline_patient_id}"
    assert "Invitation email: <strong>sent</strong>" in client.get(path).get_data(as_text=True)
    for status, words in [
        (MessageStatus.PENDING, "waiting"),
        (MessageStatus.FAILED, "failed"),
    ]:
        with app.app_context():
            db.session.execute(update(OutboxMessage).values(status=status))
            db.session.commit()
        html = client.get(path).get_data(as_text=True)
        assert f"Invitation email: <strong>{words}</strong>" in html
    assert "Check the address, then resend." in html


def test_staff_invitations_are_emailed_and_the_list_shows_their_status_in_one_query(
    app: Flask, client, world: World, mail, as_admin
) -> None:
    """Inviting a colleague emails them; "Resend invitation" on the staff list emails a
    new link; the list shows each invited colleague's email status, read in one query
    however many are invited."""
    for n in range(3):
        response = client.post(
            "/admin/staff/new",
            data={
                "full_name": f"Sam Day {n}",
                "email": f"sam{n}@test.example",
                "role": "clinician",
            },
            follow_redirects=True,
        )
        assert response.status_code == 200
    [message] = to(mail, "sam0@test.example")
    assert message.subject == "Set up your account"
    assert_discreet(message, also=["Sam Day"])
    with app.app_context():
        sam = db.session.scalar(select(User).where(User.email == "sam0@test.example"))
        sam_id = sam.id
    html = client.get("/admin/staff").get_data(as_text=True)
    assert html.count("Email sent") == 3
    assert "Resend invitation" in html

    resent = client.post(f"/admin/staff/{sam_id}/invitation", follow_redirects=True)
    assert resent.status_code == 200
    first, second = to(mail, "sam0@test.example")
    assert link_path(second, "/invitation/") == link_in(resent)
    assert app.test_client().get(link_path(first, "/invitation/")).status_code == 410

    with app.app_context():
        engine = db.engine
    with count_queries(engine) as few:
        client.get("/admin/staff")
    with app.app_context():
        db.session.execute(update(OutboxMessage).values(status=MessageStatus.FAILED))
        db.session.commit()
    for n in range(3, 8):
        client.post(
            "/admin/staff/new",
            data={
                "full_name": f"Sam Day {n}",
                "email": f"sam{n}@test.example",
                "role": "clinician",
            },
        )
    with count_queries(engine) as many:
        html = client.get("/admin/staff").get_data(as_text=True)
    assert len(many) == len(few)
    assert html.count("Email failed") == 3


def test_another_clinics_admin_cannot_resend_an_invitation(
    app: Flask, client, world: World, mail
) -> None:
    """Resending names a colleague by id: another clinic's administrator gets a 404 and
    nothing is sent."""
    act_as(client, world.admin.id)
    client.post(
        "/admin/staff/new",
        data={"full_name": "Pat Lane", "email": "pat@test.example", "role": "clinician"},
    )
    with app.app_context():
        pat_id = db.session.scalar(select(User.id).where(User.email == "pat@test.example"))
    mail.clear()
    act_as(client, world.other_admin.id)
    assert client.post(f"/admin/staff/{pat_id}/invitation").status_code == 404
    act_as(client, world.other_clinician.id)
    assert client.post(f"/patients/{world.offline_patient_id}/invitation").status_code in (403, 404)
    assert mail == []


def test_one_reminder_after_three_days_while_the_invitation_is_open(
    app: Flask, client, world: World, mail, as_clinician
) -> None:
    """Three days after an invitation, if it is still unused and unexpired, one reminder
    goes out (running the job again sends no second); none before three days, none for an
    accepted or expired invitation."""
    invite_patient(client, world.offline_patient_id, "later@example.org")
    with app.app_context():
        assert remind_unaccepted.call_local() == 0  # too early
        db.session.execute(
            update(Invitation).values(created_at=utcnow() - timedelta(days=3, minutes=1))
        )
        db.session.commit()
        assert remind_unaccepted.call_local() == 1
        assert remind_unaccepted.call_local() == 0  # once
    reminder = to(mail, "later@example.org")[-1]
    assert reminder.subject == "Your account is waiting to be set up"
    assert_discreet(reminder, also=patient_name(app, world.offline_patient_id))
    kinds = [MessageKind.INVITATION, MessageKind.INVITATION_REMINDER]
    with app.app_context():
        rows = db.session.scalars(select(OutboxMessage.kind).order_by(OutboxMessage.id)).all()
        assert rows == [kind.value for kind in kinds]


def test_no_reminder_for_an_accepted_or_expired_invitation(
    app: Flask, client, world: World, mail, as_clinician
) -> None:
    """An invitation already used, or past its expiry, is not reminded."""
    accepted = link_in(invite_patient(client, world.offline_patient_id, "done@example.org"))
    choose_password(app.test_client(), accepted)
    act_as(client, world.admin.id)
    client.post(
        "/admin/staff/new",
        data={"full_name": "Lou Park", "email": "lou@test.example", "role": "clinician"},
    )
    with app.app_context():
        db.session.execute(update(Invitation).values(created_at=utcnow() - timedelta(days=4)))
        db.session.execute(
            update(Invitation)
            .where(Invitation.used_at.is_(None))
            .values(expires_at=utcnow() - timedelta(minutes=1))
        )
        db.session.commit()
        assert remind_unaccepted.call_local() == 0


def test_no_invitation_while_the_clinic_has_no_phone_number(
    app: Flask, client, world: World, mail, as_clinician
) -> None:
    """Patients are told to phone the clinic: without a phone number in the clinic's
    settings, inviting is refused in plain words pointing to those settings; nothing is
    created or sent, and what was typed stays."""
    with app.app_context():
        db.session.get(Clinic, world.clinic_a).phone = ""
        db.session.commit()
    page = client.get(f"/patients/{world.offline_patient_id}").get_data(as_text=True)
    assert "an administrator must add the" in page
    response = invite_patient(client, world.offline_patient_id, "nophone@example.org")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Your clinic has no phone number in its settings yet" in html
    assert "Clinic settings" in html
    assert 'value="nophone@example.org"' in html
    assert mail == []
    with app.app_context():
        assert db.session.get(Patient, world.offline_patient_id).user is None
        assert db.session.scalars(select(Invitation)).all() == []


def _invitation_messages(app: Flask) -> list[tuple[MessageStatus, str]]:
    """(status, body) of every invitation email, oldest first."""
    with app.app_context():
        rows = db.session.execute(
            select(OutboxMessage.status, OutboxMessage.body)
            .where(OutboxMessage.kind == MessageKind.INVITATION.value)
            .order_by(OutboxMessage.id)
        )
        return [(status, body) for status, body in rows]


def test_resending_withdraws_the_old_links_unsent_emails(
    app: Flask, client, world: World, mail, as_clinician, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first invitation's email failed (an administrator could send it again) and a
    reminder waits; the clinician resends: the old link no longer works, so its failed
    email and its reminder are withdrawn ("not sent", bodies emptied, nothing left to
    retry) and only the new link is emailed."""
    invite_patient(client, world.offline_patient_id, "bounced@example.org")
    with app.app_context():
        db.session.execute(update(OutboxMessage).values(status=MessageStatus.FAILED))
        db.session.execute(
            update(Invitation).values(created_at=utcnow() - timedelta(days=3, minutes=1))
        )
        db.session.commit()
    monkeypatch.setattr("clinic.outbox.enqueue", lambda *args: None)  # the reminder waits
    with app.app_context():
        assert remind_unaccepted.call_local() == 1
    monkeypatch.undo()
    invite_patient(client, world.offline_patient_id, "bounced@example.org")
    (old, _), new = _invitation_messages(app)
    assert old is MessageStatus.CANCELLED and new[0] is MessageStatus.SENT
    with app.app_context():
        rows = db.session.execute(
            select(OutboxMessage.kind, OutboxMessage.status, OutboxMessage.body).where(
                OutboxMessage.status == MessageStatus.CANCELLED
            )
        ).all()
    assert sorted((kind, body) for kind, _status, body in rows) == [
        (MessageKind.INVITATION.value, ""),
        (MessageKind.INVITATION_REMINDER.value, ""),
    ]
    assert len(to(mail, "bounced@example.org")) == 2  # the first try, then the new link


def test_resending_withdraws_a_waiting_email_with_the_old_link(
    app: Flask, client, world: World, mail, as_clinician, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The mail server has not taken the first email yet when the clinician resends: it
    is withdrawn with its link, and the new one waits alone."""
    monkeypatch.setattr("clinic.outbox.enqueue", lambda *args: None)
    invite_patient(client, world.offline_patient_id, "slow@example.org")
    invite_patient(client, world.offline_patient_id, "slow@example.org")
    assert _invitation_messages(app)[0] == (MessageStatus.CANCELLED, "")
    assert _invitation_messages(app)[1][0] is MessageStatus.PENDING
    assert mail == []


def test_a_new_invitation_after_the_clean_up_is_emailed(
    app: Flask, client, world: World, mail, as_clinician
) -> None:
    """An invitation expired long ago and the daily clean-up deleted it; the clinician
    invites the patient again. Invitation ids are never reused (AUTOINCREMENT on SQLite),
    so the new invitation's email is not taken for the deleted one's: it goes out."""
    invite_patient(client, world.offline_patient_id, "late@example.org")
    long_ago = utcnow() - timedelta(days=60)
    with app.app_context():
        db.session.execute(update(Invitation).values(created_at=long_ago, expires_at=long_ago))
        clean_up(utcnow())
        db.session.commit()
        assert db.session.scalars(select(Invitation)).all() == []
    invite_patient(client, world.offline_patient_id, "late@example.org")
    assert len(to(mail, "late@example.org")) == 2

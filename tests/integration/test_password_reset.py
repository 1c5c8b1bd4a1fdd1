"""Forgotten passwords: a neutral email with a single-use link valid for an hour, the same
answer whether or not an account exists, and a new password that signs out everywhere."""

from __future__ import annotations

import json
import os
import re
import stat
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from clinic.auth import reset as reset_module
from clinic.auth.services import InvitationAlreadyUsed, issue_invitation, reset_password
from clinic.core.mail import FileTransport, Message
from clinic.extensions import db
from clinic.models import AuditEvent, Clinic, Invitation, ReminderPlan, Role, User, UserSession
from clinic.models.invitations import RESET
from clinic.models.types import utcnow
from tests.support.audit import events as audit
from tests.support.auth import sign_in
from tests.support.factories import make_user
from tests.support.queries import count_queries
from tests.support.world import World

SENT = "If an account exists for that address, we have sent a link"
NEW_PASSWORD = "a calm river at dawn 42"
LINK = re.compile(r"https?://[^\s]+(/password/reset/[A-Za-z0-9_-]+)")


def ask_for_reset(client, email: str):
    return client.post("/password/forgot", data={"email": email})


def links_in(message: Message) -> list[str]:
    return LINK.findall(message.body)


def choose(client, link: str, password: str = NEW_PASSWORD):
    client.get(link)
    return client.post(link, data={"password": password, "confirm": password})


def test_the_sign_in_page_offers_a_reset(client) -> None:
    """ "Forgot your password?" on the sign-in page leads to the request form."""
    html = client.get("/login").get_data(as_text=True)
    assert 'href="/password/forgot"' in html
    assert "Forgotten your password?" in client.get("/password/forgot").get_data(as_text=True)


def test_a_reset_link_is_emailed_neutrally(
    app: Flask, client, world: World, mail, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Asking sends one plain email with a neutral subject and a link on the configured
    public address; the answer is the standard one; the request is audited without the
    address."""
    monkeypatch.setitem(app.config, "CLINIC_BASE_URL", "https://diary.example.org")
    response = ask_for_reset(client, world.patient.email.upper())
    assert response.headers["Location"] == "/password/forgot/sent"
    assert SENT in client.get("/password/forgot/sent").get_data(as_text=True)
    (message,) = mail
    assert message.to == world.patient.email  # the account's address, not as typed
    assert message.subject == "Your sign-in link"
    assert "https://diary.example.org/password/reset/" in message.body
    assert "within the next hour" in message.body
    assert "Clinic A" not in message.body  # one account: no clinic named
    (event,) = audit(app, "auth.password_reset_requested")
    assert (event.object_id, event.clinic_id) == (world.patient.id, world.clinic_a)
    assert world.patient.email not in event.detail


def test_the_link_goes_to_the_accounts_address_never_a_look_alike(
    app: Flask, client, world: World, mail
) -> None:
    """An address typed with a character that lower-cases onto a plain letter (the Kelvin
    sign "K" becomes "k") matches the account, but is another mailbox: the link goes to
    the address the account has, never to the one typed."""
    with app.app_context():
        db.session.get(User, world.clinician.id).email = "kate@example.org"
        db.session.commit()
    ask_for_reset(client, "\u212aate@example.org")
    (message,) = mail
    assert message.to == "kate@example.org"


@pytest.mark.parametrize("case", ["unknown", "deactivated", "not yet claimed"])
def test_no_account_gets_the_same_answer_and_no_email(
    app: Flask, client, world: World, mail, case: str
) -> None:
    """An unknown address, a deactivated account or one never claimed: the same answer,
    no email, nothing in the trail that names the address."""
    email = world.colleague.email
    if case == "unknown":
        email = "nobody@test.example"
    else:
        with app.app_context():
            colleague = db.session.get(User, world.colleague.id)
            if case == "deactivated":
                colleague.active = False
            else:
                colleague.password_hash = None
            db.session.commit()
    response = ask_for_reset(client, email)
    assert response.headers["Location"] == "/password/forgot/sent"
    assert mail == []
    assert audit(app, "auth.password_reset_requested") == []


def test_a_bad_address_is_explained(client, mail) -> None:
    """Something that is not an email address is refused next to the field, kept as typed."""
    html = ask_for_reset(client, "not an address").get_data(as_text=True)
    assert "Enter an email address like name@example.org." in html
    assert 'value="not an address"' in html
    assert mail == []


def test_the_link_sets_a_new_password_and_signs_in_afresh(
    app: Flask, client, world: World, mail
) -> None:
    """The link shows the form; the new password (checked by the usual rules) ends every
    other session of the account, signs in here, and is audited; the old one stops
    working."""
    elsewhere = app.test_client()
    sign_in(elsewhere, world.patient.email)
    ask_for_reset(client, world.patient.email)
    (link,) = links_in(mail[0])
    weak = choose(client, link, "short")
    assert weak.status_code == 200 and "At least 12 characters" in weak.get_data(as_text=True)
    done = choose(client, link)
    assert done.headers["Location"] == "/diary/"
    assert client.get("/diary/").status_code == 200
    assert elsewhere.get("/diary/").status_code == 302
    assert len(audit(app, "auth.password_reset")) == 1
    assert sign_in(app.test_client(), world.patient.email).status_code == 200
    assert sign_in(app.test_client(), world.patient.email, NEW_PASSWORD).status_code == 302


def test_a_link_works_once(app: Flask, client, world: World, mail) -> None:
    """After use, the link is refused (410) with a way to ask for another."""
    ask_for_reset(client, world.patient.email)
    (link,) = links_in(mail[0])
    choose(client, link)
    again = app.test_client()
    response = again.get(link)
    assert response.status_code == 410
    assert 'href="/password/forgot"' in response.get_data(as_text=True)
    assert choose(again, link, "another calm river 43").status_code == 410


def test_a_link_expires_after_an_hour(app: Flask, client, world: World, mail) -> None:
    """A reset link is valid for one hour only."""
    ask_for_reset(client, world.patient.email)
    (link,) = links_in(mail[0])
    with app.app_context():
        invitation = db.session.scalars(select(Invitation)).one()
        assert invitation.expires_at - invitation.created_at == timedelta(hours=1)
        invitation.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert client.get(link).status_code == 410


def test_a_new_request_replaces_the_older_link(client, world: World, mail) -> None:
    """Only the newest link works."""
    ask_for_reset(client, world.patient.email)
    ask_for_reset(client, world.patient.email)
    first, second = (links_in(message)[0] for message in mail)
    assert client.get(first).status_code == 410
    assert client.get(second).status_code == 200


def test_reset_and_invitation_tokens_are_not_interchangeable(
    app: Flask, client, world: World, mail
) -> None:
    """A reset token is no invitation and an invitation token no reset link."""
    ask_for_reset(client, world.patient.email)
    (link,) = links_in(mail[0])
    token = link.rsplit("/", 1)[1]
    assert client.get(f"/invitation/{token}").status_code == 410
    with app.app_context():
        colleague = db.session.get(User, world.colleague.id)
        colleague.password_hash = None
        invitation = issue_invitation(colleague, created_by=None)
        db.session.commit()
    assert client.get(f"/password/reset/{invitation}").status_code == 410
    assert client.get(f"/invitation/{invitation}").status_code == 200
    assert client.get(link).status_code == 200  # neither replaced the other


def test_two_simultaneous_uses_of_one_link_let_one_through(app: Flask, world: World) -> None:
    """The link is claimed with one conditional UPDATE: the second of two racing
    submissions is refused."""
    with app.app_context():
        user = db.session.get(User, world.patient.id)
        issue_invitation(user, created_by=None, purpose=RESET)
        invitation = db.session.scalars(select(Invitation)).one()
        invitation_id = invitation.id
        db.session.commit()
    with app.test_request_context():
        invitation = db.session.get(Invitation, invitation_id)
        db.session.execute(
            Invitation.__table__.update()
            .where(Invitation.id == invitation_id)
            .values(used_at=utcnow())
        )
        with pytest.raises(InvitationAlreadyUsed):
            reset_password(invitation, NEW_PASSWORD)
        db.session.rollback()


def test_one_address_at_two_clinics_gets_one_email_with_a_link_each(
    app: Flask, client, world: World, mail
) -> None:
    """An address with accounts at two clinics gets one message naming each clinic with
    its own link; each link resets its own account only."""
    with app.app_context():
        other = make_user(
            db.session.get(Clinic, world.clinic_b), Role.CLINICIAN, email=world.patient.email
        )
        other_id = other.id
        db.session.commit()
    ask_for_reset(client, world.patient.email)
    (message,) = mail
    # The patient's account is not named by its clinic (a patient's email shows no clinic
    # name until they choose to see it); the clinician's is.
    assert "Account 1:" in message.body and "Clinic B:" in message.body
    assert "Clinic A" not in message.body
    first, second = links_in(message)
    assert choose(client, second).headers["Location"] == "/dashboard/"
    with app.app_context():
        assert db.session.get(User, other_id).password_changed_at is not None
        assert db.session.get(User, world.patient.id).password_changed_at is None
    assert app.test_client().get(first).status_code == 200


def test_a_clinic_that_keeps_its_name_off_mail_is_not_named_in_a_reset_email(
    app: Flask, client, world: World, mail
) -> None:
    """One address has accounts at two clinics, one of which chose no name on mail (some
    patients prefer none in their mailbox): its link is labelled by its place in the
    list ("Account 2"), never by the clinic's name; the other clinic's link keeps the
    name it shows on mail (its sender name, not its full name). (Staff accounts: a
    patient's are never named by their clinic unless the patient chose it.)"""
    with app.app_context():
        a = db.session.get(Clinic, world.clinic_a)
        a.name, a.mail_sender_name = "Northside Physiotherapy Service", "Northside"
        b = db.session.get(Clinic, world.clinic_b)
        b.name, b.mail_sender_name = "Eastgate Surgery Follow-up", ""
        make_user(b, Role.CLINICIAN, email=world.clinician.email)
        db.session.commit()
    ask_for_reset(client, world.clinician.email)
    (message,) = mail
    assert message.sender_name == ""
    assert "Northside:\n" in message.body and "Account 2:\n" in message.body
    assert "Eastgate" not in message.body and "Physiotherapy" not in message.body
    assert len(links_in(message)) == 2


def test_a_reset_email_from_one_clinic_comes_under_the_name_it_chose(
    app: Flask, client, world: World, mail
) -> None:
    """From one clinic, a colleague's reset email comes from the sender name the clinic
    set for mail, and from no name at all when it chose none."""
    for chosen in ("Northside", ""):
        with app.app_context():
            db.session.get(Clinic, world.clinic_a).mail_sender_name = chosen
            db.session.commit()
        mail.clear()
        ask_for_reset(client, world.clinician.email)
        (message,) = mail
        assert message.sender_name == chosen


def test_a_patients_reset_email_names_the_clinic_only_if_they_chose_it(
    app: Flask, client, world: World, mail
) -> None:
    """A clinic named "Northside Pelvic Health" says what the email is about beside its
    subject: a patient's reset email comes from no name, unless the patient chose, in
    their reminder settings, to see the clinic's name (then from it, as reminders are)."""
    with app.app_context():
        db.session.get(Clinic, world.clinic_a).name = "Northside Pelvic Health"
        db.session.commit()
    ask_for_reset(client, world.patient.email)
    (message,) = mail
    assert message.sender_name == ""
    with app.app_context():
        db.session.add(
            ReminderPlan(
                clinic_id=world.clinic_a, patient_id=world.patient.patient_id, show_clinic_name=True
            )
        )
        db.session.commit()
    mail.clear()
    ask_for_reset(client, world.patient.email)
    (message,) = mail
    assert message.sender_name == "Northside Pelvic Health"


def test_a_reset_lifts_the_back_off(app: Flask, client, world: World, mail) -> None:
    """While someone keeps the account's sign-in paused, its owner gets in by a reset
    link, which also starts the count of failures again."""
    with app.app_context():
        user = db.session.get(User, world.patient.id)
        user.failed_sign_ins = 9
        user.sign_in_blocked_until = utcnow() + timedelta(minutes=10)
        db.session.commit()
    ask_for_reset(client, world.patient.email)
    choose(client, links_in(mail[0])[0])
    with app.app_context():
        user = db.session.get(User, world.patient.id)
        assert (user.failed_sign_ins, user.sign_in_blocked_until) == (0, None)
    assert sign_in(app.test_client(), world.patient.email, NEW_PASSWORD).status_code == 302


def test_two_factor_is_still_asked_after_a_reset(app: Flask, client, world: World, mail) -> None:
    """A reset link proves the mailbox, not the phone: with two-factor on, the new
    password is saved but signing in still asks for the code."""
    with app.app_context():
        user = db.session.get(User, world.clinician.id)
        user.totp_secret = "JBSWY3DPEHPK3PXP"
        user.totp_enabled_at = utcnow()
        db.session.commit()
    ask_for_reset(client, world.clinician.email)
    done = choose(client, links_in(mail[0])[0])
    assert done.headers["Location"] == "/login"
    assert client.get("/patients/").status_code == 302


def test_a_signed_in_visitor_using_a_link_is_signed_in_as_its_owner(
    app: Flask, client, world: World, mail, as_clinician
) -> None:
    """Someone signed in who opens a reset link for (their own, or another) account ends
    up signed in as the link's account, in a new session; the browser's previous session
    is ended, not left open."""
    ask_for_reset(app.test_client(), world.patient.email)
    assert choose(client, links_in(mail[0])[0]).headers["Location"] == "/diary/"
    with app.app_context():
        sign_ins = db.session.scalars(
            select(AuditEvent.detail).where(AuditEvent.action == "auth.sign_in")
        ).all()
        previous = db.session.scalars(
            select(UserSession).where(UserSession.user_id == world.clinician.id)
        ).one()
        assert previous.end_reason == "replaced"
    assert json.loads(sign_ins[-1]) == {"after": "password reset", "second_factor": "none"}


def test_development_messages_are_files_only_their_owner_reads(tmp_path: Path) -> None:
    """Without SMTP, each message is an .eml file in the instance folder's outbox,
    readable by its owner only, with a name that says nothing about its reader."""
    box = FileTransport(tmp_path / "outbox", sender="no-reply@clinic.example")
    with box.session() as send:
        send(Message(to="a@example.org", subject="Your sign-in link", body="Open this."))
    (path,) = (tmp_path / "outbox").iterdir()
    assert path.suffix == ".eml" and "example" not in path.name
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    text = path.read_text()
    assert "Subject: Your sign-in link" in text and "To: a@example.org" in text


def test_the_request_does_the_same_work_whether_or_not_an_account_exists(
    app: Flask, client, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The request only hands the address to the queue: it sends the same statements to
    the database for an address with an account as for one without, so its timing tells
    nothing. The look-up, the link and the message happen in the job."""
    queued: list[str] = []
    monkeypatch.setattr(reset_module, "enqueue", lambda _task, email, **_: queued.append(email))
    statements: dict[str, list[str]] = {}
    for email in (world.patient.email, "nobody-here@example.org"):
        with app.app_context():
            engine = db.engine
        with count_queries(engine) as seen:
            response = ask_for_reset(client, email)
        assert response.status_code == 302
        statements[email] = [s for s in seen if "audit" not in s]
    assert statements[world.patient.email] == statements["nobody-here@example.org"]
    assert queued == [world.patient.email, "nobody-here@example.org"]

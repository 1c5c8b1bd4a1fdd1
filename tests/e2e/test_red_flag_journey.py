"""Browser journey across two people (issue 14): a patient logs a session that raises two
red flags, the clinician's email arrives at a real SMTP server, its link opens the
dashboard, and acknowledging both flags of the session with one note (issue 17) withdraws
the escalation that was waiting to go out.

Runs on a live server of its own (`mailing_server`: its own demo database, mail by SMTP to
an aiosmtpd server on the loopback), so nothing here touches the data the other browser
tests share.
"""

from __future__ import annotations

import re
from datetime import timedelta
from email.message import EmailMessage

import pytest
from playwright.sync_api import Browser, Page, expect

from clinic.alerts.jobs import escalate_red_flags
from clinic.core.mail import Message
from clinic.models.outbox import MessageStatus
from clinic.models.types import utcnow
from clinic.outbox.jobs import sweep_outbox
from clinic.outbox.kinds import MessageKind
from tests.e2e.helpers import (
    assert_accessible_at,
    assert_discreet_title,
    assert_no_horizontal_scrolling,
    expect_path,
    sign_in,
)
from tests.support.alerts import outbox
from tests.support.browser import DESKTOP, PHONE_390, LiveServer, open_context
from tests.support.privacy import assert_discreet
from tests.support.smtp import SmtpSink

pytestmark = pytest.mark.e2e

PATIENT = "avery.quinn@example.org"
PATIENT_NAME, PATIENT_IDENTIFIER = "Avery Quinn", "NPH-1001"
CLINICIAN = "physio@northside.example"


def messages_to(sink: SmtpSink, address: str) -> list[EmailMessage]:
    """What the SMTP server has received for `address`, oldest first."""
    return [m for m in list(sink.received) if m["To"] == address]


def as_message(email: EmailMessage) -> Message:
    """A received email as the deny-list reads it."""
    return Message(to=str(email["To"]), subject=str(email["Subject"]), body=email.get_content())


def the_link(body: str) -> str:
    """The one address in a message's body."""
    links = re.findall(r"https?://\S+", body)
    assert len(links) == 1, f"expected one link, found {links}"
    return links[0]


def log_a_session_with_high_and_sharp_pain(page: Page) -> None:
    """The patient logs today's session from Today with the real form: pain 8 during it
    and sharp pain (two red flags from one session), no bleeding."""
    sign_in(page, PATIENT)
    expect_path(page, "/diary/")
    page.get_by_role("link", name="Log a session").click()
    expect_path(page, "/diary/log")
    assert_discreet_title(page)
    assert_no_horizontal_scrolling(page)
    assert_accessible_at(page)
    page.get_by_role("group", name="Pain during the session").get_by_label("8", exact=True).check()
    page.get_by_role("group", name="Pain afterwards").get_by_label("2", exact=True).check()
    page.get_by_role("group", name="Bleeding").get_by_label("None").check()
    page.get_by_role("group", name="Any sharp or sudden pain?").get_by_label("Yes").check()
    page.get_by_role("button", name="Save session").click()


def escalate_a_day_later_with_the_mail_server_down(server: LiveServer, sink: SmtpSink) -> None:
    """Nobody has acknowledged the report a day later: the escalation job posts its
    messages, which cannot go out (the SMTP server is down) and wait in the outbox."""
    sink.stop()
    try:
        with pytest.MonkeyPatch.context() as patch:
            later = utcnow() + timedelta(hours=25)
            patch.setattr("clinic.alerts.jobs.utcnow", lambda: later)
            with server.app.app_context():
                assert escalate_red_flags.call_local() > 0
    finally:
        sink.start()


def test_a_red_flag_reaches_the_clinician_by_email_and_acknowledging_stops_escalation(
    browser: Browser, mailing_server: tuple[LiveServer, SmtpSink]
) -> None:
    """A patient on a 390 px phone logs a session with pain 8 and sharp pain through the
    diary form and is told to stop, that the clinic has been sent a message, when it
    answers and when to get emergency care. The clinician's email is then at the SMTP
    server (one message for the report, however many flags): a neutral
    subject, a body with no health word, no name and no identifier, and one link. Opened
    in a fresh desktop browser, the link asks the clinician to sign in and then lands on
    the dashboard narrowed to what needs attention across the clinic, with the patient
    listed. A day later nobody has acknowledged it and the escalation waits in the outbox
    (the mail server is down); on the patient's timeline the session's two flags share one
    form, each ticked and named with its severity, and the clinician acknowledges both
    with one note; the page comes back to the flags, the waiting escalation is withdrawn
    ("not needed") and never reaches the mail server once it is back. Every page visited
    passes the accessibility checks at 390 and 1280 px."""
    server, sink = mailing_server
    with open_context(browser, server, PHONE_390) as patient_context:
        patient = patient_context.new_page()
        log_a_session_with_high_and_sharp_pain(patient)
        expect(patient.get_by_role("heading", name="Please stop for today")).to_be_visible()
        expect(patient.get_by_text("Your clinic has been sent a message about it.")).to_be_visible()
        expect(patient.get_by_role("heading", name="When the clinic will answer")).to_be_visible()
        expect(patient.get_by_role("heading", name="Get emergency care now")).to_be_visible()
        assert_discreet_title(patient)
        assert_no_horizontal_scrolling(patient)
        assert_accessible_at(patient)

    # Jobs run at once in the live server: the message left while the page was answering.
    emails = messages_to(sink, CLINICIAN)
    assert len(emails) == 1, f"{len(emails)} messages reached the clinician"
    alert = as_message(emails[0])
    assert alert.subject == "A patient needs review"
    assert_discreet(alert, also=[PATIENT_NAME, PATIENT_IDENTIFIER])
    link = the_link(alert.body)
    assert link.startswith(server.base_url + "/dashboard/")

    escalate_a_day_later_with_the_mail_server_down(server, sink)
    waiting = outbox(server.app, MessageKind.RED_FLAG_ESCALATION)
    assert waiting and {m.status for m in waiting} == {MessageStatus.PENDING.value}
    assert CLINICIAN in {m.recipient for m in waiting}

    with open_context(browser, server, DESKTOP) as clinician_context:
        clinician = clinician_context.new_page()
        clinician.goto(link)
        expect_path(clinician, "/login")
        expect(clinician.get_by_role("heading", level=1, name="Sign in")).to_be_visible()
        assert_accessible_at(clinician)
        clinician.get_by_label("Email").fill(CLINICIAN)
        clinician.get_by_label("Password").fill("demo-pass-2026")
        clinician.get_by_role("button", name="Sign in").click()

        expect_path(clinician, "/dashboard/")
        assert "show=attention" in clinician.url
        expect(clinician.get_by_label("Patients", exact=True)).to_have_value("all")
        expect(clinician.get_by_label("Flag", exact=True)).to_have_value("red_flag")
        row = clinician.get_by_role("row").filter(has_text=PATIENT_NAME)
        expect(row).to_have_count(1)
        expect(row).to_contain_text("urgent red flag")
        assert_discreet_title(clinician)
        assert_accessible_at(clinician)

        row.get_by_role("link", name=PATIENT_NAME).click()
        expect(clinician.get_by_role("heading", level=1, name=PATIENT_NAME)).to_be_visible()
        assert_accessible_at(clinician)
        card = clinician.locator("article.urgent-card").filter(
            has=clinician.get_by_role("checkbox", name=re.compile("Sharp pain"))
        )
        expect(card).to_have_count(1)
        expect(card.get_by_role("heading")).to_have_text("Red flags from one session — 2 open")
        boxes = card.get_by_role("group", name="Flags to acknowledge").get_by_role("checkbox")
        expect(boxes).to_have_count(2)
        for name in ("Sharp pain (urgent)", "High pain (8/10) (urgent)"):
            expect(card.get_by_role("checkbox", name=name)).to_be_checked()
        assert_no_horizontal_scrolling(clinician)
        assert_accessible_at(clinician)
        card.get_by_label("What you did about it").fill("Phoned; settled, plan unchanged.")
        card.get_by_role("button", name="Acknowledge the ticked flags").click()
        expect(clinician.get_by_role("status")).to_contain_text(
            "2 flags were acknowledged; your note is kept with each."
        )
        assert clinician.url.endswith("#flags-heading")
        expect(clinician.get_by_role("checkbox", name=re.compile("Sharp pain"))).to_have_count(0)
        assert_accessible_at(clinician)

    withdrawn = outbox(server.app, MessageKind.RED_FLAG_ESCALATION)
    assert {m.status for m in withdrawn} == {MessageStatus.CANCELLED.value}
    # The mail server is back and the wait after it was unreachable is over: the sweep
    # sends nothing more to anyone.
    received = len(sink.received)
    with pytest.MonkeyPatch.context() as patch:
        later = utcnow() + timedelta(hours=1)
        patch.setattr("clinic.outbox.delivery.utcnow", lambda: later)
        with server.app.app_context():
            assert sweep_outbox.call_local().sent == 0
    assert len(sink.received) == received

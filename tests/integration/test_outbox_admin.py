"""Administrators' outbox: what they see of the clinic's messages (never what a message
says), failed ones first, a filter, pages at a constant cost, and "Retry" on a failed
message, which is audited and sends it. Who may open it is in the access matrix
(tests/support/access_matrix.py); cross-clinic retries are proven here too."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from clinic.core import mail
from clinic.extensions import db
from clinic.models import AuditEvent
from clinic.models.outbox import MessageStatus, OutboxMessage
from tests.support.auth import act_as
from tests.support.outbox import SECRET_BODY, SECRET_SUBJECT, add_messages
from tests.support.queries import queries_for
from tests.support.world import World


def _page(client, url: str) -> str:
    """The page's HTML, addresses as typed (without their line-break hints)."""
    return client.get(url).get_data(as_text=True).replace("<wbr>", "")


def _rows(html: str) -> int:
    return max(html.count("<tr>") - 1, 0)  # less the header's (no table when empty)


def test_the_page_lists_kind_recipient_status_and_attempts_never_content(
    app: Flask, client, world: World, as_admin
) -> None:
    """Each message shows its kind, recipient, status, attempts and error; its subject and
    body (a sign-in link) appear nowhere on the page."""
    add_messages(app, world.clinic_a, 1, MessageStatus.SENT, recipient="sent@example.org")
    add_messages(app, world.clinic_a, 1, MessageStatus.FAILED, recipient="failed@example.org")
    add_messages(app, world.clinic_a, 1, MessageStatus.PENDING, recipient="waiting@example.org")
    html = _page(client, "/admin/outbox")
    for words in ("Password reset link", "sent@example.org", "failed@example.org"):
        assert words in html
    for label in ("Sent", "Failed", "Waiting"):
        assert f"{label}" in html
    assert "recipient refused (550)" in html
    assert SECRET_SUBJECT not in html and "secret-token" not in html
    assert SECRET_BODY not in html
    # Failed first: it needs someone.
    assert html.index("failed@example.org") < html.index("waiting@example.org")
    assert html.index("failed@example.org") < html.index("sent@example.org")


def test_only_the_admins_own_clinics_messages_are_listed(
    app: Flask, client, world: World, as_admin
) -> None:
    """Clinic B's messages never show on clinic A's outbox."""
    add_messages(app, world.clinic_b, 2, MessageStatus.FAILED, recipient="b@example.org")
    add_messages(app, world.clinic_a, 1, MessageStatus.SENT, recipient="a@example.org")
    html = _page(client, "/admin/outbox")
    assert "a@example.org" in html and "b@example.org" not in html
    assert "could not be sent" not in html


def test_the_filter_shows_one_status(app: Flask, client, world: World, as_admin) -> None:
    """?status=failed lists failed messages only; an unknown filter shows everything."""
    add_messages(app, world.clinic_a, 2, MessageStatus.FAILED)
    add_messages(app, world.clinic_a, 3, MessageStatus.SENT)
    assert _rows(client.get("/admin/outbox?status=failed").get_data(as_text=True)) == 2
    assert _rows(client.get("/admin/outbox?status=sent").get_data(as_text=True)) == 3
    assert _rows(client.get("/admin/outbox?status=waiting").get_data(as_text=True)) == 0
    assert _rows(client.get("/admin/outbox?status=nonsense").get_data(as_text=True)) == 5


def test_the_page_costs_the_same_queries_at_5_and_50_messages(
    app: Flask, client, world: World, as_admin, monkeypatch
) -> None:
    """The list is paged and loads its page in a fixed number of queries (no query per
    message): 5 and 50 messages cost the same."""
    monkeypatch.setitem(app.config, "PATIENTS_PER_PAGE", 100)
    add_messages(app, world.clinic_a, 3, MessageStatus.SENT)
    add_messages(app, world.clinic_a, 2, MessageStatus.FAILED)
    at_five = queries_for(app, client, "/admin/outbox")
    add_messages(app, world.clinic_a, 40, MessageStatus.SENT)
    add_messages(app, world.clinic_a, 5, MessageStatus.FAILED)
    at_fifty = queries_for(app, client, "/admin/outbox")
    assert at_five == at_fifty
    assert _rows(client.get("/admin/outbox").get_data(as_text=True)) == 50


def test_pages_of_messages(app: Flask, client, world: World, as_admin, monkeypatch) -> None:
    """With more messages than a page holds, the rest are on the next page, and the
    filter is kept in the pager's links."""
    monkeypatch.setitem(app.config, "PATIENTS_PER_PAGE", 10)
    add_messages(app, world.clinic_a, 12, MessageStatus.FAILED)
    first = client.get("/admin/outbox?status=failed").get_data(as_text=True)
    assert _rows(first) == 10 and "Page 1 of 2" in first
    assert "status=failed" in first.split("Next page")[0].rsplit("href=", 1)[1]
    second = client.get("/admin/outbox?status=failed&page=2").get_data(as_text=True)
    assert _rows(second) == 2


def test_retry_sends_a_failed_message_again_with_fresh_attempts(
    app: Flask, client, world: World, as_admin
) -> None:
    """ "Retry" puts a failed message back with its attempts reset, records who asked in
    the audit trail, and the worker (run at once in tests) sends it."""
    (message_id,) = add_messages(app, world.clinic_a, 1, MessageStatus.FAILED)
    with app.app_context():
        sent_before = len(mail.transport().messages)  # the transport outlives each test
    response = client.post(f"/admin/outbox/{message_id}/retry", data={"status": "failed"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/outbox?status=failed")
    with app.app_context():
        message = db.session.get(OutboxMessage, message_id)
        assert message.status == MessageStatus.SENT
        assert message.attempts == 1 and message.last_error == ""
        event = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "outbox.retry")
        ).one()
        assert (event.object_type, event.object_id) == ("outbox_message", message_id)
        assert event.actor_id == world.admin.id
        sent = mail.transport().messages[sent_before:]
        assert [m.subject for m in sent] == [SECRET_SUBJECT]


def test_retry_is_refused_for_a_message_that_did_not_fail(
    app: Flask, client, world: World, as_admin
) -> None:
    """A message sent (or still waiting) is not sent again: the page says why."""
    (message_id,) = add_messages(app, world.clinic_a, 1, MessageStatus.SENT)
    response = client.post(f"/admin/outbox/{message_id}/retry", follow_redirects=True)
    assert "Only a message that failed can be sent again" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(OutboxMessage, message_id).attempts == 1


def test_retry_is_refused_once_the_clean_up_emptied_the_message(
    app: Flask, client, world: World, as_admin
) -> None:
    """A failed message whose body (and a letter's PDF) the daily clean-up emptied is not
    sent again as an empty email shown as sent: the page says why, and it stays failed."""
    (message_id,) = add_messages(app, world.clinic_a, 1, MessageStatus.FAILED)
    with app.app_context():
        message = db.session.get(OutboxMessage, message_id)
        message.body, message.attachment = "", None
        db.session.commit()
        sent_before = len(mail.transport().messages)
    response = client.post(f"/admin/outbox/{message_id}/retry", follow_redirects=True)
    assert "too old to send again" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(OutboxMessage, message_id).status == MessageStatus.FAILED
        assert len(mail.transport().messages) == sent_before


def test_another_clinics_admin_cannot_retry_or_learn_of_a_message(
    app: Flask, client, world: World
) -> None:
    """Clinic B's administrator gets 404 for clinic A's message, and nothing changes."""
    (message_id,) = add_messages(app, world.clinic_a, 1, MessageStatus.FAILED)
    act_as(client, world.other_admin.id)
    assert client.post(f"/admin/outbox/{message_id}/retry").status_code == 404
    with app.app_context():
        assert db.session.get(OutboxMessage, message_id).status == MessageStatus.FAILED


def test_the_staff_page_says_when_messages_could_not_be_sent(
    app: Flask, client, world: World, as_admin
) -> None:
    """At a glance: "2 messages could not be sent — see Outbox", linking to the failed
    ones; nothing when none failed."""
    assert "could not be sent" not in client.get("/admin/staff").get_data(as_text=True)
    add_messages(app, world.clinic_a, 2, MessageStatus.FAILED)
    html = client.get("/admin/staff").get_data(as_text=True)
    assert "2 messages could not be sent" in html
    assert 'href="/admin/outbox?status=failed"' in html

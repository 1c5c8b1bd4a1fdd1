"""The mail transports: SMTP (checked against a real SMTP server on the loopback), .eml
files, memory in tests; and which one the configuration picks."""

from __future__ import annotations

from pathlib import Path

import pytest

from clinic.config import load_config
from clinic.core.mail import (
    MailServerUnavailable,
    MemoryTransport,
    Message,
    MessageRefused,
    SmtpTransport,
)
from tests.support.smtp import free_port, smtp_sink

MESSAGE = Message(
    to="a@example.org",
    subject="Your sign-in link",
    body="Open this link.",
    sender_name="Northside Clinic",
    message_id="<outbox-7@clinic.example>",
)


def test_smtp_sends_a_batch_over_one_connection() -> None:
    """Several messages go through one session; the server receives each with the sender's
    display name, the subject and the stable Message-ID."""
    with smtp_sink() as sink:
        transport = SmtpTransport("127.0.0.1", sink.port, "clinic@example.org", security="none")
        with transport.session() as send:
            send(MESSAGE)
            send(Message(to="b@example.org", subject="Second", body="Two."))
        first, second = sink.received
    assert first["From"] == "Northside Clinic <clinic@example.org>"
    assert first["To"] == "a@example.org" and first["Subject"] == "Your sign-in link"
    assert first["Message-ID"] == "<outbox-7@clinic.example>"
    assert first.get_content().strip() == "Open this link."
    assert second["From"] == "clinic@example.org" and second["To"] == "b@example.org"


def test_a_refused_recipient_is_the_messages_fault_without_its_address() -> None:
    """A 5xx refusal of a recipient is `MessageRefused`, and the reason kept (shown to
    administrators) carries the code, never the address."""
    with smtp_sink() as sink:
        sink.handler.refuse.add("a@example.org")
        transport = SmtpTransport("127.0.0.1", sink.port, "clinic@example.org", security="none")
        with transport.session() as send, pytest.raises(MessageRefused) as refused:
            send(MESSAGE)
    assert "550" in refused.value.reason and "example.org" not in refused.value.reason


def test_a_recipient_refused_for_now_is_the_messages_refusal() -> None:
    """A 450 for one recipient (mailbox busy, greylisting) is about that message: it uses
    an attempt and backs off, instead of holding back every message behind it."""
    with smtp_sink() as sink:
        sink.handler.refuse_for_now.add("a@example.org")
        transport = SmtpTransport("127.0.0.1", sink.port, "clinic@example.org", security="none")
        with transport.session() as send:
            with pytest.raises(MessageRefused) as refused:
                send(MESSAGE)
            send(Message(to="b@example.org", subject="Second", body="Two."))
    assert "450" in refused.value.reason
    assert [m["To"] for m in sink.received] == ["b@example.org"]


def test_a_421_is_the_server_going_away_not_a_refusal() -> None:
    """421 ("closing the channel") says the server is not available: the message waits
    without losing an attempt."""
    with smtp_sink() as sink:
        sink.handler.hold_at = 1
        sink.handler.release.set()  # answer 421 at once
        transport = SmtpTransport("127.0.0.1", sink.port, "clinic@example.org", security="none")
        with transport.session() as send, pytest.raises(MailServerUnavailable):
            send(MESSAGE)


def test_a_server_that_is_not_there_is_unavailable_not_a_refusal() -> None:
    """Nobody listening: the message waits (`MailServerUnavailable`), it is not refused."""
    transport = SmtpTransport("127.0.0.1", free_port(), "clinic@example.org", security="none")
    with transport.session() as send, pytest.raises(MailServerUnavailable):
        send(MESSAGE)


@pytest.mark.parametrize(
    ("env", "smtp_host", "expected"),
    [
        ("development", "", "files"),
        ("development", "smtp.example.org", "smtp"),
        ("production", "smtp.example.org", "smtp"),
        ("testing", "smtp.example.org", "memory"),
    ],
)
def test_the_configuration_picks_the_transport(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, env: str, smtp_host: str, expected: str
) -> None:
    """SMTP with a host, files without one, and always memory in tests."""
    monkeypatch.setenv("CLINIC_ENV", env)
    monkeypatch.setenv("SECRET_KEY", "k")
    monkeypatch.setenv("CLINIC_BASE_URL", "https://diary.example.org")
    monkeypatch.setenv("CLINIC_SMTP_HOST", smtp_host)
    assert load_config(tmp_path)["MAIL_OUTBOX"] == expected


def test_the_memory_transport_keeps_messages_in_order() -> None:
    """The memory transport keeps what it is given, in order."""
    transport = MemoryTransport()
    with transport.session() as send:
        send(MESSAGE)
    assert transport.messages == [MESSAGE]

"""The email outbox: SMTP when a server is configured, .eml files otherwise, memory in
tests; and which one the configuration picks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from clinic.config import load_config
from clinic.core import mail
from clinic.core.mail import FileOutbox, MemoryOutbox, Message, SmtpOutbox

MESSAGE = Message(to="a@example.org", subject="Your sign-in link", body="Open this link.")


class FakeSMTP:
    """Records what the outbox asks of the server."""

    calls: list[tuple[str, Any]] = []

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.calls.append(("connect", (host, port)))

    def __enter__(self) -> FakeSMTP:
        return self

    def __exit__(self, *_: object) -> None:
        self.calls.append(("quit", None))

    def starttls(self, context: object) -> None:
        self.calls.append(("starttls", None))

    def login(self, username: str, password: str) -> None:
        self.calls.append(("login", username))

    def send_message(self, email: Any) -> None:
        self.calls.append(("send", (email["From"], email["To"], email["Subject"])))


def test_smtp_uses_starttls_and_signs_in(monkeypatch: pytest.MonkeyPatch) -> None:
    """Over SMTP the message goes through STARTTLS, with the configured login and sender."""
    FakeSMTP.calls = []
    monkeypatch.setattr(mail.smtplib, "SMTP", FakeSMTP)
    box = SmtpOutbox("smtp.example.org", 587, "clinic@example.org", "user", "secret")
    box.deliver(MESSAGE)
    assert FakeSMTP.calls == [
        ("connect", ("smtp.example.org", 587)),
        ("starttls", None),
        ("login", "user"),
        ("send", ("clinic@example.org", "a@example.org", "Your sign-in link")),
        ("quit", None),
    ]


def test_a_local_relay_needs_no_tls_or_login(monkeypatch: pytest.MonkeyPatch) -> None:
    """`security="none"` without a username: a trusted local relay, plain SMTP."""
    FakeSMTP.calls = []
    monkeypatch.setattr(mail.smtplib, "SMTP", FakeSMTP)
    SmtpOutbox("localhost", 25, "clinic@example.org", security="none").deliver(MESSAGE)
    assert [name for name, _ in FakeSMTP.calls] == ["connect", "send", "quit"]


@pytest.mark.parametrize(
    ("env", "smtp_host", "expected"),
    [
        ("development", "", "files"),
        ("development", "smtp.example.org", "smtp"),
        ("production", "smtp.example.org", "smtp"),
        ("testing", "smtp.example.org", "memory"),
    ],
)
def test_the_configuration_picks_the_outbox(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, env: str, smtp_host: str, expected: str
) -> None:
    """SMTP with a host, files without one, and always memory in tests."""
    monkeypatch.setenv("CLINIC_ENV", env)
    monkeypatch.setenv("SECRET_KEY", "k")
    monkeypatch.setenv("CLINIC_BASE_URL", "https://diary.example.org")
    monkeypatch.setenv("CLINIC_SMTP_HOST", smtp_host)
    assert load_config(tmp_path)["MAIL_OUTBOX"] == expected


def test_outboxes_deliver() -> None:
    """The memory outbox keeps what it is given, in order."""
    box = MemoryOutbox()
    box.deliver(MESSAGE)
    assert box.messages == [MESSAGE]
    assert not box.slow and not FileOutbox(Path("."), "x").slow and SmtpOutbox("h", 1, "x").slow

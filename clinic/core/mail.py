"""Sending email through an outbox chosen by the configuration.

- `smtp`: when `CLINIC_SMTP_HOST` is set (see clinic/config.py), messages go to that server.
- `files`: otherwise (development), each message is written as an .eml file to the
  instance folder's `outbox/`, readable only by its owner: open it with a mail program to
  follow a link. Messages never go to the logs, since links in them sign people in.
- `memory`: in tests, messages are kept in a list (`outbox().messages`).

`send(message)` is what features call. Messages are plain text with a neutral subject:
anyone glancing at a phone's notifications learns nothing about the kind of care.
"""

from __future__ import annotations

import logging
import os
import secrets
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Protocol

from flask import Flask, after_this_request, current_app, has_request_context
from werkzeug.wrappers import Response

_EXTENSION_KEY = "clinic.outbox"
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Message:
    """One plain-text email to one address."""

    to: str
    subject: str
    body: str


class Outbox(Protocol):
    """Somewhere messages are delivered."""

    # Whether delivery takes long enough to show in a response's timing (a network call).
    slow: bool

    def deliver(self, message: Message) -> None: ...


def _as_email(message: Message, sender: str) -> EmailMessage:
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.to
    email["Subject"] = message.subject
    email["Date"] = formatdate(localtime=False)
    email["Message-ID"] = make_msgid()
    email.set_content(message.body)
    return email


@dataclass
class SmtpOutbox:
    """Delivery through an SMTP server, over STARTTLS (the default), TLS, or plain SMTP on
    a trusted local relay (`security="none"`)."""

    host: str
    port: int
    sender: str
    username: str = ""
    password: str = ""
    security: str = "starttls"
    timeout: float = 10.0
    slow: bool = True

    def deliver(self, message: Message) -> None:
        email = _as_email(message, self.sender)
        context = ssl.create_default_context()
        if self.security == "ssl":
            server: smtplib.SMTP = smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=context
            )
        else:
            server = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with server:
            if self.security == "starttls":
                server.starttls(context=context)
            if self.username:
                server.login(self.username, self.password)
            server.send_message(email)


@dataclass
class FileOutbox:
    """Each message as an .eml file in `folder`, created owner-readable only."""

    folder: Path
    sender: str
    slow: bool = False

    def deliver(self, message: Message) -> None:
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        # A random name: the file name says nothing about who the message is for.
        path = self.folder / f"{secrets.token_hex(8)}.eml"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(_as_email(message, self.sender).as_bytes())


@dataclass
class MemoryOutbox:
    """Messages kept in a list, for tests to read."""

    messages: list[Message] = field(default_factory=list)
    slow: bool = False

    def deliver(self, message: Message) -> None:
        self.messages.append(message)


def init_app(app: Flask) -> None:
    """Choose this app's outbox from its configuration."""
    config = app.config
    kind = config["MAIL_OUTBOX"]
    box: Outbox
    if kind == "smtp":
        box = SmtpOutbox(
            host=config["MAIL_SMTP_HOST"],
            port=config["MAIL_SMTP_PORT"],
            sender=config["MAIL_FROM"],
            username=config["MAIL_SMTP_USERNAME"],
            password=config["MAIL_SMTP_PASSWORD"],
            security=config["MAIL_SMTP_SECURITY"],
        )
    elif kind == "files":
        box = FileOutbox(Path(app.instance_path) / "outbox", sender=config["MAIL_FROM"])
    elif kind == "memory":
        box = MemoryOutbox()
    else:
        raise ValueError(f"MAIL_OUTBOX must be smtp, files or memory, not {kind!r}")
    app.extensions[_EXTENSION_KEY] = box


def outbox() -> Outbox:
    """The current app's outbox."""
    return current_app.extensions[_EXTENSION_KEY]


def send(message: Message) -> None:
    """Deliver `message`. A slow outbox (SMTP) delivers once the response has been sent:
    the person waits for nothing, and the response time does not tell whether a message
    went out (which would tell whether an account exists)."""
    box = outbox()
    if not box.slow or not has_request_context():
        box.deliver(message)
        return

    @after_this_request
    def deliver_after(response: Response) -> Response:
        response.call_on_close(lambda: _deliver_quietly(box, message))
        return response


def _deliver_quietly(box: Outbox, message: Message) -> None:
    # After the response nobody can be told; log the failure without the address.
    try:
        box.deliver(message)
    except (OSError, smtplib.SMTPException):
        logger.exception("An email could not be delivered (subject %r)", message.subject)

"""How email leaves the system: the transport the outbox's worker sends through.

Features never send: they write a message into the outbox (clinic.outbox.post), and the
task queue's worker sends it through the transport chosen by the configuration:

- `smtp`: when `CLINIC_SMTP_HOST` is set (see clinic/config.py), messages go to that server,
  several over one connection.
- `files`: otherwise (development), each message is written as an .eml file to the
  instance folder's `outbox/`, readable only by its owner: open it with a mail program to
  follow a link. Messages never go to the logs, since links in them sign people in.
- `memory`: in tests, messages are kept in a list (`transport().messages`).

Messages are plain text with a neutral subject: anyone glancing at a phone's notifications
learns nothing about the kind of care.
"""

from __future__ import annotations

import os
import secrets
import smtplib
import ssl
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formataddr, formatdate
from pathlib import Path
from typing import Protocol

from flask import Flask, current_app

_EXTENSION_KEY = "clinic.mail_transport"
# SMTP's "service not available, closing transmission channel": the server, not the message.
SERVICE_NOT_AVAILABLE = 421


@dataclass(frozen=True)
class Attachment:
    """A file sent with a message (a letter's PDF)."""

    file_name: str
    content: bytes
    content_type: str = "application/pdf"


@dataclass(frozen=True)
class Message:
    """One plain-text email to one address, with files attached if any. `message_id` is
    stable for an outbox row, so that a copy sent again after a worker died mid-send is
    recognisable as the same."""

    to: str
    subject: str
    body: str
    sender_name: str = ""
    message_id: str = ""
    attachments: tuple[Attachment, ...] = ()


class MailServerUnavailable(Exception):
    """The mail server could not be reached or dropped the connection: nothing about the
    message itself is wrong, it waits and goes out when the server is back."""


class MessageRefused(Exception):
    """The server refused this one message (an address it rejects, a policy): counted as a
    failed attempt of that message. `reason` names the kind of error, never an address."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# Sends one message over a transport's open session.
Send = Callable[[Message], None]


class Transport(Protocol):
    """Somewhere messages are delivered."""

    def session(self) -> AbstractContextManager[Send]:
        """A context yielding a `Send`: one connection for a batch of messages."""
        ...


def as_email(message: Message, sender: str) -> EmailMessage:
    """The message as an RFC 5322 email from `sender` (with the message's display name)."""
    email = EmailMessage()
    email["From"] = formataddr((message.sender_name, sender)) if message.sender_name else sender
    email["To"] = message.to
    email["Subject"] = message.subject
    email["Date"] = formatdate(localtime=False)
    if message.message_id:
        email["Message-ID"] = message.message_id
    email.set_content(message.body)
    for attachment in message.attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        email.add_attachment(
            attachment.content, maintype=maintype, subtype=subtype, filename=attachment.file_name
        )
    return email


def _reason(error: smtplib.SMTPException) -> str:
    # str() of these errors quotes the addresses refused: keep the code and the class only.
    code = getattr(error, "smtp_code", None)
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = sorted({str(c) for c, _ in error.recipients.values()})
        return f"recipient refused ({', '.join(codes)})"
    return f"{type(error).__name__}" + (f" ({code})" if code else "")


@dataclass
class SmtpTransport:
    """Delivery through an SMTP server, over STARTTLS (the default), TLS, or plain SMTP on
    a trusted local relay (`security="none"`). A session opens one connection, at the
    first message, and sends every message of the batch over it."""

    host: str
    port: int
    sender: str
    username: str = ""
    password: str = ""
    security: str = "starttls"
    timeout: float = 10.0

    def _connect(self) -> smtplib.SMTP:
        context = ssl.create_default_context()
        if self.security == "ssl":
            server: smtplib.SMTP = smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=context
            )
        else:
            server = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            if self.security == "starttls":
                server.starttls(context=context)
            if self.username:
                server.login(self.username, self.password)
        except BaseException:
            server.close()
            raise
        return server

    @contextmanager
    def session(self) -> Iterator[Send]:
        server: smtplib.SMTP | None = None

        def send(message: Message) -> None:
            nonlocal server
            try:
                if server is None:
                    server = self._connect()
                server.send_message(as_email(message, self.sender))
            except (
                smtplib.SMTPRecipientsRefused,
                smtplib.SMTPSenderRefused,
                smtplib.SMTPDataError,
                smtplib.SMTPNotSupportedError,
            ) as error:
                # 421 is the server's state ("closing the channel"): the message waits
                # without losing a try. Any other refusal, temporary (450 mailbox busy,
                # 451 greylisted, 452 mailbox full) or permanent (5xx), is about this
                # message: it uses a try and backs off, so a recipient refused for days
                # ends "failed" instead of holding back every message after it.
                code = getattr(error, "smtp_code", 550)
                if isinstance(error, smtplib.SMTPRecipientsRefused):
                    code = min(c for c, _ in error.recipients.values())
                if code == SERVICE_NOT_AVAILABLE:
                    raise MailServerUnavailable(_reason(error)) from None
                raise MessageRefused(_reason(error)) from None
            except (OSError, smtplib.SMTPException) as error:
                server = None
                raise MailServerUnavailable(type(error).__name__) from None

        try:
            yield send
        finally:
            if server is not None:
                try:
                    server.quit()
                except (OSError, smtplib.SMTPException):
                    server.close()


@dataclass
class FileTransport:
    """Each message as an .eml file in `folder`, created owner-readable only."""

    folder: Path
    sender: str

    @contextmanager
    def session(self) -> Iterator[Send]:
        def send(message: Message) -> None:
            # Composed first: a message that cannot be written leaves no empty file.
            content = as_email(message, self.sender).as_bytes()
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            # A random name: the file name says nothing about who the message is for.
            path = self.folder / f"{secrets.token_hex(8)}.eml"
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(content)

        yield send


@dataclass
class MemoryTransport:
    """Messages kept in a list, for tests to read."""

    messages: list[Message] = field(default_factory=list)

    @contextmanager
    def session(self) -> Iterator[Send]:
        yield self.messages.append


def init_app(app: Flask) -> None:
    """Choose this app's transport from its configuration."""
    config = app.config
    kind = config["MAIL_OUTBOX"]
    transport: Transport
    if kind == "smtp":
        transport = SmtpTransport(
            host=config["MAIL_SMTP_HOST"],
            port=config["MAIL_SMTP_PORT"],
            sender=config["MAIL_FROM"],
            username=config["MAIL_SMTP_USERNAME"],
            password=config["MAIL_SMTP_PASSWORD"],
            security=config["MAIL_SMTP_SECURITY"],
        )
    elif kind == "files":
        transport = FileTransport(Path(app.instance_path) / "outbox", sender=config["MAIL_FROM"])
    elif kind == "memory":
        transport = MemoryTransport()
    else:
        raise ValueError(f"MAIL_OUTBOX must be smtp, files or memory, not {kind!r}")
    app.extensions[_EXTENSION_KEY] = transport


def transport() -> Transport:
    """The current app's transport."""
    return current_app.extensions[_EXTENSION_KEY]

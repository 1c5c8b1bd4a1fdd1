"""Messages as tests read them: what the app sent during a test (the memory transport), and
the links inside them."""

from __future__ import annotations

import re

from flask import Flask

from clinic.core.mail import Message, transport


def sent_messages(app: Flask) -> list[Message]:
    """The list the app's memory transport appends each sent message to (tests)."""
    with app.app_context():
        return transport().messages


def to(messages: list[Message], address: str) -> list[Message]:
    """The messages sent to `address`."""
    return [message for message in messages if message.to == address]


def link_path(message: Message, prefix: str) -> str:
    """The path of the one link in `message` that starts with `prefix`."""
    [path] = re.findall(rf"https?://[^\s/]+({re.escape(prefix)}[^\s]*)", message.body)
    return path

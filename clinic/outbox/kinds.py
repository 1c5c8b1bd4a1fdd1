"""The kinds of message the system sends, as administrators see them in the outbox."""

from __future__ import annotations

from enum import StrEnum


class MessageKind(StrEnum):
    """Every kind of message. A new kind is added here, with its label, and to the
    privacy test that renders every kind (tests/integration/test_message_privacy.py)."""

    PASSWORD_RESET = "password_reset"  # noqa: S105 - a kind of message, not a password

    @property
    def label(self) -> str:
        """The kind in an administrator's words (never the content)."""
        return _LABELS[self]


_LABELS = {
    MessageKind.PASSWORD_RESET: "Password reset link",
}


def kind_label(value: str) -> str:
    """The words for a stored kind; the stored value itself for a kind this version does
    not know (a row written by a newer release during a deploy)."""
    try:
        return MessageKind(value).label
    except ValueError:
        return value.replace("_", " ").capitalize()

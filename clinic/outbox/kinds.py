"""The kinds of message the system sends, as administrators see them in the outbox."""

from __future__ import annotations

from enum import StrEnum


class MessageKind(StrEnum):
    """Every kind of message. A new kind is added here, with its label, and to the
    privacy test that renders every kind (tests/integration/test_message_privacy.py)."""

    PASSWORD_RESET = "password_reset"  # noqa: S105 - a kind of message, not a password
    DAILY_DIGEST = "daily_digest"
    QUESTIONNAIRE_READY = "questionnaire_ready"

    @property
    def label(self) -> str:
        """The kind in an administrator's words (never the content)."""
        return _LABELS[self]


_LABELS = {
    MessageKind.PASSWORD_RESET: "Password reset link",
    MessageKind.DAILY_DIGEST: "Daily summary for a clinician",
    MessageKind.QUESTIONNAIRE_READY: "Questionnaire ready for a patient",
}

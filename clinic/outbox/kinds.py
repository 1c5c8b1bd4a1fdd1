"""The kinds of message the system sends, as administrators see them in the outbox."""

from __future__ import annotations

from enum import StrEnum


class MessageKind(StrEnum):
    """Every kind of message. A new kind is added here, with its label, and to the
    privacy test that renders every kind (tests/integration/test_message_privacy.py)."""

    PASSWORD_RESET = "password_reset"  # noqa: S105 - a kind of message, not a password
    INVITATION = "invitation"
    INVITATION_REMINDER = "invitation_reminder"
    EMAIL_CHANGE_LINK = "email_change_link"
    EMAIL_CHANGE_REQUESTED = "email_change_requested"
    EMAIL_ADDRESS_IN_USE = "email_address_in_use"
    EMAIL_CHANGED = "email_changed"
    PASSWORD_CHANGED = "password_changed"  # noqa: S105 - a kind of message, not a password
    TWO_FACTOR_OFF = "two_factor_off"
    RED_FLAG_ALERT = "red_flag_alert"
    RED_FLAG_ESCALATION = "red_flag_escalation"
    DAILY_DIGEST = "daily_digest"
    QUESTIONNAIRE_READY = "questionnaire_ready"
    REMINDER = "reminder"
    REMINDER_NUDGE = "reminder_nudge"
    LETTER = "letter"

    @property
    def label(self) -> str:
        """The kind in an administrator's words (never the content)."""
        return _LABELS[self]


_LABELS = {
    MessageKind.PASSWORD_RESET: "Password reset link",
    MessageKind.INVITATION: "Invitation to set up an account",
    MessageKind.INVITATION_REMINDER: "Reminder of an invitation",
    MessageKind.EMAIL_CHANGE_LINK: "Link to confirm a new email address",
    MessageKind.EMAIL_CHANGE_REQUESTED: "Notice that an email address change was asked for",
    MessageKind.EMAIL_ADDRESS_IN_USE: "Notice that an address already in use was not taken",
    MessageKind.EMAIL_CHANGED: "Notice of an email address change",
    MessageKind.PASSWORD_CHANGED: "Notice of a password change",
    MessageKind.TWO_FACTOR_OFF: "Notice that two-factor sign-in was turned off",
    MessageKind.RED_FLAG_ALERT: "Red flag: alert to the clinician",
    MessageKind.RED_FLAG_ESCALATION: "Red flag: not acknowledged in time (escalation)",
    MessageKind.DAILY_DIGEST: "Daily summary for a clinician",
    MessageKind.QUESTIONNAIRE_READY: "Questionnaire ready for a patient",
    MessageKind.REMINDER: "Reminder a patient asked for",
    MessageKind.REMINDER_NUDGE: "Gentle nudge after days with nothing noted",
    MessageKind.LETTER: "Letter to another service (PDF attached)",
}


def kind_label(value: str) -> str:
    """The words for a stored kind; the stored value itself for a kind this version does
    not know (a row written by a newer release during a deploy)."""
    try:
        return MessageKind(value).label
    except ValueError:
        return value.replace("_", " ").capitalize()

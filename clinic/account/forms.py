"""Forms of the account page: confirm it is you, change password, change email, and the
code that confirms two-factor set-up."""

from __future__ import annotations

from wtforms import PasswordField
from wtforms.validators import InputRequired, Length

from clinic.auth.forms import ChoosePasswordForm, code_field
from clinic.core.forms import ClinicForm, email_field
from clinic.domain.passwords import MAX_LENGTH


def current_password_field(label: str = "Your current password") -> PasswordField:
    """The password the account signs in with now."""
    return PasswordField(
        label,
        validators=[InputRequired("Enter your current password."), Length(max=MAX_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )


class ReauthenticateForm(ClinicForm):
    """The password again, before a security change."""

    password = current_password_field("Password")


class ReauthenticateWithCodeForm(ReauthenticateForm):
    """The password and a code, for an account with two-factor on."""

    code = code_field(
        "Code from your authenticator app",
        description="The 6 digits your app shows now, or one of your recovery codes.",
    )


class ChangePasswordForm(ChoosePasswordForm):
    """The current password, then a new one typed twice (checked by the password rules,
    the list of common passwords included)."""

    current_password = current_password_field()

    def __init__(self, *args: object, email: str = "", **kwargs: object) -> None:
        super().__init__(*args, email=email, **kwargs)
        # The current password first, as the page shows it (and so the error summary).
        self._fields.move_to_end("current_password", last=False)


class ChangeEmailForm(ClinicForm):
    """The new address to sign in with, and the current password (asked here, whenever
    the person last entered it: an open session is not enough to move the account)."""

    email = email_field("New email address")
    password = current_password_field()


class ChangeEmailWithCodeForm(ChangeEmailForm):
    """The same, with a code, for an account with two-factor on."""

    code = code_field(
        "Code from your authenticator app",
        description="The 6 digits your app shows now, or one of your recovery codes.",
    )


class ConfirmEmailForm(ClinicForm):
    """The button that moves the account to the new address (a POST, so that a mail
    program opening the link to preview it changes nothing)."""


class ConfirmEnrolmentForm(ClinicForm):
    """The first code from the app, proving it was set up with the new key."""

    code = code_field("6-digit code from the app", recovery_codes=False)

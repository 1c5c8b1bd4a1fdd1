"""Forms for signing in and choosing a password."""

from __future__ import annotations

from wtforms import EmailField, PasswordField, RadioField
from wtforms.validators import EqualTo, InputRequired, Length, ValidationError

from clinic.core.forms import ClinicForm
from clinic.domain.passwords import MAX_LENGTH, password_problems


class LoginForm(ClinicForm):
    """Email and password, the same for every role."""

    email = EmailField(
        "Email",
        validators=[InputRequired("Enter your email address."), Length(max=254)],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        "Password",
        validators=[InputRequired("Enter your password."), Length(max=MAX_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )


class ChooseAccountForm(ClinicForm):
    """Which clinic's account to use, when one sign-in matched several."""

    account = RadioField("Continue as", validators=[InputRequired("Choose an account.")])


class ChoosePasswordForm(ClinicForm):
    """A new password, typed twice. `email` is the account's, to refuse it as a password."""

    password = PasswordField(
        "New password",
        validators=[InputRequired("Choose a password.")],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        "Type it again",
        validators=[
            InputRequired("Type the password a second time."),
            EqualTo("password", "The two passwords are not the same."),
        ],
        render_kw={"autocomplete": "new-password"},
    )

    def __init__(self, *args: object, email: str = "", **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self._email = email

    def validate_password(self, field: PasswordField) -> None:
        problems = password_problems(field.data or "", self._email)
        if problems:
            raise ValidationError(" ".join(problems))

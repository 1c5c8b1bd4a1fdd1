"""Forms for signing in (password, then a code when two-factor is on) and choosing a password."""

from __future__ import annotations

from flask_babel import gettext
from wtforms import EmailField, HiddenField, PasswordField, RadioField, StringField
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, ValidationError

from clinic.core.forms import ClinicForm, email_field, strip
from clinic.domain.passwords import MAX_LENGTH, password_problem_messages
from clinic.i18n import lazy_text as _l


class LoginForm(ClinicForm):
    """Email and password, the same for every role."""

    email = EmailField(
        _l("Email"),
        validators=[InputRequired(_l("Enter your email address.")), Length(max=254)],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[InputRequired(_l("Enter your password.")), Length(max=MAX_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )


class ChooseAccountForm(ClinicForm):
    """Which clinic's account to use, when one sign-in matched several."""

    account = RadioField(_l("Continue as"), validators=[InputRequired(_l("Choose an account."))])


class ChoosePasswordForm(ClinicForm):
    """A new password, typed twice. `email` is the account's, to refuse it as a password."""

    password = PasswordField(
        _l("New password"),
        validators=[InputRequired(_l("Choose a password."))],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Type it again"),
        validators=[
            InputRequired(_l("Type the password a second time.")),
            EqualTo("password", _l("The two passwords are not the same.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )

    def __init__(self, *args: object, email: str = "", **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self._email = email

    def validate_password(self, field: PasswordField) -> None:
        problems = password_problem_messages(field.data or "", self._email)
        if problems:
            raise ValidationError(" ".join(gettext(text, **values) for text, values in problems))


CODE_RENDER = {"autocomplete": "one-time-code", "autocapitalize": "none", "spellcheck": "false"}


def code_field(
    label: str = _l("Code"), *, description: str = "", recovery_codes: bool = True
) -> StringField:
    """A one-time code: the 6 digits an authenticator app shows, or (where allowed) one of
    the account's recovery codes."""
    if recovery_codes:
        required = _l("Enter the 6-digit code from your authenticator app.")
        too_long = Length(max=40, message=_l("Enter the 6-digit code, or one recovery code."))
        render = CODE_RENDER
    else:
        required = _l("Enter the 6-digit code your app shows.")
        too_long = Length(max=20, message=_l("Enter the 6 digits your app shows."))
        render = {**CODE_RENDER, "inputmode": "numeric"}
    return StringField(
        label,
        filters=[strip],
        validators=[DataRequired(required), too_long],
        description=description,
        render_kw=render,
    )


class SecondFactorForm(ClinicForm):
    """The second sign-in step: a code from the authenticator app, or a recovery code."""

    code = code_field()


class ForgotPasswordForm(ClinicForm):
    """The address to send a link to, for choosing a new password."""

    email = email_field(_l("Email"))


class SignInAgainForm(ClinicForm):
    """After a time-out, with a form kept unsent: the password (and the code, when the
    account has two-factor on) to sign in again. `kept` is the signed, kept form."""

    kept = HiddenField()
    password = PasswordField(
        _l("Password"),
        validators=[InputRequired(_l("Enter your password.")), Length(max=MAX_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )
    code = StringField(
        _l("Code from your authenticator app"),
        filters=[strip],
        validators=[Length(max=40, message=_l("Enter the 6-digit code, or one recovery code."))],
        description=_l("The 6 digits your app shows now, or one of your recovery codes."),
        render_kw={
            "autocomplete": "one-time-code",
            "autocapitalize": "none",
            "spellcheck": "false",
        },
    )

    def __init__(self, *args: object, needs_code: bool = False, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        if not needs_code:
            del self.code

    def validate_code(self, field: StringField) -> None:
        if not field.data:
            raise ValidationError(gettext("Enter the 6-digit code from your authenticator app."))

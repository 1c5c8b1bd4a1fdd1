"""Forms of the account page: confirm it is you, change password, change email, the
code that confirms two-factor set-up, and the email notifications a person chooses."""

from __future__ import annotations

from datetime import time

from wtforms import PasswordField, RadioField, SelectChoice, SelectField
from wtforms.validators import AnyOf, InputRequired, Length

from clinic.auth.forms import ChoosePasswordForm, code_field
from clinic.core.forms import ClinicForm, email_field
from clinic.domain.daily import DIGEST_TIMES
from clinic.domain.passwords import MAX_LENGTH
from clinic.i18n import Language
from clinic.i18n import lazy_text as _l
from clinic.models import User


def current_password_field(label: str = _l("Your current password")) -> PasswordField:
    """The password the account signs in with now."""
    return PasswordField(
        label,
        validators=[InputRequired(_l("Enter your current password.")), Length(max=MAX_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )


class ReauthenticateForm(ClinicForm):
    """The password again, before a security change."""

    password = current_password_field(_l("Password"))


class ReauthenticateWithCodeForm(ReauthenticateForm):
    """The password and a code, for an account with two-factor on."""

    code = code_field(
        _l("Code from your authenticator app"),
        description=_l("The 6 digits your app shows now, or one of your recovery codes."),
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

    email = email_field(_l("New email address"))
    password = current_password_field()


class ChangeEmailWithCodeForm(ChangeEmailForm):
    """The same, with a code, for an account with two-factor on."""

    code = code_field(
        _l("Code from your authenticator app"),
        description=_l("The 6 digits your app shows now, or one of your recovery codes."),
    )


class ConfirmEmailForm(ClinicForm):
    """The button that moves the account to the new address (a POST, so that a mail
    program opening the link to preview it changes nothing)."""


class ConfirmEnrolmentForm(ClinicForm):
    """The first code from the app, proving it was set up with the new key."""

    code = code_field(_l("6-digit code from the app"), recovery_codes=False)


# --- Email notifications (clinic.account.notifications) ---------------------------------

ON, OFF = "on", "off"
DIGEST_CHOICE_MESSAGE = _l("Choose whether to receive the daily summary.")
DIGEST_TIME_MESSAGE = _l("Choose a time from the list.")
QUESTIONNAIRE_CHOICE_MESSAGE = _l("Choose whether to receive these emails.")


def _time_value(at: time) -> str:
    return f"{at:%H:%M}"


class DigestPreferencesForm(ClinicForm):
    """A clinician's daily summary: on or off, and at which clinic-local time."""

    digest = RadioField(
        _l("Daily summary by email"),
        choices=[SelectChoice(ON, _l("Send it each day")), SelectChoice(OFF, _l("Do not send it"))],
        validate_choice=False,
        validators=[InputRequired(DIGEST_CHOICE_MESSAGE), AnyOf([ON, OFF], DIGEST_CHOICE_MESSAGE)],
    )
    digest_at = SelectField(
        _l("Send it at"),
        choices=[SelectChoice(_time_value(t), _time_value(t)) for t in DIGEST_TIMES],
        validate_choice=False,
        validators=[
            InputRequired(DIGEST_TIME_MESSAGE),
            AnyOf([_time_value(t) for t in DIGEST_TIMES], DIGEST_TIME_MESSAGE),
        ],
    )

    @property
    def chosen_time(self) -> time:
        """The chosen time as a `time` (valid once the form has validated)."""
        hours, minutes = self.digest_at.data.split(":")
        return time(int(hours), int(minutes))

    @classmethod
    def for_user(cls, user: User) -> DigestPreferencesForm:
        """The form showing what `user` has chosen (a sent form's values win)."""
        return cls(
            data={
                "digest": ON if user.digest_enabled else OFF,
                "digest_at": _time_value(user.digest_at),
            }
        )


class QuestionnaireEmailsForm(ClinicForm):
    """A patient's emails saying a questionnaire is ready: on or off."""

    questionnaire_emails = RadioField(
        _l("Email me when my clinic asks me to fill in a questionnaire"),
        choices=[
            SelectChoice(ON, _l("Yes, email me")),
            SelectChoice(OFF, _l("No, I will check when I sign in")),
        ],
        validate_choice=False,
        validators=[
            InputRequired(QUESTIONNAIRE_CHOICE_MESSAGE),
            AnyOf([ON, OFF], QUESTIONNAIRE_CHOICE_MESSAGE),
        ],
    )

    @classmethod
    def for_user(cls, user: User) -> QuestionnaireEmailsForm:
        """The form showing what `user` has chosen (a sent form's values win)."""
        return cls(data={"questionnaire_emails": ON if user.questionnaire_emails else OFF})


# --- The patient's language (clinic.account.language) ------------------------------------

LANGUAGE_MESSAGE = _l("Choose one of the languages listed.")


class LanguageForm(ClinicForm):
    """The language a patient reads their pages and emails in: English or one their clinic
    has turned on (the choices are set per clinic; a code not among them is refused by
    the service, which knows the clinic)."""

    language = RadioField(
        _l("Language"),
        validate_choice=False,
        validators=[InputRequired(LANGUAGE_MESSAGE)],
    )

    def __init__(self, *args: object, languages: list[Language], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.language.choices = [SelectChoice(entry.code, entry.native) for entry in languages]

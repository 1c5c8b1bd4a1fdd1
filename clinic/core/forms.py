"""Form building blocks shared by the features' forms."""

from __future__ import annotations

from datetime import date

from wtforms import DateField, EmailField, FloatField, IntegerField
from wtforms.validators import Email, InputRequired, Length


def strip(value: object) -> object:
    """WTForms filter: drop surrounding white space from text input."""
    return value.strip() if isinstance(value, str) else value


def text_length(maximum: int) -> Length:
    """A length limit that says the limit in plain words."""
    return Length(max=maximum, message=f"Use at most {maximum} characters.")


class _PlainParseError:
    """Mixin: replace a field's technical parse error ("Not a valid ...") with `parse_error`."""

    parse_error = "Check this value."

    def process_formdata(self, valuelist: list[str]) -> None:
        try:
            super().process_formdata(valuelist)  # type: ignore[misc]
        except ValueError as exc:
            raise ValueError(self.parse_error) from exc


class PlainDateField(_PlainParseError, DateField):
    """An HTML date input whose parse error says what to type."""

    parse_error = "Enter a real date, for example 1990-04-23."


class WholeNumberField(_PlainParseError, IntegerField):
    """A number input whose parse error says what to type."""

    parse_error = "Enter a whole number, for example 7."


class PlainNumberField(_PlainParseError, FloatField):
    """A decimal number input whose parse error says what to type."""

    parse_error = "Enter a number, for example 12.5."


def email_field(label: str = "Email") -> EmailField:
    """A required email address, checked for shape only (no DNS lookups)."""
    return EmailField(
        label,
        filters=[strip],
        validators=[
            InputRequired("Enter an email address."),
            text_length(254),
            Email("Enter an email address like name@example.org.", check_deliverability=False),
        ],
    )


def is_plausible_birth_date(value: date, today: date) -> bool:
    """A date of birth in the past and not before 1900."""
    return date(1900, 1, 1) <= value <= today

"""Form building blocks shared by the features' forms."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any

from flask import current_app, flash
from flask_babel import gettext
from flask_wtf import FlaskForm
from wtforms import DateField, EmailField, Field, FloatField, IntegerField, TimeField
from wtforms.fields import FieldList, FormField
from wtforms.validators import Email, InputRequired, Length, StopValidation

from clinic.core.refusals import note_not_done
from clinic.core.uow import discard
from clinic.domain.text import N_
from clinic.i18n import lazy_text as _l
from clinic.i18n import wtforms_translations

# Invisible characters no one types on purpose (tab and line breaks are fine). PostgreSQL
# cannot store NUL at all; the others hide text in records people rely on.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
CONTROL_CHARACTER_MESSAGE = N_("Remove the invisible control characters from this text.")


def leaf_fields(fields: Iterable[Field]) -> Iterator[Field]:
    """Every input field of a form, descending into field lists and nested forms."""
    for field in fields:
        if isinstance(field, FieldList):
            for entry in field.entries:
                yield from leaf_fields([entry])
        elif isinstance(field, FormField):
            yield from leaf_fields(field.form)
        else:
            yield field


def error_items(form: FlaskForm) -> list[tuple[str, str, str]]:
    """Every error of a form as (field id to link to, label, message), stage fields named
    "Stage n, <label>"; the error summary at the top of a form lists these."""
    items: list[tuple[str, str, str]] = []
    for field in form:
        if field.type == "CSRFTokenField":
            continue
        if isinstance(field, FieldList):
            # Plan-level messages link to the list's heading (id "<name>-heading"); the
            # entries' own errors (lists) are named below. A message may be a lazy
            # translation (clinic.i18n), hence str().
            items += [
                (f"{field.id}-heading", field.label.text, str(e))
                for e in field.errors
                if not isinstance(e, list | tuple | dict)
            ]
            for number, entry in enumerate(field.entries, start=1):
                prefix = f"Stage {number}: "
                for sub in leaf_fields(entry.form):
                    # Plan-rule messages start with "Stage n: ", which the label already says.
                    messages = [str(e).removeprefix(prefix) for e in sub.errors]
                    if messages:
                        text = " ".join(m[:1].upper() + m[1:] for m in messages)
                        items.append((sub.id, f"Stage {number}, {sub.label.text}", text))
        elif field.errors:
            items.append((field.id, field.label.text, " ".join(str(e) for e in field.errors)))
    return items


class ClinicForm(FlaskForm):
    """Base of every form: text containing invisible control characters is refused next
    to its field before any other rule runs (some rules query the database, and
    PostgreSQL cannot even compare text that holds a NUL). A sent form that fails its
    checks saves nothing of its request (see `validate_on_submit`)."""

    class Meta(FlaskForm.Meta):
        """WTForms' messages in the request's language, from a catalogue read once."""

        def get_translations(self, form: Any) -> Any:
            if not current_app.config.get("WTF_I18N_ENABLED", True):
                return super().get_translations(form)
            return wtforms_translations()

    def validate_on_submit(self, extra_validators: object = None) -> bool:
        """Whether the form was sent and passes its checks. A sent form that fails them
        discards the request's unit of work (clinic.core.uow): nothing the view changed
        before checking it is saved."""
        if super().validate_on_submit(extra_validators):
            return True
        if self.is_submitted():
            discard()
            note_not_done("invalid")
        return False

    def validate(self, extra_validators: object = None) -> bool:
        tainted = [
            field
            for field in leaf_fields(self)
            if isinstance(field.data, str) and CONTROL_CHARACTERS.search(field.data)
        ]
        if not tainted:
            valid = super().validate(extra_validators)
            if not valid:
                self._say_errors_now()
            return valid
        for field in tainted:
            field.errors = [gettext(CONTROL_CHARACTER_MESSAGE)]
        self._errors = None  # recomputed from the fields on next access
        return False

    def _say_errors_now(self) -> None:
        """Turn messages marked for translation (lazy_gettext) into the words of this
        request's language, so the errors are plain strings like any other (joined,
        compared, shown)."""
        for field in leaf_fields(self):
            if any(not isinstance(error, str) for error in field.errors):
                field.errors = [
                    error if isinstance(error, str) else str(error) for error in field.errors
                ]
        self._errors = None


def normalise_line_breaks(value: object) -> object:
    """WTForms filter: browsers send each line break as CR LF; keep one character per
    break, so the length limit counts what the person typed."""
    return value.replace("\r\n", "\n").replace("\r", "\n") if isinstance(value, str) else value


def strip(value: object) -> object:
    """WTForms filter: drop surrounding white space from text input."""
    return value.strip() if isinstance(value, str) else value


def text_length(maximum: int) -> Length:
    """A length limit that says the limit in plain words."""
    return Length(max=maximum, message=_l("Use at most %(num)s characters.", num=maximum))


class _PlainParseError:
    """Mixin: replace a field's technical parse error ("Not a valid ...") with `parse_error`."""

    parse_error: object = _l("Check this value.")
    # The parsed value, of the field class this is mixed into (WTForms ships no types, so
    # its fields' data is Any too; declared here so the None below does not narrow it).
    data: Any

    def process_formdata(self, valuelist: list[str]) -> None:
        if valuelist and not valuelist[0].strip():
            # Empty (spaces count as empty): for InputRequired / Optional to judge, not a
            # typo. They read raw_data, which would otherwise hold the spaces and pass.
            self.data = None
            self.raw_data = [""]
            return
        try:
            # The field class this is mixed into has process_formdata; the mixin alone does not.
            super().process_formdata(valuelist)  # type: ignore[misc]
        except ValueError as exc:
            raise ValueError(self.parse_error) from exc

    def pre_validate(self, form: object) -> None:
        # One message for one slip: after a parse error the range checks have nothing to say.
        if self.process_errors:  # type: ignore[attr-defined]  # the field's, as above
            raise StopValidation()


class PlainDateField(_PlainParseError, DateField):
    """An HTML date input whose parse error says what to type."""

    parse_error = _l("Enter a real date, for example 1990-04-23.")


class PlainTimeField(_PlainParseError, TimeField):
    """An HTML time input ("08:30") whose parse error says what to type."""

    parse_error = _l("Enter a time like 08:30.")


class WholeNumberField(_PlainParseError, IntegerField):
    """A number input whose parse error says what to type."""

    parse_error = _l("Enter a whole number, for example 7.")


class PlainNumberField(_PlainParseError, FloatField):
    """A decimal number input whose parse error says what to type. "nan" and "inf",
    which Python would read as numbers and every range check would let through, are not
    numbers here."""

    parse_error = _l("Enter a number, for example 12.5.")

    def process_formdata(self, valuelist: list[str]) -> None:
        super().process_formdata(valuelist)
        if self.data is not None and not math.isfinite(self.data):
            self.data = None
            raise ValueError(self.parse_error)


def email_field(label: str = "Email") -> EmailField:
    """A required email address, checked for shape only (no DNS lookups)."""
    return EmailField(
        label,
        filters=[strip],
        validators=[
            InputRequired(_l("Enter an email address.")),
            text_length(254),
            Email(_l("Enter an email address like name@example.org."), check_deliverability=False),
        ],
    )


def is_plausible_birth_date(value: date, today: date) -> bool:
    """A date of birth in the past and not before 1900."""
    return date(1900, 1, 1) <= value <= today


def show_refusal(form: FlaskForm, refusal: Exception, default_field: str | None = None) -> None:
    """Show a service's refusal next to the field it names (or `default_field`), else at
    the top of the form; nothing the request changed is saved (the unit of work is
    discarded, see clinic.core.uow). (Before validation a field's errors are a tuple:
    rebuild it.)"""
    discard()
    note_not_done("refused")
    name = getattr(refusal, "field", None) or default_field
    if name and name in form:
        form[name].errors = [*form[name].errors, str(refusal)]
    else:
        form.form_errors.append(str(refusal))


def flash_refusal(refusal: Exception, category: str = "error") -> None:
    """Say a service's refusal in a message on the next page (for a view that answers it
    with a redirect); like `show_refusal`, nothing the request changed is saved."""
    discard()
    note_not_done("refused")
    flash(str(refusal), category)

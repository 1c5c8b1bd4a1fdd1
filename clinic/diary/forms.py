"""The diary's forms: a session in a few taps, a skipped session with its reason."""

from __future__ import annotations

import uuid
from typing import Any

from wtforms import (
    BooleanField,
    DateTimeLocalField,
    HiddenField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from clinic.core.forms import ClinicForm, PlainNumberField, WholeNumberField, strip, text_length
from clinic.domain.diary import LOGGED_MINUTES, PAIN_SCALE, Bleeding, Concern, SkipReason
from clinic.i18n import lazy_text as _l


class PlainDateTimeField(DateTimeLocalField):
    """A date-and-time input whose parse error says what to type."""

    def process_formdata(self, valuelist: list[str]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError(_l("Enter the date and time, for example 2026-11-21 18:30.")) from exc


def pain_scale(label: object) -> RadioField:
    """A 0-10 pain scale as eleven large radio buttons (no JavaScript needed)."""
    return RadioField(
        label,
        choices=[SelectChoice(str(n), str(n)) for n in PAIN_SCALE],
        validators=[InputRequired(_l("Choose a number from 0 (no pain) to 10 (worst pain)."))],
    )


def new_submission_key() -> str:
    """A fresh key for a form: the same key submitted twice saves one entry."""
    return uuid.uuid4().hex


class CheckboxesField(SelectMultipleField):
    """A set of checkboxes whose errors are plain words (only a changed page sends a value
    that is not one of its boxes)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        message = _l("Tick only the boxes shown on the page.")
        kwargs.setdefault("widget", ListWidget(prefix_label=False))
        kwargs.setdefault("option_widget", CheckboxInput())
        super().__init__(*args, **kwargs)
        self.invalid_value_message = self.invalid_choice_message = message


class EntryForm(ClinicForm):
    """Fields shared by both kinds of entry."""

    when = PlainDateTimeField(
        _l("When"),
        validators=[InputRequired(_l("Enter when the session was."))],
        format=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
    key = HiddenField()

    def validate_key(self, field: HiddenField) -> None:
        if not field.data or len(field.data) > 64:
            raise ValidationError(_l("This form is out of date: reload the page and try again."))


class SessionForm(EntryForm):
    """A session done."""

    # The list holds only sizes for the plan's route (clinic.portal.entries): anything
    # else, another clinic's size included, is refused in these words.
    dilator_size_id = SelectField(
        _l("Dilator used"),
        validators=[InputRequired(_l("Choose the dilator you used."))],
        invalid_choice_message=_l("Choose the dilator you used from the list."),
    )
    minutes = WholeNumberField(
        _l("Minutes"),
        validators=[
            InputRequired(_l("Enter how many minutes.")),
            NumberRange(
                LOGGED_MINUTES.low,
                LOGGED_MINUTES.high,
                _l(
                    "Enter the minutes, from %(low)s to %(high)s.",
                    low=LOGGED_MINUTES.low,
                    high=LOGGED_MINUTES.high,
                ),
            ),
        ],
    )
    pain_during = pain_scale(_l("Pain during the session"))
    pain_after = pain_scale(_l("Pain afterwards"))
    bleeding = RadioField(
        _l("Bleeding"),
        choices=[SelectChoice(b.value, _l(b.label)) for b in Bleeding],
        validators=[InputRequired(_l("Choose whether there was any bleeding."))],
    )
    sharp_pain = RadioField(
        _l("Any sharp or sudden pain?"),
        choices=[SelectChoice("no", _l("No")), SelectChoice("yes", _l("Yes"))],
        validators=[InputRequired(_l("Answer whether you felt sharp or sudden pain."))],
    )
    depth_cm = PlainNumberField(
        _l("Depth reached (cm)"),
        validators=[
            Optional(),
            NumberRange(1, 25, _l("Enter a depth from 1 to 25 cm, or leave it empty.")),
        ],
    )
    # Each ticked box is a red flag; the view sets the choices the plan asks about
    # (`concerns_offered`), and a value outside them is refused, not saved.
    concerns = CheckboxesField(
        _l("Anything else today?"),
        choices=[],
        coerce=Concern,
    )
    note = TextAreaField(_l("Note"), filters=[strip], validators=[text_length(1000)])
    # Shown only when the answers repeat a session saved a moment ago (the form was sent
    # again after Back): ticked, the session is saved as one more.
    another = BooleanField(_l("This was another session"))


class SkipForm(EntryForm):
    """A session skipped, and why."""

    skip_reason = RadioField(
        _l("Why was it skipped?"),
        choices=[SelectChoice(r.value, _l(r.label)) for r in SkipReason],
        validators=[InputRequired(_l("Choose a reason (it helps your clinician plan with you)."))],
    )
    skip_other = StringField(_l("Tell us more"), filters=[strip], validators=[text_length(200)])
    # As on SessionForm: shown only when the answers repeat a skip noted a moment ago.
    another = BooleanField(_l("This was another skipped session"))

    def validate_skip_other(self, field: StringField) -> None:
        if self.skip_reason.data == SkipReason.OTHER.value and not field.data:
            raise ValidationError(_l("Say briefly what the other reason was."))

"""The diary's forms: a session in a few taps, a skipped session with its reason."""

from __future__ import annotations

import uuid
from typing import Any

from wtforms import (
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


class PlainDateTimeField(DateTimeLocalField):
    """A date-and-time input whose parse error says what to type."""

    def process_formdata(self, valuelist: list[str]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError("Enter the date and time, for example 2026-11-21 18:30.") from exc


def pain_scale(label: str) -> RadioField:
    """A 0-10 pain scale as eleven large radio buttons (no JavaScript needed)."""
    return RadioField(
        label,
        choices=[SelectChoice(str(n), str(n)) for n in PAIN_SCALE],
        validators=[InputRequired("Choose a number from 0 (no pain) to 10 (worst pain).")],
    )


def new_submission_key() -> str:
    """A fresh key for a form: the same key submitted twice saves one entry."""
    return uuid.uuid4().hex


class CheckboxesField(SelectMultipleField):
    """A set of checkboxes whose errors are plain words (only a changed page sends a value
    that is not one of its boxes)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        message = "Tick only the boxes shown on the page."
        kwargs.setdefault("widget", ListWidget(prefix_label=False))
        kwargs.setdefault("option_widget", CheckboxInput())
        super().__init__(*args, **kwargs)
        self.invalid_value_message = self.invalid_choice_message = message


class EntryForm(ClinicForm):
    """Fields shared by both kinds of entry."""

    when = PlainDateTimeField(
        "When",
        validators=[InputRequired("Enter when the session was.")],
        format=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
    key = HiddenField()

    def validate_key(self, field: HiddenField) -> None:
        if not field.data or len(field.data) > 64:
            raise ValidationError("This form is out of date: reload the page and try again.")


class SessionForm(EntryForm):
    """A session done."""

    # The list holds only sizes for the plan's route (clinic.portal.entries): anything
    # else, another clinic's size included, is refused in these words.
    dilator_size_id = SelectField(
        "Dilator used",
        validators=[InputRequired("Choose the dilator you used.")],
        invalid_choice_message="Choose the dilator you used from the list.",
    )
    minutes = WholeNumberField(
        "Minutes",
        validators=[
            InputRequired("Enter how many minutes."),
            NumberRange(
                LOGGED_MINUTES.low,
                LOGGED_MINUTES.high,
                f"Enter the minutes, from {LOGGED_MINUTES.low} to {LOGGED_MINUTES.high}.",
            ),
        ],
    )
    pain_during = pain_scale("Pain during the session")
    pain_after = pain_scale("Pain afterwards")
    bleeding = RadioField(
        "Bleeding",
        choices=[SelectChoice(b.value, b.label) for b in Bleeding],
        validators=[InputRequired("Choose whether there was any bleeding.")],
    )
    sharp_pain = RadioField(
        "Any sharp or sudden pain?",
        choices=[SelectChoice("no", "No"), SelectChoice("yes", "Yes")],
        validators=[InputRequired("Answer whether you felt sharp or sudden pain.")],
    )
    depth_cm = PlainNumberField(
        "Depth reached (cm)",
        validators=[
            Optional(),
            NumberRange(1, 25, "Enter a depth from 1 to 25 cm, or leave it empty."),
        ],
    )
    # Each ticked box is a red flag; the view sets the choices the plan asks about
    # (`concerns_offered`), and a value outside them is refused, not saved.
    concerns = CheckboxesField(
        "Anything else today?",
        choices=[],
        coerce=Concern,
    )
    note = TextAreaField("Note", filters=[strip], validators=[text_length(1000)])


class SkipForm(EntryForm):
    """A session skipped, and why."""

    skip_reason = RadioField(
        "Why was it skipped?",
        choices=[SelectChoice(r.value, r.label) for r in SkipReason],
        validators=[InputRequired("Choose a reason (it helps your clinician plan with you).")],
    )
    skip_other = StringField("Tell us more", filters=[strip], validators=[text_length(200)])

    def validate_skip_other(self, field: StringField) -> None:
        if self.skip_reason.data == SkipReason.OTHER.value and not field.data:
            raise ValidationError("Say briefly what the other reason was.")

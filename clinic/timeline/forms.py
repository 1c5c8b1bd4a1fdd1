"""Forms of the timeline page."""

from __future__ import annotations

from typing import Any

from wtforms import HiddenField, SelectMultipleField, TextAreaField
from wtforms.validators import DataRequired, InputRequired
from wtforms.widgets import CheckboxInput, ListWidget

from clinic.core.forms import ClinicForm, strip, text_length
from clinic.i18n import lazy_text as _l

NOTE_MAX = 1000


class FlagChoicesField(SelectMultipleField):
    """The flags of one session to acknowledge, as checkboxes (a lone flag is a hidden
    input). Only a changed page sends a value that is not one of the session's flags."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", ListWidget(prefix_label=False))
        kwargs.setdefault("option_widget", CheckboxInput())
        super().__init__(*args, **kwargs)
        self.invalid_value_message = self.invalid_choice_message = _l(
            "Tick only the flags shown for this session."
        )


def _note_field() -> TextAreaField:
    return TextAreaField(
        _l("What you did about it"),
        filters=[strip],
        validators=[
            DataRequired(
                _l("Write a short note on what you did (for example: phoned the patient).")
            ),
            text_length(NOTE_MAX),
        ],
    )


class AcknowledgeForm(ClinicForm):
    """A clinician's note on a flag: what they saw and what they did about it."""

    note = _note_field()
    # The page the acknowledgement was started from (clinic.patients.returns checks it).
    next = HiddenField()


class AcknowledgeSessionForm(ClinicForm):
    """The red flags one session raised, acknowledged together with one note: each flag
    ticked is acknowledged, all of them or none (the fields in the order of the page)."""

    flags = FlagChoicesField(
        _l("Flags to acknowledge"),
        coerce=str,
        validators=[InputRequired(_l("Tick at least one flag to acknowledge."))],
    )
    note = _note_field()
    next = HiddenField()

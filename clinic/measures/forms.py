"""Forms for outcome measures: assigning a measure to a patient (a few clicks: the measure,
and once or repeating), ending one, and a clinic importing or retiring an instrument."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from flask_babel import gettext as _
from flask_wtf.file import FileField, FileSize
from wtforms import BooleanField, Field, RadioField, SelectChoice, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Optional, ValidationError

from clinic.core.forms import ClinicForm, PlainDateField, WholeNumberField
from clinic.domain.measure_schedule import MAX_EVERY_WEEKS, Cadence
from clinic.domain.questionnaires import Instrument
from clinic.i18n import lazy_text as _l
from clinic.measures.services import MAX_DEFINITION_BYTES

DEFAULT_EVERY_WEEKS = 4

LICENCE_WORDS = {
    "free": _l("free to use"),
    "public domain": _l("public domain"),
    "clinic-owned, editable": _l("our own wording, editable"),
    "clinic-licensed": _l("used under the clinic's licence"),
    "not shipped: terms not established": _l("terms not established"),
}


def licence_words(status: str) -> str:
    """A licence status as a clinician reads it in a list (in the request's language)."""
    words = LICENCE_WORDS.get(status)
    return str(words) if words is not None else status


class AssignMeasureForm(ClinicForm):
    """Assign an instrument to a patient: which one, and when it is asked."""

    instrument = SelectField(_l("Measure"), validators=[InputRequired(_l("Choose a measure."))])
    schedule = RadioField(
        _l("When to ask"),
        choices=[
            SelectChoice(
                Cadence.REPEATING.value, _l("At the start of the program, then repeating")
            ),
            SelectChoice(Cadence.ONCE.value, _l("Once, on a chosen day")),
        ],
        default=Cadence.REPEATING.value,
        validators=[InputRequired(_l("Choose when to ask: repeating, or once."))],
    )
    every_weeks = WholeNumberField(
        _l("Repeat every (weeks)"),
        default=DEFAULT_EVERY_WEEKS,
        validators=[Optional()],
        render_kw={"min": 1, "max": MAX_EVERY_WEEKS, "inputmode": "numeric"},
    )
    at_discharge = BooleanField(_l("Also at discharge"), default=True)
    on = PlainDateField(_l("Day"), validators=[Optional()])

    def __init__(
        self, *args: Any, instruments: Mapping[str, Instrument], today: date, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        self.instrument.choices = [SelectChoice("", _("Choose a measure"))] + [
            SelectChoice(
                key, f"{instrument.title} ({licence_words(instrument.licence.status.value)})"
            )
            for key, instrument in instruments.items()
        ]
        if self.on.data is None and not self.is_submitted():
            self.on.data = today

    @property
    def cadence(self) -> Cadence:
        return Cadence(self.schedule.data)

    def validate_every_weeks(self, field: Field) -> None:
        if self.schedule.data != Cadence.REPEATING.value or field.data is None:
            return
        if not 1 <= field.data <= MAX_EVERY_WEEKS:
            raise ValidationError(
                _(
                    "Repeat every 1 to %(max)d weeks, or leave it blank to ask only at the start"
                    " (and at discharge).",
                    max=MAX_EVERY_WEEKS,
                )
            )

    def validate_on(self, field: Field) -> None:
        if self.schedule.data != Cadence.ONCE.value:
            return
        if field.data is None and not field.errors:
            raise ValidationError(_("Enter the day the patient is asked to answer."))


class EndMeasureForm(ClinicForm):
    """Confirm ending an assignment (the button is the confirmation)."""


class ImportInstrumentForm(ClinicForm):
    """Import an instrument file: upload it, or paste its text; and confirm the licence."""

    file = FileField(
        _l("Instrument file (JSON)"),
        validators=[
            FileSize(
                max_size=MAX_DEFINITION_BYTES,
                message=_l(
                    "The file is larger than %(max)d kB, the most accepted.",
                    max=MAX_DEFINITION_BYTES // 1024,
                ),
            )
        ],
        render_kw={"accept": ".json,application/json"},
    )
    text = TextAreaField(
        _l("Or paste the file's text"), render_kw={"rows": 8, "spellcheck": "false"}
    )
    licence_confirmed = BooleanField(
        _l("The clinic may use this instrument as its licence status says"),
        validators=[
            DataRequired(
                _l(
                    "Confirm that the clinic may use this instrument: it is free or in the"
                    " public domain, the clinic's own, or the clinic holds a licence for it."
                )
            )
        ],
    )

    def validate(self, extra_validators: object = None) -> bool:
        valid = super().validate(extra_validators)
        if self.text.data is not None and not isinstance(self.text.data, str):
            # A file sent where the text goes (no browser does this; a script might).
            self.text.data = ""
            self.text.errors = [
                *self.text.errors,
                _("Paste the file's text here; to send the file itself, use the file box."),
            ]
            return False
        has_file = bool(self.file.data and getattr(self.file.data, "filename", ""))
        has_text = bool(self.text.data and self.text.data.strip())
        if has_file and has_text:
            self.text.errors = [
                *self.text.errors,
                _("Upload a file or paste its text, not both: clear this box to use the file."),
            ]
            return False
        if not has_file and not has_text and not self.file.errors:
            self.file.errors = [*self.file.errors, _("Choose a file to upload, or paste its text.")]
            return False
        return valid

    def definition(self) -> str:
        """The instrument's JSON text, from the file or the box. Raises ValueError (in
        words) for a file that is not UTF-8 text."""
        if self.file.data and getattr(self.file.data, "filename", ""):
            raw = self.file.data.read(MAX_DEFINITION_BYTES + 1)
            try:
                return raw.decode("utf-8")
            except UnicodeDecodeError:
                raise ValueError(
                    _("The file is not UTF-8 text: save it as UTF-8 JSON and upload it again.")
                ) from None
        return self.text.data or ""


class RetireInstrumentForm(ClinicForm):
    """Retire an imported instrument version (the button is the confirmation)."""

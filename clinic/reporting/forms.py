"""The form a clinician fills in to generate a progress report: the period, and the
assessment and plan typed in at generation time."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask_babel import gettext as _
from wtforms import Field, TextAreaField
from wtforms.validators import InputRequired, ValidationError

from clinic.core.forms import ClinicForm, PlainDateField, normalise_line_breaks, strip
from clinic.core.templating import short_date
from clinic.i18n import lazy_text as _l
from clinic.reporting.progress import TYPED_TEXT_MAX_LENGTH, too_long

# What fits on the report's two pages (see `clinic.reporting.progress`).
TEXT_MAX_LENGTH = TYPED_TEXT_MAX_LENGTH
# Two years, a leap day included: longer periods make reports nobody reads.
MAX_PERIOD = timedelta(days=2 * 365 + 1)


def at_most_text_length(_form: object, field: Field) -> None:
    """Refuse text over the limit, saying by how much. (Not `Length`: its `maxlength`
    attribute makes browsers cut off pasted text without a word.)"""
    if field.data and len(field.data) > TEXT_MAX_LENGTH:
        raise ValidationError(too_long(field.data))


def typed_text(label: object, description: object) -> TextAreaField:
    """Optional free text printed in the report as typed (escaped, never markup)."""
    return TextAreaField(
        label,
        description=_l(
            "%(description)s Up to %(max)s characters (about 100 words), so the report keeps"
            " to two pages.",
            description=description,
            max=format(TEXT_MAX_LENGTH, ","),
        ),
        filters=[normalise_line_breaks, strip],
        validators=[at_most_text_length],
        render_kw={"rows": 6},
    )


class ProgressReportForm(ClinicForm):
    """Generate a progress report over a period of the patient's program.

    `today` is the clinic's date and `program_start` the day the program started: the
    period lies between them and spans at most two years.
    """

    period_from = PlainDateField(
        _l("Period from"), validators=[InputRequired(_l("Enter the first day of the period."))]
    )
    period_to = PlainDateField(
        _l("Period to"), validators=[InputRequired(_l("Enter the last day of the period."))]
    )
    assessment = typed_text(
        _l("Assessment"), _l("Your assessment, printed in the report as typed.")
    )
    plan = typed_text(_l("Plan"), _l("The plan from here, printed in the report as typed."))

    def __init__(self, *args: Any, today: date, program_start: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        self.program_start = program_start

    # Each message goes on the field that is wrong on its own terms; a rule between the
    # two fields is checked only when the other one is right, so a mistake in one never
    # puts an error on the other.

    def validate_period_from(self, field: Field) -> None:
        if field.data < self.program_start:
            raise ValidationError(
                _(
                    "The program started on %(date)s: start the period on that day or later.",
                    date=short_date(self.program_start),
                )
            )
        if field.data > self.today:
            raise ValidationError(
                _(
                    "The period cannot start in the future: choose today (%(date)s) or an"
                    " earlier day.",
                    date=short_date(self.today),
                )
            )
        # Only against an end that is right: an end in the future is that field's mistake.
        end = self.period_to.data
        if end and end <= self.today and end - field.data >= MAX_PERIOD:
            raise ValidationError(_("Choose a period of at most two years."))

    def validate_period_to(self, field: Field) -> None:
        if field.data > self.today:
            raise ValidationError(
                _(
                    "The period cannot end in the future: choose today (%(date)s) or an"
                    " earlier day.",
                    date=short_date(self.today),
                )
            )
        if field.data < self.program_start:
            raise ValidationError(
                _(
                    "The program started on %(date)s: end the period on that day or later.",
                    date=short_date(self.program_start),
                )
            )
        # The start is validated first (its errors are known here): compared only with a
        # start that is right.
        start = self.period_from.data
        if start and not self.period_from.errors and field.data < start:
            raise ValidationError(_("The end of the period must be on or after its start."))

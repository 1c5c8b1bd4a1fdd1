"""Forms of the timeline page."""

from __future__ import annotations

from wtforms import TextAreaField
from wtforms.validators import DataRequired

from clinic.core.forms import ClinicForm, strip, text_length


class AcknowledgeForm(ClinicForm):
    """A clinician's note on a flag: what they saw and what they did about it."""

    note = TextAreaField(
        "What you did about it",
        filters=[strip],
        validators=[
            DataRequired("Write a short note on what you did (for example: phoned the patient)."),
            text_length(1000),
        ],
    )

"""The form an administrator fills in to turn a language on."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_login import current_user
from wtforms import BooleanField, StringField, ValidationError
from wtforms.validators import DataRequired

from clinic.core.clock import clinic_today
from clinic.core.forms import ClinicForm, PlainDateField, strip, text_length
from clinic.i18n import lazy_text as _l


class TurnOnLanguageForm(ClinicForm):
    """Who reviewed the translation for the clinic, when, and the administrator's
    confirmation that the review covered what patients read about their safety."""

    reviewed_by = StringField(
        _l("Reviewed by"),
        filters=[strip],
        validators=[DataRequired(_l("Enter who reviewed it: name and role.")), text_length(200)],
        description=_l(
            "The clinician fluent in the language who read the patient's side for your "
            "clinic, with their role, for example “A. Ruiz, pelvic health physiotherapist”."
        ),
    )
    reviewed_on = PlainDateField(
        _l("Reviewed on"), validators=[DataRequired(_l("Enter the day of the review."))]
    )
    confirm = BooleanField(
        _l(
            "The reviewer read the safety guidance, the guided session, the red-flag advice "
            "and the emails in this language, and found them accurate for our patients."
        ),
        validators=[DataRequired(_l("Confirm the review before turning the language on."))],
    )

    def validate_reviewed_on(self, field: PlainDateField) -> None:
        if field.data and field.data > clinic_today(current_user.clinic.timezone):
            raise ValidationError(_("Enter the day the review took place, today or earlier."))

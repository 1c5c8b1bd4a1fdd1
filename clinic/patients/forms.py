"""Forms for patient records and portal invitations."""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Optional, ValidationError

from clinic.core.clock import clinic_today
from clinic.core.forms import (
    ClinicForm,
    PlainDateField,
    email_field,
    is_plausible_birth_date,
    strip,
    text_length,
)
from clinic.domain.indications import Indication
from clinic.i18n import DEFAULT_LANGUAGE, LANGUAGES
from clinic.i18n import lazy_text as _l
from clinic.models import PatientStatus, User
from clinic.patients.queries import identifier_taken
from clinic.patients.services import PatientDetails

INDICATION_MESSAGE = _l("Choose the patient's indication.")

# How far ahead a review can be planned; a later date is more likely a typo than a plan.
REVIEW_HORIZON_YEARS = 2


def _years_after(day: date, years: int) -> date:
    """The same calendar day `years` later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def _optional_id_text(value: object) -> str:
    # A select's option values are text; "" stands for "not assigned" (a NULL id).
    return "" if value is None else str(value)


class PatientForm(ClinicForm):
    """Create or edit a patient record."""

    full_name = StringField(
        _l("Full name"),
        filters=[strip],
        validators=[DataRequired(_l("Enter the patient's name.")), text_length(120)],
    )
    date_of_birth = PlainDateField(
        _l("Date of birth"), validators=[DataRequired(_l("Enter the date of birth."))]
    )
    clinic_identifier = StringField(
        _l("Clinic identifier (MRN)"),
        filters=[strip],
        validators=[DataRequired(_l("Enter the clinic identifier.")), text_length(40)],
    )
    name_to_use = StringField(
        _l("Name to use"),
        filters=[strip],
        validators=[text_length(80)],
        description=_l(
            "What the patient asks to be called. The portal and printed instructions use it; "
            "left empty, they greet the patient with a plain “Hello”."
        ),
    )
    pronouns = StringField(_l("Pronouns"), filters=[strip], validators=[text_length(40)])
    language = SelectField(
        _l("Language"),
        choices=[SelectChoice(code, language.label) for code, language in LANGUAGES.items()],
        # A form sent without it (an older page, a referral) keeps the record's language,
        # or English for a new one.
        default=DEFAULT_LANGUAGE,
        invalid_choice_message=_l("Choose one of the languages listed."),
        description=_l(
            "The portal, emails and printed sheets speak it once the clinic has turned it on "
            "(Clinic → Languages); until then, English."
        ),
    )
    # No indication is chosen for the clinician: it decides the safety rules a plan gets,
    # so a new record starts on "Choose…" and must be answered.
    indication = SelectField(
        _l("Indication"),
        choices=[
            SelectChoice("", _l("Choose…")),
            *(SelectChoice(i.value, _l(i.label)) for i in Indication),
        ],
        default="",
        validators=[InputRequired(INDICATION_MESSAGE)],
        invalid_choice_message=INDICATION_MESSAGE,
    )
    indication_other = StringField(
        _l("Describe the indication (when Other)"),
        filters=[strip],
        validators=[text_length(200)],
    )
    referring_clinician = StringField(
        _l("Referring clinician"), filters=[strip], validators=[text_length(200)]
    )
    status = SelectField(
        _l("Status"),
        choices=[SelectChoice(s.value, _l(s.label)) for s in PatientStatus],
        default="active",
        validators=[InputRequired(_l("Choose a status."))],
    )
    responsible_clinician_id = SelectField(
        _l("Responsible clinician"), coerce=_optional_id_text, default=""
    )
    review_on = PlainDateField(_l("Next review"), validators=[Optional()])
    radiotherapy_ended_on = PlainDateField(
        _l("Pelvic radiotherapy ended on"),
        validators=[Optional()],
        description=_l(
            "After radiotherapy, a dilation program starts only once the clinic's interval "
            "after this date has passed."
        ),
    )

    def __init__(
        self,
        *args: object,
        clinic_id: int,
        clinicians: list[User],
        patient_id: int | None = None,
        **kwargs: object,
    ) -> None:
        super().__init__(*args, **kwargs)
        self._clinic_id = clinic_id
        self._patient_id = patient_id
        self.responsible_clinician_id.choices = [SelectChoice("", _("Not assigned"))] + [
            SelectChoice(str(c.id), c.full_name) for c in clinicians
        ]

    def validate_date_of_birth(self, field: PlainDateField) -> None:
        today = clinic_today(current_user.clinic.timezone)
        if field.data and not is_plausible_birth_date(field.data, today):
            raise ValidationError(_("The date of birth must be in the past (and after 1900)."))

    def validate_review_on(self, field: PlainDateField) -> None:
        # A past date is allowed: it simply raises the "review due" flag at once.
        today = clinic_today(current_user.clinic.timezone)
        if field.data and field.data > _years_after(today, REVIEW_HORIZON_YEARS):
            raise ValidationError(
                _("Choose a review date no more than two years from today, or leave it empty.")
            )

    def validate_clinic_identifier(self, field: StringField) -> None:
        if field.data and identifier_taken(self._clinic_id, field.data, self._patient_id):
            raise ValidationError(_("Another patient at this clinic already has this identifier."))

    def validate_indication_other(self, field: StringField) -> None:
        is_other = self.indication.data == Indication.OTHER.value
        if is_other and not field.data:
            raise ValidationError(_("Describe the indication when you choose Other."))
        if field.data and not is_other:
            # Refuse rather than silently drop what the clinician typed.
            raise ValidationError(_("Choose Other to add a description, or clear this box."))

    def validate_radiotherapy_ended_on(self, field: PlainDateField) -> None:
        today = clinic_today(current_user.clinic.timezone)
        if field.data and field.data > today:
            raise ValidationError(
                _(
                    "Enter the day radiotherapy ended, today or earlier (record it once it has "
                    "ended), or leave it empty."
                )
            )

    def details(self) -> PatientDetails:
        """The validated input as plain values for the service."""
        indication = Indication(self.indication.data)
        return PatientDetails(
            full_name=self.full_name.data,
            name_to_use=self.name_to_use.data or "",
            date_of_birth=self.date_of_birth.data,
            clinic_identifier=self.clinic_identifier.data,
            pronouns=self.pronouns.data or "",
            language=self.language.data,
            indication=indication,
            indication_other=self.indication_other.data or "",
            referring_clinician=self.referring_clinician.data or "",
            status=PatientStatus(self.status.data),
            responsible_clinician_id=int(self.responsible_clinician_id.data)
            if self.responsible_clinician_id.data
            else None,
            review_on=self.review_on.data,
            radiotherapy_ended_on=self.radiotherapy_ended_on.data,
        )


class PortalInvitationForm(ClinicForm):
    """The email address a patient will sign in with."""

    email = email_field(_l("Patient's email address"))

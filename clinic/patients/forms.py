"""Forms for patient records and portal invitations."""

from __future__ import annotations

from flask_login import current_user
from wtforms import SelectChoice, SelectField, StringField
from wtforms.validators import InputRequired, ValidationError

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
from clinic.models import PatientStatus, User
from clinic.patients.queries import identifier_taken
from clinic.patients.services import PatientDetails


def _optional_id_text(value: object) -> str:
    # A select's option values are text; "" stands for "not assigned" (a NULL id).
    return "" if value is None else str(value)


class PatientForm(ClinicForm):
    """Create or edit a patient record."""

    full_name = StringField(
        "Full name",
        filters=[strip],
        validators=[InputRequired("Enter the patient's name."), text_length(120)],
    )
    date_of_birth = PlainDateField(
        "Date of birth", validators=[InputRequired("Enter the date of birth.")]
    )
    clinic_identifier = StringField(
        "Clinic identifier (MRN)",
        filters=[strip],
        validators=[InputRequired("Enter the clinic identifier."), text_length(40)],
    )
    pronouns = StringField("Pronouns", filters=[strip], validators=[text_length(40)])
    indication = SelectField(
        "Indication",
        choices=[SelectChoice(i.value, i.label) for i in Indication],
        validators=[InputRequired("Choose an indication.")],
    )
    indication_other = StringField(
        "Describe the indication (when Other)", filters=[strip], validators=[text_length(200)]
    )
    referring_clinician = StringField(
        "Referring clinician", filters=[strip], validators=[text_length(200)]
    )
    status = SelectField(
        "Status",
        choices=[SelectChoice(s.value, s.label) for s in PatientStatus],
        default="active",
        validators=[InputRequired("Choose a status.")],
    )
    responsible_clinician_id = SelectField(
        "Responsible clinician", coerce=_optional_id_text, default=""
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
        self.responsible_clinician_id.choices = [SelectChoice("", "Not assigned")] + [
            SelectChoice(str(c.id), c.full_name) for c in clinicians
        ]

    def validate_date_of_birth(self, field: PlainDateField) -> None:
        today = clinic_today(current_user.clinic.timezone)
        if field.data and not is_plausible_birth_date(field.data, today):
            raise ValidationError("The date of birth must be in the past (and after 1900).")

    def validate_clinic_identifier(self, field: StringField) -> None:
        if field.data and identifier_taken(self._clinic_id, field.data, self._patient_id):
            raise ValidationError("Another patient at this clinic already has this identifier.")

    def validate_indication_other(self, field: StringField) -> None:
        is_other = self.indication.data == Indication.OTHER.value
        if is_other and not field.data:
            raise ValidationError("Describe the indication when you choose Other.")
        if field.data and not is_other:
            # Refuse rather than silently drop what the clinician typed.
            raise ValidationError("Choose Other to add a description, or clear this box.")

    def details(self) -> PatientDetails:
        """The validated input as plain values for the service."""
        indication = Indication(self.indication.data)
        return PatientDetails(
            full_name=self.full_name.data,
            date_of_birth=self.date_of_birth.data,
            clinic_identifier=self.clinic_identifier.data,
            pronouns=self.pronouns.data or "",
            indication=indication,
            indication_other=self.indication_other.data or "",
            referring_clinician=self.referring_clinician.data or "",
            status=PatientStatus(self.status.data),
            responsible_clinician_id=int(self.responsible_clinician_id.data)
            if self.responsible_clinician_id.data
            else None,
        )


class PortalInvitationForm(ClinicForm):
    """The email address a patient will sign in with."""

    email = email_field("Patient's email address")

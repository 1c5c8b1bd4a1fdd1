"""Forms for staff invitations and clinic settings."""

from __future__ import annotations

from zoneinfo import available_timezones

from sqlalchemy import select
from wtforms import BooleanField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import (
    AnyOf,
    DataRequired,
    Email,
    InputRequired,
    NumberRange,
    Optional,
    ValidationError,
)

from clinic.admin.services import ClinicSettings
from clinic.core.forms import (
    ClinicForm,
    PlainNumberField,
    WholeNumberField,
    email_field,
    strip,
    text_length,
)
from clinic.domain.starting import RADIOTHERAPY_WEEKS_HIGH, RADIOTHERAPY_WEEKS_LOW
from clinic.extensions import db
from clinic.models import Clinic, Role
from clinic.patients.queries import email_in_use


class StaffInvitationForm(ClinicForm):
    """A new colleague's name, email and role."""

    full_name = StringField(
        "Full name",
        filters=[strip],
        validators=[DataRequired("Enter their name."), text_length(120)],
    )
    email = email_field("Work email")
    role = SelectField(
        "Role",
        choices=[
            SelectChoice(Role.CLINICIAN.value, "Clinician (sees and treats patients)"),
            SelectChoice(Role.ADMIN.value, "Administrator (manages staff and clinic settings)"),
        ],
        default=Role.CLINICIAN.value,
        validators=[InputRequired("Choose a role.")],
    )

    def __init__(self, *args: object, clinic_id: int, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self._clinic_id = clinic_id

    def validate_email(self, field: StringField) -> None:
        if field.data and email_in_use(field.data, self._clinic_id):
            raise ValidationError("An account at this clinic already uses this email address.")


COMPLETION_MESSAGE = "Enter a whole number from 50 to 100."
NOT_LOGGING_MESSAGE = "Enter a whole number of days from 2 to 60."
RADIOTHERAPY_WEEKS_MESSAGE = (
    f"Enter a whole number of weeks from {RADIOTHERAPY_WEEKS_LOW} to {RADIOTHERAPY_WEEKS_HIGH}."
)
PAPER_MESSAGE = "Choose A4 or US Letter."
STAFF_IDLE_MESSAGE = "Enter a whole number of minutes from 5 to 60."
PATIENT_IDLE_MESSAGE = "Enter a whole number of minutes from 5 to 120."
# The papers clinic.reporting.pdf prints on (the database allows only these too).
PAPER_SIZES = [SelectChoice("a4", "A4"), SelectChoice("letter", "US Letter")]


class ClinicSettingsForm(ClinicForm):
    """The clinic's name, how patients reach it, and its settings."""

    name = StringField(
        "Clinic name",
        filters=[strip],
        validators=[DataRequired("Enter the clinic's name."), text_length(120)],
    )
    address = TextAreaField("Address", filters=[strip], validators=[text_length(500)])
    phone = StringField("Phone", filters=[strip], validators=[text_length(40)])
    email = StringField(
        "Contact email",
        filters=[strip],
        validators=[
            Optional(),
            text_length(254),
            Email(
                "Enter an address like clinic@example.org, or leave it empty.",
                check_deliverability=False,
            ),
        ],
    )
    timezone = StringField(
        "Time zone",
        filters=[strip],
        validators=[DataRequired("Enter the clinic's time zone, for example Europe/London.")],
        description="Patients' diary days follow this zone, for example Europe/London.",
    )
    invitation_valid_days = WholeNumberField(
        "Invitation links stay valid for (days)",
        validators=[
            InputRequired("Enter a number of days from 1 to 30."),
            NumberRange(1, 30, "Enter a number of days from 1 to 30."),
        ],
    )

    max_step_mm = PlainNumberField(
        "Largest step between stages without confirmation (mm)",
        validators=[
            InputRequired("Enter a step from 0.5 to 20 mm."),
            NumberRange(0.5, 20, "Enter a step from 0.5 to 20 mm."),
        ],
        description="A bigger jump in dilator diameter needs the clinician's reason.",
    )
    radiotherapy_weeks = WholeNumberField(
        "Weeks after pelvic radiotherapy ends before dilation may start",
        validators=[
            InputRequired(RADIOTHERAPY_WEEKS_MESSAGE),
            NumberRange(
                RADIOTHERAPY_WEEKS_LOW, RADIOTHERAPY_WEEKS_HIGH, RADIOTHERAPY_WEEKS_MESSAGE
            ),
        ],
        description=(
            "The guideline range is 2 to 8 weeks. A program after radiotherapy cannot start "
            "earlier than this after the date radiotherapy ended."
        ),
    )
    completion_pct = WholeNumberField(
        "Minimum share of the prescribed minutes for a session to count as done (%)",
        validators=[
            InputRequired(COMPLETION_MESSAGE),
            NumberRange(50, 100, COMPLETION_MESSAGE),
        ],
        description=(
            "At 80, a 10-minute session counts as done from 8 minutes. "
            "Adherence and the suggestions to move up a stage use this."
        ),
    )
    not_logging_days = WholeNumberField(
        "Days without a diary entry before a patient is flagged as not logging",
        validators=[
            InputRequired(NOT_LOGGING_MESSAGE),
            NumberRange(2, 60, NOT_LOGGING_MESSAGE),
        ],
        description=(
            "Only for patients who use the portal. The days count from their last entry, "
            "or from when their program started or resumed."
        ),
    )
    # Checked here, in plain words, rather than by the generic "Not a valid choice".
    paper_size = SelectField(
        "Paper for printed documents",
        choices=PAPER_SIZES,
        default="a4",
        validate_choice=False,
        validators=[
            InputRequired(PAPER_MESSAGE),
            AnyOf([choice.value for choice in PAPER_SIZES], PAPER_MESSAGE),
        ],
        description="Progress reports and other PDFs are printed on this paper.",
    )
    staff_idle_minutes = WholeNumberField(
        "Sign staff out after this many minutes without activity",
        validators=[
            InputRequired(STAFF_IDLE_MESSAGE),
            NumberRange(5, 60, STAFF_IDLE_MESSAGE),
        ],
        description=(
            "Two minutes before, a page left open asks whether they are still there. "
            "Anything typed in a form is kept, and sent once they sign in again."
        ),
    )
    patient_idle_minutes = WholeNumberField(
        "Sign patients out after this many minutes without activity",
        validators=[
            InputRequired(PATIENT_IDLE_MESSAGE),
            NumberRange(5, 120, PATIENT_IDLE_MESSAGE),
        ],
    )
    staff_mfa_required = BooleanField(
        "Require two-factor sign-in for administrators and clinicians",
        description=(
            "Staff without it are asked to set it up (with an authenticator app on their "
            "phone) the next time they open a page, you included. Patients may choose it "
            "but are never required to."
        ),
    )

    def __init__(self, *args: object, clinic_id: int, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self._clinic_id = clinic_id

    def validate_name(self, field: StringField) -> None:
        taken = db.session.scalar(
            select(Clinic.id).where(Clinic.name == field.data, Clinic.id != self._clinic_id)
        )
        if field.data and taken is not None:
            raise ValidationError("Another clinic already uses this name. Add the town, say.")

    def validate_timezone(self, field: StringField) -> None:
        if field.data and field.data not in available_timezones():
            raise ValidationError(
                "Enter a time zone name such as Europe/London or America/New_York."
            )

    def settings(self) -> ClinicSettings:
        """The validated input as plain values for the service."""
        return ClinicSettings(
            name=self.name.data,
            address=self.address.data or "",
            phone=self.phone.data or "",
            email=self.email.data or "",
            timezone=self.timezone.data,
            invitation_valid_days=self.invitation_valid_days.data,
            max_step_mm=self.max_step_mm.data,
            completion_pct=self.completion_pct.data,
            not_logging_days=self.not_logging_days.data,
            paper_size=self.paper_size.data,
            staff_idle_minutes=self.staff_idle_minutes.data,
            patient_idle_minutes=self.patient_idle_minutes.data,
            staff_mfa_required=bool(self.staff_mfa_required.data),
            radiotherapy_weeks=self.radiotherapy_weeks.data,
        )

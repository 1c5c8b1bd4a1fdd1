"""Forms for staff invitations and clinic settings."""

from __future__ import annotations

from datetime import time

from flask_babel import gettext as _
from sqlalchemy import select
from wtforms import (
    BooleanField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    AnyOf,
    DataRequired,
    Email,
    InputRequired,
    NumberRange,
    Optional,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from clinic.admin.services import ClinicSettings
from clinic.core.forms import (
    ClinicForm,
    PlainNumberField,
    PlainTimeField,
    WholeNumberField,
    email_field,
    normalise_line_breaks,
    strip,
    text_length,
)
from clinic.core.timezones import known_zones, zone_choices
from clinic.domain.depth import DEPTH_DROP_CM_RANGE, DEPTH_LOOKBACK_SESSIONS
from clinic.domain.reminders import NUDGE_DAYS_RANGE
from clinic.domain.starting import RADIOTHERAPY_WEEKS_HIGH, RADIOTHERAPY_WEEKS_LOW
from clinic.domain.working_hours import DAY_NAMES
from clinic.extensions import db
from clinic.i18n import lazy_text as _l
from clinic.models import Clinic, Role
from clinic.patients.queries import email_in_use


class StaffInvitationForm(ClinicForm):
    """A new colleague's name, email and role."""

    full_name = StringField(
        _l("Full name"),
        filters=[strip],
        validators=[DataRequired(_l("Enter their name.")), text_length(120)],
    )
    email = email_field(_l("Work email"))
    role = SelectField(
        _l("Role"),
        choices=[
            SelectChoice(Role.CLINICIAN.value, _l("Clinician (sees and treats patients)")),
            SelectChoice(Role.ADMIN.value, _l("Administrator (manages staff and clinic settings)")),
        ],
        default=Role.CLINICIAN.value,
        validators=[InputRequired(_l("Choose a role."))],
    )

    def __init__(self, *args: object, clinic_id: int, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self._clinic_id = clinic_id

    def validate_email(self, field: StringField) -> None:
        if field.data and email_in_use(field.data, self._clinic_id):
            raise ValidationError(_("An account at this clinic already uses this email address."))


COMPLETION_MESSAGE = _l("Enter a whole number from 50 to 100.")
NOT_LOGGING_MESSAGE = _l("Enter a whole number of days from 2 to 60.")
NUDGE_MESSAGE = _l(
    "Enter a whole number of days from %(low)s to %(high)s.",
    low=NUDGE_DAYS_RANGE[0],
    high=NUDGE_DAYS_RANGE[1],
)
DEPTH_DROP_MESSAGE = _l(
    "Enter a depth from %(low)s to %(high)s cm.",
    low=format(DEPTH_DROP_CM_RANGE[0], "g"),
    high=format(DEPTH_DROP_CM_RANGE[1], "g"),
)
RADIOTHERAPY_WEEKS_MESSAGE = _l(
    "Enter a whole number of weeks from %(low)s to %(high)s.",
    low=RADIOTHERAPY_WEEKS_LOW,
    high=RADIOTHERAPY_WEEKS_HIGH,
)
PAPER_MESSAGE = _l("Choose A4 or US Letter.")
STAFF_IDLE_MESSAGE = _l("Enter a whole number of minutes from 5 to 60.")
PATIENT_IDLE_MESSAGE = _l("Enter a whole number of minutes from 5 to 120.")
RESPONSE_MESSAGE = _l("Enter a whole number of working hours from 1 to 72.")
ESCALATE_AFTER_MESSAGE = _l("Enter a whole number of working hours from 1 to 72.")
ESCALATE_AGAIN_MESSAGE = _l("Enter a whole number of hours from 1 to 336 (two weeks).")
TIMEZONE_MESSAGE = _l("Choose the clinic's time zone from the list.")
OUT_OF_HOURS_MESSAGE = _l("Say what patients should do outside opening hours.")
WORKING_DAY_CHOICES = [SelectChoice(str(n), _l(name)) for n, name in enumerate(DAY_NAMES, start=1)]


class CheckboxesField(SelectMultipleField):
    """Several choices as checkboxes (rendered as a fieldset by the `radio_group` macro)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


# The papers clinic.reporting.pdf prints on (the database allows only these too).
PAPER_SIZES = [SelectChoice("a4", "A4"), SelectChoice("letter", _l("US Letter"))]


class ClinicSettingsForm(ClinicForm):
    """The clinic's name, how patients reach it, and its settings."""

    name = StringField(
        _l("Clinic name"),
        filters=[strip],
        validators=[DataRequired(_l("Enter the clinic's name.")), text_length(120)],
    )
    address = TextAreaField(_l("Address"), filters=[strip], validators=[text_length(500)])
    # Required, not optional: after a report that needs review, patients are asked to
    # phone the clinic (the portal's guidance gives this number), so invitations to the
    # portal are refused while it is empty (clinic.patients.services.invite_to_portal).
    phone = StringField(
        _l("Phone"),
        filters=[strip],
        validators=[
            DataRequired(
                _l(
                    "Enter the clinic's phone number: patients are asked to phone it after a"
                    " report that needs review."
                )
            ),
            text_length(40),
        ],
        description=_l(
            "Patients are asked to phone this number after a report that needs review, so "
            "none can be invited to the portal without it."
        ),
    )
    email = StringField(
        _l("Contact email"),
        filters=[strip],
        validators=[
            Optional(),
            text_length(254),
            Email(
                _l("Enter an address like clinic@example.org, or leave it empty."),
                check_deliverability=False,
            ),
        ],
    )
    # Chosen from a list (clinic.core.timezones says why a plain select); checked against
    # the tz database here, in plain words, rather than by the generic "Not a valid choice".
    timezone = SelectField(
        _l("Time zone"),
        validate_choice=False,
        validators=[InputRequired(TIMEZONE_MESSAGE)],
        description=_l(
            "Patients' diary days follow this zone. The list goes by city; on a "
            "computer, typing a city's first letters finds it."
        ),
    )
    invitation_valid_days = WholeNumberField(
        _l("Invitation links stay valid for (days)"),
        validators=[
            InputRequired(_l("Enter a number of days from 1 to 30.")),
            NumberRange(1, 30, _l("Enter a number of days from 1 to 30.")),
        ],
    )

    max_step_mm = PlainNumberField(
        _l("Largest step between stages without confirmation (mm)"),
        validators=[
            InputRequired(_l("Enter a step from 0.5 to 20 mm.")),
            NumberRange(0.5, 20, _l("Enter a step from 0.5 to 20 mm.")),
        ],
        description=_l("A bigger jump in dilator diameter needs the clinician's reason."),
    )
    radiotherapy_weeks = WholeNumberField(
        _l("Weeks after pelvic radiotherapy ends before dilation may start"),
        validators=[
            InputRequired(RADIOTHERAPY_WEEKS_MESSAGE),
            NumberRange(
                RADIOTHERAPY_WEEKS_LOW, RADIOTHERAPY_WEEKS_HIGH, RADIOTHERAPY_WEEKS_MESSAGE
            ),
        ],
        description=_l(
            "The guideline range is 2 to 8 weeks. A program after radiotherapy cannot start "
            "earlier than this after the date radiotherapy ended."
        ),
    )
    depth_drop_cm = PlainNumberField(
        _l("After vaginoplasty: red flag when depth drops by more than (cm)"),
        validators=[
            InputRequired(DEPTH_DROP_MESSAGE),
            NumberRange(DEPTH_DROP_CM_RANGE[0], DEPTH_DROP_CM_RANGE[1], DEPTH_DROP_MESSAGE),
        ],
        description=_l(
            "Compared with the deepest of the patient's last %(count)s sessions with a "
            "dilator at least as wide. 1 cm is beyond the usual reading error of the "
            "dilator's markings.",
            count=DEPTH_LOOKBACK_SESSIONS,
        ),
    )
    completion_pct = WholeNumberField(
        _l("Minimum share of the prescribed minutes for a session to count as done (%)"),
        validators=[
            InputRequired(COMPLETION_MESSAGE),
            NumberRange(50, 100, COMPLETION_MESSAGE),
        ],
        description=_l(
            "At 80, a 10-minute session counts as done from 8 minutes. "
            "Adherence and the suggestions to move up a stage use this."
        ),
    )
    not_logging_days = WholeNumberField(
        _l("Days without a diary entry before a patient is flagged as not logging"),
        validators=[
            InputRequired(NOT_LOGGING_MESSAGE),
            NumberRange(2, 60, NOT_LOGGING_MESSAGE),
        ],
        description=_l(
            "Only for patients who use the portal. The days count from their last entry, "
            "or from when their program started or resumed."
        ),
    )
    reminder_nudge_days = WholeNumberField(
        _l("Days with nothing noted before one gentle nudge"),
        validators=[
            InputRequired(NUDGE_MESSAGE),
            NumberRange(NUDGE_DAYS_RANGE[0], NUDGE_DAYS_RANGE[1], NUDGE_MESSAGE),
        ],
        description=_l(
            "For patients who turned reminders on: after this many days with nothing noted "
            "(and a reminder time gone by), one gentle message, by the email or notification "
            "they chose, replaces the next reminder, then nothing until they note something "
            "again. From %(low)s to %(high)s days.",
            low=NUDGE_DAYS_RANGE[0],
            high=NUDGE_DAYS_RANGE[1],
        ),
    )
    # Checked here, in plain words, rather than by the generic "Not a valid choice".
    paper_size = SelectField(
        _l("Paper for printed documents"),
        choices=PAPER_SIZES,
        default="a4",
        validate_choice=False,
        validators=[
            InputRequired(PAPER_MESSAGE),
            AnyOf([choice.value for choice in PAPER_SIZES], PAPER_MESSAGE),
        ],
        description=_l("Progress reports and other PDFs are printed on this paper."),
    )
    staff_idle_minutes = WholeNumberField(
        _l("Sign staff out after this many minutes without activity"),
        validators=[
            InputRequired(STAFF_IDLE_MESSAGE),
            NumberRange(5, 60, STAFF_IDLE_MESSAGE),
        ],
        description=_l(
            "Two minutes before, a page left open asks whether they are still there. "
            "Anything typed in a form is kept, and sent once they sign in again."
        ),
    )
    patient_idle_minutes = WholeNumberField(
        _l("Sign patients out after this many minutes without activity"),
        validators=[
            InputRequired(PATIENT_IDLE_MESSAGE),
            NumberRange(5, 120, PATIENT_IDLE_MESSAGE),
        ],
    )
    staff_mfa_required = BooleanField(
        _l("Require two-factor sign-in for administrators and clinicians"),
        description=_l(
            "Staff without it are asked to set it up (with an authenticator app on their "
            "phone) the next time they open a page, you included. Patients may choose it "
            "but are never required to."
        ),
    )

    # Alerts: when the clinic answers, what patients do meanwhile, who is told.
    response_hours = WholeNumberField(
        _l("Usual time to answer a patient's report that needs review (working hours)"),
        validators=[InputRequired(RESPONSE_MESSAGE), NumberRange(1, 72, RESPONSE_MESSAGE)],
        description=_l(
            "Patients are told the clinic usually answers within this time, during opening hours."
        ),
    )
    working_days = CheckboxesField(
        _l("Working days"),
        choices=WORKING_DAY_CHOICES,
        validate_choice=False,
    )
    opens_at = PlainTimeField(
        _l("Opens at"),
        format="%H:%M",
        validators=[InputRequired(_l("Enter the opening time, for example 08:00."))],
    )
    closes_at = PlainTimeField(
        _l("Closes at"),
        format="%H:%M",
        validators=[InputRequired(_l("Enter the closing time, for example 18:00."))],
    )
    escalate_after_working_hours = WholeNumberField(
        _l("First reminder to all staff after (working hours)"),
        validators=[
            InputRequired(ESCALATE_AFTER_MESSAGE),
            NumberRange(1, 72, ESCALATE_AFTER_MESSAGE),
        ],
        description=_l(
            "Counted in opening hours. If nobody has acknowledged the report by "
            "then, every clinician and administrator is reminded."
        ),
    )
    escalate_again_after_hours = WholeNumberField(
        _l("Second reminder after (hours)"),
        validators=[
            InputRequired(ESCALATE_AGAIN_MESSAGE),
            NumberRange(1, 336, ESCALATE_AGAIN_MESSAGE),
        ],
        description=_l("Counted around the clock, nights and weekends included."),
    )
    duty_email = StringField(
        _l("Duty address"),
        filters=[strip],
        validators=[
            Optional(),
            text_length(254),
            Email(
                _l("Enter an address like duty@example.org, or leave it empty."),
                check_deliverability=False,
            ),
        ],
        description=_l("A shared inbox that receives every alert and reminder too."),
    )
    sender_name = StringField(
        _l("Sender name on emails"),
        filters=[strip],
        validators=[text_length(120)],
        description=_l(
            "Shown as who the email is from. Leave it empty to show no name: some "
            "patients prefer no clinic name in their mailbox."
        ),
    )
    out_of_hours_text = TextAreaField(
        _l("What patients should do outside opening hours"),
        filters=[strip, normalise_line_breaks],
        validators=[DataRequired(OUT_OF_HOURS_MESSAGE), text_length(1000)],
        render_kw={"rows": 5},
        description=_l(
            "Shown with the guidance after a report that needs review, for "
            "example who to call at night and at weekends."
        ),
    )

    def __init__(self, *args: object, clinic_id: int, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self._clinic_id = clinic_id
        self.timezone.choices = zone_choices(self.timezone.data)

    def validate_working_days(self, field: CheckboxesField) -> None:
        chosen = set(field.data or [])
        if not chosen:
            raise ValidationError(_("Choose at least one working day."))
        if not chosen <= {choice.value for choice in WORKING_DAY_CHOICES}:
            raise ValidationError(_("Choose days from the list."))

    def validate_closes_at(self, field: PlainTimeField) -> None:
        if field.data and self.opens_at.data and field.data <= self.opens_at.data:
            raise ValidationError(_("The closing time must be later than the opening time."))

    def validate_name(self, field: StringField) -> None:
        taken = db.session.scalar(
            select(Clinic.id).where(Clinic.name == field.data, Clinic.id != self._clinic_id)
        )
        if field.data and taken is not None:
            raise ValidationError(_("Another clinic already uses this name. Add the town, say."))

    def validate_timezone(self, field: SelectField) -> None:
        if field.data not in known_zones():
            raise ValidationError(TIMEZONE_MESSAGE)

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
            reminder_nudge_days=self.reminder_nudge_days.data,
            paper_size=self.paper_size.data,
            staff_idle_minutes=self.staff_idle_minutes.data,
            patient_idle_minutes=self.patient_idle_minutes.data,
            staff_mfa_required=bool(self.staff_mfa_required.data),
            response_hours=self.response_hours.data,
            working_days="".join(sorted(self.working_days.data)),
            opens_at_minute=_minutes(self.opens_at.data),
            closes_at_minute=_minutes(self.closes_at.data),
            escalate_after_working_hours=self.escalate_after_working_hours.data,
            escalate_again_after_hours=self.escalate_again_after_hours.data,
            duty_email=(self.duty_email.data or "").lower(),
            sender_name=self.sender_name.data or "",
            out_of_hours_text=self.out_of_hours_text.data,
            radiotherapy_weeks=self.radiotherapy_weeks.data,
            depth_drop_cm=round(self.depth_drop_cm.data, 1),
        )


def _minutes(value: time) -> int:
    return value.hour * 60 + value.minute


def alert_settings_data(clinic: Clinic) -> dict[str, object]:
    """What the alert fields show that the clinic does not hold under their names."""
    return {
        "opens_at": time(clinic.opens_at_minute // 60, clinic.opens_at_minute % 60),
        "closes_at": time(min(clinic.closes_at_minute // 60, 23), clinic.closes_at_minute % 60)
        if clinic.closes_at_minute < 1440
        else time(23, 59),
    }

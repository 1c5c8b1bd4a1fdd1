"""The form for an MDT pack: which patients, and the meeting's date."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask_babel import gettext as _
from wtforms import Field
from wtforms.validators import InputRequired, StopValidation, ValidationError

from clinic.core.forms import ClinicForm, PlainDateField
from clinic.core.requests import database_id
from clinic.core.templating import short_date
from clinic.i18n import lazy_text as _l
from clinic.mdt.services import MAX_PATIENTS

# A pack is made shortly before the meeting, or just after it for the minutes; a date
# further away is more likely a typo than a plan.
DAYS_BEFORE = 14
DAYS_AFTER = 90


class PatientIdsField(Field):
    """The ticked patients' ids as whole numbers, each once, in the order sent. Which of
    them the clinician may see is for the service to check, against the database."""

    def _value(self) -> str:
        return ""

    def process_formdata(self, valuelist: list[str]) -> None:
        ids: list[int] = []
        for raw in valuelist:
            found = database_id(raw)
            if found is None:
                self.data = []
                raise ValueError(_("Tick patients from the list only."))
            ids.append(found)
        self.data = list(dict.fromkeys(ids))

    def process_data(self, value: Any) -> None:
        self.data = list(value or [])

    def pre_validate(self, form: object) -> None:
        # After junk in the list, the count rules have nothing useful to add.
        if self.process_errors:
            raise StopValidation()


class MdtPackForm(ClinicForm):
    """Make an MDT pack: at least one and at most 40 patients, and a meeting date near
    `today` (the clinic's date)."""

    patient_ids = PatientIdsField(_l("Patients"))
    meeting_on = PlainDateField(
        _l("Meeting date"), validators=[InputRequired(_l("Enter the date of the meeting."))]
    )

    def __init__(self, *args: Any, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today

    def validate_patient_ids(self, field: Field) -> None:
        if not field.data:
            raise ValidationError(_("Tick at least one patient."))
        if len(field.data) > MAX_PATIENTS:
            ticked = len(field.data)
            raise ValidationError(
                _(
                    "Tick at most %(max)s patients for one pack (you ticked %(ticked)s).",
                    max=MAX_PATIENTS,
                    ticked=ticked,
                )
            )

    def validate_meeting_on(self, field: Field) -> None:
        earliest = self.today - timedelta(days=DAYS_BEFORE)
        latest = self.today + timedelta(days=DAYS_AFTER)
        if not earliest <= field.data <= latest:
            raise ValidationError(
                _(
                    "Choose a meeting date from %(earliest)s to %(latest)s "
                    "(two weeks back to three months ahead).",
                    earliest=short_date(earliest),
                    latest=short_date(latest),
                )
            )

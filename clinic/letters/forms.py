"""Forms of the letters feature: a recipient of the address book, the clinic's letter
templates, and a letter (its kind and recipients, then its text)."""

from __future__ import annotations

from typing import Any

from flask_babel import LazyString
from flask_babel import gettext as _
from wtforms import (
    BooleanField,
    HiddenField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Optional, ValidationError

from clinic.admin.forms import CheckboxesField
from clinic.core.forms import ClinicForm, normalise_line_breaks, strip, text_length
from clinic.core.requests import database_id
from clinic.i18n import lazy_text as _l
from clinic.letters.compose import LetterText
from clinic.letters.recipients import RecipientDetails
from clinic.models import LetterKind, Recipient, RecipientRole

# A letter's sections each hold at most this much (about 500 words): a letter is read in
# a few minutes; the full record goes as the attached report.
SECTION_MAX = 3000
TEMPLATE_TEXT_MAX = 1000


class RecipientForm(ClinicForm):
    """Someone letters go to."""

    name = StringField(
        _l("Name"),
        filters=[strip],
        validators=[
            DataRequired(_l("Enter the person's name, for example Dr Amira Shah.")),
            text_length(120),
        ],
        description=_l("As letters address them, with their title: for example Dr Amira Shah."),
    )
    role = SelectField(
        _l("Role"),
        choices=[SelectChoice(r.value, r.label) for r in RecipientRole],
        validators=[InputRequired(_l("Choose their role."))],
    )
    service = StringField(
        _l("Service"),
        filters=[strip],
        validators=[text_length(160)],
        description=_l("For example Pelvic pain clinic, or Gender surgery team."),
    )
    organisation = StringField(
        _l("Organisation"),
        filters=[strip],
        validators=[DataRequired(_l("Enter the practice or hospital.")), text_length(160)],
        description=_l("The practice or hospital."),
    )
    postal_address = TextAreaField(
        _l("Postal address"),
        filters=[normalise_line_breaks, strip],
        validators=[
            DataRequired(_l("Enter the postal address letters are printed with.")),
            text_length(500),
        ],
        render_kw={"rows": 4},
        description=_l("One line per line, as printed under the organisation on the letter."),
    )
    email = StringField(
        _l("Secure email address"),
        filters=[strip],
        validators=[
            Optional(),
            text_length(254),
            Email(
                _l("Enter an address like name@nhs.example, or leave it empty."),
                check_deliverability=False,
            ),
        ],
        description=_l(
            "Letters to this recipient are emailed here, the PDF attached. Leave it "
            "empty to print and post them instead."
        ),
    )

    def details(self) -> RecipientDetails:
        """The form's values for the service."""
        return RecipientDetails(
            name=self.name.data,
            role=RecipientRole(self.role.data),
            service=self.service.data or "",
            organisation=self.organisation.data,
            postal_address=self.postal_address.data,
            email=self.email.data or "",
        )


def _template_text(label: str | LazyString) -> TextAreaField:
    return TextAreaField(
        label,
        filters=[normalise_line_breaks, strip],
        validators=[DataRequired(_l("Enter the wording.")), text_length(TEMPLATE_TEXT_MAX)],
        render_kw={"rows": 4},
    )


class LetterTemplatesForm(ClinicForm):
    """The clinic's wording for each kind of letter: how it opens and what it asks."""

    referral_opening = _template_text(_l("Opening"))
    referral_ask = _template_text(_l("What the letter asks"))
    update_opening = _template_text(_l("Opening"))
    update_ask = _template_text(_l("What the letter asks"))
    discharge_opening = _template_text(_l("Opening"))
    discharge_ask = _template_text(_l("What the letter asks"))

    def wording(self) -> dict[LetterKind, tuple[str, str]]:
        """The form's wording by kind: (opening, ask)."""
        return {
            kind: (self[f"{kind.value}_opening"].data, self[f"{kind.value}_ask"].data)
            for kind in LetterKind
        }


NOT_IN_ADDRESS_BOOK = _l("Choose recipients from the address book.")


def _recipient_id(value: object) -> int:
    # Bounded before any query: a number past what an id column holds overflows the
    # database driver (a 500), where it should read as a recipient not in the list.
    found = database_id(str(value))
    if found is None:
        raise ValueError(NOT_IN_ADDRESS_BOOK)
    return found


def _section(
    label: str | LazyString, message: str | LazyString, description: str | LazyString = ""
) -> TextAreaField:
    return TextAreaField(
        label,
        filters=[normalise_line_breaks, strip],
        validators=[DataRequired(message), text_length(SECTION_MAX)],
        render_kw={"rows": 5},
        description=description,
    )


class LetterForm(ClinicForm):
    """A letter: its kind, recipients and text, prefilled from the record and edited by
    the clinician. `recipients` are the clinic's address book (not archived)."""

    kind = SelectField(
        _l("Kind of letter"),
        choices=[SelectChoice(k.value, k.label) for k in LetterKind],
        validators=[InputRequired(_l("Choose the kind of letter."))],
    )
    recipients = CheckboxesField(
        _l("Recipients"),
        coerce=_recipient_id,
        validate_choice=False,  # the service checks them against the address book
        invalid_value_message=NOT_IN_ADDRESS_BOOK,
    )
    opening = _section(_l("Opening"), _l("Write how the letter opens."))
    reason = _section(_l("Reason for this letter"), _l("Say why you are writing."))
    programme = _section(
        _l("The programme and where it stands"),
        _l("Describe the programme."),
        _l(
            "From the record: the stage in force, the dilator, minutes, frequency, and adherence "
            "over the last 12 weeks (or since the start), as the progress report counts them."
        ),
    )
    red_flags = _section(
        _l("Red flags and how they were handled"),
        _l("Say which red flags there were, or None."),
        _l("From the red flags of the same period and their reviews."),
    )
    measures = _section(
        _l("Outcome measures"),
        _l("Give the outcome measures, or None."),
        _l("First and latest score of each measure answered in the period, with the change."),
    )
    ask = _section(_l("What we ask"), _l("Say what you ask of the recipients."))
    # A one-time key given with the form: the same form sent twice makes one letter.
    key = HiddenField()
    with_report = BooleanField(
        _l("Attach the progress report"),
        description=_l(
            "The progress report of the same period follows the letter as further "
            "pages of the same PDF."
        ),
    )

    def __init__(self, *args: Any, recipients: list[Recipient], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.recipients.choices = [
            SelectChoice(
                r.id,
                _("%(name)s (%(description)s)", name=r.name, description=r.description)
                if r.email
                else _(
                    "%(name)s (%(description)s) (to print)",
                    name=r.name,
                    description=r.description,
                ),
            )
            for r in recipients
        ]

    def validate_key(self, field: HiddenField) -> None:
        if not field.data or len(field.data) > 64:
            raise ValidationError(_("This form is out of date: reload the page and try again."))

    def validate_recipients(self, field: CheckboxesField) -> None:
        if not field.data and not field.process_errors:
            raise ValidationError(_("Choose at least one recipient."))

    def validate(self, extra_validators: object = None) -> bool:
        valid = super().validate(extra_validators)
        for name in ("opening", "reason", "programme", "red_flags", "measures", "ask"):
            field = self[name]
            if field.data and "[to complete" in field.data:
                field.errors = [*field.errors, _("Complete or remove the part in square brackets.")]
                valid = False
        return valid

    def text(self) -> LetterText:
        """The letter's words."""
        return LetterText(
            opening=self.opening.data,
            reason=self.reason.data,
            programme=self.programme.data,
            red_flags=self.red_flags.data,
            measures=self.measures.data,
            ask=self.ask.data,
        )

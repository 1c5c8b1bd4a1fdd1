"""Forms for dilator sets and their sizes."""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from flask_babel import LazyString
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import BooleanField, Field, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Optional, ValidationError

from clinic.catalogue.queries import label_taken
from clinic.catalogue.services import SetDetails, SizeDetails, label_taken_message
from clinic.core.forms import ClinicForm, PlainNumberField, WholeNumberField, strip, text_length
from clinic.domain.protocols import IntendedUse
from clinic.i18n import lazy_text as _l

DIAMETER_RANGE_MM = (1, 80)
INSERTABLE_LENGTH_RANGE_MM = (10, 400)


def to_tenth(value: object) -> object:
    """WTForms filter: round a number to one decimal place, halves up (27.25 -> 27.3), as
    a clinician would round a measurement."""
    if not isinstance(value, float):
        return value
    try:
        return float(Decimal(str(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))
    except InvalidOperation:  # nan and infinity have no decimal places; the range refuses them
        return value


def within(
    low: float, high: float, message: str | LazyString
) -> Callable[[FlaskForm, Field], None]:
    """A range check written so that "nan" (which float() accepts) fails it too. An empty
    or unreadable value is left to the required check and the parse error."""

    def check(_form: FlaskForm, field: Field) -> None:
        if field.data is not None and not low <= field.data <= high:
            raise ValidationError(message)

    return check


class DiameterField(PlainNumberField):
    """A diameter in millimetres whose parse error says what to type."""

    parse_error = _l("Enter the diameter as a number of millimetres, for example 27.5.")

    def _value(self) -> str:
        # Stored diameters show as clinicians write them: 25 and 27.5, not 25.0 or 27.50.
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else f"{float(self.data):g}"


class DilatorSetForm(ClinicForm):
    """Create or edit a dilator set."""

    name = StringField(
        _l("Name or brand"),
        filters=[strip],
        validators=[
            DataRequired(_l("Enter the set's name or brand.")),
            text_length(120),
        ],
    )
    material = StringField(_l("Material"), filters=[strip], validators=[text_length(120)])
    intended_use = SelectField(
        _l("Intended use"),
        choices=[SelectChoice("", _l("Choose an intended use"))]
        + [SelectChoice(u.value, u.label) for u in IntendedUse],
        default="",
        validators=[InputRequired(_l("Choose what the set is made for."))],
    )
    flared_base = BooleanField(
        _l("Every size in this set has a flared base"),
        description=_l(
            "A flared base stops a dilator slipping inside. Sets for anal use must have one; "
            "protocols used anally can only prescribe sizes from such a set."
        ),
    )
    notes = TextAreaField(_l("Notes"), filters=[strip], validators=[text_length(2000)])

    def validate_flared_base(self, field: BooleanField) -> None:
        if self.intended_use.data in (IntendedUse.ANAL, IntendedUse.EITHER) and not field.data:
            raise ValidationError(
                _(
                    "A set for anal use must have a flared base. Tick this box if every size "
                    "has one, or choose vaginal use."
                )
            )

    def details(self) -> SetDetails:
        """The validated input as plain values for the service."""
        return SetDetails(
            name=self.name.data,
            material=self.material.data or "",
            intended_use=IntendedUse(self.intended_use.data),
            notes=self.notes.data or "",
            flared_base=bool(self.flared_base.data),
        )


class DilatorSizeForm(ClinicForm):
    """Add a size to a set, or edit one."""

    label = StringField(
        _l("Label"),
        filters=[strip],
        validators=[
            DataRequired(_l("Enter a label, for example Size 3.")),
            text_length(40),
        ],
    )
    diameter_mm = DiameterField(
        _l("Diameter (mm)"),
        filters=[to_tenth],
        validators=[
            InputRequired(_l("Enter the diameter in millimetres.")),
            within(*DIAMETER_RANGE_MM, _l("Enter a diameter from 1 to 80 mm, for example 27.5.")),
        ],
    )
    insertable_length_mm = WholeNumberField(
        _l("Insertable length (mm)"),
        validators=[
            Optional(),
            within(
                *INSERTABLE_LENGTH_RANGE_MM,
                _l("Enter a length from 10 to 400 mm, or leave it empty."),
            ),
        ],
    )

    def __init__(
        self, *args: object, set_id: int, size_id: int | None = None, **kwargs: object
    ) -> None:
        super().__init__(*args, **kwargs)
        self._set_id = set_id
        self._size_id = size_id

    def validate_label(self, field: StringField) -> None:
        # Only a label that passed the other checks is looked up (PostgreSQL refuses to
        # even compare text containing a NUL).
        if field.data and not field.errors and label_taken(self._set_id, field.data, self._size_id):
            raise ValidationError(label_taken_message(field.data))

    def details(self) -> SizeDetails:
        """The validated input as plain values for the service."""
        return SizeDetails(
            label=self.label.data,
            diameter_mm=self.diameter_mm.data,
            insertable_length_mm=self.insertable_length_mm.data,
        )

"""The erasure form: the request's reference, and the patient's clinic identifier typed
again to confirm which record goes."""

from __future__ import annotations

from typing import Any

from wtforms import Field, StringField
from wtforms.validators import DataRequired, ValidationError

from clinic.core.forms import ClinicForm, strip, text_length

REFERENCE_MAX_LENGTH = 120


class ErasureForm(ClinicForm):
    """Erase one patient on their documented request (administrators)."""

    request_reference = StringField(
        "Reference of the written request",
        description="Where the request is filed and its date, for example "
        "“DP request 2026-014, letter of 20 Nov 2026”. It is kept with the erasure "
        "record, so leave out the patient's name and identifier.",
        filters=[strip],
        validators=[
            DataRequired("Enter the reference of the patient's written request."),
            text_length(REFERENCE_MAX_LENGTH),
        ],
    )
    confirmation = StringField(
        "Clinic identifier, to confirm",
        filters=[strip],
        validators=[DataRequired("Type the patient's clinic identifier to confirm.")],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )

    def __init__(self, identifier: str, full_name: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.identifier = identifier
        self.full_name = full_name

    def validate_confirmation(self, field: Field) -> None:
        if field.data != self.identifier:
            raise ValidationError(
                f"This is not the patient's clinic identifier. Type {self.identifier} "
                "exactly as shown to confirm."
            )

    def validate_request_reference(self, field: Field) -> None:
        text = (field.data or "").casefold()
        if self.identifier.casefold() in text or (
            self.full_name.strip() and self.full_name.strip().casefold() in text
        ):
            raise ValidationError(
                "The reference is kept after the erasure: leave out the patient's name "
                "and clinic identifier."
            )

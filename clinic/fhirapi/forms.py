"""Forms of the administrator's API pages: a new token, and declining a referral."""

from __future__ import annotations

from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import DataRequired

from clinic.core.forms import ClinicForm, normalise_line_breaks, strip, text_length
from clinic.fhirapi.tokens import LABEL_MAX
from clinic.i18n import lazy_text as _l


class ApiTokenForm(ClinicForm):
    """A label for the system that will use the token, and whether it may send referrals."""

    label = StringField(
        _l("Label"),
        filters=[strip],
        validators=[
            DataRequired(_l("Name the system that will use the token.")),
            text_length(LABEL_MAX),
        ],
        description=_l("The system that will use it, for example Hospital EPR."),
    )
    can_import = BooleanField(
        _l("May also send referrals"),
        description=_l("Without this, the token only reads records."),
    )


class DeclineReferralForm(ClinicForm):
    """Why a referral is declined (kept with it, for the clinic's record)."""

    reason = TextAreaField(
        _l("Why is it declined?"),
        filters=[strip, normalise_line_breaks],
        validators=[DataRequired(_l("Say why the referral is declined.")), text_length(500)],
    )

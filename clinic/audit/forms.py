"""The audit trail's search form: who, which patient, what, and when; and the button that
exports the search's events.

The search is a GET form (the filters live in the URL, so a search can be bookmarked or
exported as it stands): no CSRF token, nothing changes. The export is a POST with a CSRF
token: it asks for a background run.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from wtforms import SelectField, StringField
from wtforms.validators import Optional, ValidationError

from clinic.audit.actions import ACTION_GROUPS
from clinic.core.forms import ClinicForm, PlainDateField, strip, text_length
from clinic.i18n import lazy_text as _l
from clinic.models import User

ANYONE = ""


class ListChoiceField(SelectField):
    """A select whose refusal of a value not in the list says so in plain words."""

    def pre_validate(self, form: object) -> None:
        try:
            super().pre_validate(form)
        except ValidationError as exc:
            raise ValidationError(_("Choose from the list.")) from exc


class AuditSearchForm(ClinicForm):
    """Narrow the trail to one account, patients matching a name or identifier, one
    action, and a period of the clinic's calendar days."""

    class Meta:
        csrf = False

    user = ListChoiceField(_l("Who"), default=ANYONE)
    patient = StringField(
        _l("Patient name or identifier"), filters=[strip], validators=[text_length(120)]
    )
    action = ListChoiceField(_l("Action"), default=ANYONE)
    date_from = PlainDateField(_l("From"), validators=[Optional()])
    date_to = PlainDateField(_l("To"), validators=[Optional()])

    def __init__(self, *args: Any, staff: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user.choices = [(ANYONE, _("Anyone"))] + [
            (
                str(u.id),
                _("%(name)s (%(role)s)", name=u.full_name, role=u.role_label)
                if u.active
                else _("%(name)s (%(role)s, deactivated)", name=u.full_name, role=u.role_label),
            )
            for u in staff
        ]
        # The words of clinic.audit.actions are marked there; translated here, per request.
        self.action.choices = {
            None: [(ANYONE, _("Any action"))],
            **{
                _(group): [(code, _(words)) for code, words in actions]
                for group, actions in ACTION_GROUPS
            },
        }

    def validate_date_to(self, field: PlainDateField) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_("The end of the period must be on or after its start."))

    @property
    def actor_id(self) -> int | None:
        return int(self.user.data) if self.user.data else None


class AuditExportForm(ClinicForm):
    """Ask for the search's events as a CSV file, made in the background. Only its CSRF
    token is sent in the body: the filters are the search's, in the query string of the
    form's address, as the search page shows them."""

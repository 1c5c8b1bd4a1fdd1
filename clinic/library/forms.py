"""Forms for the clinic's protocol templates: one to create, one to edit (with its lock)."""

from __future__ import annotations

from wtforms import HiddenField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Optional

from clinic.core.forms import PlainDateField, strip, text_length
from clinic.domain.indications import Indication
from clinic.domain.progression import default_going_back
from clinic.domain.protocols import (
    DEFAULT_LAST_N_SESSIONS,
    DEFAULT_MIN_ADHERENCE_PCT,
    DEFAULT_PAIN_CEILING,
    DEFAULT_RED_FLAG_PAIN,
    Route,
)
from clinic.i18n import lazy_text as _l
from clinic.library.services import TemplateDetails
from clinic.protocols.forms import PlanForm, chosen_going_back, going_back_field, route_field

# What a new template's first stage starts with: the common ground of the default library
# (daily, ten minutes, two weeks per size, and the default progression rule). Clinicians
# change all of it.
NEW_STAGE_DEFAULTS: dict[str, object] = {
    "minutes": 10,
    "sessions": 1,
    "period": "day",
    "min_days": 14,
    "pain_ceiling": DEFAULT_PAIN_CEILING,
    "last_n_sessions": DEFAULT_LAST_N_SESSIONS,
    "min_adherence_pct": DEFAULT_MIN_ADHERENCE_PCT,
    "red_flag_pain": DEFAULT_RED_FLAG_PAIN,
}


class TemplateForm(PlanForm):
    """Create a protocol template: what it is for, and its ordered stages. (PlanForm is a
    ClinicForm: text with invisible control characters is refused next to its field.)"""

    name = StringField(
        _l("Template name"),
        filters=[strip],
        validators=[InputRequired(_l("Give the template a name.")), text_length(120)],
    )
    indication = SelectField(
        _l("Indication"),
        choices=[SelectChoice(i.value, i.label) for i in Indication],
        validators=[InputRequired(_l("Choose an indication."))],
        description=_l(
            "Anal fissure, after haemorrhoidectomy / anal stenosis and after vaginoplasty: "
            "dilation is used only when the treating surgeon directs it; the clinician "
            "records the surgeon and the procedure date when a patient's protocol is started."
        ),
    )
    route = route_field()
    going_back = going_back_field()
    description = TextAreaField(_l("Description"), filters=[strip], validators=[text_length(2000)])
    sources = TextAreaField(
        _l("Sources"),
        filters=[strip],
        validators=[text_length(4000)],
        description=_l("The guidelines and studies the plan rests on, one a line."),
    )
    review_on = PlainDateField(
        _l("Review the template by"),
        validators=[Optional()],
        description=_l("When the clinic checks the template against current evidence."),
    )

    def details(self) -> TemplateDetails:
        """The validated input as plain values for the service."""
        return TemplateDetails(
            name=self.name.data,
            indication=Indication(self.indication.data),
            route=Route(self.route.data),
            going_back=chosen_going_back(self.going_back)
            or default_going_back(Indication(self.indication.data)),
            description=self.description.data or "",
            sources=self.sources.data or "",
            review_on=self.review_on.data,
            stages=tuple(stage.stage_values() for stage in self.kept_stages()),
        )


class EditTemplateForm(TemplateForm):
    """Change a template; `lock_version` is the version the editor was loaded from."""

    lock_version = HiddenField()

    def based_on_version(self) -> int | None:
        """The template version this edit started from (None if the field was tampered with)."""
        try:
            return int(self.lock_version.data)
        except (TypeError, ValueError):
            return None

"""The stage editor shared by templates and patient protocols, and the protocol forms."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from flask_babel import gettext as _
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, NumberRange, Optional, ValidationError

from clinic.core.forms import (
    CONTROL_CHARACTER_MESSAGE,
    ClinicForm,
    PlainDateField,
    PlainNumberField,
    WholeNumberField,
    leaf_fields,
    strip,
    text_length,
)
from clinic.domain.progression import GoingBack, Suggestion
from clinic.domain.protocols import (
    DEFAULT_RED_FLAG_PAIN,
    DEPTH_CM_RANGE,
    LIMITS_REASON_MAX,
    STAGE_LIMITS,
    STAGE_NUMBER_RANGE,
    STAGES_MAX,
    TECHNIQUE_NOTES_MAX,
    Bounds,
    EventKind,
    Period,
    Route,
    StagePrescription,
    missing_reason,
    reason_required,
    review_on_problem,
)
from clinic.i18n import lazy_text as _l


def whole(label: str, limits: Bounds[int], **kwargs: object) -> WholeNumberField:
    """A required whole number within `limits`, with the range in its message (`label`
    may be lazy: translated when shown)."""
    message = _l("Enter a whole number from %(low)d to %(high)d.", low=limits.low, high=limits.high)
    return WholeNumberField(
        label,
        validators=[InputRequired(message), NumberRange(limits.low, limits.high, message)],
        **kwargs,
    )


def _size_id(value: object) -> str:
    return "" if value is None else str(value)


NOT_LISTED_MESSAGE = _l("Choose a dilator from the list.")


class DilatorField(SelectField):
    """A stage's dilator. The list shows the sizes for the plan's route
    (clinic.protocols.plans.offer_sizes), but any of the clinic's sizes in use (`accepted`)
    passes here, so a size for the other route, chosen before the route was changed, gets
    the plan rules' message saying why it cannot be used, not a generic one. Anything
    else (another clinic's size, a retired one, junk) is not in the list, and is told so."""

    accepted: frozenset[str] = frozenset()

    def pre_validate(self, form: object) -> None:
        if self.data and self.data not in self.accepted:
            raise ValidationError(NOT_LISTED_MESSAGE)


class StageForm(Form):
    """One stage of a plan. Nested in a FieldList, so it has no CSRF token of its own."""

    dilator_size_id = DilatorField(
        _l("Dilator"), coerce=_size_id, validators=[InputRequired(_l("Choose a dilator."))]
    )
    minutes = whole(_l("Minutes per session"), STAGE_LIMITS["minutes"])
    sessions = whole(_l("Sessions"), STAGE_LIMITS["sessions"])
    period = SelectField(
        _l("Per"),
        choices=[
            SelectChoice(Period.DAY.value, _l("day")),
            SelectChoice(Period.WEEK.value, _l("week")),
        ],
        default=Period.DAY.value,
        validators=[InputRequired(_l("Choose per day or per week."))],
    )
    min_days = whole(_l("Minimum days at this stage"), STAGE_LIMITS["min_days"])
    is_maintenance = BooleanField(_l("Maintenance phase (no end date)"))
    target_depth_cm = PlainNumberField(
        _l("Target depth (cm)"),
        validators=[
            Optional(),
            NumberRange(
                DEPTH_CM_RANGE.low,
                DEPTH_CM_RANGE.high,
                _l(
                    "Enter a depth from %(low)s to %(high)s cm, or leave it empty.",
                    low=format(DEPTH_CM_RANGE.low, "g"),
                    high=format(DEPTH_CM_RANGE.high, "g"),
                ),
            ),
        ],
    )
    technique_notes = TextAreaField(
        _l("Technique notes for the patient"),
        filters=[strip],
        validators=[text_length(TECHNIQUE_NOTES_MAX)],
    )
    pain_ceiling = whole(_l("Pain during at most (0-10)"), STAGE_LIMITS["pain_ceiling"])
    last_n_sessions = whole(
        _l("Over the last … completed sessions"), STAGE_LIMITS["last_n_sessions"]
    )
    min_adherence_pct = whole(_l("Adherence at least (%)"), STAGE_LIMITS["min_adherence_pct"])
    red_flag_pain = whole(
        _l("Red flag when pain reaches (0-10)"),
        STAGE_LIMITS["red_flag_pain"],
        default=DEFAULT_RED_FLAG_PAIN,
    )
    limits_reason = StringField(
        _l("Reason for going beyond the usual limits"),
        filters=[strip],
        validators=[text_length(LIMITS_REASON_MAX)],
    )
    remove = BooleanField(_l("Remove this stage when saving"))

    def stage_values(self) -> StagePrescription:
        """The validated stage as the value the services take."""
        depth = self.target_depth_cm.data
        return StagePrescription(
            dilator_size_id=int(self.dilator_size_id.data),
            minutes=self.minutes.data,
            sessions=self.sessions.data,
            period=Period(self.period.data),
            min_days=self.min_days.data,
            is_maintenance=bool(self.is_maintenance.data),
            target_depth_cm=round(depth, 1) if depth is not None else None,
            technique_notes=self.technique_notes.data or "",
            pain_ceiling=self.pain_ceiling.data,
            last_n_sessions=self.last_n_sessions.data,
            min_adherence_pct=self.min_adherence_pct.data,
            red_flag_pain=self.red_flag_pain.data,
            limits_reason=self.limits_reason.data or "",
        )


# The value of the `action` button a plan form was submitted with: save it, or add a stage
# and show the form again (stage lists are edited without JavaScript). Plan pages put a
# save button first in the form, so pressing Enter saves.
ACTION_SAVE = "save"
ACTION_ADD_STAGE = "add_stage"
# "Show the dilators for this route": the route changed, so the dilator lists are redrawn
# for it (nothing is checked or saved).
ACTION_SHOW_ROUTE = "show_route"


class PlanForm(ClinicForm):
    """Fields every editable plan has: its stages."""

    stages = FieldList(FormField(StageForm), min_entries=1, max_entries=STAGES_MAX)
    # A stage's dilator list for the size it holds, set by
    # clinic.protocols.plans.offer_sizes (and used again for a stage added later).
    dilator_choices: Callable[[object], list[SelectChoice]] | None = None

    def validate(self, extra_validators: object = None) -> bool:
        super().validate(extra_validators)
        if any(CONTROL_CHARACTER_MESSAGE in f.errors for f in leaf_fields(self)):
            return False  # refused before any other rule ran (see ClinicForm)
        # A stage ticked for removal is not part of the plan: its errors do not count, so a
        # broken stage can be removed.
        for entry in self.stages:
            if entry.form.remove.data:
                for field in entry.form:
                    field.errors = []
        self._errors = None
        plan_errors = [e for e in self.stages.errors if not isinstance(e, (list, dict))]
        return not (self.form_errors or plan_errors or any(f.errors for f in leaf_fields(self)))

    def kept_stages(self) -> list[StageForm]:
        """The stages the clinician did not mark for removal, in order."""
        return [entry.form for entry in self.stages if not entry.form.remove.data]

    def validate_stages(self, field: FieldList) -> None:
        if not self.kept_stages():
            raise ValidationError(_("Keep at least one stage."))


def going_back_field() -> SelectField:
    """What the plan suggests when pain says go back (see clinic.domain.progression)."""
    return SelectField(
        _l("When pain says go back, suggest"),
        choices=[
            SelectChoice("", _l("The usual for the indication")),
            *(SelectChoice(g.value, _l(g.label)) for g in GoingBack),
        ],
        default="",
        validators=[Optional()],
        description=_l(
            "The usual: a review with the surgical team after vaginoplasty, where going down "
            "a size risks narrowing; otherwise stepping back a stage."
        ),
    )


def chosen_going_back(field: SelectField) -> GoingBack | None:
    """The choice made, or None for "the usual for the indication"."""
    return GoingBack(field.data) if field.data else None


def route_field() -> SelectField:
    return SelectField(
        _l("Used"),
        choices=[SelectChoice(r.value, _l(r.label)) for r in Route],
        validators=[InputRequired(_l("Choose vaginal or anal."))],
    )


class StartProtocolForm(PlanForm):
    """Start a patient's protocol from a template's copy or from scratch."""

    name = StringField(
        _l("Protocol name"),
        filters=[strip],
        validators=[InputRequired(_l("Give the protocol a name.")), text_length(120)],
    )
    route = route_field()
    start_on = PlainDateField(
        _l("Start date"), validators=[InputRequired(_l("Enter the start date."))]
    )
    start_stage = whole(_l("Start at stage"), STAGE_NUMBER_RANGE, default=1)
    surgeon_direction = StringField(
        _l("Directed by the treating surgeon (name)"),
        filters=[strip],
        validators=[text_length(200)],
        description=_l("For example Ms R. Patel, colorectal surgery."),
    )
    procedure_on = PlainDateField(
        _l("Date of the procedure"),
        validators=[Optional()],
        description=_l("The operation this program follows. The program starts on or after it."),
    )
    surgeon_confirmed = BooleanField(
        _l("I confirm this program is directed by the patient's treating surgeon")
    )
    specialist_direction = StringField(
        _l("Specialist service leading the program"),
        filters=[strip],
        validators=[text_length(200)],
        description=_l("For example Dr M. Osei, adolescent gynaecology service."),
    )
    specialist_confirmed = BooleanField(
        _l("I confirm a specialist service for children and young people leads this program")
    )
    going_back = going_back_field()
    radiotherapy_ended_on = PlainDateField(
        _l("Radiotherapy ended on"),
        validators=[Optional()],
        description=_l("The last day of pelvic radiotherapy. Saved on the patient's record."),
    )
    # Which open protocol (id and lock) the clinician saw when the form opened: a start
    # from an outdated form must not silently replace a protocol started meanwhile.
    replaces = HiddenField()


class ReviseProtocolForm(PlanForm):
    """A new version of an open protocol's plan."""

    current_stage = whole(_l("Patient's current stage in the new plan"), STAGE_NUMBER_RANGE)
    effective_on = PlainDateField(
        _l("In force from"), validators=[InputRequired(_l("Enter the date the new plan starts."))]
    )
    reason = TextAreaField(
        _l("Why the plan changes"),
        filters=[strip],
        validators=[InputRequired(_l("Say why the plan changes.")), text_length(1000)],
    )
    confirm_device_change = BooleanField(
        _l("I confirm the new plan changes the dilator the patient uses now")
    )
    lock_version = HiddenField()


REASON_MAX = 1000


class ReviewDateField(PlainDateField):
    """The next review date: a parse error that asks for a date to come."""

    parse_error = _l("Enter a real date, with day, month and year, or leave it empty.")


class ProtocolEventForm(ClinicForm):
    """A decision on a protocol: a stage decision, a pause, a resumption or the end. The
    same form whether it follows the system's suggestion or departs from it; a reason is
    needed except for a stage decision that carries the suggestion out (see
    clinic.domain.protocols.reason_required). Fields a kind does not use are left out: the
    planned resume date is a pause's, the next review date a hold's."""

    effective_on = PlainDateField(_l("Date"), validators=[InputRequired(_l("Enter the date."))])
    resume_on = PlainDateField(_l("Planned resume date"), validators=[Optional()])
    review_on = ReviewDateField(_l("Review on"), validators=[Optional()])
    reason = TextAreaField(_l("Reason"), filters=[strip], validators=[text_length(REASON_MAX)])
    lock_version = HiddenField()
    # The page the decision was started from (clinic.patients.returns checks it).
    next = HiddenField()

    def __init__(
        self,
        *args: object,
        kind: EventKind,
        suggestion: Suggestion | None,
        today: date,
        **kwargs: object,
    ) -> None:
        super().__init__(*args, **kwargs)
        self._kind, self._suggestion, self._today = kind, suggestion, today
        self.reason.flags.required = reason_required(kind, suggestion)
        if not kind.is_pause:
            del self.resume_on
        if kind is not EventKind.HOLD:
            del self.review_on

    def validate_reason(self, field: TextAreaField) -> None:
        if self.reason.flags.required and not field.data:
            raise ValidationError(_(missing_reason(self._kind, self._suggestion)))

    def validate_review_on(self, field: ReviewDateField) -> None:
        problem = field.data and review_on_problem(field.data, self._today)
        if problem:
            raise ValidationError(_(problem))

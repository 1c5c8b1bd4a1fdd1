"""Rules of a graded dilator protocol: which stage plans are valid, and what was in force
on a given day.

Pure functions over plain values (no Flask, no database), so a clinician can read the rules
here and the tests can check them exhaustively. The facts behind them are in the clinical
reference: sizes go up in small steps; a larger jump needs the clinician's explicit
confirmation with a reason, and so does a progression rule outside the usual safety limits
(`beyond_usual_limits`); after vaginoplasty every stage has a target depth; a maintenance
phase has no end, so it can only be the last stage; the system suggests and the clinician
decides.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import Generic, TypeVar

from clinic.domain.indications import Indication, Indications
from clinic.domain.progression import Suggestion
from clinic.domain.text import N_


class Route(StrEnum):
    """Where a protocol's dilators are used."""

    VAGINAL = "vaginal"
    ANAL = "anal"

    @property
    def label(self) -> str:
        return {"vaginal": N_("Vaginal"), "anal": N_("Anal")}[self.value]

    @property
    def is_vaginal(self) -> bool:
        return self is Route.VAGINAL

    @property
    def is_anal(self) -> bool:
        return self is Route.ANAL


class IntendedUse(StrEnum):
    """What a dilator set is made for. Anal use also needs a flared base, recorded on the
    set (`DilatorSet.flared_base`) and checked by `plan_problems`."""

    VAGINAL = "vaginal"
    ANAL = "anal"
    EITHER = "either"

    @property
    def label(self) -> str:
        return {"vaginal": N_("Vaginal"), "anal": N_("Anal"), "either": N_("Vaginal or anal")}[
            self.value
        ]

    def suits(self, route: Route) -> bool:
        """Whether a device made for this use may be prescribed for `route`."""
        return self is IntendedUse.EITHER or self.value == route.value


class Period(StrEnum):
    """The period a stage's session count refers to."""

    DAY = "day"
    WEEK = "week"

    @property
    def label(self) -> str:
        return {"day": N_("per day"), "week": N_("per week")}[self.value]

    @property
    def is_daily(self) -> bool:
        return self is Period.DAY


Number = TypeVar("Number", int, float)


@dataclass(frozen=True)
class Bounds(Generic[Number]):
    """The values a field accepts: from `low` to `high`, both included."""

    low: Number
    high: Number

    def __contains__(self, value: object) -> bool:
        return isinstance(value, int | float) and self.low <= value <= self.high


# Plausible ranges. Wide enough for every schedule in the clinical reference (e.g. 3 x 50
# minutes a day after some vaginoplasties), narrow enough to catch typing slips. The stage
# editor's validators and the database's CHECK constraints are both built from these.
MINUTES_RANGE = Bounds(1, 60)
SESSIONS_PER_DAY_MAX = 4
SESSIONS_PER_WEEK_MAX = 21
# A stage's session count per day or per week; `plan_problems` holds a daily count to the
# lower daily maximum.
SESSIONS_RANGE = Bounds(1, SESSIONS_PER_WEEK_MAX)
MIN_DAYS_RANGE = Bounds(0, 365)
PAIN_RANGE = Bounds(0, 10)
# A red flag at pain 0 would flag every session.
RED_FLAG_PAIN_RANGE = Bounds(1, 10)
LAST_N_RANGE = Bounds(1, 30)
ADHERENCE_RANGE = Bounds(0, 100)
DEPTH_CM_RANGE = Bounds(1.0, 25.0)
TECHNIQUE_NOTES_MAX = 2000
LIMITS_REASON_MAX = 300
STAGES_MAX = 20
# Stage numbers, 1-based, within a plan of at most STAGES_MAX stages.
STAGE_NUMBER_RANGE = Bounds(1, STAGES_MAX)
DEFAULT_MAX_STEP_MM = 5.0

# A stage's progression rule when nobody set it: the common ground of the default library
# (suggest moving up at pain <= 3 over 6 sessions with 80% adherence, red flag at 7/10).
DEFAULT_PAIN_CEILING = 3
DEFAULT_LAST_N_SESSIONS = 6
DEFAULT_MIN_ADHERENCE_PCT = 80
DEFAULT_RED_FLAG_PAIN = 7

# The usual safety limits of a stage's rule (issue 16). Beyond them a stage needs the
# clinician's reason, as an oversized step does: a ceiling above 4/10 lets moderate pain
# count as "comfortable" (the reference: stay while discomfort is below about 3-4/10); a
# red flag only above 8/10 lets severe pain (7-10) pass unseen; zero minimum days or a
# single session of evidence lets one good day suggest moving up.
USUAL_PAIN_CEILING_MAX = 4
USUAL_RED_FLAG_PAIN_MAX = 8
USUAL_MIN_DAYS_MIN = 1
USUAL_LAST_N_SESSIONS_MIN = 2

# Half a tenth of a millimetre: diameters are kept to one decimal place.
_EPSILON = 0.05


@dataclass(frozen=True, kw_only=True)
class StagePrescription:
    """One stage of a plan as the clinician prescribes it.

    The one definition of a stage's fields: the stage editor produces it, the services take
    it, and template and protocol stages store exactly these columns (see STAGE_LIMITS for
    the ranges of the whole numbers).
    """

    dilator_size_id: int
    minutes: int
    sessions: int
    period: Period
    min_days: int
    is_maintenance: bool = False
    target_depth_cm: float | None = None
    technique_notes: str = ""
    # Progression rule: the system suggests moving up when, over the last `last_n_sessions`
    # completed sessions, pain during stayed at or below `pain_ceiling`, adherence reached
    # `min_adherence_pct` and the patient spent `min_days` at the stage.
    pain_ceiling: int = DEFAULT_PAIN_CEILING
    last_n_sessions: int = DEFAULT_LAST_N_SESSIONS
    min_adherence_pct: int = DEFAULT_MIN_ADHERENCE_PCT
    # Pain at or above this raises a red flag.
    red_flag_pain: int = DEFAULT_RED_FLAG_PAIN
    # Why the stage goes beyond the usual limits (`beyond_usual_limits`): a step larger
    # than the clinic's maximum, or a rule outside the usual safety limits. Empty otherwise.
    limits_reason: str = ""

    def as_dict(self) -> dict[str, object]:
        """The fields by name, e.g. as a stored stage's column values."""
        return {name: getattr(self, name) for name in STAGE_FIELD_NAMES}


STAGE_FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in fields(StagePrescription))

# The whole-number fields of a stage and the values each accepts.
STAGE_LIMITS: Mapping[str, Bounds[int]] = MappingProxyType(
    {
        "minutes": MINUTES_RANGE,
        "sessions": SESSIONS_RANGE,
        "min_days": MIN_DAYS_RANGE,
        "pain_ceiling": PAIN_RANGE,
        "red_flag_pain": RED_FLAG_PAIN_RANGE,
        "last_n_sessions": LAST_N_RANGE,
        "min_adherence_pct": ADHERENCE_RANGE,
    }
)


@dataclass(frozen=True)
class StagePlan:
    """A stage's prescription with what the plan rules need to know about its dilator."""

    prescription: StagePrescription
    diameter_mm: float
    size_use: IntendedUse
    # Whether the size's set is recorded as having a flared base (required for anal use).
    flared_base: bool = False


@dataclass(frozen=True)
class StageProblem:
    """A rule a stage (or, with `stage` None, the whole plan) breaks, in plain words."""

    stage: int | None  # 0-based index into the plan
    field: str | None
    message: str


def needs_jump_confirmation(previous_mm: float, diameter_mm: float, max_step_mm: float) -> bool:
    """Whether going from `previous_mm` to `diameter_mm` is a bigger step than the clinic's
    maximum, and so needs the clinician to confirm it with a reason."""
    return diameter_mm - previous_mm > max_step_mm + _EPSILON


def beyond_usual_limits(
    prescribed: StagePrescription,
    diameter_mm: float,
    previous_mm: float | None,
    max_step_mm: float = DEFAULT_MAX_STEP_MM,
) -> list[str]:
    """What in a stage goes beyond the usual limits and so needs the clinician's reason, in
    plain words ("a pain ceiling above 4/10"); empty when nothing does. `previous_mm` is
    the previous stage's diameter (None for the first stage).

    One mechanism for every exception: a step larger than the clinic's maximum, a pain
    ceiling above USUAL_PAIN_CEILING_MAX, a red flag only above USUAL_RED_FLAG_PAIN_MAX,
    zero minimum days, or a single session of evidence. A maintenance phase never moves
    up, so only its red-flag level is looked at.
    """
    found: list[str] = []
    if previous_mm is not None and needs_jump_confirmation(previous_mm, diameter_mm, max_step_mm):
        found.append(
            f"a step of {diameter_mm - previous_mm:g} mm"
            f" (this clinic's maximum is {max_step_mm:g} mm)"
        )
    if not prescribed.is_maintenance:
        if prescribed.pain_ceiling > USUAL_PAIN_CEILING_MAX:
            found.append(f"a pain ceiling above {USUAL_PAIN_CEILING_MAX}/10")
        if prescribed.min_days < USUAL_MIN_DAYS_MIN:
            found.append("no minimum days at the stage")
        if prescribed.last_n_sessions < USUAL_LAST_N_SESSIONS_MIN:
            found.append("a single session of evidence")
    if prescribed.red_flag_pain > USUAL_RED_FLAG_PAIN_MAX:
        found.append(f"a red flag only above {USUAL_RED_FLAG_PAIN_MAX}/10")
    return found


def needs_target_depth(indication: Indication | Indications | None) -> bool:
    """Whether every stage must name a target depth: after vaginoplasty depth matters as
    much as diameter, and a schedule without it has caused harm (clinical reference)."""
    return indication is not None and indication.is_neovagina


def lacks_flared_base(route: Route, flared_base: bool) -> bool:
    """Whether a dilator cannot be used on `route` for want of a flared base: anal use needs
    one (recorded on the set), so the device cannot slip fully inside."""
    return route is Route.ANAL and not flared_base


def flared_base_message(number: int) -> str:
    """Why stage `number`'s dilator cannot be used anally, and what to do."""
    return (
        f"Stage {number}: a dilator used anally must have a flared base, so it cannot slip "
        "inside, and this dilator's set is not recorded as having one. Choose a dilator from "
        "a set with a flared base, or record the flared base on the set in the catalogue if "
        "it has one."
    )


def plan_problems(
    stages: Sequence[StagePlan],
    route: Route,
    max_step_mm: float = DEFAULT_MAX_STEP_MM,
    indication: Indication | Indications | None = None,
) -> list[StageProblem]:
    """Everything wrong with a protocol's stages, in order; an empty list means valid."""
    problems: list[StageProblem] = []
    if not stages:
        return [StageProblem(None, None, "Add at least one stage.")]
    for i, stage in enumerate(stages):
        number = i + 1
        prescribed = stage.prescription
        if not stage.size_use.suits(route):
            problems.append(
                StageProblem(
                    i,
                    "dilator_size_id",
                    f"Stage {number}: this dilator is made for {stage.size_use.label.lower()} "
                    f"use and cannot be used in a{'n' if route is Route.ANAL else ''} "
                    f"{route.value} protocol.",
                )
            )
        elif lacks_flared_base(route, stage.flared_base):
            problems.append(StageProblem(i, "dilator_size_id", flared_base_message(number)))
        per_period_max = (
            SESSIONS_PER_DAY_MAX if prescribed.period is Period.DAY else SESSIONS_PER_WEEK_MAX
        )
        if prescribed.sessions > per_period_max:
            problems.append(
                StageProblem(
                    i,
                    "sessions",
                    f"Stage {number}: at most {per_period_max} sessions {prescribed.period.label}.",
                )
            )
        if prescribed.red_flag_pain <= prescribed.pain_ceiling:
            problems.append(
                StageProblem(
                    i,
                    "red_flag_pain",
                    f"Stage {number}: the red-flag pain level must be above the pain ceiling "
                    f"for progressing ({prescribed.pain_ceiling}/10).",
                )
            )
        if prescribed.is_maintenance and i != len(stages) - 1:
            problems.append(
                StageProblem(
                    i,
                    "is_maintenance",
                    f"Stage {number}: a maintenance phase has no end, so only the last stage "
                    "can be one.",
                )
            )
        if needs_target_depth(indication) and prescribed.target_depth_cm is None:
            problems.append(
                StageProblem(
                    i,
                    "target_depth_cm",
                    f"Stage {number}: after vaginoplasty each stage needs a target depth, in "
                    "cm (depth matters as much as size). Enter the depth measured in clinic.",
                )
            )
        previous = stages[i - 1].diameter_mm if i else None
        if previous is not None and stage.diameter_mm < previous - _EPSILON:
            problems.append(
                StageProblem(
                    i,
                    "dilator_size_id",
                    f"Stage {number}: the dilator ({stage.diameter_mm:g} mm) is smaller than "
                    f"stage {i}'s ({previous:g} mm). Sizes never go down from one stage to the "
                    "next.",
                )
            )
        beyond = beyond_usual_limits(prescribed, stage.diameter_mm, previous, max_step_mm)
        if beyond and not prescribed.limits_reason.strip():
            problems.append(
                StageProblem(
                    i,
                    "limits_reason",
                    f"Stage {number} goes beyond the usual limits: {'; '.join(beyond)}. "
                    "Confirm it by giving the reason.",
                )
            )
    return problems


def frequency_text(sessions: int, period: Period) -> str:
    """A schedule in plain words: "once a day", "twice a week", "3 times a day"."""
    times = {1: "once", 2: "twice"}.get(sessions, f"{sessions} times")
    return f"{times} a {period.value}"


def sessions_per_week(sessions: int, period: Period) -> float:
    """How many sessions a week a stage prescribes."""
    return float(sessions * 7 if period is Period.DAY else sessions)


# ---------------------------------------------------------------------------------------
# What was in force on a day


class ProtocolStatus(StrEnum):
    """Where a protocol is in its life."""

    ACTIVE = "active"
    PAUSED = "paused"
    COMPLETED = "completed"
    REPLACED = "replaced"

    @property
    def label(self) -> str:
        return {
            "active": N_("Active"),
            "paused": N_("Paused"),
            "completed": N_("Completed"),
            "replaced": N_("Replaced"),
        }[self.value]

    @property
    def is_open(self) -> bool:
        """Active or paused: the patient's current protocol."""
        return self in (ProtocolStatus.ACTIVE, ProtocolStatus.PAUSED)

    @property
    def is_active(self) -> bool:
        return self is ProtocolStatus.ACTIVE

    @property
    def is_paused(self) -> bool:
        return self is ProtocolStatus.PAUSED


class EventKind(StrEnum):
    """Things that happen to a protocol, each recorded with who, when and why."""

    START = "start"
    EDIT = "edit"
    ADVANCE = "advance"
    HOLD = "hold"
    STEP_BACK = "step_back"
    PAUSE = "pause"
    RESUME = "resume"
    COMPLETE = "complete"
    REPLACED = "replaced"

    @property
    def label(self) -> str:
        return EVENT_LABELS[self]

    @property
    def page_title(self) -> str:
        """The heading of the page that records this kind, e.g. "Step back a stage"."""
        return CHANGE_PAGE_TITLES[self]

    @property
    def slug(self) -> str:
        """The word for this kind in URLs, which use hyphens: "step-back"."""
        return self.value.replace("_", "-")

    @classmethod
    def from_slug(cls, slug: str) -> EventKind:
        """The kind a URL word names (ValueError for any other word)."""
        return cls(slug.replace("-", "_"))

    @property
    def stage_step(self) -> int:
        """How many stages this moves the patient: +1 up, -1 back, 0 for anything else."""
        return {EventKind.ADVANCE: 1, EventKind.STEP_BACK: -1}.get(self, 0)

    @property
    def is_pause(self) -> bool:
        return self is EventKind.PAUSE

    def follows(self, suggestion: Suggestion | None) -> bool:
        """Whether recording this carries out `suggestion` (False when it overrides it)."""
        return suggestion is not None and decision_for(suggestion) is self

    def overrides(self, suggestion: Suggestion | None) -> bool:
        """Whether recording this stage decision departs from `suggestion` (a review asked
        for counts: the history shows the decision as overriding it)."""
        return self in STAGE_DECISIONS and suggestion is not None and not self.follows(suggestion)


EVENT_LABELS = {
    EventKind.START: N_("Started"),
    EventKind.EDIT: N_("Plan changed"),
    EventKind.ADVANCE: N_("Moved up a stage"),
    EventKind.HOLD: N_("Held at stage"),
    EventKind.STEP_BACK: N_("Stepped back a stage"),
    EventKind.PAUSE: N_("Paused"),
    EventKind.RESUME: N_("Resumed"),
    EventKind.COMPLETE: N_("Completed"),
    EventKind.REPLACED: N_("Replaced by a new protocol"),
}

CHANGE_PAGE_TITLES = {
    EventKind.ADVANCE: N_("Move up a stage"),
    EventKind.HOLD: N_("Hold at this stage"),
    EventKind.STEP_BACK: N_("Step back a stage"),
    EventKind.PAUSE: N_("Pause the protocol"),
    EventKind.RESUME: N_("Resume the protocol"),
    EventKind.COMPLETE: N_("Complete the protocol"),
}

# The status each kind of event leaves the protocol in (stage changes and edits keep an
# active protocol active; they are refused on a paused one, see `allowed_events`).
STATUS_AFTER = {
    EventKind.START: ProtocolStatus.ACTIVE,
    EventKind.EDIT: None,  # unchanged
    EventKind.ADVANCE: ProtocolStatus.ACTIVE,
    EventKind.HOLD: ProtocolStatus.ACTIVE,
    EventKind.STEP_BACK: ProtocolStatus.ACTIVE,
    EventKind.PAUSE: ProtocolStatus.PAUSED,
    EventKind.RESUME: ProtocolStatus.ACTIVE,
    EventKind.COMPLETE: ProtocolStatus.COMPLETED,
    EventKind.REPLACED: ProtocolStatus.REPLACED,
}


@dataclass(frozen=True)
class Event:
    """One entry of a protocol's timeline, as the rules see it."""

    kind: EventKind
    effective_on: date
    version: int
    stage: int  # 1-based stage number in that version
    resume_on: date | None = None  # for a pause with a planned end
    # The diameter of the stage's dilator, when known: a plan change that renumbers
    # stages but keeps the patient on the same device does not restart "days at stage".
    device_mm: float | None = None


@dataclass(frozen=True)
class InForce:
    """The prescription on a given day: which version, which stage, and whether it ran."""

    version: int
    stage: int
    status: ProtocolStatus
    stage_since: date  # the day the patient moved to this stage
    # For a paused protocol: the day the pause began and its planned resume date, if any.
    paused_on: date | None = None
    resume_on: date | None = None

    def resume_review_due(self, day: date) -> bool:
        """Whether a paused protocol's planned resume date has come by `day`: a clinician
        should review the patient and resume it (it never resumes by itself)."""
        return (
            self.status is ProtocolStatus.PAUSED
            and self.resume_on is not None
            and self.resume_on <= day
        )


def in_force_on(events: Sequence[Event], day: date) -> InForce | None:
    """What was prescribed on `day`, from the protocol's events in recorded order;
    None before the protocol started.

    A pause ends only when a clinician records "resume" (issue 16): its planned resume
    date does not restart the plan by itself, since what paused it (illness, surgery)
    needs a look first. The date raises "review before resuming" instead
    (`InForce.resume_review_due`, `clinic.domain.flags.resume_review`), so a forgotten
    resume is noticed rather than leaving the patient paused unseen.
    """
    status: ProtocolStatus | None = None
    version = stage = 0
    device_mm: float | None = None
    stage_since = day
    resume_on: date | None = None
    paused_on: date | None = None
    for event in events:
        if event.effective_on > day:
            break
        if event.kind is EventKind.START or _moved(event, stage, device_mm):
            stage_since = event.effective_on
        version, stage, device_mm = event.version, event.stage, event.device_mm
        if event.kind is EventKind.PAUSE:
            resume_on = event.resume_on
            paused_on = event.effective_on
        elif STATUS_AFTER[event.kind] is not None:
            resume_on = None  # any other change of status ends the pause
        status = STATUS_AFTER[event.kind] or status
    if status is None:
        return None
    paused = status is ProtocolStatus.PAUSED
    return InForce(
        version=version,
        stage=stage,
        status=status,
        stage_since=stage_since,
        paused_on=paused_on if paused else None,
        resume_on=resume_on if paused else None,
    )


def _moved(event: Event, stage: int, device_mm: float | None) -> bool:
    """Whether `event` puts the patient on a new stage. A stage decision moves them when
    the stage number changes; a plan change moves them only if their dilator changes
    (renumbering the stages around the same device does not restart the count)."""
    if event.kind is EventKind.EDIT and event.device_mm is not None and device_mm is not None:
        return abs(event.device_mm - device_mm) > _EPSILON
    return event.stage != stage


# The decisions a clinician takes about the current stage (the suggestions' counterparts).
STAGE_DECISIONS = frozenset({EventKind.ADVANCE, EventKind.HOLD, EventKind.STEP_BACK})

# What a clinician records on a protocol's "change" page, one page per kind (its URL word is
# the kind's `slug`). Plan changes and replacements have pages of their own.
CHANGE_PAGES: tuple[EventKind, ...] = (
    EventKind.ADVANCE,
    EventKind.HOLD,
    EventKind.STEP_BACK,
    EventKind.PAUSE,
    EventKind.RESUME,
    EventKind.COMPLETE,
)


def decision_for(suggestion: Suggestion) -> EventKind | None:
    """The stage decision that carries out a suggestion; None for REVIEW, which asks the
    clinician to look at the patient rather than to record a decision."""
    return {
        Suggestion.ADVANCE: EventKind.ADVANCE,
        Suggestion.HOLD: EventKind.HOLD,
        Suggestion.STEP_BACK: EventKind.STEP_BACK,
    }.get(suggestion)


def allowed_events(status: ProtocolStatus) -> frozenset[EventKind]:
    """What a clinician may record next, given the protocol's current status."""
    if status is ProtocolStatus.ACTIVE:
        return frozenset(
            {
                EventKind.EDIT,
                EventKind.ADVANCE,
                EventKind.HOLD,
                EventKind.STEP_BACK,
                EventKind.PAUSE,
                EventKind.COMPLETE,
                EventKind.REPLACED,
            }
        )
    if status is ProtocolStatus.PAUSED:
        return frozenset({EventKind.EDIT, EventKind.RESUME, EventKind.COMPLETE, EventKind.REPLACED})
    return frozenset()


def refusal(kind: EventKind, status: ProtocolStatus, stage: int, stage_count: int) -> str | None:
    """Why `kind` cannot be recorded for a protocol in `status` whose patient is at `stage`
    of `stage_count`, in plain words; None when it can."""
    if kind not in allowed_events(status):
        return f"A {status.value} protocol cannot be changed this way ({kind.label.lower()})."
    if kind.stage_step > 0 and stage >= stage_count:
        return "The patient is already at the last stage of this plan."
    if kind.stage_step < 0 and stage <= 1:
        return "The patient is already at the first stage of this plan."
    return None


def allowed_now(status: ProtocolStatus, stage: int, stage_count: int) -> frozenset[EventKind]:
    """Everything a clinician may record next: the kinds `refusal` lets through. Pages offer
    exactly these, and the services refuse the rest."""
    return frozenset(
        kind for kind in EventKind if refusal(kind, status, stage, stage_count) is None
    )


# Recording a decision: one form for every kind, whether it follows the system's suggestion
# or departs from it, and one difference only, the reason. A stage decision that carries out
# the suggestion may leave it empty: the evidence the suggestion rests on is then recorded as
# its reason, so the history always says why. One that departs from the suggestion must say
# why the clinician sees it otherwise (what a colleague reading the history needs to know
# of an override, and the check that it was meant), and so must every decision with no
# suggestion to carry out: a pause, a resumption, the end, a stage decision while the rules
# ask for a review.


def reason_required(kind: EventKind, suggestion: Suggestion | None) -> bool:
    """Whether recording `kind` needs a reason of the clinician's own."""
    return not kind.follows(suggestion)


def missing_reason(kind: EventKind, suggestion: Suggestion | None) -> str:
    """What to say when a needed reason is missing (in English: the caller translates it;
    the fixed sentences are marked for that)."""
    if not kind.overrides(suggestion):
        return N_("Give the reason.")
    if suggestion is None or decision_for(suggestion) is None:
        return N_("Give the reason: the system asked for a review before any change of stage.")
    return f"Say why you decided otherwise: the system suggested {suggestion.label.lower()}."


def recorded_reason(
    reason: str, kind: EventKind, suggestion: Suggestion | None, evidence: str
) -> str:
    """The reason kept with the decision: the clinician's own, or for a decision that
    carries out the suggestion and has none, the evidence (`evidence`, the suggestion's
    reasons on one line)."""
    if reason or not kind.follows(suggestion):
        return reason
    return f"As suggested: {evidence}."


# A hold proposes the patient's next review: two weeks on (the shortest minimum time at a
# size in the sources, see the clinical reference), changeable, within a year.
REVIEW_PROPOSED_AFTER = timedelta(days=14)


def proposed_review_on(today: date, planned: date | None = None) -> date:
    """The review date a hold proposes: two weeks ahead, or the review already planned if
    that is sooner (a hold sent as proposed must never push a planned review later)."""
    proposal = today + REVIEW_PROPOSED_AFTER
    if planned is not None and today <= planned < proposal:
        return planned
    return proposal


def latest_review_on(today: date) -> date:
    """The latest review date a decision may set: a year from today (29 February gives
    28 February)."""
    try:
        return today.replace(year=today.year + 1)
    except ValueError:
        return today.replace(year=today.year + 1, day=28)


def review_on_problem(day: date, today: date) -> str | None:
    """Why `day` cannot be the next review date, in plain words (in English: the caller
    translates it); None when it can."""
    if day < today:
        return N_("The review date has passed: choose today or a later day.")
    latest = latest_review_on(today)
    if day > latest:
        return f"Choose a review date within a year, on or before {latest:%d %b %Y}."
    return None

"""Rules of a graded dilator protocol: which stage plans are valid, and what was in force
on a given day.

Pure functions over plain values (no Flask, no database), so a clinician can read the rules
here and the tests can check them exhaustively. The facts behind them are in the clinical
reference: sizes go up in small steps; a larger jump needs the clinician's explicit
confirmation; a maintenance phase has no end, so it can only be the last stage; the system
suggests and the clinician decides.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class Route(StrEnum):
    """Where a protocol's dilators are used."""

    VAGINAL = "vaginal"
    ANAL = "anal"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class IntendedUse(StrEnum):
    """What a dilator set is made for (anal devices need a flared base)."""

    VAGINAL = "vaginal"
    ANAL = "anal"
    EITHER = "either"

    @property
    def label(self) -> str:
        return {"vaginal": "Vaginal", "anal": "Anal", "either": "Vaginal or anal"}[self.value]

    def suits(self, route: Route) -> bool:
        """Whether a device made for this use may be prescribed for `route`."""
        return self is IntendedUse.EITHER or self.value == route.value


class Period(StrEnum):
    """The period a stage's session count refers to."""

    DAY = "day"
    WEEK = "week"

    @property
    def label(self) -> str:
        return f"per {self.value}"


# Plausible ranges. Wide enough for every schedule in the clinical reference (e.g. 3 x 50
# minutes a day after some vaginoplasties), narrow enough to catch typing slips.
MINUTES_RANGE = (1, 60)
SESSIONS_PER_DAY_MAX = 4
SESSIONS_PER_WEEK_MAX = 21
MIN_DAYS_RANGE = (0, 365)
PAIN_RANGE = (0, 10)
LAST_N_RANGE = (1, 30)
ADHERENCE_RANGE = (0, 100)
DEPTH_CM_RANGE = (1.0, 25.0)
DEFAULT_MAX_STEP_MM = 5.0

# Half a tenth of a millimetre: diameters are kept to one decimal place.
_EPSILON = 0.05


@dataclass(frozen=True)
class StagePlan:
    """What the validation rules need to know about one stage."""

    diameter_mm: float
    size_use: IntendedUse
    sessions: int
    period: Period
    is_maintenance: bool = False
    pain_ceiling: int = 3
    red_flag_pain: int = 7
    jump_reason: str = ""


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


def plan_problems(
    stages: Sequence[StagePlan], route: Route, max_step_mm: float = DEFAULT_MAX_STEP_MM
) -> list[StageProblem]:
    """Everything wrong with a protocol's stages, in order; an empty list means valid."""
    problems: list[StageProblem] = []
    if not stages:
        return [StageProblem(None, None, "Add at least one stage.")]
    for i, stage in enumerate(stages):
        number = i + 1
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
        per_period_max = (
            SESSIONS_PER_DAY_MAX if stage.period is Period.DAY else SESSIONS_PER_WEEK_MAX
        )
        if stage.sessions > per_period_max:
            problems.append(
                StageProblem(
                    i,
                    "sessions",
                    f"Stage {number}: at most {per_period_max} sessions {stage.period.label}.",
                )
            )
        if stage.red_flag_pain <= stage.pain_ceiling:
            problems.append(
                StageProblem(
                    i,
                    "red_flag_pain",
                    f"Stage {number}: the red-flag pain level must be above the pain ceiling "
                    f"for progressing ({stage.pain_ceiling}/10).",
                )
            )
        if stage.is_maintenance and i != len(stages) - 1:
            problems.append(
                StageProblem(
                    i,
                    "is_maintenance",
                    f"Stage {number}: a maintenance phase has no end, so only the last stage "
                    "can be one.",
                )
            )
        if i == 0:
            continue
        previous = stages[i - 1].diameter_mm
        if stage.diameter_mm < previous - _EPSILON:
            problems.append(
                StageProblem(
                    i,
                    "dilator_size_id",
                    f"Stage {number}: the dilator ({stage.diameter_mm:g} mm) is smaller than "
                    f"stage {i}'s ({previous:g} mm). Sizes never go down from one stage to the "
                    "next.",
                )
            )
        elif needs_jump_confirmation(previous, stage.diameter_mm, max_step_mm) and not (
            stage.jump_reason.strip()
        ):
            problems.append(
                StageProblem(
                    i,
                    "jump_reason",
                    f"Stage {number}: {stage.diameter_mm - previous:g} mm is a bigger step than "
                    f"this clinic's maximum of {max_step_mm:g} mm. Confirm it by giving the "
                    "reason.",
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
        return self.value.capitalize()

    @property
    def is_open(self) -> bool:
        """Active or paused: the patient's current protocol."""
        return self in (ProtocolStatus.ACTIVE, ProtocolStatus.PAUSED)


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


EVENT_LABELS = {
    EventKind.START: "Started",
    EventKind.EDIT: "Plan changed",
    EventKind.ADVANCE: "Moved up a stage",
    EventKind.HOLD: "Held at stage",
    EventKind.STEP_BACK: "Stepped back a stage",
    EventKind.PAUSE: "Paused",
    EventKind.RESUME: "Resumed",
    EventKind.COMPLETE: "Completed",
    EventKind.REPLACED: "Replaced by a new protocol",
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


def in_force_on(events: Sequence[Event], day: date) -> InForce | None:
    """What was prescribed on `day`, from the protocol's events in recorded order;
    None before the protocol started.

    A pause with a planned resume date ends by itself on that date, so a forgotten
    "resume" never leaves a patient paused (and unprescribed) indefinitely.
    """
    status: ProtocolStatus | None = None
    version = stage = 0
    device_mm: float | None = None
    stage_since = day
    resume_on: date | None = None
    for event in events:
        if event.effective_on > day:
            break
        if event.kind is EventKind.START or _moved(event, stage, device_mm):
            stage_since = event.effective_on
        version, stage, device_mm = event.version, event.stage, event.device_mm
        if event.kind is EventKind.PAUSE:
            resume_on = event.resume_on
        elif STATUS_AFTER[event.kind] is not None:
            resume_on = None  # any other change of status ends the pause
        status = STATUS_AFTER[event.kind] or status
    if status is None:
        return None
    if status is ProtocolStatus.PAUSED and resume_on is not None and resume_on <= day:
        status = ProtocolStatus.ACTIVE
    return InForce(version=version, stage=stage, status=status, stage_since=stage_since)


def _moved(event: Event, stage: int, device_mm: float | None) -> bool:
    """Whether `event` puts the patient on a new stage. A stage decision moves them when
    the stage number changes; a plan change moves them only if their dilator changes
    (renumbering the stages around the same device does not restart the count)."""
    if event.kind is EventKind.EDIT and None not in (event.device_mm, device_mm):
        return abs(event.device_mm - device_mm) > _EPSILON
    return event.stage != stage


# The decisions a clinician takes about the current stage (the suggestions' counterparts).
STAGE_DECISIONS = frozenset({EventKind.ADVANCE, EventKind.HOLD, EventKind.STEP_BACK})


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

"""From a patient's loaded protocol and entries to what the rules say about them.

No queries here: callers load the protocol with its history (`clinic.protocols.queries`)
and the entries (`load_sessions`), once for one patient or for a whole clinic; and for
outcome measures, the occasions each patient's measures asked for
(`clinic.measures.schedule.occasion_statuses`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Row

from clinic.domain.adherence import (
    DEFAULT_COMPLETION_PCT,
    Schedule,
    Session,
    StageDose,
    adherence_between,
    counts_as_completed,
    judged_stage,
    larger_than_prescribed,
    last_days,
    recent_adherence,
    with_prescribed_size,
)
from clinic.domain.flags import (
    DEFAULT_NOT_LOGGING_DAYS,
    ScoredDay,
    Signal,
    larger_size,
    measure_overdue,
    measure_overdue_key,
    not_logging,
    pain_means,
    pain_rising,
    ready_to_advance,
    resume_review,
    review_due,
)
from clinic.domain.measure_schedule import DEFAULT_GRACE_DAYS, Cadence
from clinic.domain.progression import (
    Advice,
    Evidence,
    StageRule,
    StageSession,
    Suggestion,
    suggest,
)
from clinic.domain.protocols import EventKind, InForce, ProtocolStatus, in_force_on
from clinic.measures.schedule import OccasionStatus, occasion_label
from clinic.models import DiaryEntry, Protocol, ProtocolStage
from clinic.protocols.queries import timeline, version

# How far back the rules look: far enough for a stage's last sessions (at most 30: ten
# weeks at three a week) and for 28-day adherence.
LOOKBACK_DAYS = 90


@dataclass(frozen=True)
class ScoredSession(Session):
    """A diary entry as the rules see it, with the pain scores given (None for a skip)."""

    pain_during: int | None = None
    pain_after: int | None = None
    red_flag: bool = False  # raised a red flag, acknowledged or not
    size_label: str = ""  # how the dilator used is named ("Size 3 (21 mm)")
    depth_cm: float | None = None  # how deep the dilator went, when the patient said

    @classmethod
    def of(
        cls,
        entry: DiaryEntry | Row[*tuple[Any, ...]],
        *,
        red_flag: bool = False,
        size_mm: float | None = None,
        size_label: str = "",
    ) -> ScoredSession:
        """From a diary entry, or a row with the same column names (the red flag and the
        size's diameter and name come from their own tables)."""
        return cls(
            on=entry.occurred_on,
            version=entry.version_number,
            stage=entry.stage,
            minutes=entry.minutes,
            skipped=entry.skipped,
            withdrawn=entry.withdrawn_at is not None,
            size_id=entry.dilator_size_id,
            size_mm=size_mm,
            pain_during=entry.pain_during,
            pain_after=entry.pain_after,
            red_flag=red_flag,
            size_label=size_label,
            depth_cm=entry.depth_cm,
        )

    @property
    def scored(self) -> bool:
        """A session done, not withdrawn, with both pain scores."""
        return (
            not self.skipped
            and not self.withdrawn
            and self.pain_during is not None
            and self.pain_after is not None
        )


def stages_of(protocol: Protocol) -> dict[tuple[int, int], ProtocolStage]:
    """Every stage of every version, by (version number, stage position)."""
    return {(v.number, s.position): s for v in protocol.versions for s in v.stages}


def schedule_of(protocol: Protocol) -> Schedule:
    """The protocol's prescription day by day, for the adherence rules."""
    return Schedule(
        events=tuple(timeline(protocol)),
        doses={
            key: StageDose(
                s.sessions, s.period, s.minutes, s.dilator_size_id, s.dilator_size.diameter_mm
            )
            for key, s in stages_of(protocol).items()
        },
    )


@dataclass(frozen=True)
class Assessment:
    """What the rules say about one patient today."""

    today: date
    in_force: InForce | None
    stage: ProtocolStage | None
    stage_count: int
    adherence_7: float | None
    adherence_28: float | None
    pain_7: float | None
    pain_prev_7: float | None
    last_entry_on: date | None
    advice: Advice | None  # None unless the protocol is running and there is a diary
    signals: list[Signal] = field(default_factory=list)
    keeps_diary: bool = True
    open_red_flags: int = 0

    @property
    def paused(self) -> bool:
        return self.in_force is not None and self.in_force.status is ProtocolStatus.PAUSED


def assess(
    protocol: Protocol | None,
    sessions: Sequence[ScoredSession],
    *,
    today: date,
    last_entry_on: date | None,
    open_red_flags: int,
    review_on: date | None,
    completion_pct: int = DEFAULT_COMPLETION_PCT,
    not_logging_days: int = DEFAULT_NOT_LOGGING_DAYS,
    keeps_diary: bool = True,
    diary_since: date | None = None,
) -> Assessment:
    """Apply the rules to a patient: `protocol` is the open one (with its history) or
    None, `sessions` its entries of the last `LOOKBACK_DAYS` days. A patient who does not
    use the portal (`keeps_diary` false) has no diary to judge: no suggestion, and no
    "not logging" flag. One who began the diary on `diary_since` is judged from that day:
    adherence counts from it, and a silence too (the days before could not be logged)."""
    signals = [s for s in (review_due(review_on, today),) if s]
    if protocol is None:
        return Assessment(
            today,
            None,
            None,
            0,
            None,
            None,
            None,
            None,
            last_entry_on,
            None,
            signals,
            keeps_diary,
            open_red_flags,
        )
    schedule = schedule_of(protocol)
    state = in_force_on(schedule.events, today)
    stage = stages_of(protocol).get((state.version, state.stage)) if state else None
    stage_count = len(version(protocol, state.version).stages) if state else 0
    scored = [
        ScoredDay(s.on, s.pain_during, s.pain_after)
        for s in sessions
        if s.pain_during is not None and s.scored
    ]
    # "The last 28 days" and "the last 7 days" as every figure names them (`last_days`):
    # whole days ending yesterday until today is logged. Pain follows adherence rather
    # than counting today regardless: the README's rule is that "the last 7 days" end
    # yesterday until today is logged, and an unlogged today holds no pain scores, so
    # counting it would only drop the first of the 7 days from the mean shown beside
    # adherence over all 7.
    last_28_from, last = last_days(28, sessions, today)
    pain_7, pain_prev_7 = pain_means(scored, last)
    advice = None
    if (
        keeps_diary
        and state is not None
        and state.status is ProtocolStatus.ACTIVE  # running
        and stage is not None
    ):
        running_since = _running_since(protocol, today)
        # After a pause the evidence starts again: regression after illness or surgery is
        # common, and days on hold are not days of practice at the stage.
        since = max(state.stage_since, running_since)
        # The last 28 days (never 27: the window moves back a day while today is not
        # logged), or the days at this stage when fewer.
        window_start = max(since, last_28_from)
        # Sessions logged back for days before the diary began (the diary takes a week
        # back) speak against moving on like any other (pain above the ceiling steps
        # back), but never for it: one day's adherence never carries a backfilled week.
        diary_began = diary_since or since
        # Each session is judged by the stage in force on its day (a move up dated back
        # makes the sessions logged in between, with the old size, sessions of this stage
        # with another size), and only the current stage's size is evidence for it.
        current = schedule.doses[(state.version, state.stage)]
        at_stage = adherence_between(
            schedule, sessions, window_start, last, completion_pct, diary_since=diary_since
        )
        advice = suggest(
            Evidence(
                rule=StageRule(
                    stage.pain_ceiling,
                    stage.last_n_sessions,
                    stage.min_adherence_pct,
                    stage.min_days,
                ),
                sessions=[
                    StageSession(
                        s.pain_during,
                        s.pain_after,
                        counts=counts_as_completed(s, schedule, completion_pct)
                        and with_prescribed_size(s, current),
                        red_flag=s.red_flag,
                        logged_back=s.on < diary_began,
                    )
                    for s in sessions
                    if s.pain_during is not None
                    and s.pain_after is not None
                    and s.scored
                    and s.on >= since
                ],
                adherence_pct=at_stage.percent,
                # The days the figure covers (today only once logged, as it counts).
                adherence_days=max(0, (at_stage.last - at_stage.first).days + 1),
                days_at_stage=(today - since).days,
                open_red_flags=open_red_flags,
                stage=state.stage,
                stage_count=stage_count,
                going_back=protocol.going_back,
                adherence_since_diary=at_stage.first > window_start,
                before_diary=at_stage.before_diary,
            )
        )
        silence = not_logging(
            last_entry_on, max(running_since, diary_since or running_since), today, not_logging_days
        )
        rising = pain_rising(scored, today, last)
        signals += [s for s in (silence, rising) if s]
        if advice.suggestion is Suggestion.ADVANCE:
            signals.append(
                ready_to_advance(protocol.id, state.version, state.stage, since, advice.summary)
            )
    if state is not None and state.status.is_open:
        signals += _larger_sizes(protocol, schedule, sessions)
    if (
        state is not None
        and state.resume_review_due(today)
        and state.paused_on is not None
        and state.resume_on is not None
    ):
        signals.append(resume_review(protocol.id, state.paused_on, state.resume_on))
    return Assessment(
        today=today,
        in_force=state,
        stage=stage,
        stage_count=stage_count,
        # Without the portal there is no diary, so no adherence to speak of (not 0%).
        adherence_7=(
            recent_adherence(
                schedule, sessions, today, 7, completion_pct, today=today, diary_since=diary_since
            ).percent
            if keeps_diary
            else None
        ),
        adherence_28=(
            recent_adherence(
                schedule, sessions, today, 28, completion_pct, today=today, diary_since=diary_since
            ).percent
            if keeps_diary
            else None
        ),
        pain_7=pain_7,
        pain_prev_7=pain_prev_7,
        last_entry_on=last_entry_on,
        advice=advice,
        signals=signals,
        keeps_diary=keeps_diary,
        open_red_flags=open_red_flags,
    )


def _larger_sizes(
    protocol: Protocol, schedule: Schedule, sessions: Sequence[ScoredSession]
) -> list[Signal]:
    """A "larger size than prescribed" signal for each stage and size where a session was
    done with a larger dilator than the stage in force on its day prescribes (its first
    such session), whatever stage the session was saved under."""
    stages = stages_of(protocol)
    found: dict[str, Signal] = {}
    for s in sessions:
        if s.size_id is None or not larger_than_prescribed(s, schedule):
            continue
        version_number, stage_number = judged_stage(s, schedule)
        stage = stages[(version_number, stage_number)]
        signal = larger_size(
            protocol.id,
            version_number,
            stage_number,
            s.size_id,
            s.size_label or "another size",
            stage.dilator_size.display,
            s.on,
        )
        found.setdefault(signal.key, signal)
    return list(found.values())


def _running_since(protocol: Protocol, today: date) -> date:
    """The day the protocol last started running: its start, or its last resume (a pause
    ends only when a clinician resumes it)."""
    since = protocol.events[0].effective_on
    for event in protocol.events:
        if event.effective_on > today:
            break
        if event.kind in (EventKind.RESUME, EventKind.START):
            since = event.effective_on
    return since


@dataclass(frozen=True)
class MeasureEvidence:
    """What the patients' outcome-measure schedules say today: a "questionnaire overdue"
    signal per overdue occasion (by patient id), and the episode keys of the occasions
    still overdue and of those answered, so flags whose occasion was answered (or is no
    longer asked for) can be closed."""

    signals: dict[int, list[Signal]]
    overdue_keys: set[str]
    answered_keys: set[str]


def measure_evidence(
    statuses: Mapping[int, Sequence[OccasionStatus]],
    titles: Mapping[str, str],
    grace_days: int = DEFAULT_GRACE_DAYS,
) -> MeasureEvidence:
    """Signals for the overdue occasions among `statuses` (every occasion of every
    assignment, ended ones included: those ask for nothing more and raise nothing);
    `titles` names each instrument by key."""
    signals: dict[int, list[Signal]] = {}
    overdue: set[str] = set()
    answered: set[str] = set()
    for patient_id, found in statuses.items():
        for status in found:
            assignment, state = status.assignment, status.state
            key = measure_overdue_key(assignment.id, state.occasion.key)
            if state.answered:
                answered.add(key)
            if not state.overdue or assignment.ended_at is not None:
                continue
            overdue.add(key)
            what = titles.get(assignment.instrument_key, assignment.instrument_key)
            if assignment.cadence is not Cadence.ONCE:
                # Stored with the flag: in English, whoever's request raised it.
                what += f", {occasion_label(state.occasion.key, translated=False).lower()}"
            signals.setdefault(patient_id, []).append(
                measure_overdue(
                    assignment.id, state.occasion.key, state.occasion.on, what, grace_days
                )
            )
    return MeasureEvidence(signals, overdue, answered)

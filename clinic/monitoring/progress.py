"""Progress over a period: weekly adherence and pain, the charts, and the milestones.

Shared by the patient's Progress page and the clinician's timeline (and the reports): the
same figures everywhere, from the rules in `clinic.domain.adherence` and the charts in
`clinic.charts`. Callers load the protocol with its history and the period's sessions.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from statistics import fmean

from flask_babel import gettext

from clinic import charts
from clinic.charts import Chart, PainPoint, SizeStep, WeekBar
from clinic.core.templating import day_month
from clinic.core.words import size_name
from clinic.domain.adherence import (
    DEFAULT_COMPLETION_PCT,
    Adherence,
    recent_adherence,
    week_start,
    weekly_adherence,
)
from clinic.domain.depth import DepthWeek, depth_by_week
from clinic.domain.protocols import EventKind
from clinic.models import Protocol, ProtocolStage
from clinic.monitoring.evidence import ScoredSession, schedule_of, stages_of

WEEKS_SHOWN = 12


@dataclass(frozen=True)
class WeekRow:
    """One calendar week of the tables: adherence and mean pain of its sessions."""

    adherence: Adherence
    sessions: int  # sessions done (any length) with pain scores
    mean_during: float | None
    mean_after: float | None

    @property
    def label(self) -> str:
        """The week as the tables name it: its Monday, "2 Mar"."""
        return _day(self.adherence.week_start)


@dataclass(frozen=True)
class Progress:
    """Everything the Progress page shows, as plain values and finished charts."""

    weeks: list[WeekRow]
    last_7: Adherence
    last_28: Adherence
    milestones: list[str]
    adherence_chart: Chart | None  # None when no week prescribed anything, or no diary
    pain_chart: Chart | None  # None when no session in the window has pain scores
    # False for a patient without a diary (not on the portal): the weeks' prescriptions
    # stand, but what was done is unknown, so no adherence is shown (not 0%).
    keeps_diary: bool = True
    # The day the patient began the diary, when it fell inside the window: adherence
    # counts from it (None when every day of the window counts).
    diary_since: date | None = None


def first_week_shown(protocol: Protocol, today: date, weeks: int = WEEKS_SHOWN) -> date:
    """The Monday the page starts from: `weeks` weeks back, or the week the plan started
    if that is later (weeks before it have nothing to show)."""
    weeks_back = week_start(today) - timedelta(weeks=weeks - 1)
    started = week_start(protocol.events[0].effective_on) if protocol.events else today
    return min(max(weeks_back, started), week_start(today))


def build_progress(
    protocol: Protocol,
    sessions: Sequence[ScoredSession],
    first: date,
    today: date,
    completion_pct: int = DEFAULT_COMPLETION_PCT,
    compact_charts: bool = False,
    *,
    now_day: date | None = None,
    keeps_diary: bool = True,
    diary_since: date | None = None,
) -> Progress:
    """The Progress page's content for `protocol`'s window `first` to `today` (its versions,
    stages with their sizes, and events must be loaded). `sessions` may start earlier
    than `first` (the last 28 days' figure needs 28 days): the weeks and the charts show
    the window's alone. `now_day` is the clinic's real
    today (by default `today`): adherence counts it only once it is logged or has ended;
    a report's window can end earlier. Without a diary (`keeps_diary` false) there is no
    adherence chart: every bar would read 0% for sessions nobody could record; with one
    begun on `diary_since`, adherence counts from that day (the weeks before have none)."""
    now_day = now_day or today
    stages = stages_of(protocol)
    schedule = schedule_of(protocol)
    weeks = weekly_adherence(
        schedule, sessions, first, today, completion_pct, today=now_day, diary_since=diary_since
    )
    scored = [s for s in sessions if s.scored and s.on >= first]
    by_week: dict[date, list[ScoredSession]] = defaultdict(list)
    for s in scored:
        by_week[week_start(s.on)].append(s)
    rows = [
        WeekRow(
            adherence=week,
            sessions=len(by_week[week.week_start]),
            mean_during=_mean([s.pain_during for s in by_week[week.week_start]]),
            mean_after=_mean([s.pain_after for s in by_week[week.week_start]]),
        )
        for week in weeks
    ]
    steps = _size_steps(protocol, stages, today)
    shown_steps = [s for s in steps if s.on >= first]
    before = [s for s in steps if s.on < first]
    if before:  # the size in force when the window opens
        shown_steps.insert(0, SizeStep(first, before[-1].diameter_mm, before[-1].stage))
    has_prescription = keeps_diary and any(w.percent is not None for w in weeks)
    return Progress(
        weeks=rows,
        last_7=recent_adherence(
            schedule, sessions, today, 7, completion_pct, today=now_day, diary_since=diary_since
        ),
        last_28=recent_adherence(
            schedule, sessions, today, 28, completion_pct, today=now_day, diary_since=diary_since
        ),
        milestones=_milestones(protocol, stages, today),
        adherence_chart=(
            charts.adherence_chart(
                # From the week the diary began: nothing is known of the weeks before.
                [WeekBar(w.week_start, w.percent) for w in weeks if not w.before_diary],
                compact=compact_charts,
            )
            if has_prescription
            else None
        ),
        pain_chart=(
            charts.pain_chart(
                [
                    PainPoint(s.on, s.pain_during, s.pain_after)
                    for s in scored
                    if s.pain_during is not None and s.pain_after is not None  # scored: given
                ],
                shown_steps,
                compact=compact_charts,
            )
            if scored
            else None
        ),
        keeps_diary=keeps_diary,
        diary_since=diary_since if diary_since is not None and diary_since > first else None,
    )


def depth_trend(sessions: Iterable[ScoredSession]) -> list[DepthWeek]:
    """Depth by week from the sessions done (not withdrawn) that say how deep the dilator
    went: what the timeline, the progress report and the MDT pack show after vaginoplasty."""
    return depth_by_week(
        [
            (s.on, s.depth_cm)
            for s in sessions
            if s.depth_cm is not None and not s.skipped and not s.withdrawn
        ]
    )


def shows_depth(protocol: Protocol | None, trend: Sequence[DepthWeek]) -> bool:
    """Whether to show the depth trend: always after vaginoplasty (an empty one says that
    no depth was logged), and for any other program whose patient logged depths."""
    return bool(trend) or (protocol is not None and protocol.safety_indications.is_neovagina)


def _size_steps(
    protocol: Protocol, stages: dict[tuple[int, int], ProtocolStage], today: date
) -> list[SizeStep]:
    """The days the stage or the dilator diameter changed (the first is the start), up to
    today."""
    steps: list[SizeStep] = []
    for event in protocol.events:
        stage = stages.get((event.version_number, event.stage))
        if event.effective_on > today or stage is None:
            continue
        step = SizeStep(event.effective_on, stage.dilator_size.diameter_mm, event.stage)
        if not steps or (steps[-1].diameter_mm, steps[-1].stage) != (step.diameter_mm, step.stage):
            steps.append(step)
    return steps


def _milestones(
    protocol: Protocol, stages: dict[tuple[int, int], ProtocolStage], today: date
) -> list[str]:
    """The protocol's events up to today in plain words, weeks counted from the start:
    "Moved to Size 3 (21 mm) in week 4", in the language of the page being made (the
    patient's, on their Progress page; kept in that language, see clinic.monitoring.kept)."""
    if not protocol.events:
        return []
    start = protocol.events[0].effective_on
    milestones: list[str] = []
    previous_mm: float | None = None
    for event in protocol.events:
        stage = stages.get((event.version_number, event.stage))
        if event.effective_on > today or stage is None:
            continue
        size, mm = size_name(stage.dilator_size), stage.dilator_size.diameter_mm
        week = (event.effective_on - start).days // 7 + 1
        changed_size = previous_mm is not None and mm != previous_mm
        if event.kind is EventKind.START:
            text = gettext(
                "Started with %(size)s on %(day)s", size=size, day=day_month(event.effective_on)
            )
        elif event.kind is EventKind.STEP_BACK:
            text = gettext(
                "Went back to %(size)s in week %(week)s, to let things settle", size=size, week=week
            )
        elif changed_size:
            text = gettext("Moved to %(size)s in week %(week)s", size=size, week=week)
        elif event.kind is EventKind.ADVANCE:
            text = gettext(
                "Moved up to stage %(stage)s in week %(week)s", stage=event.stage, week=week
            )
        elif event.kind is EventKind.COMPLETE:
            text = gettext("Completed the plan in week %(week)s", week=week)
        else:
            text = ""
        if text:
            milestones.append(text)
        previous_mm = mm
    return milestones


def _mean(values: Sequence[int | None]) -> float | None:
    """The mean of the values given, None when there are none."""
    present = [v for v in values if v is not None]
    return fmean(present) if present else None


def _day(d: date) -> str:
    """A short date without the year, "2 Mar"."""
    return f"{d.day} {d:%b}"

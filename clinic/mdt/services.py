"""Building and rendering the MDT pack.

Everything is read by the job that makes the pack (clinic.mdt.jobs), for all chosen
patients at once (see `queries`): the figures come from the same rules as the timeline
and the dashboard (`assess_patients`, `recent_adherence`), so the pack never disagrees
with the screen. The charts are drawn from plain values, patient by patient (the job's
progress), then the whole pack is laid out in one WeasyPrint render, its charts passed as
files as the progress report does. The request that asks for a pack only checks the
patients (`check_patients`).

The period is the four weeks (28 days) ending on the day the pack is made: the meeting
discusses the latest figures, whenever it takes place. Mean pain compares the first two
weeks of those four with the last two. Adherence is "the last 28 days" as the dashboard
and the timeline count them (`clinic.domain.adherence.last_days`): for a patient who has
not logged today, the 28 days ending yesterday, which start a day before the period.
The flags shown are those of the period (from its sessions, or raised in it) with how
each was handled, and any still open however old; beside them, the latest decision
recorded about the patient's program. Every adherence figure names its window (issue
17): the pack's own is "last 28 days", the suggestion's "at this stage". Outcome
measures are asked for weeks apart, so four weeks would rarely hold two answers: they
cover the running program from its start (the whole record for a patient without one),
baseline to latest.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from statistics import fmean
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import ngettext

from clinic.charts import KeyEntry, PainPoint, SizeStep, pain_chart, step_key
from clinic.domain.adherence import Adherence, last_days, recent_adherence
from clinic.domain.depth import DepthWeek
from clinic.mdt import queries
from clinic.mdt.queries import LatestDecision
from clinic.measures.results import Series, series_for
from clinic.measures.schedule import program_dates
from clinic.measures.summaries import MeasureSummary, since, summaries
from clinic.models import CareFlag, Clinic, Patient, Protocol, RedFlag, User
from clinic.models.types import utcnow
from clinic.monitoring.evidence import Assessment, ScoredSession, schedule_of, stages_of
from clinic.monitoring.progress import depth_trend, shows_depth
from clinic.monitoring.services import assess_patients, load_sessions
from clinic.reporting.pdf import render_pdf

MAX_PATIENTS = 40
WINDOW_DAYS = 28
HALF_DAYS = 14


class MdtPackError(ValueError):
    """The pack cannot be made as asked (said in plain words, for the form)."""


@dataclass(frozen=True)
class Window:
    """The days the figures cover, both ends included, and its two halves."""

    first: date
    last: date

    @classmethod
    def ending(cls, last: date) -> Window:
        return cls(last - timedelta(days=WINDOW_DAYS - 1), last)

    @property
    def counted_if_not_logged(self) -> tuple[date, date]:
        """The days adherence's "last 28 days" cover for a patient who has not logged
        on the window's last day (`clinic.domain.adherence.last_days`)."""
        return last_days(WINDOW_DAYS, (), self.last)

    @property
    def first_half(self) -> tuple[date, date]:
        return self.first, self.first + timedelta(days=HALF_DAYS - 1)

    @property
    def second_half(self) -> tuple[date, date]:
        return self.last - timedelta(days=HALF_DAYS - 1), self.last

    def starts_at(self, zone: str) -> datetime:
        """The instant the window opens: midnight of its first day, in the clinic's zone."""
        return datetime.combine(self.first, time(0), ZoneInfo(zone)).astimezone(UTC)


@dataclass(frozen=True)
class PainChartData:
    """What one patient's pain chart is drawn from: plain values only, so it can be drawn
    anywhere (another process included)."""

    file_name: str
    points: tuple[PainPoint, ...]
    steps: tuple[SizeStep, ...]

    @property
    def key(self) -> tuple[KeyEntry, ...]:
        """What the chart's numbered markers stand for, printed under it."""
        return step_key(self.steps)


@dataclass(frozen=True)
class PatientPage:
    """One patient's page of the pack."""

    patient: Patient
    protocol: Protocol | None  # the open one; None when no program is running
    assessment: Assessment
    adherence: Adherence | None  # None without a program or without a diary
    pain_first: float | None  # mean pain during, first two weeks (None: no sessions)
    pain_second: float | None  # the same, last two weeks
    scored_sessions: int
    # The period's flags and any still open, oldest first (`queries.recent_red_flags`).
    red_flags: list[RedFlag]
    care_flags: list[CareFlag]
    decision: LatestDecision | None  # the latest recorded; None: no program ever
    chart: PainChartData | None  # None when no session of the period has pain scores
    measures: list[MeasureSummary]  # answers to occasions from `measures_since` on
    measures_since: date | None  # the program's start; None: the whole record
    # Depth by week in the window (after vaginoplasty, or whenever depths were logged).
    depth_weeks: list[DepthWeek] = field(default_factory=list)
    # The day the patient began the diary, when known: nothing is known of the days before.
    diary_since: date | None = None

    @property
    def adherence_since_diary(self) -> bool:
        """Whether the adherence figure counts fewer than its 28 days because the patient
        began the diary within them."""
        adherence = self.adherence
        if adherence is None or adherence.before_diary:
            return False
        return adherence.first > adherence.last - timedelta(days=WINDOW_DAYS - 1)

    def before_diary(self, last: date) -> bool:
        """Whether the days up to `last` (a half of the window) all came before the diary
        (a half with sessions logged back for those days shows their pain all the same)."""
        return self.diary_since is not None and self.diary_since > last

    @property
    def shows_depth(self) -> bool:
        return shows_depth(self.protocol, self.depth_weeks)

    @property
    def open_red_flags(self) -> list[RedFlag]:
        return [f for f in self.red_flags if f.acknowledged_at is None]

    @property
    def open_care_flags(self) -> list[CareFlag]:
        """Most severe first, oldest first within a severity."""
        waiting = [f for f in self.care_flags if f.acknowledged_at is None]
        return sorted(waiting, key=lambda f: -f.kind.severity)

    @property
    def handled_red_flags(self) -> list[RedFlag]:
        return [f for f in self.red_flags if f.acknowledged_at is not None]

    @property
    def handled_care_flags(self) -> list[CareFlag]:
        return [f for f in self.care_flags if f.acknowledged_at is not None]

    @property
    def anchor(self) -> str:
        """The page's id, which the contents links to."""
        return f"patient-{self.patient.id}"


@dataclass(frozen=True)
class MdtPack:
    """The whole pack: who made it, for which meeting, and a page per patient."""

    clinic: Clinic
    author: User | None
    meeting_on: date
    generated_at: datetime
    window: Window
    pages: list[PatientPage]

    @property
    def title(self) -> str:
        return f"MDT pack, meeting on {self.meeting_on.day} {self.meeting_on:%b %Y}"

    @property
    def file_name(self) -> str:
        """Neutral: what it is and the meeting date, nothing about anyone in it."""
        return f"mdt-pack-{self.meeting_on.isoformat()}.pdf"


def build_pack(
    clinic: Clinic,
    patient_ids: Sequence[int],
    meeting_on: date,
    *,
    author: User | None,
    today: date,
    now: datetime | None = None,
) -> MdtPack:
    """The pack's content for these patients of `clinic`, most urgent first. Refuses (and
    reads nothing more) if any id is not a patient of the clinic."""
    ids = _checked_count(patient_ids)
    patients = queries.chosen_patients(clinic.id, ids)
    _refuse_missing(len(ids), len(patients))
    window = Window.ending(today)
    protocols = queries.open_protocols(clinic.id, ids)
    assessments = assess_patients(clinic, patients, protocols, today)
    # A day more than the window: adherence's last 28 days start a day earlier for a
    # patient who has not logged today.
    sessions = load_sessions(clinic.id, ids, window.first - timedelta(days=1), window.last)
    opened = window.starts_at(clinic.timezone)
    red_flags = queries.recent_red_flags(clinic.id, ids, window.first, opened)
    care_flags = queries.recent_care_flags(clinic.id, ids, opened)
    decisions = queries.latest_decisions(clinic.id, ids)
    measures = series_for(clinic.id, ids, until=today, zone=clinic.timezone)
    # The program's start, as the measures' schedule counts it: a protocol that replaced
    # another continues its program, so the baseline answered before stays the baseline.
    programs = program_dates(clinic.id, ids)
    pages = [
        _page(
            patient,
            protocols.get(patient.id),
            assessments[patient.id],
            sessions.get(patient.id, []),
            window,
            red_flags.get(patient.id, []),
            care_flags.get(patient.id, []),
            decisions.get(patient.id),
            clinic.completion_pct,
            measures[patient.id],
            programs[patient.id].started_on,
        )
        for patient in patients
    ]
    return MdtPack(clinic, author, meeting_on, now or utcnow(), window, pages)


def check_patients(clinic: Clinic, patient_ids: Sequence[int]) -> list[int]:
    """The ids, each once, if all are patients of `clinic` (one query, for the request
    that asks for a pack: the pack itself is made later, by a job, which checks again)."""
    ids = _checked_count(patient_ids)
    _refuse_missing(len(ids), queries.count_of_patients(clinic.id, ids))
    return ids


def _checked_count(patient_ids: Sequence[int]) -> list[int]:
    ids = list(dict.fromkeys(patient_ids))
    if not ids:
        raise MdtPackError(_("Choose at least one patient."))
    if len(ids) > MAX_PATIENTS:
        raise MdtPackError(
            _(
                "Choose at most %(max)s patients for one pack (you chose %(chosen)s).",
                max=MAX_PATIENTS,
                chosen=len(ids),
            )
        )
    return ids


def _refuse_missing(asked: int, found: int) -> None:
    if found != asked:
        missing = asked - found
        raise MdtPackError(
            ngettext(
                "%(num)d of the chosen patients is not a patient of this clinic (or no "
                "longer exists). Nothing was made: choose again from the list.",
                "%(num)d of the chosen patients are not a patient of this clinic (or no "
                "longer exists). Nothing was made: choose again from the list.",
                missing,
            )
        )


def pack_pdf(pack: MdtPack, progress: Callable[[int], None] | None = None) -> bytes:
    """The pack as one tagged PDF on the clinic's paper. `progress(n)` is told after each
    patient's page is prepared (its chart drawn); the layout of the whole pack, one
    WeasyPrint render (its contents page numbers its pages), comes after the last."""
    charts: dict[str, bytes] = {}
    for done, page in enumerate(pack.pages, start=1):
        if page.chart is not None:
            charts[page.chart.file_name] = draw_pain_chart(page.chart)
        if progress is not None:
            progress(done)
    return render_pdf("reports/mdt.html", pack.clinic.paper_size, files=charts, pack=pack)


def draw_charts(charts: Sequence[PainChartData]) -> dict[str, bytes]:
    """Every chart as SVG bytes, by file name."""
    # In this process, on purpose: measured on 2 cores (tests/bench/mdt_pack.py), 20 charts
    # take ~70 ms of a ~1.6 s pack (WeasyPrint's layout is the rest), and a process pool
    # saved ~20 ms at best, lost time under load, took 1.4 s to start and ~100 MiB a worker.
    return {chart.file_name: draw_pain_chart(chart) for chart in charts}


def draw_pain_chart(chart: PainChartData) -> bytes:
    """One pain chart as SVG (an image in the PDF, with its alternative text there)."""
    return pain_chart(chart.points, chart.steps, chart_id=chart.file_name[:-4], compact=True).file()


def _page(
    patient: Patient,
    protocol: Protocol | None,
    assessment: Assessment,
    sessions: list[ScoredSession],
    window: Window,
    red_flags: list[RedFlag],
    care_flags: list[CareFlag],
    decision: LatestDecision | None,
    completion_pct: int,
    measures: list[Series],
    program_started_on: date | None,
) -> PatientPage:
    adherence = None
    diary_since = patient.diary_since
    if protocol is not None and assessment.keeps_diary:
        # The pack is made today: the last 28 days as on screen (today counts once logged).
        adherence = recent_adherence(
            schedule_of(protocol),
            sessions,
            window.last,
            WINDOW_DAYS,
            completion_pct,
            today=window.last,
            diary_since=diary_since,
        )
    sessions = [s for s in sessions if s.on >= window.first]  # the rest: the window's own
    scored = [s for s in sessions if s.scored]
    started = program_started_on if protocol is not None else None
    chart = None
    if protocol is not None and scored:
        chart = PainChartData(
            file_name=f"pain-{patient.id}.svg",
            points=tuple(
                PainPoint(s.on, s.pain_during, s.pain_after)
                for s in scored
                if s.pain_during is not None and s.pain_after is not None  # scored: given
            ),
            steps=tuple(_size_steps(protocol, window)),
        )
    return PatientPage(
        patient=patient,
        protocol=protocol,
        assessment=assessment,
        adherence=adherence,
        pain_first=_mean_pain(scored, *window.first_half),
        pain_second=_mean_pain(scored, *window.second_half),
        scored_sessions=len(scored),
        red_flags=red_flags,
        care_flags=care_flags,
        decision=decision,
        chart=chart,
        measures=summaries(since(measures, started), in_period=started is not None),
        measures_since=started,
        depth_weeks=depth_trend(sessions) if protocol is not None else [],
        diary_since=diary_since,
    )


def _mean_pain(scored: list[ScoredSession], first: date, last: date) -> float | None:
    """Mean pain during over the days `first` to `last` (None without sessions)."""
    pains = [s.pain_during for s in scored if first <= s.on <= last and s.pain_during is not None]
    return fmean(pains) if pains else None


def _size_steps(protocol: Protocol, window: Window) -> list[SizeStep]:
    """The stage and dilator in force when the window opens, then each change within it,
    as the chart marks them ("stage 3, 21 mm")."""
    stages = stages_of(protocol)
    changes: list[SizeStep] = []
    for event in protocol.events:
        stage = stages.get((event.version_number, event.stage))
        if event.effective_on > window.last or stage is None:
            continue
        step = SizeStep(event.effective_on, stage.dilator_size.diameter_mm, event.stage)
        if not changes or (changes[-1].diameter_mm, changes[-1].stage) != (
            step.diameter_mm,
            step.stage,
        ):
            changes.append(step)
    shown = [s for s in changes if s.on >= window.first]
    before = [s for s in changes if s.on < window.first]
    if before and (not shown or shown[0].on > window.first):
        shown.insert(0, SizeStep(window.first, before[-1].diameter_mm, before[-1].stage))
    return shown

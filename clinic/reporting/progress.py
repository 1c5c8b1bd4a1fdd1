"""The progress report: one patient's program over a period, for the MDT and referrers.

The figures come from the same rules and code as the clinician's timeline
(`clinic.domain.adherence`, `clinic.monitoring.progress`, and for outcome measures
`clinic.measures.results` put into words by `clinic.measures.summaries`), so a report
never disagrees with the screen. Wording about adherence stays neutral: sessions done
against sessions prescribed, never "non-compliant".
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from statistics import fmean
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from clinic.audit import log as audit
from clinic.core.refusals import Refusal
from clinic.domain.adherence import Adherence, adherence_between
from clinic.domain.depth import DepthWeek
from clinic.domain.diary import SkipReason
from clinic.domain.protocols import InForce, in_force_on
from clinic.extensions import db
from clinic.measures.results import series_for
from clinic.measures.summaries import MeasureSummary, summaries
from clinic.models import (
    Clinic,
    DiaryEntry,
    Patient,
    Protocol,
    ProtocolEvent,
    ProtocolStage,
    RedFlag,
    Report,
    User,
)
from clinic.models.types import utcnow
from clinic.monitoring.evidence import ScoredSession, schedule_of, stages_of
from clinic.monitoring.progress import Progress, build_progress, depth_trend, shows_depth
from clinic.protocols.queries import patient_protocols
from clinic.reminders.services import reminder_status
from clinic.reporting.pdf import render_pdf

DEFAULT_WEEKS = 12
# The most an assessment or a plan may hold: about 100 words each, a summary for the
# referrer and the team (the full reasoning belongs in the clinical notes). With both full,
# 12 weeks of figures, a few red flags, stage changes and outcome measures, the report
# stays on two pages, with room to spare, and the signature on the page where the plan
# ends (issue 17; tests/integration/test_report_pages.py).
TYPED_TEXT_MAX_LENGTH = 600
# The days at each end of the period whose mean pain is compared (two weeks).
END_DAYS = 14
KIND = "progress"
PAIN_CHART = "pain-chart.svg"
ADHERENCE_CHART = "adherence-chart.svg"


class ReportError(Refusal):
    """The report cannot be made as asked (said in plain words, for the form)."""


@dataclass(frozen=True)
class ProgressReport:
    """Everything the progress report shows, as plain values and finished charts."""

    clinic: Clinic
    patient: Patient
    protocol: Protocol
    period_from: date
    period_to: date
    author: User | None
    generated_at: datetime
    state: InForce | None  # at the end of the period
    stage: ProtocolStage | None
    stage_count: int
    adherence: Adherence
    pain_start: float | None  # mean pain during, first two weeks of the period
    pain_end: float | None  # the same, last two weeks
    pain_overall: float | None  # the whole period (what a period under four weeks shows)
    red_flags: list[RedFlag]
    skips: list[tuple[SkipReason, int]]
    progress: Progress
    events: list[ProtocolEvent]  # the stage history: in force at the start, then changes
    # Outcome measures asked for in the period: baseline and latest are the period's own.
    measures: list[MeasureSummary]
    assessment: str
    plan: str
    # Depth by week (after vaginoplasty, or whenever depths were logged).
    depth_weeks: list[DepthWeek] = field(default_factory=list)
    # Whether the patient's reminders are on, and since when, as the report is made
    # ("on since 3 Nov 2026" or "off"; never the days or times).
    reminders: str = "off"

    @property
    def day_not_counted(self) -> date | None:
        """The period's last day when adherence does not count it: a report made that
        day before anything was logged for it (a day counts once logged or over, as on
        screen), whose figure then ends the day before (`adherence.last`)."""
        return self.period_to if self.adherence.last < self.period_to else None

    @property
    def keeps_diary(self) -> bool:
        """Whether there is a diary to count for the period (see `build_progress_report`)."""
        return self.progress.keeps_diary

    @property
    def shows_depth(self) -> bool:
        return shows_depth(self.protocol, self.depth_weeks)

    @property
    def assessment_paragraphs(self) -> list[str]:
        """The assessment as typed, split at blank lines; empty when there is none."""
        return paragraphs(self.assessment)

    @property
    def plan_paragraphs(self) -> list[str]:
        """The plan as typed, split at blank lines (the last is printed with the
        signature); empty when there is no plan."""
        return paragraphs(self.plan)

    @property
    def short_period(self) -> bool:
        """Under four weeks: the first and last two weeks would overlap."""
        return (self.period_to - self.period_from).days + 1 < 2 * END_DAYS

    @property
    def title(self) -> str:
        return _("Progress report: %(name)s", name=self.patient.full_name)


def paragraphs(text: str) -> list[str]:
    """Typed text split at blank lines, each paragraph's own line breaks kept."""
    return [p.strip("\n") for p in re.split(r"\n[ \t]*\n", text) if p.strip()]


def too_long(text: str) -> str:
    """Why a typed text is refused, in plain words."""
    return _(
        "Use at most %(max)s characters, so the report fits on two pages; this text has"
        " %(length)s.",
        max=format(TYPED_TEXT_MAX_LENGTH, ","),
        length=format(len(text), ","),
    )


def latest_protocol(patient: Patient) -> Protocol | None:
    """The protocol a report is about: the open one, else the most recent."""
    protocols = patient_protocols(patient.id, patient.clinic_id)
    return next((p for p in protocols if p.status.is_open), protocols[0] if protocols else None)


def default_period(protocol: Protocol, today: date) -> tuple[date, date]:
    """The last 12 weeks, or since the protocol started if that is later."""
    start = protocol.events[0].effective_on
    return max(today - timedelta(weeks=DEFAULT_WEEKS) + timedelta(days=1), start), today


def build_progress_report(
    patient: Patient,
    protocol: Protocol,
    period_from: date,
    period_to: date,
    *,
    author: User | None,
    assessment: str = "",
    plan: str = "",
    now: datetime | None = None,
) -> ProgressReport:
    """The report's content for `protocol` (loaded with its history) over the period."""
    if period_to < period_from:
        raise ReportError(_("The end of the period must be on or after its start."), "period_to")
    for field_name, text in (("assessment", assessment), ("plan", plan)):
        if len(text) > TYPED_TEXT_MAX_LENGTH:
            raise ReportError(too_long(text), field_name)
    entries = _entries(patient, protocol, period_from, period_to)
    sessions = [ScoredSession.of(e) for e in entries]
    generated_at = now or utcnow()
    # The day the report is made counts once logged or ended, as on screen.
    made_on = generated_at.astimezone(ZoneInfo(patient.clinic.timezone)).date()
    schedule = schedule_of(protocol)
    completion = patient.clinic.completion_pct
    state = in_force_on(schedule.events, period_to)
    stages = stages_of(protocol)
    stage = stages.get((state.version, state.stage)) if state else None
    # Without the portal there is no diary: adherence is unknown, not 0%.
    keeps_diary = patient.keeps_diary
    diary_since = patient.diary_since
    return ProgressReport(
        clinic=patient.clinic,
        patient=patient,
        protocol=protocol,
        period_from=period_from,
        period_to=period_to,
        author=author,
        generated_at=generated_at,
        state=state,
        stage=stage,
        stage_count=sum(1 for v, _ in stages if state and v == state.version),
        adherence=adherence_between(
            schedule,
            sessions,
            period_from,
            period_to,
            completion,
            today=made_on,
            diary_since=diary_since,
        ),
        pain_start=_mean_pain(sessions, period_from, period_from + timedelta(days=END_DAYS - 1)),
        pain_end=_mean_pain(sessions, period_to - timedelta(days=END_DAYS - 1), period_to),
        pain_overall=_mean_pain(sessions, period_from, period_to),
        red_flags=_red_flags(patient, period_from, period_to),
        skips=_skips(entries),
        progress=build_progress(
            protocol,
            sessions,
            period_from,
            period_to,
            completion,
            compact_charts=True,
            now_day=made_on,
            keeps_diary=keeps_diary,
            diary_since=diary_since,
        ),
        events=_history(protocol, period_from, period_to),
        measures=summaries(
            series_for(
                patient.clinic_id,
                [patient.id],
                since=period_from,
                until=period_to,
                zone=patient.clinic.timezone,
            )[patient.id],
            in_period=True,
        ),
        assessment=assessment,
        plan=plan,
        depth_weeks=depth_trend(sessions),
        reminders=reminder_status(patient).text,
    )


def progress_report_pdf(report: ProgressReport) -> bytes:
    """The report as a tagged PDF on the clinic's paper."""
    # Charts go in as SVG images, not inline markup: WeasyPrint styles every inline SVG
    # node as part of the page (most of the time of a report), and an image carries the
    # alternative text a tagged PDF needs.
    return render_pdf(
        "reports/progress.html",
        report.clinic.paper_size,
        files=report_charts(report),
        report=report,
    )


def report_charts(report: ProgressReport) -> dict[str, bytes]:
    """The report's charts as the files its template names (the letters that carry the
    report as further pages render them too)."""
    return {
        name: chart.file()
        for name, chart in (
            (PAIN_CHART, report.progress.pain_chart),
            (ADHERENCE_CHART, report.progress.adherence_chart),
        )
        if chart is not None
    }


def file_name(patient: Patient, period_to: date) -> str:
    """A neutral file name: what it is and whose record number, nothing about the therapy."""
    identifier = re.sub(r"[^A-Za-z0-9-]+", "-", patient.clinic_identifier).strip("-")
    return f"progress-report-{identifier or patient.id}-{period_to.isoformat()}.pdf"


def create_progress_report(
    patient: Patient,
    period_from: date,
    period_to: date,
    *,
    author: User | None,
    assessment: str,
    plan: str,
) -> Report:
    """Make the progress report and keep it, exactly as generated, in the patient's record."""
    protocol = latest_protocol(patient)
    if protocol is None:
        raise ReportError(_("This patient has no protocol yet, so there is nothing to report."))
    report = build_progress_report(
        patient, protocol, period_from, period_to, author=author, assessment=assessment, plan=plan
    )
    pdf = progress_report_pdf(report)
    record = Report(
        clinic_id=patient.clinic_id,
        patient_id=patient.id,
        kind=KIND,
        period_from=period_from,
        period_to=period_to,
        assessment=assessment,
        plan=plan,
        author_id=author.id if author else None,
        created_at=report.generated_at,
        file_name=file_name(patient, period_to),
        pdf=pdf,
        sha256=hashlib.sha256(pdf).hexdigest(),
        size_bytes=len(pdf),
    )
    db.session.add(record)
    db.session.flush()
    audit.record(
        "report.create",
        patient_id=patient.id,
        object_type="report",
        object_id=record.id,
        actor=author,
        clinic_id=patient.clinic_id,
    )
    return record


def _entries(patient: Patient, protocol: Protocol, first: date, last: date) -> list[DiaryEntry]:
    return list(
        db.session.scalars(
            select(DiaryEntry)
            .where(
                DiaryEntry.clinic_id == patient.clinic_id,
                DiaryEntry.patient_id == patient.id,
                DiaryEntry.protocol_id == protocol.id,
                DiaryEntry.occurred_on.between(first, last),
            )
            .order_by(DiaryEntry.occurred_at, DiaryEntry.id)
        )
    )


def _mean_pain(sessions: list[ScoredSession], first: date, last: date) -> float | None:
    """Mean pain during over the days `first` to `last` (None without sessions)."""
    pains = [
        s.pain_during
        for s in sessions
        if s.scored and s.pain_during is not None and first <= s.on <= last
    ]
    return fmean(pains) if pains else None


def _red_flags(patient: Patient, first: date, last: date) -> list[RedFlag]:
    """Red flags from sessions in the period, oldest first, with how each was handled."""
    return list(
        db.session.scalars(
            select(RedFlag)
            .join(DiaryEntry, DiaryEntry.id == RedFlag.entry_id)
            .where(
                RedFlag.clinic_id == patient.clinic_id,
                RedFlag.patient_id == patient.id,
                DiaryEntry.occurred_on.between(first, last),
            )
            .options(joinedload(RedFlag.entry), joinedload(RedFlag.acknowledged_by))
            .order_by(DiaryEntry.occurred_at, RedFlag.id)
        )
    )


def _skips(entries: list[DiaryEntry]) -> list[tuple[SkipReason, int]]:
    """Why sessions were skipped, most frequent first."""
    counts = Counter(
        e.skip_reason
        for e in entries
        if e.skip_reason is not None and e.skipped and e.withdrawn_at is None
    )
    return sorted(counts.items(), key=lambda item: (-item[1], item[0].label))


def _history(protocol: Protocol, first: date, last: date) -> list[ProtocolEvent]:
    """The event in force when the period starts, then every event within it."""
    before = [e for e in protocol.events if e.effective_on < first]
    within = [e for e in protocol.events if first <= e.effective_on <= last]
    return before[-1:] + within

"""What a new letter says before the clinician edits it: the record in sentences.

The figures are the progress report's (clinic.reporting.progress.build_progress_report,
over the report's default period: the last 12 weeks, or since the programme started), so
a letter never disagrees with the report attached to it or with the screen: the stage in
force, the dilator, minutes and frequency, adherence as sessions done against sessions
prescribed (whole sessions, worded neutrally), the red flags of the period with how each
was handled, and each outcome measure's baseline, latest and change as
clinic.measures.summaries words them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from clinic.core.templating import percent, short_date
from clinic.models import LetterKind, LetterTemplate, Patient, User
from clinic.reporting.progress import (
    ProgressReport,
    build_progress_report,
    default_period,
    latest_protocol,
)

PAIN_SCALE = "(0\u201310)"  # an en dash, as the report prints the range
NO_PROGRAMME = "No dilator programme has been started yet."


@dataclass(frozen=True)
class LetterText:
    """The letter's words, section by section, as the form holds them."""

    opening: str
    reason: str
    programme: str
    red_flags: str
    measures: str
    ask: str


def record_summary(patient: Patient, author: User | None, today: date) -> ProgressReport | None:
    """The progress report's content over its default period, or None when there is no
    programme to report on yet."""
    protocol = latest_protocol(patient)
    if protocol is None:
        return None
    period_from, period_to = default_period(protocol, today)
    if period_from > period_to:  # a programme that starts later
        return None
    return build_progress_report(patient, protocol, period_from, period_to, author=author)


def prefill(
    kind: LetterKind, template: LetterTemplate, patient: Patient, report: ProgressReport | None
) -> LetterText:
    """The letter as the record and the clinic's template would write it."""
    return LetterText(
        opening=template.opening,
        reason=_reason(kind, patient),
        programme=programme_text(report),
        red_flags=red_flags_text(report),
        measures=measures_text(report),
        ask=template.ask,
    )


# Left in the prefilled text where only the clinician can say it; the form refuses a
# letter that still holds it.
TO_COMPLETE = "[to complete: what you would like the recipient to assess or do]"
# A discharge is not always a programme finished (the patient may stop, move or be
# referred on): the record cannot say which, so the clinician does.
TO_COMPLETE_DISCHARGE = "[to complete: the programme finished, or why the patient is discharged]"


def _reason(kind: LetterKind, patient: Patient) -> str:
    referrer = f", referred by {patient.referring_clinician}" if patient.referring_clinician else ""
    indication = f"Indication: {patient.indication_label}{referrer}."
    if kind is LetterKind.REFERRAL:
        return f"{indication}\nReason for this referral: {TO_COMPLETE}"
    if kind is LetterKind.DISCHARGE:
        return f"{indication}\nReason for discharge: {TO_COMPLETE_DISCHARGE}"
    return f"{indication}\nAn update on the programme you referred them for."


def _period(report: ProgressReport) -> str:
    return f"{short_date(report.period_from)} to {short_date(report.period_to)}"


def _counted_period(report: ProgressReport) -> str:
    """The days the report's adherence counts, as `_period` says them, and the period's
    last day when it is not among them (the report was made that day, before anything
    was logged for it)."""
    day = report.day_not_counted
    if day is None:
        return _period(report)
    note = f"{short_date(day)} not counted: nothing was logged that day before this was written"
    return f"{short_date(report.period_from)} to {short_date(report.adherence.last)} ({note})"


def programme_text(report: ProgressReport | None) -> str:
    """The programme and where it stands, with adherence and pain over the period."""
    if report is None:
        return NO_PROGRAMME
    start = report.protocol.events[0].effective_on
    lines = [f"{report.protocol.name}, started on {short_date(start)}."]
    if report.stage is not None and report.state is not None:
        stage = report.stage
        paused = "" if report.state.status.is_active else f" ({report.state.status.label.lower()})"
        line = (
            f"On {short_date(report.period_to)}: stage {report.state.stage} of "
            f"{report.stage_count}, {stage.dilator_size.display}, {stage.minutes} minutes "
            f"{stage.frequency}{paused}."
        )
        if stage.target_depth_cm:
            line += f" Target depth {stage.target_depth_cm:g} cm."
        lines.append(line)
    adherence = report.adherence
    began = report.progress.diary_since
    period = _counted_period(report)
    if adherence.last < report.period_from:
        lines.append(
            f"Adherence on {short_date(report.period_to)}: not counted yet (nothing was"
            " logged that day before this was written)."
        )
    elif adherence.before_diary and began is not None:
        lines.append(
            f"Adherence from {period}: not known (the patient began the clinic's"
            f" online diary on {short_date(began)})."
        )
    elif adherence.percent is None:
        lines.append(f"Adherence from {period}: no sessions were prescribed.")
    elif not report.keeps_diary:
        lines.append(
            f"Adherence from {period}: not known (the patient does not keep the"
            " clinic's online diary)."
        )
    else:
        since = (
            f", counted from {short_date(began)}, when the patient began the clinic's online diary"
            if began is not None
            else ""
        )
        lines.append(
            f"Adherence from {period}: {percent(adherence.percent)} "
            f"({adherence.completed} of {adherence.prescribed} prescribed sessions done{since})."
        )
    if report.short_period:
        if report.pain_overall is not None:
            lines.append(
                f"Mean pain during sessions {PAIN_SCALE}: {report.pain_overall:.1f}"
                " over the period."
            )
    elif report.pain_start is not None or report.pain_end is not None:
        lines.append(
            f"Mean pain during sessions {PAIN_SCALE}: "
            f"{_pain(report.pain_start)} in the first two weeks, "
            f"{_pain(report.pain_end)} in the last two weeks."
        )
    return "\n".join(lines)


def _pain(value: float | None) -> str:
    return "no sessions" if value is None else f"{value:.1f}"


def red_flags_text(report: ProgressReport | None) -> str:
    """Each red flag of the period and how it was handled, oldest first."""
    if report is None:
        return "None."
    if not report.red_flags:
        return f"None from {_period(report)}."
    zone = report.clinic.timezone
    lines = []
    for flag in report.red_flags:
        pain = f" ({flag.pain}/10)" if flag.reason.is_high_pain else ""
        what = f"{short_date(flag.entry.occurred_on)}: {flag.reason.label}{pain}."
        if flag.acknowledged_at is None:
            lines.append(f"{what} Not yet reviewed.")
            continue
        who = flag.acknowledged_by.full_name if flag.acknowledged_by else "the clinic"
        when = short_date(flag.acknowledged_at.astimezone(ZoneInfo(zone)).date())
        handled = f" {flag.acknowledgement}" if flag.acknowledgement else ""
        lines.append(f"{what} Reviewed by {who} on {when}.{handled}")
    return "\n".join(lines)


def _scale_note(title: str, scale: str) -> str:
    """The " (0 to 10)" after a measure's title, unless the title already states its range
    (a pain scale titled with its 0-10 range): said once, not twice."""
    if not scale:
        return ""
    low, _, high = scale.partition(" to ")
    stated = (f"{low}\u2013{high}", f"{low}-{high}", f"{low} to {high}", f"{low}\u2014{high}")
    return "" if any(form in title for form in stated) else f" ({scale})"


def measures_text(report: ProgressReport | None) -> str:
    """Each outcome measure answered in the period: first and latest score, and the change."""
    if report is None or not report.measures:
        return "None recorded in this period."
    lines = []
    for summary in report.measures:
        scale = _scale_note(summary.title, summary.scale)
        if summary.baseline is None or summary.latest is None:
            lines.append(f"{summary.title}{scale}: not scored in this period.")
        elif summary.baseline == summary.latest:
            lines.append(
                f"{summary.title}{scale}: {summary.latest.reading} on {summary.latest.day}."
            )
        else:
            lines.append(
                f"{summary.title}{scale}: {summary.baseline.reading} on {summary.baseline.day},"
                f" {summary.latest.reading} on {summary.latest.day}; change: {summary.change}."
            )
    return "\n".join(lines)

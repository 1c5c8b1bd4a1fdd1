"""Outcome measures as the care team reads them: per instrument, each answer as a table row,
the baseline and the latest score, the change between them in a few words, what could not
be scored and why, and (on screen) a chart of the total over time.

One place for the wording, shared by the patient timeline, the progress report and the
MDT pack, so the three never disagree. The figures are `clinic.measures.results.Series`
as `series_for` gives them: nothing is recomputed here, only put into words.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _

from clinic.charts import BandStart, Chart, ScorePoint, measure_chart
from clinic.core.templating import short_date
from clinic.measures.results import ScoredAnswer, Series, format_score, read_change
from clinic.measures.schedule import occasion_label

MINUS = "\u2212"  # a true minus sign: a hyphen is easily lost in print


@dataclass(frozen=True)
class AnswerRow:
    """One answer as a table reads it: the day it was given, the occasion it answered,
    its score and band, or why it has no score."""

    answered_on: date
    occasion_on: date  # the day it was asked for
    occasion: str  # "At the start", "Week 4"
    score: str  # "" when not scored
    band: str
    not_scored: str  # why there is no score ("" when there is one)

    @property
    def day(self) -> str:
        """The day it was given, "3 Mar 2026"."""
        return short_date(self.answered_on)

    @property
    def reading(self) -> str:
        """The score with its band, "7 (Low)"; "" when not scored."""
        if not self.score:
            return ""
        return f"{self.score} ({self.band})" if self.band else self.score


@dataclass(frozen=True)
class MeasureSummary:
    """One instrument's answers: rows oldest first, baseline and latest (the first and
    last scored answers), the change in words, notes, and the chart when asked for."""

    instrument_key: str
    title: str
    scale: str  # "0 to 20" ("" when the instrument is no longer known)
    rows: list[AnswerRow]
    baseline: AnswerRow | None
    latest: AnswerRow | None
    change: str  # "+9 points: improved", "-3 points" (a true minus), "No change", "—"
    notes: list[str]
    chart: Chart | None = None
    chart_id: str = ""

    @property
    def unscored(self) -> list[AnswerRow]:
        """The answers without a score, oldest first."""
        return [row for row in self.rows if not row.score]


def summarise(
    series: Series, *, in_period: bool = False, chart_id: str | None = None
) -> MeasureSummary:
    """One series in words; with `chart_id`, its chart too. `in_period` words the notes
    for a report's period ("in this period") rather than the whole record ("so far")."""
    rows = [_row(series, answer) for answer in series.answers]
    by_id = dict(zip((a.response_id for a in series.answers), rows, strict=True))
    baseline, latest = series.baseline, series.latest
    instrument = series.instrument
    scale = ""
    if instrument is not None:
        scale = _(
            "%(minimum)s to %(maximum)s",
            minimum=format_score(float(instrument.total.minimum), instrument),
            maximum=format_score(float(instrument.total.maximum), instrument),
        )
    return MeasureSummary(
        instrument_key=series.instrument_key,
        title=series.title,
        scale=scale,
        rows=rows,
        baseline=by_id[baseline.response_id] if baseline else None,
        latest=by_id[latest.response_id] if latest else None,
        change=change_in_words(series),
        notes=_notes(series, rows, in_period),
        # Nothing to draw until an answer has a score: the notes say why there is none.
        chart=_chart(series, chart_id) if chart_id and baseline is not None else None,
        chart_id=chart_id or "",
    )


def summaries(
    found: Sequence[Series], *, in_period: bool = False, charts: bool = False
) -> list[MeasureSummary]:
    """Every series in words, in the order given (by title, from `series_for`); with
    `charts`, each with its chart (ids "measure-chart-<instrument key>")."""
    return [
        summarise(
            series,
            in_period=in_period,
            chart_id=f"measure-chart-{series.instrument_key}" if charts else None,
        )
        for series in found
    ]


def change_in_words(series: Series) -> str:
    """Latest minus baseline, signed, in the instrument's points ("+9 points", "-2.5
    points" with a true minus sign, "No change"), read as improved or worse when the
    instrument says which way is better; "—" until there are two scores, "Not compared"
    for a rating of change itself (the report, MDT pack and timeline tables)."""
    if series.rates_change:
        return _("Not compared")
    reading = read_change(series)
    if reading is None:
        return "—"
    if reading.direction == 0:
        return _("No change")
    amount = f"{'+' if reading.direction > 0 else MINUS}{reading.amount}"
    if reading.amount == "1":
        words = _("%(amount)s point", amount=amount)
    else:
        words = _("%(amount)s points", amount=amount)
    if reading.improved is None:
        return words
    if reading.improved:
        return _("%(change)s: improved", change=words)
    return _("%(change)s: worse", change=words)


def since(found: Sequence[Series], first: date | None) -> list[Series]:
    """The series with only the answers to occasions from `first` on (all of them when
    `first` is None), leaving out instruments with none: what `series_for(since=first)`
    gives, for patients whose periods start on different days."""
    if first is None:
        return list(found)
    kept = [
        dataclasses.replace(series, answers=[a for a in series.answers if a.occasion_on >= first])
        for series in found
    ]
    return [series for series in kept if series.answers]


def _row(series: Series, answer: ScoredAnswer) -> AnswerRow:
    return AnswerRow(
        answered_on=answer.answered_on,
        occasion_on=answer.occasion_on,
        occasion=occasion_label(answer.occasion_key),
        score=format_score(answer.total, series.instrument),
        band=answer.band_label if answer.total is not None else "",
        not_scored=answer.not_scored_reason,
    )


def _notes(series: Series, rows: list[AnswerRow], in_period: bool) -> list[str]:
    """What a reader should know beside the figures, in words: each answer without a
    score and why (when none has one, these say it all), and a lone score."""
    notes = [
        _(
            "%(day)s (%(occasion)s): %(reason)s.",
            day=row.day,
            occasion=row.occasion.lower(),
            reason=row.not_scored.rstrip("."),
        )
        for row in rows
        if not row.score
    ]
    scored = len(series.scored)
    if series.rates_change:
        notes.append(
            _(
                "%(title)s is itself the patient's rating of change since the start: each"
                " answer is read on its own, not compared with the first.",
                title=series.title,
            )
        )
    elif scored == 1 and in_period:
        notes.append(_("Only one scored answer in this period: no change to show yet."))
    elif scored == 1:
        notes.append(_("Only one scored answer so far: no change to show yet."))
    return notes


def _chart(series: Series, chart_id: str) -> Chart:
    """The series' total against the day each answer was given, on the instrument's range
    with its bands (the range of the scores when the instrument is no longer known)."""
    points = sorted(
        (ScorePoint(a.answered_on, a.total) for a in series.answers), key=lambda p: p.on
    )
    instrument = series.instrument
    if instrument is not None:
        minimum, maximum = float(instrument.total.minimum), float(instrument.total.maximum)
        bands = [BandStart(float(b.minimum), b.label) for b in instrument.total.bands]
        decimals = instrument.decimals
    else:
        totals = [p.total for p in points if p.total is not None] or [0.0]
        minimum, maximum = min(0.0, *totals), max(totals) or 1.0
        bands, decimals = [], 0
    return measure_chart(
        points,
        title=series.title,
        minimum=minimum,
        maximum=maximum,
        bands=bands,
        decimals=decimals,
        chart_id=chart_id,
    )

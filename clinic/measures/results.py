"""Scores patients gave, as the clinic reads them: per instrument, each submitted response
in order with its total and band, the baseline (the first scored response) and the latest,
and the change between them.

Read-only, scoped to the clinic, two queries whatever the number of patients. Used by the
measures page, the timeline's charts, the progress report and the MDT pack.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_babel import gettext as _
from sqlalchemy import select

from clinic.core.templating import short_date
from clinic.domain.questionnaires import Better, Instrument
from clinic.extensions import db
from clinic.measures.instruments import available, versions
from clinic.models import MeasureResponse


@dataclass(frozen=True)
class ScoredAnswer:
    """One submitted response: when, for which occasion, its total (None when it could not
    be scored or was not valid), band, domain scores, and why it has no total."""

    response_id: int
    occasion_key: str
    occasion_on: date
    answered_on: date  # the clinic's day it was sent; `occasion_on`: the day it was asked for
    version: str
    total: float | None
    band_label: str
    domains: dict[str, float | None]
    valid: bool
    invalid_reason: str
    # What the band means, from the version it was answered on ("" without a band).
    band_interpretation: str = ""

    @property
    def not_scored_reason(self) -> str:
        """Why there is no total, in words ("" when there is one): not valid, or too few
        answers (as stored at submission)."""
        if self.total is not None:
            return ""
        return self.invalid_reason or _("Not scored: too few answers")


@dataclass
class Series:
    """A patient's scores on one instrument, oldest first."""

    instrument_key: str
    title: str
    instrument: Instrument | None  # the clinic's current version (None if no longer known)
    answers: list[ScoredAnswer] = field(default_factory=list)

    @property
    def scored(self) -> list[ScoredAnswer]:
        """The answers with a total, oldest first."""
        return [a for a in self.answers if a.total is not None]

    @property
    def baseline(self) -> ScoredAnswer | None:
        """The first answer with a total."""
        return self.scored[0] if self.scored else None

    @property
    def latest(self) -> ScoredAnswer | None:
        """The most recent answer with a total."""
        return self.scored[-1] if self.scored else None

    @property
    def rates_change(self) -> bool:
        """Whether the instrument is itself a rating of change since the start (PGIC):
        then no change from its first answer is computed."""
        return self.instrument is not None and self.instrument.total.rates_change

    @property
    def change(self) -> float | None:
        """Latest minus baseline; None until there are two scored answers, and for an
        instrument that rates change itself."""
        totals = [a.total for a in self.answers if a.total is not None]
        if len(totals) < 2 or self.rates_change:
            return None
        return round(totals[-1] - totals[0], 3)


def format_score(value: float | None, instrument: Instrument | None) -> str:
    """A score as the instrument shows it: rounded to its decimals ("26.4", "4")."""
    if value is None:
        return ""
    decimals = instrument.decimals if instrument is not None else 0
    return f"{value:.{decimals}f}"


@dataclass(frozen=True)
class ChangeReading:
    """Latest minus baseline as people read it: the amount at the instrument's precision,
    which way it went, and whether that is better (None when the instrument doesn't say)."""

    amount: str
    direction: int  # -1 lower, 0 the same at the shown precision, +1 higher
    improved: bool | None


def read_change(series: Series) -> ChangeReading | None:
    """The change from the baseline to the latest score; None for a rating of change
    itself (PGIC) or until there are two scores. The one reading every page words."""
    change = series.change
    if series.rates_change or change is None:
        return None
    instrument = series.instrument
    amount = format_score(abs(change), instrument)
    if amount == format_score(0, instrument):
        return ChangeReading(amount, 0, None)
    better = instrument.total.better if instrument is not None else None
    improved = None if better is None else (change < 0) == (better is Better.LOWER)
    return ChangeReading(amount, -1 if change < 0 else 1, improved)


def describe_change(series: Series) -> str:
    """The change from the first score to the latest as a sentence, e.g. "2 points lower
    than the first score (6 on 3 Jun 2026): improved." (the measures page)."""
    if series.rates_change:
        return _(
            "%(title)s is itself the patient's rating of change since the start, so it is not"
            " compared with an earlier answer: read each answer's band.",
            title=series.title,
        )
    baseline = series.baseline
    if baseline is None:
        return _("No score yet.")
    first = _(
        "the first score (%(score)s on %(date)s)",
        score=format_score(baseline.total, series.instrument),
        date=short_date(baseline.answered_on),
    )
    reading = read_change(series)
    if reading is None:
        return _("One score so far: the change shows from the second.")
    if reading.direction == 0:
        return _("The same as %(first)s.", first=first)
    if reading.direction < 0:
        if reading.amount == "1":
            words = _("%(amount)s point lower than %(first)s", amount=reading.amount, first=first)
        else:
            words = _("%(amount)s points lower than %(first)s", amount=reading.amount, first=first)
    elif reading.amount == "1":
        words = _("%(amount)s point higher than %(first)s", amount=reading.amount, first=first)
    else:
        words = _("%(amount)s points higher than %(first)s", amount=reading.amount, first=first)
    if reading.improved is None:
        return words + "."
    if reading.improved:
        return _("%(change)s: improved.", change=words)
    return _("%(change)s: worse.", change=words)


def series_for(
    clinic_id: int,
    patient_ids: Collection[int],
    *,
    since: date | None = None,
    until: date | None = None,
    zone: str = "UTC",
) -> dict[int, list[Series]]:
    """Each patient's series, one per instrument answered, ordered by title. `since` and
    `until` bound the occasion days of the answers included (the baseline of a period is
    then the first answer in the period). `zone` is the clinic's time zone, in which the
    day each answer was sent is given. Two queries whatever the number of patients."""
    result: dict[int, list[Series]] = {pid: [] for pid in patient_ids}
    if not patient_ids:
        return result
    query = select(MeasureResponse).where(
        MeasureResponse.clinic_id == clinic_id,
        MeasureResponse.patient_id.in_(patient_ids),
        MeasureResponse.submitted_at.is_not(None),
    )
    if since is not None:
        query = query.where(MeasureResponse.occasion_on >= since)
    if until is not None:
        query = query.where(MeasureResponse.occasion_on <= until)
    query = query.order_by(
        MeasureResponse.occasion_on, MeasureResponse.submitted_at, MeasureResponse.id
    )
    responses = list(db.session.scalars(query))
    if not responses:
        return result
    every_version = versions(clinic_id)
    current = available(clinic_id)
    local = _zone(zone)
    by_patient: dict[int, dict[str, Series]] = defaultdict(dict)
    for response in responses:
        key = response.instrument_key
        answered_on_version = every_version.get((key, response.instrument_version))
        series = by_patient[response.patient_id].get(key)
        if series is None:
            instrument = current.get(key) or answered_on_version
            series = Series(key, instrument.title if instrument else key, instrument)
            by_patient[response.patient_id][key] = series
        series.answers.append(
            ScoredAnswer(
                response_id=response.id,
                occasion_key=response.occasion_key,
                occasion_on=response.occasion_on,
                answered_on=response.sent_at.astimezone(local).date(),
                version=response.instrument_version,
                total=response.total,
                band_label=response.band_label,
                domains=json.loads(response.domains or "{}"),
                valid=response.valid is not False,
                invalid_reason=response.invalid_reason,
                band_interpretation=_interpretation(answered_on_version, response.band_label),
            )
        )
    for pid, found in by_patient.items():
        result[pid] = sorted(found.values(), key=lambda s: s.title.lower())
    return result


def _interpretation(instrument: Instrument | None, band_label: str) -> str:
    if instrument is None or not band_label:
        return ""
    return next((b.interpretation for b in instrument.total.bands if b.label == band_label), "")


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")

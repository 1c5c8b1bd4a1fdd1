"""Scores patients gave, as the clinic reads them: per instrument, each submitted response
in order with its total and band, the baseline (the first scored response) and the latest,
and the change between them.

Read-only, scoped to the clinic, one query whatever the number of patients. Used by the
measures page, the timeline's charts, the progress report and the MDT pack.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from clinic.domain.questionnaires import Instrument
from clinic.extensions import db
from clinic.measures.instruments import available, version_of
from clinic.models import MeasureResponse


@dataclass(frozen=True)
class ScoredAnswer:
    """One submitted response: when, for which occasion, its total (None when it could not
    be scored or was not valid), band, domain scores, and why it has no total."""

    response_id: int
    occasion_key: str
    occasion_on: date
    answered_on: date  # UTC date of submission; `occasion_on` is the day it was asked for
    version: str
    total: float | None
    band_label: str
    domains: dict[str, float | None]
    valid: bool
    invalid_reason: str


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
    def change(self) -> float | None:
        """Latest minus baseline; None until there are two scored answers."""
        scored = self.scored
        if len(scored) < 2:
            return None
        return round(scored[-1].total - scored[0].total, 3)


def series_for(
    clinic_id: int,
    patient_ids: Collection[int],
    *,
    since: date | None = None,
    until: date | None = None,
) -> dict[int, list[Series]]:
    """Each patient's series, one per instrument answered, ordered by title. `since` and
    `until` bound the occasion days of the answers included (the baseline of a period is
    then the first answer in the period)."""
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
    query = query.order_by(MeasureResponse.occasion_on, MeasureResponse.submitted_at)
    instruments = available(clinic_id)
    by_patient: dict[int, dict[str, Series]] = defaultdict(dict)
    for response in db.session.scalars(query):
        key = response.instrument_key
        series = by_patient[response.patient_id].get(key)
        if series is None:
            instrument = instruments.get(key) or version_of(
                clinic_id, key, response.instrument_version
            )
            series = Series(key, instrument.title if instrument else key, instrument)
            by_patient[response.patient_id][key] = series
        series.answers.append(
            ScoredAnswer(
                response_id=response.id,
                occasion_key=response.occasion_key,
                occasion_on=response.occasion_on,
                answered_on=response.submitted_at.date(),
                version=response.instrument_version,
                total=response.total,
                band_label=response.band_label,
                domains=json.loads(response.domains or "{}"),
                valid=response.valid is not False,
                invalid_reason=response.invalid_reason,
            )
        )
    for pid, found in by_patient.items():
        result[pid] = sorted(found.values(), key=lambda s: s.title.lower())
    return result

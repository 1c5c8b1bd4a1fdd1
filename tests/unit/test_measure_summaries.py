"""Outcome measures in words (clinic.measures.summaries) and the "questionnaire overdue"
signal (clinic.domain.flags): the change from baseline signed and read the instrument's
way, notes for answers without a score, period cuts, and one episode key per occasion."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from clinic.domain.flags import FlagKind, measure_overdue, measure_overdue_key
from clinic.domain.questionnaires import Instrument, shipped_instruments
from clinic.measures.results import ScoredAnswer, Series
from clinic.measures.summaries import change_in_words, since, summarise

START = date(2026, 3, 2)


def series(key: str, *totals: float | None, instrument: Instrument | None = None) -> Series:
    """A series of `key` (the shipped instrument unless given) with answers two weeks
    apart: the start, then week 2, week 4 ... (None: not scored, too few answers)."""
    found = Series(key, key.title(), instrument or shipped_instruments()[key])
    for i, total in enumerate(totals):
        on = START + timedelta(weeks=2 * i)
        found.answers.append(
            ScoredAnswer(
                response_id=i + 1,
                occasion_key="baseline" if i == 0 else f"week-{2 * i}",
                occasion_on=on,
                answered_on=on,
                version="1",
                total=total,
                band_label="" if total is None else "Band",
                domains={},
                valid=True,
                invalid_reason="" if total is not None else "Not scored: 2 of 5 answered",
            )
        )
    return found


@pytest.mark.parametrize(
    ("key", "totals", "words"),
    [
        ("dilator-confidence", (7, 16), "+9 points: improved"),  # higher is better
        ("dilator-confidence", (12, 11), "\u22121 point: worse"),
        ("pain-nrs", (6, None, 3), "\u22123 points: improved"),  # lower is better
        ("pain-nrs", (3, 5), "+2 points: worse"),
        ("pain-nrs", (4, 4), "No change"),
        ("pain-nrs", (4,), "—"),
        ("pain-nrs", (None, None), "—"),
        ("pgic", (2, 1), "Not compared"),  # a rating of change itself
    ],
)
def test_change_is_signed_and_read_the_instruments_way(
    key: str, totals: tuple[float | None, ...], words: str
) -> None:
    """Latest minus baseline with a sign (a true minus), in points, improved or worse as
    the instrument says which way is better."""
    assert change_in_words(series(key, *totals)) == words


def test_change_has_the_instruments_decimals_and_no_verdict_without_a_direction() -> None:
    """FSFI scores to one decimal (+4.2 points); an instrument that does not say which way
    is better gets the points only."""
    fsfi = shipped_instruments()["fsfi"]
    assert change_in_words(series("fsfi", 20.1, 24.3)) == "+4.2 points: improved"
    neutral = replace(fsfi, total=replace(fsfi.total, better=None))
    assert change_in_words(series("fsfi", 20.1, 24.3, instrument=neutral)) == "+4.2 points"


def test_summary_gives_baseline_latest_and_notes() -> None:
    """Baseline and latest are the first and last scored answers; the unscored answer is
    noted with its day, occasion and reason, oldest first."""
    summary = summarise(series("dilator-confidence", 7, None, 13, 16))
    assert (summary.baseline.score, summary.latest.score) == ("7", "16")
    assert summary.scale == "0 to 20"
    assert [row.occasion for row in summary.rows] == ["At the start", "Week 2", "Week 4", "Week 6"]
    assert summary.notes == ["16 Mar 2026 (week 2): Not scored: 2 of 5 answered."]
    assert summary.chart is None  # only drawn when asked for


def test_a_single_score_is_said_and_nothing_is_drawn_without_a_score() -> None:
    """One score: said so (for a period or the record); no score at all: no chart."""
    assert summarise(series("pain-nrs", 5), in_period=True).notes == [
        "Only one scored answer in this period: no change to show yet."
    ]
    assert summarise(series("pain-nrs", 5)).notes == [
        "Only one scored answer so far: no change to show yet."
    ]
    assert summarise(series("pain-nrs", None), chart_id="c").chart is None
    assert summarise(series("pain-nrs", 5), chart_id="c").chart is not None


def test_since_keeps_the_answers_from_a_day_and_drops_empty_series() -> None:
    """Cutting at week 4 keeps weeks 4 and 6 (so week 4 becomes the baseline) and drops a
    series with nothing left; no day keeps everything."""
    confidence = series("dilator-confidence", 7, 10, 13, 16)
    pain = series("pain-nrs", 6)
    (cut,) = since([confidence, pain], START + timedelta(weeks=4))
    assert [a.total for a in cut.answers] == [13, 16] and cut.baseline.total == 13
    assert len(confidence.answers) == 4  # the original is untouched
    assert since([confidence, pain], None) == [confidence, pain]


def test_an_overdue_occasion_is_its_own_episode() -> None:
    """The key names the assignment and the occasion, so each occasion raises one flag;
    the detail names the measure, the day it was asked for and the grace period."""
    signal = measure_overdue(12, "week-4", date(2026, 3, 30), "Pain scale, week 4", 7)
    assert signal.kind is FlagKind.MEASURE_OVERDUE
    assert signal.key == measure_overdue_key(12, "week-4") == "measure_overdue:12:week-4"
    assert signal.key != measure_overdue_key(12, "week-6") != measure_overdue_key(13, "week-4")
    assert signal.detail == "Pain scale, week 4, asked for 30 Mar 2026: not answered within 7 days"

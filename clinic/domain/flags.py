"""Flags: what makes a patient need a clinician's attention, and how urgently.

A red flag comes from the patient's own report (see `clinic.domain.diary`); the other
kinds are raised by the rules below when the clinic's data shows them:

- not logging: no diary entry (a session or a skip) for N days (a clinic setting, 5 by
  default) while the protocol is running;
- pain rising: the mean pain during, or the mean pain after, the sessions of the last 7
  days is at least 2 points above the same mean over the 7 days before (issue 16: pain
  after a session counts too). "The last 7 days" are those adherence counts
  (`clinic.domain.adherence.last_days`: the 7 days ending yesterday until today is
  logged), so the two figures a page labels "last 7 days" cover the same days;
- ready to advance: the progression rule suggests advancing (see
  `clinic.domain.progression`);
- review due: the review date the clinician set has come;
- questionnaire overdue: an outcome measure asked for on a day is still unanswered after
  its grace period (when that is, is `clinic.domain.measure_schedule`'s rule). Each
  occasion is its own episode, and its flag is closed by the system once the occasion is
  answered or the measure is stopped: nothing is left for the clinician to do about it;
- larger size than prescribed: a session was done with a larger dilator than its stage
  prescribes (a patient moving up on their own); once per stage and size used;
- review before resuming: a pause's planned resume date has come; the plan stays paused
  until a clinician resumes it (see `clinic.domain.protocols.in_force_on`).
- skipping for pain: `PAIN_SKIPS` sessions or more skipped for "pain or worry about pain"
  within `PAIN_SKIPS_DAYS` days (fear of pain is a reason to review the plan with the
  patient, not to wait for them to stop);
- feeling very much worse: a "very much worse" answer to the patient global impression of
  change (PGIC), one flag per answer.

Distress or flashbacks reported with a session is a red flag of its own, at a lower
severity: `FlagKind.DISTRESS` names it on the dashboard (it is never a rule flag's kind).

Every flag stays until a clinician acknowledges it with a note, or the system closes it
once the evidence has moved on ("ready to advance" overtaken, a questionnaire answered). A
raised flag carries a key naming the episode it is about (the last entry before a silence,
the stage reached, the review date, the occasion ...): the same episode never raises a
second flag, even after acknowledgement, and a new episode raises a new one.

Pure functions over plain values: no Flask, no database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import IntEnum, StrEnum
from fractions import Fraction
from statistics import fmean

from clinic.domain.text import N_

DEFAULT_NOT_LOGGING_DAYS = 5
# Three skips for pain or fear of it within two weeks: at the usual two to three sessions
# a week, that is most of a fortnight's sessions given up to pain. A named constant, not a
# clinic setting: it is a safety control (a clinic should not be able to switch it off
# quietly), and changing it is a change to the clinical safety case.
PAIN_SKIPS = 3
PAIN_SKIPS_DAYS = 14
# The PGIC's seventh option, "very much worse" (clinic/data/instruments/pgic.json).
PGIC_KEY = "pgic"
PGIC_VERY_MUCH_WORSE = 7
PAIN_RISE_POINTS = 2.0
PAIN_WINDOW_DAYS = 7


class Severity(IntEnum):
    """How soon a flag needs a clinician; always shown in words, never by colour alone."""

    INFO = 1
    ATTENTION = 2
    URGENT = 3

    @property
    def label(self) -> str:
        return ("For information", "Needs attention", "Urgent")[self.value - 1]


class FlagKind(StrEnum):
    """The kinds of flag a patient can have."""

    RED_FLAG = "red_flag"
    PAIN_RISING = "pain_rising"
    NOT_LOGGING = "not_logging"
    REVIEW_DUE = "review_due"
    READY = "ready"
    MEASURE_OVERDUE = "measure_overdue"
    LARGER_SIZE = "larger_size"
    RESUME_REVIEW = "resume_review"
    PAIN_SKIPS = "pain_skips"
    PGIC_WORSE = "pgic_worse"
    # Open lower-severity red flags (distress), as the dashboard names them; no rule
    # raises a flag of this kind.
    DISTRESS = "distress"

    @property
    def label(self) -> str:
        return FLAG_LABELS[self]

    @property
    def severity(self) -> Severity:
        return FLAG_SEVERITIES[self]

    @property
    def one_open_at_a_time(self) -> bool:
        """Whether a new episode waits while a flag of this kind is open: one open flag is
        enough to ask for a look. Overdue questionnaires are the exception: each names its
        own occasion and closes by itself when that occasion is answered."""
        return self is not FlagKind.MEASURE_OVERDUE


FLAG_LABELS = {
    FlagKind.RED_FLAG: N_("Urgent red flag"),
    FlagKind.PAIN_RISING: N_("Pain rising"),
    FlagKind.NOT_LOGGING: N_("Not logging"),
    FlagKind.REVIEW_DUE: N_("Review due"),
    FlagKind.READY: N_("Ready to advance"),
    FlagKind.MEASURE_OVERDUE: N_("Questionnaire overdue"),
    FlagKind.LARGER_SIZE: N_("Larger size than prescribed"),
    FlagKind.RESUME_REVIEW: N_("Review before resuming"),
    FlagKind.PAIN_SKIPS: N_("Skipping for pain"),
    FlagKind.PGIC_WORSE: N_("Feels very much worse"),
    FlagKind.DISTRESS: N_("Distress: check in"),
}
FLAG_SEVERITIES = {
    FlagKind.RED_FLAG: Severity.URGENT,
    FlagKind.PAIN_RISING: Severity.ATTENTION,
    FlagKind.NOT_LOGGING: Severity.ATTENTION,
    FlagKind.REVIEW_DUE: Severity.ATTENTION,
    FlagKind.READY: Severity.INFO,
    # A missed questionnaire costs a data point, not the patient's safety or progress:
    # below silence and rising pain, with "ready to advance".
    FlagKind.MEASURE_OVERDUE: Severity.INFO,
    # Moving up on one's own skips the clinician's decision (and upsizing "as tolerated"
    # has caused tears after vaginoplasty): a look soon, not an emergency.
    FlagKind.LARGER_SIZE: Severity.ATTENTION,
    # A paused plan waits on the clinician: the patient is told nothing is prescribed yet.
    FlagKind.RESUME_REVIEW: Severity.ATTENTION,
    FlagKind.PAIN_SKIPS: Severity.ATTENTION,
    FlagKind.PGIC_WORSE: Severity.ATTENTION,
    FlagKind.DISTRESS: Severity.ATTENTION,
}


@dataclass(frozen=True)
class Signal:
    """A flag the rules say should be raised: its kind, the episode key, and why."""

    kind: FlagKind
    key: str
    detail: str


@dataclass(frozen=True)
class ScoredDay:
    """One session's pain during (and after, when known), on its clinic-local day."""

    on: date
    pain_during: int
    pain_after: int | None = None


def not_logging(
    last_entry_on: date | None,
    running_since: date,
    today: date,
    days: int = DEFAULT_NOT_LOGGING_DAYS,
) -> Signal | None:
    """A "not logging" signal when nothing was logged for `days` days or more.

    The silence is counted from the last entry, or from `running_since` (the day the
    protocol started or last resumed) when that is later: a patient is not "silent" for
    days on which nothing was asked of them.
    """
    since = max(d for d in (last_entry_on, running_since) if d is not None)
    silent = (today - since).days
    if silent < days:
        return None
    if last_entry_on is None or last_entry_on < running_since:
        detail = f"No diary entry in the {silent} days since {_day(running_since)}"
    else:
        detail = f"No diary entry for {silent} days (last on {_day(last_entry_on)})"
    return Signal(FlagKind.NOT_LOGGING, f"not_logging:{since.isoformat()}", detail)


def pain_means(sessions: Sequence[ScoredDay], last: date) -> tuple[float | None, float | None]:
    """Mean pain during over the 7 days ending on `last` (the last of "the last 7 days",
    `clinic.domain.adherence.last_days`) and over the 7 days before; None for a window
    without sessions."""
    recent, before = _pain_windows(sessions, last)
    return (fmean(recent) if recent else None, fmean(before) if before else None)


def pain_rising(
    sessions: Sequence[ScoredDay], today: date, last: date | None = None
) -> Signal | None:
    """A "pain rising" signal when the last 7 days' mean pain during, or mean pain after,
    is at least 2 points above the previous 7 days' (both windows need sessions). The last
    7 days end on `last` (`clinic.domain.adherence.last_days`; `today` if not given).

    One signal per 7-day block of `today` at most: a rise that lasts is not re-raised
    every day.
    """
    last = today if last is None else last
    block = today.toordinal() // PAIN_WINDOW_DAYS
    for when, windows in (
        ("during", _pain_windows(sessions, last)),
        ("after", _pain_after_windows(sessions, last)),
    ):
        rise = _rise(*windows)
        if rise is not None:
            recent, before = rise
            detail = (
                f"Mean pain {when} {recent:.1f} in the last 7 days, up from {before:.1f} "
                "in the 7 days before"
            )
            return Signal(FlagKind.PAIN_RISING, f"pain_rising:{block}", detail)
    return None


def _rise(recent_scores: list[int], before_scores: list[int]) -> tuple[float, float] | None:
    """The two means when the recent one is at least PAIN_RISE_POINTS above the one before."""
    if not recent_scores or not before_scores:
        return None
    # Exact means: 11/3 and 5/3 differ by exactly 2, which floats put a hair below.
    rise = Fraction(sum(recent_scores), len(recent_scores)) - Fraction(
        sum(before_scores), len(before_scores)
    )
    if rise < PAIN_RISE_POINTS:
        return None
    return fmean(recent_scores), fmean(before_scores)


def ready_to_advance(
    protocol_id: int, version: int, stage: int, stage_since: date, why: str
) -> Signal:
    """A "ready to advance" signal for the stage reached on `stage_since` (raised once per
    stage: holding a patient back does not raise it again until they move)."""
    return Signal(
        FlagKind.READY,
        f"ready:{protocol_id}:{version}:{stage}:{stage_since.isoformat()}",
        f"Stage {stage}: {why}",
    )


def larger_size(
    protocol_id: int, version: int, stage: int, used_id: int, used: str, prescribed: str, on: date
) -> Signal:
    """A "larger size than prescribed" signal: a session at stage `stage` was done with
    `used` (the size's name, catalogue id `used_id`) where `prescribed` was prescribed.
    One episode per stage and
    size used: the same size at the same stage is not raised again once acknowledged, a
    yet larger one or another stage is."""
    return Signal(
        FlagKind.LARGER_SIZE,
        f"larger_size:{protocol_id}:{version}:{stage}:{used_id}",
        f"Used a larger size than prescribed: {used} on {_day(on)}, where stage {stage}"
        f" prescribes {prescribed}. Not counted towards moving up.",
    )


def resume_review(protocol_id: int, paused_on: date, resume_on: date) -> Signal:
    """A "review before resuming" signal once a pause's planned resume date has come: the
    plan stays paused until a clinician resumes it."""
    return Signal(
        FlagKind.RESUME_REVIEW,
        f"resume_review:{protocol_id}:{paused_on.isoformat()}",
        f"Paused since {_day(paused_on)}, planned to resume on {_day(resume_on)}: review"
        " before resuming (the plan stays paused until it is resumed)",
    )


def review_due(review_on: date | None, today: date) -> Signal | None:
    """A "review due" signal once the review date the clinician set has come."""
    if review_on is None or review_on > today:
        return None
    return Signal(
        FlagKind.REVIEW_DUE,
        f"review:{review_on.isoformat()}",
        f"Review planned for {_day(review_on)}",
    )


def measure_overdue_key(assignment_id: int, occasion_key: str) -> str:
    """The episode key of one occasion of one assigned measure ("measure_overdue:12:week-4")."""
    return f"measure_overdue:{assignment_id}:{occasion_key}"


def measure_overdue(
    assignment_id: int,
    occasion_key: str,
    occasion_on: date,
    what: str,
    grace_days: int,
) -> Signal:
    """A "questionnaire overdue" signal for one occasion (call it for the occasions the
    schedule rules say are overdue); `what` names the measure and the occasion in words,
    e.g. "Dilator confidence, week 4"."""
    return Signal(
        FlagKind.MEASURE_OVERDUE,
        measure_overdue_key(assignment_id, occasion_key),
        f"{what}, asked for {_day(occasion_on)}: not answered within {grace_days} days",
    )


def pain_skips(
    skipped_on: Sequence[date],
    today: date,
    count: int = PAIN_SKIPS,
    days: int = PAIN_SKIPS_DAYS,
) -> Signal | None:
    """A "skipping for pain" signal when `count` or more sessions were skipped for pain or
    worry about pain in the last `days` days (today included); `skipped_on` holds the day
    of each such skip (withdrawn ones left out).

    The episode is the `days`-day block of the latest skip counted: a flag once
    acknowledged is raised again only by a new skip in a later block, not by the same
    skips seen on another day.
    """
    since = today - timedelta(days=days - 1)
    recent = sorted(d for d in skipped_on if since <= d <= today)
    if len(recent) < count:
        return None
    block = recent[-1].toordinal() // days
    detail = (
        f"{len(recent)} sessions skipped for pain or worry about pain in the last {days} days"
        f" (latest {_day(recent[-1])})"
    )
    return Signal(FlagKind.PAIN_SKIPS, f"pain_skips:{block}", detail)


def pgic_very_much_worse(response_id: int, answer: float | None, on: date) -> Signal | None:
    """A "feels very much worse" signal for a PGIC answer of 7 ("very much worse"), one
    per answer (its response is the episode)."""
    if answer is None or int(answer) != PGIC_VERY_MUCH_WORSE:
        return None
    return Signal(
        FlagKind.PGIC_WORSE,
        f"pgic_worse:{response_id}",
        f'Answered "very much worse" to the global impression of change on {_day(on)}',
    )


def _pain_windows(sessions: Sequence[ScoredDay], last: date) -> tuple[list[int], list[int]]:
    """Pain during of the sessions in the 7 days ending on `last` and the 7 before."""
    recent_from = last - timedelta(days=PAIN_WINDOW_DAYS - 1)
    before_from = recent_from - timedelta(days=PAIN_WINDOW_DAYS)
    recent = [s.pain_during for s in sessions if recent_from <= s.on <= last]
    before = [s.pain_during for s in sessions if before_from <= s.on < recent_from]
    return recent, before


def _pain_after_windows(sessions: Sequence[ScoredDay], last: date) -> tuple[list[int], list[int]]:
    """Pain after, as `_pain_windows` (sessions without a pain-after score left out)."""
    recent_from = last - timedelta(days=PAIN_WINDOW_DAYS - 1)
    before_from = recent_from - timedelta(days=PAIN_WINDOW_DAYS)
    scored = [(s.on, s.pain_after) for s in sessions if s.pain_after is not None]
    recent = [p for on, p in scored if recent_from <= on <= last]
    before = [p for on, p in scored if before_from <= on < recent_from]
    return recent, before


def _day(d: date) -> str:
    return f"{d.day} {d:%b %Y}"


class Trend(StrEnum):
    """Which way mean pain moved from one week to the next."""

    RISING = "rising"
    STEADY = "steady"
    FALLING = "falling"

    @property
    def arrow(self) -> str:
        return {"rising": "↑", "steady": "→", "falling": "↓"}[self.value]


# A change smaller than a point either way is noise on a 0-10 scale.
TREND_POINTS = 1.0


def pain_trend(last_7: float | None, previous_7: float | None) -> Trend | None:
    """The trend of mean pain between the previous 7 days and the last 7; None when
    either week has no sessions."""
    if last_7 is None or previous_7 is None:
        return None
    if last_7 - previous_7 >= TREND_POINTS:
        return Trend.RISING
    if previous_7 - last_7 >= TREND_POINTS:
        return Trend.FALLING
    return Trend.STEADY

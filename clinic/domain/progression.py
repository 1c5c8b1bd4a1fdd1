"""Progression: what the evidence at the current stage suggests doing next.

The clinical reference has no published "pain at most X over N sessions" rule, so each
stage carries its own: a pain ceiling, a number of recent sessions, a minimum adherence and
a minimum number of days at the stage (all set by the clinician). From those the system
**suggests** one of four next steps, with the plain-language reasons behind it; a clinician
decides and records the decision. Nothing here ever changes a protocol.

The rules, in the order they are applied:

1. An open red flag: REVIEW. Nothing moves on until a clinician has looked at it.
2. Pain during above the stage's ceiling in more than half of the recent sessions, and in
   at least three of them (fewer when the stage looks at fewer sessions): STEP BACK to let
   things settle, or REVIEW on the first stage, where there is nothing to step back to.
   A plan whose setting says "review with the surgical team" (`GoingBack`; the default
   after vaginoplasty, where a smaller size risks narrowing) is never told to step back:
   it is REVIEW.
3. Adherence below half the stage's minimum: REVIEW (what gets in the way matters more
   than the size).
4. Every condition met (enough sessions, each within the ceiling; adherence; days at the
   stage): ADVANCE, except on the last stage of the plan, where it is HOLD.
5. Otherwise HOLD, naming what is not met yet.

What counts as evidence (issue 16):

- The recent sessions are the last `last_n_sessions` sessions that *count*: done with the
  prescribed size and at least the counted share of its minutes. A session with a smaller
  or larger size, or too short, is never evidence for advancing.
- A session belongs to the stage in force on its day and is judged by that stage's size
  and minutes, whatever stage it was saved under (review 16: a move up dated back to the
  appointment leaves the sessions logged in between with the old size; they never count
  for the new stage, nor toward its adherence). Only sessions with the current stage's
  size count (`clinic.domain.adherence.counts_as_completed`, `with_prescribed_size`).
- A recent session is within the ceiling when both its pain during **and** its pain after
  are at or below it, and it raised no red flag: an acknowledged red flag still speaks
  against advancing while its session is in the evidence window. Pain after therefore
  holds (HOLD); stepping back still looks at pain during only.
- The evidence window runs from the oldest recent session to today, and every session in
  it counts against advancing when it was painful or raised a red flag, whatever its size
  or length (a painful session with a smaller size is still a painful session).

Suggestions are ordered STEP BACK < REVIEW < HOLD < ADVANCE: adding a completed,
painless session never moves the suggestion down that order (a property the tests check).

Pure functions over plain values: no Flask, no database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from clinic.domain.indications import Indication, Indications
from clinic.domain.text import N_

# Fewest painful sessions that suggest stepping back: one or two bad sessions are a reason
# to hold, not to go back.
MIN_SESSIONS_TO_STEP_BACK = 3


class Suggestion(StrEnum):
    """A next step the system may suggest for the current stage."""

    STEP_BACK = "step_back"
    REVIEW = "review"
    HOLD = "hold"
    ADVANCE = "advance"

    @property
    def label(self) -> str:
        return {
            "step_back": N_("Step back"),
            "review": N_("Review"),
            "hold": N_("Hold"),
            "advance": N_("Advance"),
        }[self.value]

    @property
    def is_review(self) -> bool:
        """A call to look at the patient, not a decision to record."""
        return self is Suggestion.REVIEW

    @property
    def rank(self) -> int:
        """Position in the order STEP BACK < REVIEW < HOLD < ADVANCE."""
        return list(Suggestion).index(self)


class GoingBack(StrEnum):
    """What a plan suggests when pain says go back: a smaller size, or a review with the
    surgical team (after vaginoplasty going down a size risks narrowing)."""

    STEP_BACK = "step_back"
    SURGICAL_REVIEW = "surgical_review"

    @property
    def label(self) -> str:
        return {
            "step_back": N_("Step back a stage"),
            "surgical_review": N_("Review with the surgical team (never a smaller size)"),
        }[self.value]


def default_going_back(indication: Indication | Indications) -> GoingBack:
    """The setting a new template or protocol starts with: review after vaginoplasty
    (the patient's or the template's indication, see `Indications`)."""
    if indication.is_neovagina:
        return GoingBack.SURGICAL_REVIEW
    return GoingBack.STEP_BACK


@dataclass(frozen=True)
class StageRule:
    """The progression rule of one stage, as the clinician set it."""

    pain_ceiling: int
    last_n_sessions: int
    min_adherence_pct: int
    min_days: int


@dataclass(frozen=True)
class StageSession:
    """A session done at the current stage (not skipped or withdrawn), as the rule sees
    it: its pain scores, whether it counts (prescribed size, at least the counted minutes)
    and whether it raised a red flag (acknowledged or not)."""

    pain_during: int
    pain_after: int
    counts: bool = True
    red_flag: bool = False
    # Logged for a day before the patient began the diary (the diary takes entries a week
    # back): evidence against moving on like any other, never evidence for it, as that
    # day's adherence is not known.
    logged_back: bool = False

    def within(self, ceiling: int) -> bool:
        """Pain during and after at or below `ceiling`, and no red flag."""
        return self.pain_during <= ceiling and self.pain_after <= ceiling and not self.red_flag


@dataclass(frozen=True)
class Evidence:
    """What is known about the patient's time at the current stage.

    `sessions` are the sessions done at this stage (not skipped or withdrawn), oldest
    first. `adherence_pct` covers the days at this stage (at most the last 28), None when
    those days prescribed nothing; `adherence_days` says how many days that was, so the
    figure can name its window beside other adherence figures (issue 17).
    """

    rule: StageRule
    sessions: Sequence[StageSession]
    adherence_pct: float | None
    days_at_stage: int
    open_red_flags: int
    stage: int
    stage_count: int
    going_back: GoingBack = GoingBack.STEP_BACK
    adherence_days: int | None = None
    # The adherence window starts the day the patient began the diary (joined the portal
    # during this stage), or lies wholly before it (joined today, nothing logged yet).
    adherence_since_diary: bool = False
    before_diary: bool = False

    @property
    def counted(self) -> Sequence[StageSession]:
        """The sessions that count: prescribed size, at least the counted minutes."""
        return [s for s in self.sessions if s.counts]

    @property
    def recent(self) -> Sequence[StageSession]:
        """The sessions the rule looks at: the last `last_n_sessions` that count."""
        return self.counted[-self.rule.last_n_sessions :]

    @property
    def others_against(self) -> int:
        """Sessions in the evidence window that do not count but speak against advancing
        (painful or red-flagged): from the oldest recent session on, every session of the
        stage when none counts yet."""
        counted_at = [i for i, s in enumerate(self.sessions) if s.counts]
        recent_at = counted_at[-self.rule.last_n_sessions :]
        start = recent_at[0] if recent_at else 0
        return sum(
            1
            for s in self.sessions[start:]
            if not s.counts and not s.within(self.rule.pain_ceiling)
        )

    @property
    def on_last_stage(self) -> bool:
        return self.stage >= self.stage_count


@dataclass(frozen=True)
class Reason:
    """One piece of evidence in plain words, and whether it speaks for advancing."""

    text: str
    met: bool


@dataclass(frozen=True)
class Advice:
    """A suggested next step and the reasons behind it, most important first."""

    suggestion: Suggestion
    reasons: tuple[Reason, ...]

    @property
    def summary(self) -> str:
        """The reasons on one line, as a decision's pre-filled reason."""
        return "; ".join(r.text for r in self.reasons)


def suggest(evidence: Evidence) -> Advice:
    """The suggested next step for the current stage, with its reasons."""
    rule = evidence.rule
    recent = evidence.recent
    # Stepping back looks at pain during only; pain after and red flags hold (see above).
    painful = sum(1 for s in recent if s.pain_during > rule.pain_ceiling)
    criteria = (
        _pain_reason(evidence),
        _adherence_reason(evidence),
        Reason(
            f"{_days(evidence.days_at_stage)} at this stage (≥ {rule.min_days})",
            evidence.days_at_stage >= rule.min_days,
        ),
    )

    if evidence.open_red_flags:
        flags = _count(evidence.open_red_flags, "open red flag")
        return Advice(
            Suggestion.REVIEW,
            (Reason(f"{flags}: review before any change", False), *criteria),
        )
    if painful >= min(MIN_SESSIONS_TO_STEP_BACK, rule.last_n_sessions) and painful * 2 > len(
        recent
    ):
        if evidence.going_back is GoingBack.SURGICAL_REVIEW:
            surgical = Reason(
                "going down a size risks narrowing: review with the surgical team", False
            )
            return Advice(Suggestion.REVIEW, (criteria[0], surgical, *criteria[1:]))
        if evidence.stage > 1:
            return Advice(Suggestion.STEP_BACK, criteria)
        first = Reason("already on the first stage: nothing to step back to", False)
        return Advice(Suggestion.REVIEW, (criteria[0], first, *criteria[1:]))
    if (
        evidence.adherence_pct is not None
        and evidence.adherence_pct * 2 < rule.min_adherence_pct
        and evidence.days_at_stage >= 7
    ):
        return Advice(Suggestion.REVIEW, (criteria[1], criteria[0], criteria[2]))
    if all(r.met for r in criteria):
        if evidence.on_last_stage:
            last = Reason("last stage of the plan: continue, or consider completing it", False)
            return Advice(Suggestion.HOLD, (last, *criteria))
        return Advice(Suggestion.ADVANCE, criteria)
    return Advice(Suggestion.HOLD, tuple(sorted(criteria, key=lambda r: r.met)))


def _pain_reason(evidence: Evidence) -> Reason:
    rule = evidence.rule
    ceiling = rule.pain_ceiling
    recent = evidence.recent
    needed = rule.last_n_sessions
    within = sum(1 for s in recent if s.within(ceiling) and not s.logged_back)
    flagged = sum(1 for s in recent if s.red_flag)
    logged_back = sum(1 for s in recent if s.logged_back)
    others = evidence.others_against
    notes = []
    if flagged:
        notes.append(f"{flagged} with a red flag")
    if logged_back:
        notes.append(f"{logged_back} logged for days before the diary began, not counted")
    if others:
        notes.append(
            f"{_count(others, 'other session')} with another size or fewer minutes"
            f" above {ceiling} or with a red flag"
        )
    uncounted = len(evidence.sessions) - len(evidence.counted)
    if len(recent) < needed and uncounted:
        notes.append(f"{uncounted} not counted: another size or fewer minutes")
    note = f" ({'; '.join(notes)})" if notes else ""
    # One parenthesis, not two: "(6 needed; 1 with a red flag)".
    short = f" ({'; '.join([f'{needed} needed', *notes])})"
    if not evidence.sessions:
        return Reason(f"no sessions logged at this stage yet ({needed} needed)", False)
    if not recent:
        return Reason(
            f"no sessions with the prescribed size and minutes at this stage yet{short}",
            False,
        )
    if len(recent) < needed:
        return Reason(
            f"pain during and after ≤ {ceiling} in {within} of"
            f" {_count(len(recent), 'session')} at this stage{short}",
            False,
        )
    return Reason(
        f"pain during and after ≤ {ceiling} in {within} of the last"
        f" {_count(needed, 'session')}{note}",
        within == needed and not others,
    )


def _adherence_reason(evidence: Evidence) -> Reason:
    minimum = evidence.rule.min_adherence_pct
    if evidence.before_diary:
        return Reason("no adherence yet: the patient began the diary today", minimum == 0)
    if evidence.adherence_pct is None:
        return Reason("no sessions prescribed at this stage yet", minimum == 0)
    met = evidence.adherence_pct >= minimum
    # Rounded as everywhere else, but never up to the minimum when it is not met: 79.6%
    # against 80% must not read "80% (< 80%)".
    pct = round(evidence.adherence_pct) if met else min(round(evidence.adherence_pct), minimum - 1)
    # Named by its window: a page may show another adherence figure (the last 28 days,
    # the report's period) beside this one, and two unnamed figures read as a contradiction.
    days = evidence.adherence_days
    window = f"at this stage, last {_days(days)}" if days else "at this stage"
    if evidence.adherence_since_diary and days:
        window = f"at this stage since the diary began ({_days(days)})"
    return Reason(f"adherence {window}: {pct}% ({'≥' if met else '<'} {minimum}%)", met)


def _days(n: int) -> str:
    return _count(n, "day")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"

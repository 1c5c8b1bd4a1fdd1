"""Progression suggestions: the worked examples a clinician would check by hand, the
edge cases, and hypothesis properties of the order STEP BACK < REVIEW < HOLD < ADVANCE."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from itertools import product

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clinic.domain.indications import Indication
from clinic.domain.progression import (
    MIN_SESSIONS_TO_STEP_BACK,
    Advice,
    Evidence,
    GoingBack,
    Reason,
    StageRule,
    StageSession,
    Suggestion,
    default_going_back,
    suggest,
)

RULE = StageRule(pain_ceiling=3, last_n_sessions=6, min_adherence_pct=80, min_days=14)


def evidence(
    pains: Sequence[int] = (1, 2, 3, 0, 2, 3),
    adherence: float | None = 86,
    days: int = 15,
    red_flags: int = 0,
    stage: int = 2,
    stage_count: int = 4,
    rule: StageRule = RULE,
    sessions: Sequence[StageSession] | None = None,
) -> Evidence:
    """Evidence that meets every condition of `RULE` unless told otherwise: `pains` are
    sessions that count, each with the same pain during and after (or give `sessions`)."""
    return Evidence(
        rule=rule,
        sessions=list(sessions) if sessions is not None else [StageSession(p, p) for p in pains],
        adherence_pct=adherence,
        days_at_stage=days,
        open_red_flags=red_flags,
        stage=stage,
        stage_count=stage_count,
    )


def texts(advice: Advice) -> list[str]:
    """The reasons' texts, in order."""
    return [r.text for r in advice.reasons]


PAIN_MET = Reason("pain during and after ≤ 3 in 6 of the last 6 sessions", True)
ADHERENCE_MET = Reason("adherence at this stage: 86% (≥ 80%)", True)
DAYS_MET = Reason("15 days at this stage (≥ 14)", True)


# ---------------------------------------------------------------------------------------
# The order of suggestions


def test_suggestions_rank_step_back_review_hold_advance() -> None:
    """rank orders the suggestions STEP BACK < REVIEW < HOLD < ADVANCE."""
    ranks = [s.rank for s in (Suggestion.STEP_BACK, Suggestion.REVIEW, Suggestion.HOLD)]
    assert [*ranks, Suggestion.ADVANCE.rank] == [0, 1, 2, 3]


def test_suggestions_have_plain_labels() -> None:
    """Each suggestion has a label in words for the clinician."""
    assert [s.label for s in Suggestion] == ["Step back", "Review", "Hold", "Advance"]


# ---------------------------------------------------------------------------------------
# ADVANCE


def test_every_condition_met_advances_with_its_three_reasons() -> None:
    """Ceiling 3, last 6 all ≤ 3, adherence 86, 15 days (min 14): ADVANCE, reasons in order."""
    advice = suggest(evidence())
    assert advice.suggestion is Suggestion.ADVANCE
    assert advice.reasons == (PAIN_MET, ADHERENCE_MET, DAYS_MET)


def test_summary_joins_the_reasons_on_one_line() -> None:
    """The summary (a decision's pre-filled reason) is the reasons joined by semicolons."""
    assert suggest(evidence()).summary == (
        "pain during and after ≤ 3 in 6 of the last 6 sessions; "
        "adherence at this stage: 86% (≥ 80%); 15 days at this stage (≥ 14)"
    )


def test_only_the_last_n_sessions_count() -> None:
    """Painful sessions older than the last N no longer stand in the way of advancing."""
    advice = suggest(evidence(pains=[9, 8, 9, 0, 1, 2, 3, 1, 0]))
    assert advice.suggestion is Suggestion.ADVANCE
    assert advice.reasons[0] == PAIN_MET


def test_the_minimums_themselves_are_enough() -> None:
    """Pain at the ceiling, adherence exactly at the minimum and exactly min days advance."""
    advice = suggest(evidence(pains=[3] * 6, adherence=80, days=14))
    assert advice.suggestion is Suggestion.ADVANCE
    assert texts(advice)[1:] == [
        "adherence at this stage: 80% (≥ 80%)",
        "14 days at this stage (≥ 14)",
    ]


def test_adherence_names_the_days_it_covers() -> None:
    """Given the days the figure covers, the reason names them, so it never sits unnamed
    beside another window's adherence (the last 28 days, a report's period)."""
    ev = replace(evidence(), adherence_days=12)
    assert texts(suggest(ev))[1] == "adherence at this stage, last 12 days: 86% (≥ 80%)"
    assert texts(suggest(replace(ev, adherence_days=1)))[1].startswith(
        "adherence at this stage, last 1 day: "
    )


def test_adherence_since_the_diary_began_says_so() -> None:
    """A patient who joined the portal during this stage: the figure covers the days since
    they began the diary, and says so; one who joined today with nothing logged yet has no
    figure, and the reason says why rather than "no sessions prescribed"."""
    ev = replace(evidence(), adherence_days=3, adherence_since_diary=True)
    assert texts(suggest(ev))[1] == (
        "adherence at this stage since the diary began (3 days): 86% (≥ 80%)"
    )
    today = replace(evidence(adherence=None), adherence_days=1, before_diary=True)
    advice = suggest(today)
    assert "no adherence yet: the patient began the diary today" in texts(advice)
    assert advice.suggestion is not Suggestion.ADVANCE


def test_sessions_logged_back_before_the_diary_never_speak_for_moving_on() -> None:
    """Six sessions at low pain, five of them logged back for days before the diary
    began: not evidence for advancing (their days' adherence is not known), and the
    reason says why; six at high pain logged back still step back, as any would."""
    calm = [StageSession(1, 1, logged_back=n < 5) for n in range(6)]
    advice = suggest(evidence(sessions=calm))
    assert advice.suggestion is Suggestion.HOLD
    assert texts(advice)[0] == (
        "pain during and after ≤ 3 in 1 of the last 6 sessions"
        " (5 logged for days before the diary began, not counted)"
    )
    painful = [StageSession(6, 6, logged_back=True) for _ in range(6)]
    assert suggest(evidence(sessions=painful)).suggestion is Suggestion.STEP_BACK


def test_adherence_is_shown_rounded() -> None:
    """Six of seven sessions (85.71...%) reads as 86%."""
    shown = texts(suggest(evidence(adherence=100 * 6 / 7)))[1]
    assert shown == "adherence at this stage: 86% (≥ 80%)"


def test_a_rule_with_no_minimum_adherence_accepts_a_window_that_prescribed_nothing() -> None:
    """min_adherence 0: adherence None is met, so the stage can still advance."""
    rule = StageRule(pain_ceiling=3, last_n_sessions=6, min_adherence_pct=0, min_days=14)
    advice = suggest(evidence(adherence=None, rule=rule))
    assert advice.suggestion is Suggestion.ADVANCE
    assert advice.reasons[1] == Reason("no sessions prescribed at this stage yet", True)


def test_no_minimum_adherence_accepts_zero_adherence() -> None:
    """min_adherence 0: 0% is met (0 ≥ 0) and never triggers the low-adherence review."""
    rule = StageRule(pain_ceiling=3, last_n_sessions=6, min_adherence_pct=0, min_days=14)
    advice = suggest(evidence(adherence=0, rule=rule))
    assert advice.suggestion is Suggestion.ADVANCE
    assert texts(advice)[1] == "adherence at this stage: 0% (≥ 0%)"


# ---------------------------------------------------------------------------------------
# The last stage


def test_the_last_stage_holds_instead_of_advancing() -> None:
    """Everything met on the last stage: HOLD, with the last-stage reason first."""
    advice = suggest(evidence(stage=4, stage_count=4))
    assert advice.suggestion is Suggestion.HOLD
    assert advice.reasons == (
        Reason("last stage of the plan: continue, or consider completing it", False),
        PAIN_MET,
        ADHERENCE_MET,
        DAYS_MET,
    )


def test_a_single_stage_plan_never_advances() -> None:
    """Stage 1 of 1 is the last stage too."""
    assert suggest(evidence(stage=1, stage_count=1)).suggestion is Suggestion.HOLD


# ---------------------------------------------------------------------------------------
# Red flags


def test_an_open_red_flag_means_review_before_anything_else() -> None:
    """One open red flag turns an otherwise ready stage into REVIEW, that reason first."""
    advice = suggest(evidence(red_flags=1))
    assert advice.suggestion is Suggestion.REVIEW
    assert advice.reasons == (
        Reason("1 open red flag: review before any change", False),
        PAIN_MET,
        ADHERENCE_MET,
        DAYS_MET,
    )


def test_red_flags_are_counted_in_the_reason() -> None:
    """Three open red flags read as "3 open red flags"."""
    assert texts(suggest(evidence(red_flags=3)))[0] == "3 open red flags: review before any change"


def test_a_red_flag_outranks_stepping_back() -> None:
    """Painful sessions and a red flag: REVIEW, not STEP BACK (rule 1 comes first)."""
    advice = suggest(evidence(pains=[9] * 6, red_flags=1))
    assert advice.suggestion is Suggestion.REVIEW


# ---------------------------------------------------------------------------------------
# STEP BACK, or REVIEW on the first stage


def test_four_of_six_painful_steps_back_on_stage_2() -> None:
    """4 of the last 6 above ceiling 3 on stage 2: STEP BACK, reasons as for advancing."""
    advice = suggest(evidence(pains=[1, 5, 6, 2, 4, 7]))
    assert advice.suggestion is Suggestion.STEP_BACK
    assert advice.reasons == (
        Reason("pain during and after ≤ 3 in 2 of the last 6 sessions", False),
        ADHERENCE_MET,
        DAYS_MET,
    )


def test_four_of_six_painful_on_stage_1_is_a_review() -> None:
    """Same pain on the first stage: REVIEW, saying there is nothing to step back to."""
    advice = suggest(evidence(pains=[1, 5, 6, 2, 4, 7], stage=1))
    assert advice.suggestion is Suggestion.REVIEW
    assert advice.reasons == (
        Reason("pain during and after ≤ 3 in 2 of the last 6 sessions", False),
        Reason("already on the first stage: nothing to step back to", False),
        ADHERENCE_MET,
        DAYS_MET,
    )


def test_exactly_half_painful_holds() -> None:
    """3 of 6 above the ceiling is not more than half: HOLD, not STEP BACK."""
    advice = suggest(evidence(pains=[4, 0, 5, 0, 6, 0]))
    assert advice.suggestion is Suggestion.HOLD


def test_two_painful_sessions_of_three_logged_hold() -> None:
    """More than half but fewer than three painful sessions: one or two bad days hold."""
    advice = suggest(evidence(pains=[5, 0, 6]))
    assert advice.suggestion is Suggestion.HOLD
    assert MIN_SESSIONS_TO_STEP_BACK == 3


def test_three_painful_of_four_logged_steps_back() -> None:
    """Fewer than N logged, but three painful and more than half: STEP BACK."""
    assert suggest(evidence(pains=[5, 0, 6, 7])).suggestion is Suggestion.STEP_BACK


@pytest.mark.parametrize(
    ("last_n", "pains", "expected"),
    [
        (1, [5], Suggestion.STEP_BACK),
        (2, [5, 6], Suggestion.STEP_BACK),
        (2, [5, 0], Suggestion.HOLD),
        (3, [0, 5, 6], Suggestion.HOLD),
    ],
)
def test_a_stage_that_looks_at_fewer_sessions_needs_fewer_painful_ones(
    last_n: int, pains: list[int], expected: Suggestion
) -> None:
    """With N < 3 painful sessions needed is N (still more than half); with N = 3, three."""
    rule = StageRule(pain_ceiling=3, last_n_sessions=last_n, min_adherence_pct=80, min_days=14)
    assert suggest(evidence(pains=pains, rule=rule)).suggestion is expected


def test_stepping_back_outranks_low_adherence() -> None:
    """Painful sessions and very low adherence: STEP BACK (rule 2 before rule 3)."""
    advice = suggest(evidence(pains=[5, 6, 7, 8], adherence=10))
    assert advice.suggestion is Suggestion.STEP_BACK


# ---------------------------------------------------------------------------------------
# REVIEW for low adherence


def test_adherence_below_half_the_minimum_after_a_week_is_a_review() -> None:
    """Adherence 39% against 80% after 7 days: REVIEW, adherence reason first."""
    advice = suggest(evidence(adherence=39, days=7))
    assert advice.suggestion is Suggestion.REVIEW
    assert advice.reasons == (
        Reason("adherence at this stage: 39% (< 80%)", False),
        PAIN_MET,
        Reason("7 days at this stage (≥ 14)", False),
    )


def test_adherence_at_exactly_half_the_minimum_holds() -> None:
    """40% against 80% is half, not below it: HOLD."""
    assert suggest(evidence(adherence=40, days=20)).suggestion is Suggestion.HOLD


def test_low_adherence_in_the_first_week_holds() -> None:
    """Six days at the stage is too soon to review adherence: HOLD."""
    assert suggest(evidence(adherence=10, days=6)).suggestion is Suggestion.HOLD


def test_no_adherence_yet_is_not_low_adherence() -> None:
    """Adherence None (nothing prescribed) never triggers the low-adherence review."""
    advice = suggest(evidence(adherence=None, days=30))
    assert advice.suggestion is Suggestion.HOLD
    assert advice.reasons[0] == Reason("no sessions prescribed at this stage yet", False)


# ---------------------------------------------------------------------------------------
# HOLD, and the pain reason before N sessions


def test_hold_lists_the_unmet_reasons_first() -> None:
    """Adherence and days unmet: those two first, in their usual order, then the met one."""
    advice = suggest(evidence(adherence=70, days=10))
    assert advice.suggestion is Suggestion.HOLD
    assert advice.reasons == (
        Reason("adherence at this stage: 70% (< 80%)", False),
        Reason("10 days at this stage (≥ 14)", False),
        PAIN_MET,
    )


def test_one_painful_session_holds_and_says_so() -> None:
    """One session of six above the ceiling: HOLD, pain reason unmet and first."""
    advice = suggest(evidence(pains=[1, 2, 3, 4, 2, 1]))
    assert advice.suggestion is Suggestion.HOLD
    assert advice.reasons == (
        Reason("pain during and after ≤ 3 in 5 of the last 6 sessions", False),
        ADHERENCE_MET,
        DAYS_MET,
    )


def test_no_sessions_yet_holds() -> None:
    """No session at the stage: HOLD, saying how many are needed."""
    advice = suggest(evidence(pains=[]))
    assert advice.suggestion is Suggestion.HOLD
    assert advice.reasons[0] == Reason("no sessions logged at this stage yet (6 needed)", False)


def test_fewer_than_n_sessions_hold_however_painless() -> None:
    """Four painless sessions when six are needed: HOLD, counting what there is."""
    advice = suggest(evidence(pains=[0, 1, 2, 3]))
    assert advice.suggestion is Suggestion.HOLD
    assert advice.reasons[0] == Reason(
        "pain during and after ≤ 3 in 4 of 4 sessions at this stage (6 needed)", False
    )


def test_counts_are_singular_for_one() -> None:
    """One session and one day read "1 session" and "1 day", not "1 sessions"."""
    advice = suggest(evidence(pains=[2], days=1))
    assert (
        texts(advice)[0] == "pain during and after ≤ 3 in 1 of 1 session at this stage (6 needed)"
    )
    assert "1 day at this stage (≥ 14)" in texts(advice)


def test_a_one_session_rule_reads_singular() -> None:
    """A rule over the last session only: "in 1 of the last 1 session"."""
    rule = StageRule(pain_ceiling=3, last_n_sessions=1, min_adherence_pct=80, min_days=14)
    assert texts(suggest(evidence(pains=[2], rule=rule)))[0] == (
        "pain during and after ≤ 3 in 1 of the last 1 session"
    )


def test_adherence_just_below_the_minimum_never_reads_as_the_minimum() -> None:
    """79.6% against 80% is unmet, so it must not read "80% (< 80%)"."""
    advice = suggest(evidence(adherence=79.6))
    assert advice.suggestion is Suggestion.HOLD
    assert texts(advice)[0] == "adherence at this stage: 79% (< 80%)"


# ---------------------------------------------------------------------------------------
# Properties


@st.composite
def rules(draw) -> StageRule:
    """Any rule within the ranges the stage editor accepts."""
    return StageRule(
        pain_ceiling=draw(st.integers(0, 10)),
        last_n_sessions=draw(st.integers(1, 8) | st.integers(1, 30)),
        min_adherence_pct=draw(st.integers(0, 100)),
        min_days=draw(st.integers(0, 365)),
    )


@st.composite
def evidences(draw) -> Evidence:
    """Any evidence the monitoring code could assemble, drawn near the rule's thresholds
    (pain around the ceiling, adherence and days around their minimums) so that every
    suggestion comes up."""
    rule = draw(rules())
    n = rule.last_n_sessions
    stage_count = draw(st.integers(1, 8))
    # Per example, sessions mostly within the ceiling, mostly above it, or anything.
    pain = draw(
        st.sampled_from(
            [
                st.integers(0, rule.pain_ceiling),
                st.integers(min(rule.pain_ceiling + 1, 10), 10),
                st.integers(0, 10),
            ]
        )
    )
    near_minimum = st.floats(-60, 60, allow_nan=False) | st.sampled_from([-1e-9, -0.5, 0.0])
    adherence = (
        st.none()
        | st.floats(0, 100, allow_nan=False)
        | near_minimum.map(lambda d: min(100.0, max(0.0, rule.min_adherence_pct + d)))
    )
    # Often at least the N sessions the rule looks at, sometimes fewer.
    count = draw(st.integers(0, n + 5) | st.integers(n, n + 5) | st.integers(0, 3))
    days = st.integers(0, 400) | st.integers(-3, 3).map(lambda d: max(0, rule.min_days + d))
    # Mostly sessions that count, without a red flag, pain after near pain during.
    session = st.builds(
        StageSession,
        pain_during=pain,
        pain_after=pain,
        counts=st.sampled_from([True, True, True, False]),
        red_flag=st.sampled_from([False, False, False, False, True]),
    )
    return Evidence(
        rule=rule,
        sessions=draw(st.lists(session, min_size=count, max_size=count)),
        adherence_pct=draw(adherence),
        days_at_stage=draw(days),
        open_red_flags=draw(st.sampled_from([0, 0, 0, 0, 0, 1, 3])),
        stage=draw(st.integers(1, stage_count)),
        stage_count=stage_count,
        going_back=draw(st.sampled_from(list(GoingBack))),
        adherence_days=draw(st.none() | st.integers(0, 28)),
    )


@given(evidences())
def test_never_advance_with_an_open_red_flag(ev: Evidence) -> None:
    """Property: any open red flag gives REVIEW, never ADVANCE."""
    if ev.open_red_flags:
        assert suggest(ev).suggestion is Suggestion.REVIEW


@given(evidences())
def test_never_advance_on_the_last_stage(ev: Evidence) -> None:
    """Property: the last stage of the plan is never suggested to advance."""
    if ev.on_last_stage:
        assert suggest(ev).suggestion is not Suggestion.ADVANCE


@given(evidences())
def test_never_step_back_from_the_first_stage(ev: Evidence) -> None:
    """Property: there is nothing before stage 1, so it is never told to step back."""
    if ev.stage == 1:
        assert suggest(ev).suggestion is not Suggestion.STEP_BACK


@given(evidences())
def test_advance_only_when_every_condition_is_met(ev: Evidence) -> None:
    """Property: ADVANCE means N sessions all within the ceiling, adherence and days met."""
    advice = suggest(ev)
    if advice.suggestion is Suggestion.ADVANCE:
        rule = ev.rule
        counted_at = [i for i, x in enumerate(ev.sessions) if x.counts]
        assert len(counted_at) >= rule.last_n_sessions
        # Every session from the oldest of the last N that count is within the ceiling
        # (during and after, no red flag), whatever its size or length.
        window = ev.sessions[counted_at[-rule.last_n_sessions] :]
        assert all(x.within(rule.pain_ceiling) for x in window)
        assert ev.days_at_stage >= rule.min_days
        if ev.adherence_pct is None:
            assert rule.min_adherence_pct == 0
        else:
            assert ev.adherence_pct >= rule.min_adherence_pct
        assert all(r.met for r in advice.reasons)


@given(evidences())
def test_step_back_only_when_most_recent_sessions_hurt(ev: Evidence) -> None:
    """Property: STEP BACK means more than half the recent sessions above the ceiling."""
    if suggest(ev).suggestion is Suggestion.STEP_BACK:
        painful = sum(1 for x in ev.recent if x.pain_during > ev.rule.pain_ceiling)
        assert painful * 2 > len(ev.recent)
        assert painful >= min(MIN_SESSIONS_TO_STEP_BACK, ev.rule.last_n_sessions)
        assert ev.stage > 1


@given(evidences())
def test_every_suggestion_gives_its_reasons(ev: Evidence) -> None:
    """Property: each suggestion carries the pain, adherence and days reasons (at least
    three), and a HOLD lists its unmet reasons before its met ones."""
    advice = suggest(ev)
    assert len(advice.reasons) >= 3
    assert all(r.text for r in advice.reasons)
    assert any(r.text.endswith(f"at this stage (≥ {ev.rule.min_days})") for r in advice.reasons)
    if advice.suggestion is Suggestion.HOLD:
        met = [r.met for r in advice.reasons]
        assert met == sorted(met)


@given(evidences())
def test_adherence_text_agrees_with_its_verdict(ev: Evidence) -> None:
    """Property: the adherence shown never contradicts the comparison beside it."""
    if ev.adherence_pct is None:
        return
    minimum = ev.rule.min_adherence_pct
    reason = next(r for r in suggest(ev).reasons if r.text.startswith("adherence "))
    shown = int(reason.text.split(": ")[-1].split("%")[0])
    if reason.met:
        assert shown >= minimum
        assert reason.text.endswith(f"(≥ {minimum}%)")
    else:
        assert shown < minimum
        assert reason.text.endswith(f"(< {minimum}%)")


@given(evidences(), st.data())
def test_a_painless_completed_session_never_makes_the_suggestion_worse(
    ev: Evidence, data: st.DataObject
) -> None:
    """Property: appending a pain-0 session, with adherence not lowered, never moves the
    suggestion down the order STEP BACK < REVIEW < HOLD < ADVANCE."""
    before = suggest(ev)
    if ev.adherence_pct is None:
        adherence = None  # a window that prescribed nothing still prescribes nothing
    else:
        adherence = data.draw(st.floats(ev.adherence_pct, 100, allow_nan=False))
    # The same evidence otherwise (the going-back setting too).
    after = suggest(
        replace(ev, sessions=[*ev.sessions, StageSession(0, 0)], adherence_pct=adherence)
    )
    assert after.suggestion.rank >= before.suggestion.rank


@given(evidences())
def test_suggest_is_pure(ev: Evidence) -> None:
    """Property: the same evidence always gives the same advice and is left unchanged."""
    sessions = list(ev.sessions)
    assert suggest(ev) == suggest(ev)
    assert list(ev.sessions) == sessions


@given(st.integers(1, 100), st.floats(0.001, 0.999, allow_nan=False))
def test_adherence_just_under_any_minimum_reads_below_it(minimum: int, short: float) -> None:
    """Property: adherence a fraction of a point under the minimum reads below it."""
    rule = StageRule(pain_ceiling=3, last_n_sessions=6, min_adherence_pct=minimum, min_days=14)
    advice = suggest(evidence(adherence=minimum - short, rule=rule))
    reason = next(r for r in advice.reasons if r.text.startswith("adherence "))
    assert not reason.met
    shown = min(round(minimum - short), minimum - 1)
    assert reason.text == f"adherence at this stage: {shown}% (< {minimum}%)"


def test_a_painless_session_never_makes_things_worse_in_a_small_world() -> None:
    """Exhaustively over a small world (three-session rule, pains 0 or 5, adherence and days
    at and around their thresholds): a pain-0 session with adherence not lowered never
    moves the suggestion down the order."""
    rule = StageRule(pain_ceiling=3, last_n_sessions=3, min_adherence_pct=80, min_days=14)
    histories = [list(p) for n in range(5) for p in product((0, 5), repeat=n)]
    adherences = [0, 39, 40, 79.6, 80, 100]
    for pains, adherence, days, flags, stage in product(
        histories, [None, *adherences], (0, 6, 7, 14), (0, 1), (1, 2, 3)
    ):
        before = suggest(evidence(pains, adherence, days, flags, stage, 3, rule))
        raised = [None] if adherence is None else [a for a in adherences if a >= adherence]
        for later in raised:
            after = suggest(evidence([*pains, 0], later, days, flags, stage, 3, rule))
            assert after.suggestion.rank >= before.suggestion.rank, (pains, adherence, later)


# ---------------------------------------------------------------------------------------
# What counts as evidence (issue 16): the prescribed size, pain after, red flags


def test_sessions_with_another_size_or_too_short_are_not_evidence_for_advancing() -> None:
    """Six painless sessions, two of them with another size or too short: only four count,
    so HOLD, and the reason says why the other two are not counted."""
    sessions = [StageSession(1, 1)] * 4 + [StageSession(0, 0, counts=False)] * 2
    advice = suggest(evidence(sessions=sessions))
    assert advice.suggestion is Suggestion.HOLD
    assert texts(advice)[0] == (
        "pain during and after ≤ 3 in 4 of 4 sessions at this stage (6 needed;"
        " 2 not counted: another size or fewer minutes)"
    )


def test_only_sessions_with_another_size_say_so() -> None:
    """No session with the prescribed size and minutes yet: HOLD, saying so."""
    advice = suggest(evidence(sessions=[StageSession(0, 0, counts=False)] * 8))
    assert advice.suggestion is Suggestion.HOLD
    assert texts(advice)[0] == (
        "no sessions with the prescribed size and minutes at this stage yet (6 needed;"
        " 8 not counted: another size or fewer minutes)"
    )


def test_a_painful_session_with_another_size_in_the_window_holds() -> None:
    """Six painless sessions that count, and between them one with a smaller size at
    pain 6: HOLD (a painful session is painful whatever the size)."""
    sessions = [StageSession(1, 1)] * 3 + [StageSession(6, 2, counts=False)]
    sessions += [StageSession(1, 1)] * 3
    advice = suggest(evidence(sessions=sessions))
    assert advice.suggestion is Suggestion.HOLD
    assert advice.reasons[0] == Reason(
        "pain during and after ≤ 3 in 6 of the last 6 sessions (1 other session with another"
        " size or fewer minutes above 3 or with a red flag)",
        False,
    )


def test_an_uncounted_session_before_the_window_does_not_matter() -> None:
    """A painful session with another size before the last six that count is outside the
    evidence window: ADVANCE."""
    sessions = [StageSession(6, 6, counts=False)] + [StageSession(1, 1)] * 6
    assert suggest(evidence(sessions=sessions)).suggestion is Suggestion.ADVANCE


def test_pain_after_above_the_ceiling_holds() -> None:
    """Pain during within the ceiling but pain after 5 in one of the last six: HOLD."""
    sessions = [StageSession(1, 1)] * 5 + [StageSession(2, 5)]
    advice = suggest(evidence(sessions=sessions))
    assert advice.suggestion is Suggestion.HOLD
    assert advice.reasons[0] == Reason(
        "pain during and after ≤ 3 in 5 of the last 6 sessions", False
    )


def test_pain_after_alone_never_steps_back() -> None:
    """Pain after above the ceiling in every session (pain during low): HOLD, not STEP
    BACK, which stays a matter of pain during."""
    advice = suggest(evidence(sessions=[StageSession(1, 6)] * 6))
    assert advice.suggestion is Suggestion.HOLD


def test_an_acknowledged_red_flag_still_counts_against_advancing() -> None:
    """No open red flag, but one of the last six sessions raised one (since acknowledged):
    HOLD, naming it."""
    sessions = [StageSession(1, 1)] * 5 + [StageSession(1, 1, red_flag=True)]
    advice = suggest(evidence(sessions=sessions, red_flags=0))
    assert advice.suggestion is Suggestion.HOLD
    assert advice.reasons[0] == Reason(
        "pain during and after ≤ 3 in 5 of the last 6 sessions (1 with a red flag)", False
    )


def test_a_red_flag_out_of_the_window_no_longer_holds() -> None:
    """Once six newer sessions that count follow it, the flagged session is out of the
    window: ADVANCE."""
    sessions = [StageSession(1, 1, red_flag=True)] + [StageSession(1, 1)] * 6
    assert suggest(evidence(sessions=sessions)).suggestion is Suggestion.ADVANCE


@given(evidences(), st.data())
def test_a_session_that_does_not_count_never_makes_the_suggestion_better(
    ev: Evidence, data: st.DataObject
) -> None:
    """Property: appending a session with another size or too short (any pain, any red
    flag) never moves the suggestion up the order."""
    extra = StageSession(
        data.draw(st.integers(0, 10)),
        data.draw(st.integers(0, 10)),
        counts=False,
        red_flag=data.draw(st.booleans()),
    )
    after = suggest(replace(ev, sessions=[*ev.sessions, extra]))
    assert after.suggestion.rank <= suggest(ev).suggestion.rank


@given(evidences(), st.data())
def test_more_pain_after_or_a_red_flag_never_makes_the_suggestion_better(
    ev: Evidence, data: st.DataObject
) -> None:
    """Property: raising one session's pain after, or marking it red-flagged (an
    acknowledged flag is still a flag), never moves the suggestion up the order."""
    if not ev.sessions:
        return
    i = data.draw(st.integers(0, len(ev.sessions) - 1))
    s = ev.sessions[i]
    worse = replace(
        s,
        pain_after=data.draw(st.integers(s.pain_after, 10)),
        red_flag=s.red_flag or data.draw(st.booleans()),
    )
    sessions = [*ev.sessions[:i], worse, *ev.sessions[i + 1 :]]
    after = suggest(replace(ev, sessions=sessions))
    assert after.suggestion.rank <= suggest(ev).suggestion.rank


@given(evidences())
def test_advance_never_rests_on_a_red_flag_or_pain_after_in_the_last_sessions(
    ev: Evidence,
) -> None:
    """Property: ADVANCE means none of the last N sessions that count raised a red flag
    or had pain after above the ceiling."""
    if suggest(ev).suggestion is Suggestion.ADVANCE:
        for s in ev.recent:
            assert not s.red_flag and s.pain_after <= ev.rule.pain_ceiling and s.counts


# ---------------------------------------------------------------------------------------
# When pain says go back (issue 16: after vaginoplasty a smaller size risks narrowing)


def test_a_plan_set_to_review_with_the_surgical_team_never_steps_back() -> None:
    """4 of the last 6 above the ceiling on stage 2 of a plan set to "review with the
    surgical team": REVIEW, saying why, with the evidence reasons around it."""
    ev = replace(evidence(pains=[1, 5, 6, 2, 4, 7]), going_back=GoingBack.SURGICAL_REVIEW)
    advice = suggest(ev)
    assert advice.suggestion is Suggestion.REVIEW
    assert advice.reasons == (
        Reason("pain during and after ≤ 3 in 2 of the last 6 sessions", False),
        Reason("going down a size risks narrowing: review with the surgical team", False),
        ADHERENCE_MET,
        DAYS_MET,
    )


def test_the_setting_changes_nothing_when_pain_does_not_say_go_back() -> None:
    """Painless evidence advances whatever the setting."""
    ev = replace(evidence(), going_back=GoingBack.SURGICAL_REVIEW)
    assert suggest(ev).suggestion is Suggestion.ADVANCE


def test_vaginoplasty_plans_review_by_default_others_step_back() -> None:
    """The default setting: review with the surgical team after vaginoplasty only."""
    for indication in Indication:
        expected = (
            GoingBack.SURGICAL_REVIEW
            if indication is Indication.VAGINOPLASTY
            else GoingBack.STEP_BACK
        )
        assert default_going_back(indication) is expected


def test_the_settings_have_plain_labels() -> None:
    """What the template and protocol forms offer."""
    assert GoingBack.STEP_BACK.label == "Step back a stage"
    assert GoingBack.SURGICAL_REVIEW.label.startswith("Review with the surgical team")


@given(evidences())
def test_review_with_the_surgical_team_never_suggests_a_smaller_size(ev: Evidence) -> None:
    """Property: a plan set to review with the surgical team is never told to step back."""
    ev = replace(ev, going_back=GoingBack.SURGICAL_REVIEW)
    assert suggest(ev).suggestion is not Suggestion.STEP_BACK


@given(evidences())
def test_the_setting_only_turns_step_back_into_review(ev: Evidence) -> None:
    """Property: the same evidence gives the same suggestion under both settings, except
    that STEP BACK becomes REVIEW."""
    stepping = suggest(replace(ev, going_back=GoingBack.STEP_BACK)).suggestion
    reviewing = suggest(replace(ev, going_back=GoingBack.SURGICAL_REVIEW)).suggestion
    assert reviewing is (Suggestion.REVIEW if stepping is Suggestion.STEP_BACK else stepping)

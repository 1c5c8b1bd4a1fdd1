"""Which decisions a clinician may record now, the one name of each decision, when a
decision needs a reason of the clinician's own, and the next review date a hold may set."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clinic.domain.progression import Suggestion
from clinic.domain.protocols import (
    CHANGE_PAGES,
    STAGE_DECISIONS,
    EventKind,
    ProtocolStatus,
    allowed_events,
    allowed_now,
    decision_for,
    latest_review_on,
    missing_reason,
    proposed_review_on,
    reason_required,
    recorded_reason,
    refusal,
    review_on_problem,
)

ACTIVE, PAUSED = ProtocolStatus.ACTIVE, ProtocolStatus.PAUSED
EVERY_ACTIVE_KIND = {
    EventKind.EDIT,
    EventKind.ADVANCE,
    EventKind.HOLD,
    EventKind.STEP_BACK,
    EventKind.PAUSE,
    EventKind.COMPLETE,
    EventKind.REPLACED,
}


@pytest.mark.parametrize(
    ("status", "stage", "count", "expected"),
    [
        (ACTIVE, 2, 4, EVERY_ACTIVE_KIND),
        (ACTIVE, 1, 4, EVERY_ACTIVE_KIND - {EventKind.STEP_BACK}),
        (ACTIVE, 4, 4, EVERY_ACTIVE_KIND - {EventKind.ADVANCE}),
        (ACTIVE, 1, 1, EVERY_ACTIVE_KIND - {EventKind.ADVANCE, EventKind.STEP_BACK}),
        (PAUSED, 2, 4, {EventKind.EDIT, EventKind.RESUME, EventKind.COMPLETE, EventKind.REPLACED}),
        (ProtocolStatus.COMPLETED, 2, 4, set()),
        (ProtocolStatus.REPLACED, 2, 4, set()),
    ],
)
def test_allowed_decisions_per_state(
    status: ProtocolStatus, stage: int, count: int, expected: set[EventKind]
) -> None:
    """An active protocol moves within its plan; a paused one only resumes, changes plan
    or ends; a closed one takes nothing more."""
    assert allowed_now(status, stage, count) == expected


def test_refusals_say_why_in_plain_words() -> None:
    """Each refusal is the message the clinician sees."""
    assert refusal(EventKind.ADVANCE, ACTIVE, 4, 4) == (
        "The patient is already at the last stage of this plan."
    )
    assert refusal(EventKind.STEP_BACK, ACTIVE, 1, 4) == (
        "The patient is already at the first stage of this plan."
    )
    assert refusal(EventKind.ADVANCE, PAUSED, 1, 4) == (
        "A paused protocol cannot be changed this way (moved up a stage)."
    )
    assert refusal(EventKind.HOLD, ACTIVE, 1, 1) is None


@given(
    status=st.sampled_from(ProtocolStatus),
    count=st.integers(1, 20),
    data=st.data(),
)
def test_whatever_is_allowed_keeps_the_patient_within_the_plan(
    status: ProtocolStatus, count: int, data: st.DataObject
) -> None:
    """For any state: what is allowed is what the status allows, less moves past either end
    of the plan; recording any of it leaves the stage within 1..count; everything else
    comes with a reason."""
    stage = data.draw(st.integers(1, count))
    allowed = allowed_now(status, stage, count)
    assert allowed <= allowed_events(status)
    for kind in allowed:
        assert 1 <= stage + kind.stage_step <= count
    for kind in set(EventKind) - allowed:
        assert refusal(kind, status, stage, count)
    assert (EventKind.ADVANCE in allowed) == (status is ACTIVE and stage < count)
    assert (EventKind.STEP_BACK in allowed) == (status is ACTIVE and stage > 1)


@pytest.mark.parametrize("kind", CHANGE_PAGES)
def test_each_change_page_has_one_url_word(kind: EventKind) -> None:
    """URLs say "step-back" where the stored kind is "step_back"; the word reads back as
    the kind."""
    assert EventKind.from_slug(kind.slug) is kind
    assert "_" not in kind.slug


def test_url_words() -> None:
    """The URL words clinicians' bookmarks hold stay as they were."""
    assert [k.slug for k in CHANGE_PAGES] == [
        "advance",
        "hold",
        "step-back",
        "pause",
        "resume",
        "complete",
    ]
    with pytest.raises(ValueError):
        EventKind.from_slug("jump")


@pytest.mark.parametrize(
    ("suggestion", "decision"),
    [
        (Suggestion.ADVANCE, EventKind.ADVANCE),
        (Suggestion.HOLD, EventKind.HOLD),
        (Suggestion.STEP_BACK, EventKind.STEP_BACK),
        (Suggestion.REVIEW, None),
    ],
)
def test_the_decision_that_carries_out_each_suggestion(
    suggestion: Suggestion, decision: EventKind | None
) -> None:
    """A suggestion maps to its decision; REVIEW asks for a look, not a decision."""
    assert decision_for(suggestion) is decision
    for kind in EventKind:
        assert kind.follows(suggestion) == (kind is decision)


def test_a_decision_without_a_suggestion_follows_nothing() -> None:
    """With nothing suggested, no decision shows as following (or overriding) it."""
    assert not EventKind.HOLD.follows(None)


@given(st.sampled_from(list(EventKind)), st.sampled_from([None, *Suggestion]))
def test_only_carrying_the_suggestion_out_needs_no_reason(
    kind: EventKind, suggestion: Suggestion | None
) -> None:
    """A reason may be left out exactly when the decision carries out the suggestion; a
    decision that departs from it is an override (a stage decision only), and every other
    decision needs a reason too."""
    assert reason_required(kind, suggestion) == (not kind.follows(suggestion))
    assert kind.overrides(suggestion) == (
        kind in STAGE_DECISIONS and suggestion is not None and not kind.follows(suggestion)
    )
    if reason_required(kind, suggestion):
        assert recorded_reason("", kind, suggestion, "evidence") == ""
    else:
        assert recorded_reason("", kind, suggestion, "pain ≤ 3") == "As suggested: pain ≤ 3."
    assert recorded_reason("Mine.", kind, suggestion, "pain ≤ 3") == "Mine."


@pytest.mark.parametrize(
    ("kind", "suggestion", "message"),
    [
        (
            EventKind.HOLD,
            Suggestion.ADVANCE,
            "Say why you decided otherwise: the system suggested advance.",
        ),
        (
            EventKind.ADVANCE,
            Suggestion.STEP_BACK,
            "Say why you decided otherwise: the system suggested step back.",
        ),
        (
            EventKind.HOLD,
            Suggestion.REVIEW,
            "Give the reason: the system asked for a review before any change of stage.",
        ),
        (EventKind.HOLD, None, "Give the reason."),
        (EventKind.PAUSE, Suggestion.ADVANCE, "Give the reason."),
    ],
)
def test_a_missing_reason_is_asked_for_in_plain_words(
    kind: EventKind, suggestion: Suggestion | None, message: str
) -> None:
    """An override is asked why it departs from the suggestion; anything else for a reason."""
    assert missing_reason(kind, suggestion) == message


def test_a_hold_proposes_a_review_in_two_weeks_within_a_year() -> None:
    """Two weeks ahead is proposed; today to a year ahead is accepted (29 February's year
    ahead is 28 February), anything before or after is refused in words."""
    today = date(2028, 2, 29)
    assert proposed_review_on(today) == date(2028, 3, 14)
    assert latest_review_on(today) == date(2029, 2, 28)
    assert latest_review_on(date(2026, 6, 5)) == date(2027, 6, 5)
    for fine in (today, proposed_review_on(today), latest_review_on(today)):
        assert review_on_problem(fine, today) is None
    assert review_on_problem(today - timedelta(days=1), today) == (
        "The review date has passed: choose today or a later day."
    )
    assert review_on_problem(date(2029, 3, 1), today) == (
        "Choose a review date within a year, on or before 28 Feb 2029."
    )


@pytest.mark.parametrize(
    ("planned", "proposed"),
    [
        (None, date(2026, 12, 18)),
        (date(2026, 12, 7), date(2026, 12, 7)),  # sooner review kept: never pushed later
        (date(2026, 12, 4), date(2026, 12, 4)),  # today's review kept
        (date(2026, 12, 3), date(2026, 12, 18)),  # a passed date is not proposed
        (date(2027, 1, 20), date(2026, 12, 18)),  # a later review: the hold proposes sooner
    ],
)
def test_a_hold_never_proposes_pushing_a_planned_review_later(
    planned: date | None, proposed: date
) -> None:
    """The hold's proposed review date is the review already planned when that is sooner
    than two weeks (and not passed), else two weeks ahead."""
    assert proposed_review_on(date(2026, 12, 4), planned) == proposed

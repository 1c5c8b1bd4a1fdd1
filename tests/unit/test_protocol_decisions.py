"""Which decisions a clinician may record now, and the one name of each decision."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clinic.domain.progression import Suggestion
from clinic.domain.protocols import (
    CHANGE_PAGES,
    EventKind,
    ProtocolStatus,
    allowed_events,
    allowed_now,
    decision_for,
    refusal,
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

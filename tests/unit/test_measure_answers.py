"""The pure rules of answering a questionnaire (clinic.measures.answers): which answers are
refused, which questions are asked given the answers so far (in step with the scorer's skip
logic), which are left blank, and what a submission stores."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clinic.domain.questionnaires import load_instrument, score, shipped_instruments
from clinic.measures.answers import (
    NOT_OFFERED,
    answer_problems,
    asked_items,
    scored_answers,
    unanswered,
)

CONFIDENCE = shipped_instruments()["dilator-confidence"]


def chained() -> dict[str, Any]:
    """Skip logic two levels deep: 'ease' only if 'used' is Yes, 'depth' only if 'ease' is
    2 or more; 'calm' always asked."""
    options = [{"value": v, "label": str(v)} for v in range(5)]
    return {
        "format": 1,
        "key": "chained",
        "version": "1",
        "title": "Chained",
        "citation": "Synthetic, for tests.",
        "licence": {"status": "clinic-owned, editable", "note": "Test data."},
        "items": [
            {
                "key": "used",
                "text": "Used?",
                "options": [{"value": 0, "label": "No"}, {"value": 1, "label": "Yes"}],
            },
            {
                "key": "ease",
                "text": "How easy?",
                "options": options,
                "shown_if": {"item": "used", "answered": [1]},
                "when_hidden": 0,
            },
            {
                "key": "depth",
                "text": "How deep?",
                "options": options,
                "shown_if": {"item": "ease", "answered": [2, 3, 4]},
                "when_hidden": 0,
            },
            {"key": "calm", "text": "How calm?", "options": options},
        ],
        "total": {
            "label": "Total",
            "sum_of": "items",
            "items": ["ease", "depth", "calm"],
            "range": [0, 12],
        },
    }


CHAINED = load_instrument(chained())


def keys(items) -> list[str]:
    return [item.key for item in items]


def test_blank_and_offered_answers_pass() -> None:
    """Blank answers and values the question offers raise no problem."""
    assert answer_problems(CONFIDENCE, {"insert": 0, "on_own": 4, "discomfort": None}) == {}


@pytest.mark.parametrize("value", [5, -1, True, 2.0, "2"])
def test_an_answer_not_offered_is_a_problem_of_its_question(value: object) -> None:
    """Out of range, a boolean, a float or text: each is refused on its own question."""
    problems = answer_problems(CONFIDENCE, {"insert": value, "on_own": 2})
    assert problems == {"insert": NOT_OFFERED}


def test_an_unknown_question_is_a_problem() -> None:
    """An item key the instrument does not have is refused, never silently dropped."""
    assert set(answer_problems(CONFIDENCE, {"mood": 1})) == {"mood"}


@pytest.mark.parametrize(
    ("answers", "asked"),
    [
        ({}, ["used", "ease", "depth", "calm"]),  # blank: nothing assumed, all asked
        ({"used": 0}, ["used", "calm"]),
        ({"used": 0, "ease": 3}, ["used", "calm"]),  # hidden stays hidden with an answer
        ({"used": 1}, ["used", "ease", "depth", "calm"]),
        ({"used": 1, "ease": 1}, ["used", "ease", "calm"]),
        ({"used": 1, "ease": 2}, ["used", "ease", "depth", "calm"]),
    ],
)
def test_questions_asked_follow_the_skip_logic(answers: dict, asked: list[str]) -> None:
    """A question with skip logic is asked when the question it depends on is asked and
    its answer is one listed, or blank; a hidden question hides those that depend on it."""
    assert keys(asked_items(CHAINED, answers)) == asked


def test_unanswered_lists_only_asked_blank_questions() -> None:
    """Questions the skip logic hides are never counted as left blank."""
    assert unanswered(CHAINED, {"used": 0}) == ["calm"]
    assert unanswered(CHAINED, {"used": 1, "ease": 3}) == ["depth", "calm"]
    assert unanswered(CONFIDENCE, {"insert": 1, "next_size": 2}) == [
        "on_own",
        "discomfort",
        "keep_going",
    ]


def test_a_submission_stores_what_was_asked() -> None:
    """Asked questions are stored, blank ones as None; hidden ones are left out even when
    an answer was given for them."""
    assert scored_answers(CHAINED, {"used": 0, "ease": 4, "depth": 1, "calm": 2}) == {
        "used": 0,
        "calm": 2,
    }
    assert scored_answers(CHAINED, {"used": 1, "ease": 2}) == {
        "used": 1,
        "ease": 2,
        "depth": None,
        "calm": None,
    }


ANSWER = st.one_of(st.none(), st.integers(0, 4))


@given(used=st.one_of(st.none(), st.integers(0, 1)), ease=ANSWER, depth=ANSWER, calm=ANSWER)
def test_asked_questions_agree_with_the_scorer(
    used: int | None, ease: int | None, depth: int | None, calm: int | None
) -> None:
    """An answer the page keeps is never one the scorer ignores, and every answer the
    scorer ignores is to a question not asked: one skip rule, not two."""
    answers = {"used": used, "ease": ease, "depth": depth, "calm": calm}
    asked = set(keys(asked_items(CHAINED, answers)))
    ignored = set(score(CHAINED, answers).ignored)
    answered = {key for key, value in answers.items() if value is not None}
    assert ignored == answered - asked
    assert score(CHAINED, scored_answers(CHAINED, answers)).total == score(CHAINED, answers).total

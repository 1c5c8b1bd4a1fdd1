"""Outcome measures: every shipped instrument scored against hand-worked examples (missing
answers, pro-rating, invalid responses), skip logic, refused answers, the format validator's
refusals, the licence rule, and hypothesis properties of scoring."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from clinic.domain.questionnaires import (
    AnswerError,
    Better,
    Instrument,
    InstrumentError,
    LicenceStatus,
    Score,
    Status,
    describe_values,
    load_folder,
    load_instrument,
    parse_instrument,
    score,
    scoring_differences,
    shipped_instruments,
    shipping_problems,
)

FOLDER = Path(__file__).resolve().parents[2] / "clinic" / "data" / "instruments"
SHIPPED = shipped_instruments()
NRS = SHIPPED["pain-nrs"]
PGIC = SHIPPED["pgic"]
CONFIDENCE = SHIPPED["dilator-confidence"]
FSFI = SHIPPED["fsfi"]
CPSI = SHIPPED["nih-cpsi"]
MARINOFF = SHIPPED["marinoff"]

FSFI_NO_ACTIVITY_ITEMS = [f"q{n}" for n in [*range(3, 15), 17, 18, 19]]


def d(text: str) -> Decimal:
    return Decimal(text)


def file_data(name: str) -> dict[str, Any]:
    """A shipped file's data, read exactly as the loader reads it."""
    return json.loads((FOLDER / name).read_text(encoding="utf-8"), parse_float=Decimal)


# ---------------------------------------------------------------------------------------
# Synthetic answer sets (FSFI and NIH-CPSI ship no wording: the tests answer by item key)

# Hand-worked FSFI example. Domain = weight x sum:
# desire 0.6 x (4+3) = 4.2; arousal 0.3 x (4+4+3+4) = 4.5; lubrication 0.3 x (5+5+4+5) = 5.7;
# orgasm 0.4 x (3+3+4) = 4.0; satisfaction 0.4 x (5+4+4) = 5.2; pain 0.4 x (2+2+3) = 2.8.
# Total 26.4: at or below the 26.55 cut-off.
FSFI_EXAMPLE = dict(
    zip(
        [f"q{n}" for n in range(1, 20)],
        [4, 3, 4, 4, 3, 4, 5, 5, 4, 5, 3, 3, 4, 5, 4, 4, 2, 2, 3],
        strict=True,
    )
)
FSFI_EXAMPLE_DOMAINS = {
    "desire": d("4.2"),
    "arousal": d("4.5"),
    "lubrication": d("5.7"),
    "orgasm": d("4.0"),
    "satisfaction": d("5.2"),
    "pain": d("2.8"),
}


def fsfi(**changes: int | None) -> dict[str, int | None]:
    """The hand-worked FSFI example with some answers changed (None: left blank)."""
    return {**FSFI_EXAMPLE, **changes}


# Hand-worked NIH-CPSI example: pain 1+0+0+1 + 1+0 + 3 + 5 = 11 (moderate, 8-13);
# urinary 2+3 = 5; quality-of-life impact 2+3+4 = 9; total 25.
CPSI_EXAMPLE = {
    "q1a": 1,
    "q1b": 0,
    "q1c": 0,
    "q1d": 1,
    "q2a": 1,
    "q2b": 0,
    "q3": 3,
    "q4": 5,
    "q5": 2,
    "q6": 3,
    "q7": 2,
    "q8": 3,
    "q9": 4,
}


def cpsi(**changes: int | None) -> dict[str, int | None]:
    """The hand-worked NIH-CPSI example with some answers changed."""
    return {**CPSI_EXAMPLE, **changes}


def domains(result: Score) -> dict[str, Decimal | None]:
    return {dom.key: dom.score for dom in result.domains}


# ---------------------------------------------------------------------------------------
# A small synthetic instrument that uses every part of the format (for skip logic and the
# validator's refusals)


def options(low: int, high: int) -> list[dict[str, Any]]:
    return [{"value": v, "label": f"option {v}"} for v in range(low, high + 1)]


def demo() -> dict[str, Any]:
    """A valid instrument: skip logic, two weighted domains, total bands, a validity rule.

    Doing = 'ease' (0-4, asked only when 'used' is Yes, 0 when not asked); Feeling =
    0.5 x (calm + hope), one blank allowed; total 0-8; invalid when both feelings are 0/blank.
    """
    return {
        "format": 1,
        "key": "demo",
        "version": "1",
        "title": "Demo scale",
        "citation": "Synthetic, for tests.",
        "licence": {"status": "clinic-owned, editable", "note": "Test data."},
        "decimals": 1,
        "items": [
            {
                "key": "used",
                "text": "Did you use your dilator this week?",
                "options": [{"value": 0, "label": "No"}, {"value": 1, "label": "Yes"}],
            },
            {
                "key": "ease",
                "text": "How easy was it?",
                "options": options(0, 4),
                "shown_if": {"item": "used", "answered": [1]},
                "when_hidden": 0,
            },
            {"key": "calm", "text": "How calm do you feel?", "options": options(0, 4)},
            {"key": "hope", "text": "How hopeful do you feel?", "options": options(0, 4)},
        ],
        "domains": [
            {"key": "doing", "label": "Doing", "items": ["ease"], "range": [0, 4]},
            {
                "key": "feeling",
                "label": "Feeling",
                "items": ["calm", "hope"],
                "weight": 0.5,
                "min_answered": 1,
                "range": [0, 4],
            },
        ],
        "total": {
            "label": "Total",
            "sum_of": "domains",
            "range": [0, 8],
            "bands": [
                {"range": [0, 3.9], "label": "Low", "interpretation": "Low"},
                {"range": [4, 8], "label": "High", "interpretation": "High"},
            ],
        },
        "validity": [
            {
                "reason": "no feelings reported",
                "invalid_when_at_least": 2,
                "of_items": ["calm", "hope"],
                "answered": [0],
                "or_missing": True,
            }
        ],
    }


DEMO = load_instrument(demo())


def with_wording(data: Mapping[str, Any], status: str = "clinic-licensed") -> dict[str, Any]:
    """A scoring-only file as a licensed clinic would import it: synthetic item text and
    option labels added, licence status changed; nothing else touched."""
    worded = copy.deepcopy(dict(data))
    worded["licence"]["status"] = status
    for item in worded["items"]:
        item["text"] = f"Synthetic question {item['key']}"
        for option in item["options"]:
            option["label"] = f"Synthetic answer {option['value']}"
    return worded


# ---------------------------------------------------------------------------------------
# Pain NRS


@pytest.mark.parametrize(
    ("pain", "band"),
    [(0, "Mild"), (3, "Mild"), (4, "Moderate"), (6, "Moderate"), (7, "Severe"), (10, "Severe")],
)
def test_nrs_scores_the_answer_in_its_band(pain: int, band: str) -> None:
    """NRS: the total is the answer itself; bands 0-3 mild, 4-6 moderate, 7-10 severe."""
    result = score(NRS, {"pain": pain})
    assert result.status is Status.SCORED
    assert result.total == pain
    assert result.band is not None
    assert result.band.label == band


@pytest.mark.parametrize("answers", [{}, {"pain": None}])
def test_nrs_left_blank_is_not_scored(answers: dict[str, int | None]) -> None:
    """NRS with no answer: no total, no band, and the reason in words."""
    result = score(NRS, answers)
    assert result.status is Status.INCOMPLETE
    assert (result.total, result.band) == (None, None)
    assert result.reasons == ("Not scored: the question was left blank",)
    assert result.valid  # blank is incomplete, not invalid


@pytest.mark.parametrize("pain", [11, -1, 100])
def test_nrs_refuses_an_answer_outside_0_to_10(pain: int) -> None:
    """An answer the scale does not offer is refused, naming the item and the range."""
    with pytest.raises(AnswerError, match=rf"pain: {pain} is not an answer .* \(0 to 10\)"):
        score(NRS, {"pain": pain})


@pytest.mark.parametrize("value", [True, "5", 5.0, Decimal(5)])
def test_answers_must_be_whole_numbers(value: Any) -> None:
    """True, '5', 5.0 are refused: an answer is an int, never coerced."""
    with pytest.raises(AnswerError, match="must be a whole number"):
        score(NRS, {"pain": value})


def test_an_answer_to_an_unknown_question_is_refused() -> None:
    """A key that is not an item of the instrument is refused, not ignored."""
    with pytest.raises(AnswerError, match="'worst' is not a question of Pain numeric"):
        score(NRS, {"pain": 3, "worst": 5})


def test_nrs_is_free_and_worded() -> None:
    """The NRS ships with its wording, licence free, 11 options 0-10."""
    assert NRS.licence.status is LicenceStatus.FREE
    assert NRS.administrable
    assert NRS.item("pain").values == tuple(range(11))


# ---------------------------------------------------------------------------------------
# PGIC


@pytest.mark.parametrize(
    ("answer", "band"),
    [
        (1, "Much improved"),
        (2, "Much improved"),
        (3, "Minimally improved"),
        (4, "No change"),
        (5, "Worse"),
        (6, "Worse"),
        (7, "Worse"),
    ],
)
def test_pgic_bands(answer: int, band: str) -> None:
    """PGIC: 1-2 much or very much improved, 3 minimally, 4 no change, 5-7 worse."""
    result = score(PGIC, {"change": answer})
    assert result.total == answer
    assert result.band is not None
    assert result.band.label == band


def test_pgic_uses_guys_seven_points_in_order() -> None:
    """The seven answers are Guy's (1976) improvement scale, 1 very much improved to 7 very
    much worse, and the instrument is recorded as public domain."""
    labels = [o.label for o in PGIC.item("change").options]
    assert labels == [
        "Very much improved",
        "Much improved",
        "Minimally improved",
        "No change",
        "Minimally worse",
        "Much worse",
        "Very much worse",
    ]
    assert PGIC.licence.status is LicenceStatus.PUBLIC_DOMAIN
    assert "Guy W. ECDEU Assessment Manual" in PGIC.citation


def test_pgic_refuses_zero() -> None:
    """PGIC has no 0 (Guy's 'not assessed' is not a patient answer)."""
    with pytest.raises(AnswerError, match=r"\(1 to 7\)"):
        score(PGIC, {"change": 0})


# ---------------------------------------------------------------------------------------
# Dilator confidence

CONFIDENCE_KEYS = ["insert", "on_own", "discomfort", "keep_going", "next_size"]


def confidence(*values: int | None) -> dict[str, int | None]:
    return dict(zip(CONFIDENCE_KEYS, values, strict=True))


def test_confidence_complete_is_the_sum() -> None:
    """4+3+2+3+4 = 16: high confidence (15-20), nothing pro-rated."""
    result = score(CONFIDENCE, confidence(4, 3, 2, 3, 4))
    assert result.total == 16
    assert result.band is not None
    assert result.band.label == "High"
    assert result.prorated == ()


def test_confidence_one_blank_is_pro_rated_from_the_others() -> None:
    """4+3+2+3 and 'next size' blank: the blank takes the mean 3, total 15, pro-rated."""
    result = score(CONFIDENCE, confidence(4, 3, 2, 3, None))
    assert result.status is Status.SCORED
    assert result.total == 15
    assert result.prorated == ("next_size",)


def test_confidence_pro_rated_total_is_rounded_to_a_whole_number() -> None:
    """1+2+2+2 (mean 1.75) and a blank: 8.75 shows as 9, moderate."""
    result = score(CONFIDENCE, confidence(1, None, 2, 2, 2))
    assert result.total == 9
    assert result.band is not None
    assert result.band.label == "Moderate"
    assert result.prorated == ("on_own",)


def test_confidence_rounds_half_up() -> None:
    """1+1+0+0 (mean 0.5) and a blank: exactly 2.5, shown as 3."""
    assert score(CONFIDENCE, confidence(1, 1, 0, 0, None)).total == 3


def test_confidence_two_blanks_are_not_scored() -> None:
    """Three of five answered is below the four needed: no total, reason in words."""
    result = score(CONFIDENCE, confidence(4, 4, 4, None, None))
    assert result.status is Status.INCOMPLETE
    assert result.total is None
    assert result.reasons == ("Not scored: 3 of 5 questions answered, at least 4 needed",)
    assert result.prorated == ()


@pytest.mark.parametrize(
    ("answers", "band"),
    [
        ((2, 2, 2, 1, 0), "Low"),  # 7
        ((2, 2, 2, 2, 0), "Moderate"),  # 8
        ((3, 3, 3, 3, 2), "Moderate"),  # 14
        ((3, 3, 3, 3, 3), "High"),  # 15
    ],
)
def test_confidence_band_edges(answers: tuple[int, ...], band: str) -> None:
    """Bands: 0-7 low, 8-14 moderate, 15-20 high, checked on each side of each edge."""
    result = score(CONFIDENCE, confidence(*answers))
    assert result.band is not None
    assert result.band.label == band


def test_confidence_is_clinic_owned() -> None:
    """Our own scale: licence 'clinic-owned, editable', and its citation says not validated."""
    assert CONFIDENCE.licence.status is LicenceStatus.CLINIC_OWNED
    assert "not been validated" in CONFIDENCE.citation


# ---------------------------------------------------------------------------------------
# FSFI (scoring rules only)


def test_fsfi_hand_worked_example() -> None:
    """The worked example: domains 4.2/4.5/5.7/4.0/5.2/2.8, total 26.4, at or below 26.55."""
    result = score(FSFI, FSFI_EXAMPLE)
    assert result.status is Status.SCORED
    assert domains(result) == FSFI_EXAMPLE_DOMAINS
    assert result.total == d("26.4")
    assert result.band is not None
    assert result.band.label == "At or below the cut-off"
    assert "suggests sexual dysfunction" in result.band.interpretation


@pytest.mark.parametrize(
    ("changes", "total", "band"),
    [
        # arousal 0.3 x 14 = 4.2, orgasm 0.4 x 11 = 4.4: 26.5
        ({"q3": 3, "q11": 4}, "26.5", "At or below the cut-off"),
        # desire 0.6 x 8 = 4.8, orgasm 0.4 x 9 = 3.6: 26.6
        ({"q1": 5, "q11": 2}, "26.6", "Above the cut-off"),
    ],
)
def test_fsfi_cut_off_26_55(changes: dict[str, int], total: str, band: str) -> None:
    """26.5 is at or below the published cut-off of 26.55; 26.6 is above it."""
    result = score(FSFI, fsfi(**changes))
    assert result.total == d(total)
    assert result.band is not None
    assert result.band.label == band


def test_fsfi_highest_and_lowest_sexually_active_responses() -> None:
    """Every answer 5: 6.0 per domain, 36.0. Every answer 1: 1.2 per domain, 7.2."""
    top = score(FSFI, dict.fromkeys(FSFI_EXAMPLE, 5))
    assert set(domains(top).values()) == {d("6.0")}
    assert top.total == d("36.0")
    bottom = score(FSFI, dict.fromkeys(FSFI_EXAMPLE, 1))
    assert set(domains(bottom).values()) == {d("1.2")}
    assert bottom.total == d("7.2")


def test_fsfi_one_blank_item_is_pro_rated_within_its_domain() -> None:
    """q4 blank: arousal 0.3 x (4+3+4 + mean 11/3) = 4.4; total 26.3; q4 pro-rated."""
    result = score(FSFI, fsfi(q4=None))
    assert result.status is Status.SCORED
    assert result.domain("arousal").score == d("4.4")
    assert result.domain("arousal").prorated == ("q4",)
    assert result.domain("arousal").answered == 3
    assert result.total == d("26.3")
    assert result.prorated == ("q4",)


def test_fsfi_desire_with_one_blank_doubles_the_other() -> None:
    """q2 blank: desire 0.6 x (4 + 4) = 4.8."""
    assert score(FSFI, fsfi(q2=None)).domain("desire").score == d("4.8")


def test_fsfi_pro_rating_stays_within_the_blank_items_own_range() -> None:
    """q14 = 0, q15 blank, q16 = 1: the mean 0.5 is below q15's lowest answer (1), so q15
    takes 1: satisfaction 0.4 x (0+1+1) = 0.8, the domain's published minimum."""
    result = score(FSFI, fsfi(q14=0, q15=None, q16=1))
    assert result.domain("satisfaction").score == d("0.8")
    assert result.total == d("22.0")


def test_fsfi_two_blanks_in_a_domain_leave_it_and_the_total_unscored() -> None:
    """q3 and q4 blank: arousal not scored (2 of 4, 3 needed), so no total; the other
    domains keep their scores."""
    result = score(FSFI, fsfi(q3=None, q4=None))
    assert result.status is Status.INCOMPLETE
    assert result.total is None
    assert result.domain("arousal").score is None
    assert result.domain("arousal").reason == "2 of 4 questions answered, at least 3 needed"
    assert result.reasons == (
        "Not scored: too few answers for Arousal (2 of 4 questions answered, at least 3 needed)",
    )
    assert result.domain("desire").score == d("4.2")


def test_fsfi_no_sexual_activity_is_not_valid() -> None:
    """Every 'no activity' item 0: not valid, no total or band, desire still scored, and
    the reason in words."""
    answers = {**dict.fromkeys(FSFI_NO_ACTIVITY_ITEMS, 0), "q1": 2, "q2": 2, "q15": 3, "q16": 3}
    result = score(FSFI, answers)
    assert result.status is Status.INVALID
    assert not result.valid
    assert (result.total, result.band) == (None, None)
    assert result.domain("desire").score == d("2.4")
    assert result.reasons == (
        "Not valid: no sexual activity in the past 4 weeks, so the total does not describe"
        " sexual function (15 of the 15 items this rule counts were answered 0 or left blank;"
        " 8 or more make the response not valid)",
    )


def test_fsfi_seven_no_activity_answers_are_still_valid_and_eight_are_not() -> None:
    """q3-q9 answered 0 (7 of 15): valid. q10 also 0 (8 of 15): not valid."""
    seven = fsfi(**dict.fromkeys([f"q{n}" for n in range(3, 10)], 0))
    assert score(FSFI, seven).status is Status.SCORED
    assert score(FSFI, {**seven, "q10": 0}).status is Status.INVALID


def test_fsfi_blank_answers_count_as_no_activity() -> None:
    """Seven 0s and q17 blank make eight: not valid, even though pain is pro-rated."""
    seven = fsfi(**dict.fromkeys([f"q{n}" for n in range(3, 10)], 0))
    result = score(FSFI, {**seven, "q17": None})
    assert result.status is Status.INVALID
    assert "8 of the 15 items" in result.reasons[0]


def test_fsfi_items_without_a_no_activity_answer_refuse_zero() -> None:
    """q1, q2, q15 and q16 score 1-5: 0 is refused there."""
    for key in ("q1", "q2", "q15", "q16"):
        with pytest.raises(AnswerError, match=rf"{key}: 0 is not an answer"):
            score(FSFI, fsfi(**{key: 0}))


def test_fsfi_no_activity_rule_counts_exactly_the_items_that_offer_zero() -> None:
    """The rule's 15 items are q3-q14 and q17-q19: exactly the items with a 0 answer."""
    (rule,) = FSFI.validity
    offering_zero = [item.key for item in FSFI.items if 0 in item.values]
    assert list(rule.items) == offering_zero == FSFI_NO_ACTIVITY_ITEMS
    assert (rule.at_least, rule.values, rule.or_missing) == (8, (0,), True)


def test_fsfi_structure_matches_the_published_scoring() -> None:
    """19 items; six domains with weights 0.6/0.3/0.3/0.4/0.4/0.4 over q1-2, q3-6, q7-10,
    q11-13, q14-16, q17-19; ranges 1.2-6, 0-6 (x4), 0.8-6; total 2-36."""
    assert [item.key for item in FSFI.items] == [f"q{n}" for n in range(1, 20)]
    assert [(dom.key, dom.weight, dom.items[0], dom.items[-1]) for dom in FSFI.domains] == [
        ("desire", d("0.6"), "q1", "q2"),
        ("arousal", d("0.3"), "q3", "q6"),
        ("lubrication", d("0.3"), "q7", "q10"),
        ("orgasm", d("0.4"), "q11", "q13"),
        ("satisfaction", d("0.4"), "q14", "q16"),
        ("pain", d("0.4"), "q17", "q19"),
    ]
    assert [(dom.minimum, dom.maximum) for dom in FSFI.domains] == [
        (d("1.2"), 6),
        (0, 6),
        (0, 6),
        (0, 6),
        (d("0.8"), 6),
        (0, 6),
    ]
    assert (FSFI.total.minimum, FSFI.total.maximum) == (2, 36)


# ---------------------------------------------------------------------------------------
# NIH-CPSI (scoring rules only)


def test_cpsi_hand_worked_example() -> None:
    """The worked example: pain 11 (moderate), urinary 5, quality of life 9, total 25."""
    result = score(CPSI, CPSI_EXAMPLE)
    assert domains(result) == {"pain": 11, "urinary": 5, "qol": 9}
    assert result.domain("pain").band is not None
    assert result.domain("pain").band.label == "Moderate"
    assert result.total == 25
    assert result.band is None  # no published bands for the total


def test_cpsi_extremes() -> None:
    """Every item at its highest: 21 + 10 + 12 = 43, severe pain; all 0: total 0, mild."""
    top = score(CPSI, {item.key: item.highest for item in CPSI.items})
    assert domains(top) == {"pain": 21, "urinary": 10, "qol": 12}
    assert top.total == 43
    assert top.domain("pain").band is not None
    assert top.domain("pain").band.label == "Severe"
    bottom = score(CPSI, dict.fromkeys(CPSI_EXAMPLE, 0))
    assert bottom.total == 0
    assert bottom.domain("pain").band is not None
    assert bottom.domain("pain").band.label == "Mild"


@pytest.mark.parametrize(
    ("changes", "pain", "band"),
    [
        ({"q4": 7}, 7, "Mild"),
        ({"q4": 8}, 8, "Moderate"),
        ({"q3": 3, "q4": 10}, 13, "Moderate"),
        ({"q1a": 1, "q3": 3, "q4": 10}, 14, "Severe"),
    ],
)
def test_cpsi_pain_band_edges(changes: dict[str, int], pain: int, band: str) -> None:
    """Pain subscale bands (Wagenlehner 2013): 0-7 mild, 8-13 moderate, 14-21 severe."""
    result = score(CPSI, {**dict.fromkeys(CPSI_EXAMPLE, 0), **changes})
    assert result.domain("pain").score == pain
    assert result.domain("pain").band is not None
    assert result.domain("pain").band.label == band


def test_cpsi_is_never_pro_rated() -> None:
    """One blank (q4, the 0-10 item) leaves pain and the total unscored: items on different
    scales cannot stand in for each other."""
    result = score(CPSI, cpsi(q4=None))
    assert result.domain("pain").score is None
    assert result.domain("urinary").score == 5
    assert result.status is Status.INCOMPLETE
    assert result.total is None
    assert result.prorated == ()


@pytest.mark.parametrize(("key", "value"), [("q1a", 2), ("q4", 11), ("q7", 4), ("q9", 7)])
def test_cpsi_refuses_out_of_range_answers(key: str, value: int) -> None:
    """Yes/no items take 0/1, q4 0-10, q7 0-3, q9 0-6: anything else is refused."""
    with pytest.raises(AnswerError, match=rf"{key}: {value} is not an answer"):
        score(CPSI, cpsi(**{key: value}))


def test_cpsi_structure_matches_litwin_1999() -> None:
    """13 items; pain = 1a-1d, 2a-2b, 3, 4 (0-21); urinary = 5, 6 (0-10); quality-of-life
    impact = 7, 8, 9 (0-12); total 0-43."""
    assert len(CPSI.items) == 13
    assert [(dom.key, dom.items, dom.minimum, dom.maximum) for dom in CPSI.domains] == [
        ("pain", ("q1a", "q1b", "q1c", "q1d", "q2a", "q2b", "q3", "q4"), 0, 21),
        ("urinary", ("q5", "q6"), 0, 10),
        ("qol", ("q7", "q8", "q9"), 0, 12),
    ]
    assert (CPSI.total.minimum, CPSI.total.maximum) == (0, 43)


# ---------------------------------------------------------------------------------------
# Marinoff (scoring rule only)


@pytest.mark.parametrize("grade", [0, 1, 2, 3])
def test_marinoff_total_is_the_grade(grade: int) -> None:
    """Marinoff: a single 0-3 grade, the total, with no band."""
    result = score(MARINOFF, {"grade": grade})
    assert (result.total, result.band) == (grade, None)


def test_marinoff_refuses_grade_4() -> None:
    """The scale stops at 3."""
    with pytest.raises(AnswerError):
        score(MARINOFF, {"grade": 4})


# ---------------------------------------------------------------------------------------
# The licence rule and the bundled files


def test_the_bundled_instruments() -> None:
    """Three worded instruments and three scoring-only rule sets ship."""
    worded = {key for key, i in SHIPPED.items() if i.administrable}
    assert worded == {"pain-nrs", "pgic", "dilator-confidence"}
    assert set(SHIPPED) - worded == {"fsfi", "nih-cpsi", "marinoff"}


@pytest.mark.parametrize("key", ["fsfi", "nih-cpsi", "marinoff"])
def test_instruments_with_unsettled_terms_ship_no_wording(key: str) -> None:
    """FSFI, NIH-CPSI, Marinoff: status 'not shipped', and not one item text or answer label
    in the file."""
    instrument = SHIPPED[key]
    assert instrument.licence.status is LicenceStatus.NOT_SHIPPED
    assert all(item.text is None for item in instrument.items)
    assert all(o.label is None for item in instrument.items for o in item.options)
    raw = file_data(f"{key}.scoring.json")
    assert all(set(item) == {"key", "options"} for item in raw["items"])


@pytest.mark.parametrize("instrument", SHIPPED.values(), ids=list(SHIPPED))
def test_every_bundled_instrument_may_ship(instrument: Instrument) -> None:
    """Each bundled file passes the licence rule, has a citation and a licence note, and
    worded ones are free, public domain or our own."""
    name = instrument.key + (".json" if instrument.administrable else ".scoring.json")
    assert shipping_problems(instrument, name) == []
    assert instrument.citation
    assert instrument.licence.note
    if instrument.administrable:
        assert instrument.licence.status.may_ship_wording


@pytest.mark.parametrize("name", ["fsfi.scoring.json", "nih-cpsi.scoring.json"])
def test_a_licensed_clinic_only_adds_the_wording(name: str) -> None:
    """The scoring-only file with synthetic wording added loads as a clinic-licensed,
    administrable instrument that scores exactly as the shipped rules do."""
    worded = load_instrument(with_wording(file_data(name)))
    shipped = SHIPPED[worded.key]
    assert worded.administrable
    assert worded.licence.status is LicenceStatus.CLINIC_LICENSED
    example = FSFI_EXAMPLE if worded.key == "fsfi" else CPSI_EXAMPLE
    for answers in (example, {**example, next(iter(example)): None}):
        assert score(worded, answers) == score(shipped, answers)


def test_a_clinic_licensed_instrument_never_ships() -> None:
    """A licensed clinic's worded FSFI loads for import, but the licence rule refuses to
    ship it with the application."""
    worded = load_instrument(with_wording(file_data("fsfi.scoring.json")))
    assert shipping_problems(worded, "fsfi.json") == [
        "a clinic-licensed instrument is imported by the clinic that holds the licence,"
        " never shipped"
    ]


def test_wording_cannot_be_added_while_the_terms_are_not_established() -> None:
    """A worded file whose status is still 'not shipped' is refused by the loader."""
    with pytest.raises(InstrumentError, match="must not carry item wording"):
        load_instrument(with_wording(file_data("fsfi.scoring.json"), status=FSFI.licence.status))


def test_file_names_follow_the_wording() -> None:
    """A worded instrument is <key>.json; a scoring-only one <key>.scoring.json."""
    assert shipping_problems(NRS, "pain-nrs.scoring.json") == [
        "the file should be named pain-nrs.json"
    ]
    assert shipping_problems(FSFI, "fsfi.json") == ["the file should be named fsfi.scoring.json"]


def test_load_folder_names_the_file_at_fault(tmp_path: Path) -> None:
    """A broken file in the folder stops loading with its name in every problem."""
    (tmp_path / "pain-nrs.json").write_text((FOLDER / "pain-nrs.json").read_text("utf-8"))
    broken = demo()
    del broken["citation"]
    (tmp_path / "demo.json").write_text(json.dumps(broken))
    with pytest.raises(InstrumentError) as raised:
        load_folder(tmp_path)
    assert raised.value.problems == ("demo.json: the instrument: 'citation' is missing",)


def test_load_folder_refuses_two_files_with_one_key(tmp_path: Path) -> None:
    """Two files claiming the same key are refused (the second is named)."""
    (tmp_path / "demo.json").write_text(json.dumps(demo()))
    (tmp_path / "x-demo.json").write_text(json.dumps(demo()))
    with pytest.raises(InstrumentError, match=r"x-demo\.json: another file already has the key"):
        load_folder(tmp_path)


def test_load_folder_refuses_a_clinic_licensed_file(tmp_path: Path) -> None:
    """The licence rule runs on every bundled file."""
    (tmp_path / "fsfi.json").write_text(
        json.dumps(with_wording(file_data("fsfi.scoring.json")), default=float)
    )
    with pytest.raises(InstrumentError, match=r"fsfi\.json: a clinic-licensed instrument"):
        load_folder(tmp_path)


def test_load_folder_reads_only_json(tmp_path: Path) -> None:
    """The README and other files beside the instruments are skipped."""
    (tmp_path / "README.md").write_text("# notes")
    (tmp_path / "demo.json").write_text(json.dumps(demo()))
    assert list(load_folder(tmp_path)) == ["demo"]


@pytest.mark.parametrize("instrument", SHIPPED.values(), ids=list(SHIPPED))
def test_bands_cover_every_possible_score_exactly_once(instrument: Instrument) -> None:
    """Every score a bundled instrument can show (each step of its decimals across the
    range) falls in exactly one band of the total and of each banded domain."""
    step = Decimal(1).scaleb(-instrument.decimals)
    groups = [instrument.total, *instrument.domains]
    for group in (g for g in groups if g.bands):
        value = group.minimum
        while value <= group.maximum:
            assert sum(band.contains(value) for band in group.bands) == 1, value
            value += step


# ---------------------------------------------------------------------------------------
# Skip logic


def test_a_hidden_item_scores_its_when_hidden_value_and_its_answer_is_ignored() -> None:
    """'used' = No hides 'ease': its answer 4 is ignored, it scores 0 (when_hidden), and it
    is listed as ignored."""
    result = score(DEMO, {"used": 0, "ease": 4, "calm": 2, "hope": 4})
    assert result.domain("doing").score == 0
    assert result.ignored == ("ease",)
    assert result.total == d("3.0")  # 0 + 0.5 x (2 + 4)


def test_a_shown_item_counts() -> None:
    """'used' = Yes shows 'ease': its answer 4 counts; total 4 + 3 = 7.0, band High."""
    result = score(DEMO, {"used": 1, "ease": 4, "calm": 2, "hope": 4})
    assert result.domain("doing").score == 4
    assert result.ignored == ()
    assert result.total == d("7.0")
    assert result.band is not None
    assert result.band.label == "High"


def test_an_item_stays_shown_when_the_question_it_depends_on_was_left_blank() -> None:
    """'used' blank: 'ease' is not assumed skipped; answered it counts, blank it is missing."""
    assert score(DEMO, {"ease": 3, "calm": 2, "hope": 2}).domain("doing").score == 3
    result = score(DEMO, {"calm": 2, "hope": 2})
    assert result.domain("doing").score is None
    assert result.status is Status.INCOMPLETE


def test_an_item_that_depends_on_a_hidden_item_is_hidden_too() -> None:
    """A chain: 'why' depends on 'ease', which is hidden; so 'why' is hidden and ignored."""
    data = demo()
    data["items"].append(
        {
            "key": "why",
            "text": "What made it hard?",
            "options": options(0, 2),
            "shown_if": {"item": "ease", "answered": [0, 1]},
        }
    )
    chained = load_instrument(data)
    result = score(chained, {"used": 0, "ease": 1, "why": 2, "calm": 1, "hope": 1})
    assert result.ignored == ("ease", "why")
    shown = score(chained, {"used": 1, "ease": 1, "why": 2, "calm": 1, "hope": 1})
    assert shown.ignored == ()


def test_an_out_of_range_answer_to_a_hidden_item_is_still_refused() -> None:
    """Answers are checked before skip logic: a value no option offers is an error anywhere."""
    with pytest.raises(AnswerError, match="ease: 9"):
        score(DEMO, {"used": 0, "ease": 9})


def test_demo_validity_and_pro_rating() -> None:
    """Demo: calm 0 and hope blank make two of two: not valid; calm 3, hope blank:
    Feeling pro-rated 0.5 x (3 + 3) = 3.0."""
    assert score(DEMO, {"used": 0, "calm": 0}).status is Status.INVALID
    result = score(DEMO, {"used": 0, "calm": 3})
    assert result.domain("feeling").score == d("3.0")
    assert result.prorated == ("hope",)


# ---------------------------------------------------------------------------------------
# The format validator's refusals

Mutation = Callable[[dict[str, Any]], None]


def band(low: Any, high: Any, label: str) -> dict[str, Any]:
    return {"range": [low, high], "label": label, "interpretation": label}


def set_bands(*bands: dict[str, Any]) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        data["total"]["bands"] = list(bands)

    return mutate


def item(data: dict[str, Any], key: str) -> dict[str, Any]:
    return next(i for i in data["items"] if i["key"] == key)


REFUSALS: list[tuple[str, Mutation, str]] = [
    ("licence not an object", lambda d: d.update(licence="free"), "the licence must be an object"),
    ("unknown field", lambda d: d.update(colour="red"), "unknown field 'colour'"),
    ("missing field", lambda d: d.pop("citation"), "'citation' is missing"),
    ("other format", lambda d: d.update(format=2), "format must be 1"),
    ("bad key", lambda d: d.update(key="Demo Scale"), "the key 'Demo Scale' must be lower-case"),
    ("blank title", lambda d: d.update(title="  "), "the title must be text that is not blank"),
    ("version not text", lambda d: d.update(version=1), "the version must be text"),
    ("decimals too many", lambda d: d.update(decimals=9), "decimals must be between 0 and 4"),
    ("unknown licence", lambda d: d["licence"].update(status="ok"), "licence status 'ok'"),
    ("licence note", lambda d: d["licence"].pop("note"), "the licence: 'note' is missing"),
    ("items not a list", lambda d: d.update(items={}), "items must be a list"),
    ("no items", lambda d: d.update(items=[]), "at least one item"),
    (
        "unknown item field",
        lambda d: item(d, "calm").update(txt="x"),
        "item 3 ('calm'): unknown field 'txt'",
    ),
    ("bad item key", lambda d: item(d, "calm").update(key="Calm!"), "must start with a lower-case"),
    (
        "duplicate item keys",
        lambda d: item(d, "hope").update(key="calm"),
        "the item key 'calm' is used twice (items 3 and 4)",
    ),
    (
        "option without value",
        lambda d: item(d, "calm")["options"][1].pop("value"),
        "item 3 ('calm'), option 2: 'value' is missing",
    ),
    (
        "fractional value",
        lambda d: item(d, "calm")["options"][1].update(value=1.5),
        "option 2: the value must be a whole number, not 1.5",
    ),
    (
        "text value",
        lambda d: item(d, "calm")["options"][1].update(value="1"),
        "must be a whole number, not '1'",
    ),
    (
        "boolean value",
        lambda d: item(d, "calm")["options"][1].update(value=True),
        "must be a whole number, not true",
    ),
    (
        "duplicate values",
        lambda d: item(d, "calm")["options"][1].update(value=0),
        "the value 0 is given to 2 options",
    ),
    (
        "duplicate labels",
        lambda d: item(d, "calm")["options"][1].update(label="option 0"),
        "the label 'option 0' is given to 2 options",
    ),
    (
        "one option",
        lambda d: item(d, "calm").update(options=[{"value": 0, "label": "Only"}]),
        "needs at least two answer options",
    ),
    (
        "label missing",
        lambda d: item(d, "calm")["options"][0].pop("label"),
        "option 1 has no label, but the item has wording",
    ),
    (
        "mixed wording",
        lambda d: item(d, "calm").pop("text"),
        "either every item has its wording or none does",
    ),
    (
        "labels without text",
        lambda d: item(d, "calm").pop("text"),
        "item 3 ('calm') has answer labels but no text",
    ),
    (
        "domain unknown item",
        lambda d: d["domains"][1]["items"].append("joy"),
        "domain 'feeling': items: 'joy' is not an item",
    ),
    (
        "item listed twice",
        lambda d: d["domains"][1]["items"].append("calm"),
        "'calm' is listed 2 times",
    ),
    (
        "item in two domains",
        lambda d: d["domains"][0]["items"].append("calm"),
        "item 'calm' is in two domains ('doing' and 'feeling')",
    ),
    (
        "domain range wrong",
        lambda d: d["domains"][1].update(range=[0, 8]),
        "domain 'feeling': range is 0 to 8, but its items give 0 to 4 (weight 0.5, items 0 to 8)",
    ),
    (
        "min_answered 0",
        lambda d: d["domains"][1].update(min_answered=0),
        "min_answered must be between 1 and 2",
    ),
    (
        "min_answered too high",
        lambda d: d["domains"][1].update(min_answered=3),
        "min_answered must be between 1 and 2",
    ),
    ("weight 0", lambda d: d["domains"][1].update(weight=0), "the weight must be more than 0"),
    ("weight text", lambda d: d["domains"][1].update(weight="0.5"), "must be a number"),
    (
        "duplicate domain key",
        lambda d: d["domains"][1].update(key="doing"),
        "the domain key 'doing' is used twice",
    ),
    (
        "bands overlap",
        set_bands(band(0, 4, "Low"), band(4, 8, "High")),
        "bands 'Low' (0 to 4) and 'High' (4 to 8) overlap",
    ),
    (
        "bands leave a gap",
        set_bands(band(0, 3, "Low"), band(4, 8, "High")),
        "bands 'Low' and 'High' leave a gap: a score of 3.1 would have no band",
    ),
    (
        "bands start late",
        set_bands(band(1, 3.9, "Low"), band(4, 8, "High")),
        "the first band starts at 1, but scores start at 0",
    ),
    (
        "bands end early",
        set_bands(band(0, 3.9, "Low"), band(4, 7, "High")),
        "the last band ends at 7, but scores go up to 8",
    ),
    (
        "band too precise",
        set_bands(band(0, 3.95, "Low"), band(3.96, 8, "High")),
        "3.95 has more decimals than the instrument's 1",
    ),
    (
        "band upside down",
        set_bands(band(3.9, 0, "Low"), band(4, 8, "High")),
        "3.9 is above 0",
    ),
    (
        "band labels repeat",
        set_bands(band(0, 3.9, "Low"), band(4, 8, "Low")),
        "the band label 'Low' is used 2 times",
    ),
    (
        "band without interpretation",
        lambda d: d["total"]["bands"][0].pop("interpretation"),
        "band 1: 'interpretation' is missing",
    ),
    (
        "shown_if unknown item",
        lambda d: item(d, "ease")["shown_if"].update(item="joy"),
        "shown_if refers to 'joy', which is not an earlier item",
    ),
    (
        "shown_if later item",
        lambda d: item(d, "ease")["shown_if"].update(item="calm"),
        "shown_if refers to 'calm', which is not an earlier item",
    ),
    (
        "shown_if itself",
        lambda d: item(d, "ease")["shown_if"].update(item="ease"),
        "shown_if cannot depend on the item itself",
    ),
    (
        "shown_if value not offered",
        lambda d: item(d, "ease")["shown_if"].update(answered=[2]),
        "shown_if lists 2, which 'used' does not offer (0 or 1)",
    ),
    (
        "shown_if no values",
        lambda d: item(d, "ease")["shown_if"].update(answered=[]),
        "shown_if needs at least one answer",
    ),
    (
        "when_hidden without shown_if",
        lambda d: item(d, "calm").update(when_hidden=0),
        "when_hidden is given but the item is never hidden",
    ),
    (
        "when_hidden not offered",
        lambda d: item(d, "ease").update(when_hidden=5),
        "when_hidden 5 is not one of the item's values (0 to 4)",
    ),
    (
        "scored hideable item without when_hidden",
        lambda d: item(d, "ease").pop("when_hidden"),
        "'ease' can be hidden, so it needs when_hidden",
    ),
    (
        "validity unknown item",
        lambda d: d["validity"][0]["of_items"].append("joy"),
        "validity rule 1: of_items: 'joy' is not an item",
    ),
    (
        "validity value not offered",
        lambda d: d["validity"][0].update(answered=[9]),
        "calm, hope do not offer the answer 9",
    ),
    (
        "validity threshold too high",
        lambda d: d["validity"][0].update(invalid_when_at_least=3),
        "invalid_when_at_least must be between 1 and 2",
    ),
    (
        "validity counts nothing",
        lambda d: d["validity"][0].update(answered=[], or_missing=False),
        "validity rule 1 counts nothing",
    ),
    (
        "or_missing not boolean",
        lambda d: d["validity"][0].update(or_missing="yes"),
        "or_missing must be true or false",
    ),
    (
        "total sums nothing known",
        lambda d: d["total"].update(sum_of="everything"),
        "sum_of must be 'domains' or 'items'",
    ),
    (
        "total of domains lists items",
        lambda d: d["total"].update(items=["calm"]),
        "items is only for a total that sums items",
    ),
    (
        "total range wrong",
        lambda d: d["total"].update(range=[0, 10]),
        "the total: range is 0 to 10, but the domains add up to 0 to 8",
    ),
    (
        "total of items without items",
        lambda d: d["total"].update(sum_of="items"),
        "the total sums items but does not list them",
    ),
    (
        "no domains to sum",
        lambda d: d.update(domains=[]),
        "the total sums the domains, but there are none",
    ),
]


@pytest.mark.parametrize(
    ("mutate", "message"), [(m, msg) for _, m, msg in REFUSALS], ids=[n for n, _, _ in REFUSALS]
)
def test_the_validator_refuses(mutate: Mutation, message: str) -> None:
    """Each broken variant of a valid instrument is refused with a plain message saying what
    is wrong and where."""
    data = demo()
    mutate(data)
    with pytest.raises(InstrumentError) as raised:
        load_instrument(data)
    assert any(message in problem for problem in raised.value.problems), raised.value.problems
    assert len(raised.value.problems) <= 2, raised.value.problems  # no cascade of follow-ons


def test_the_demo_itself_is_valid() -> None:
    """The base of the refusal table loads, so each refusal is caused by its mutation."""
    assert load_instrument(demo()).key == "demo"


def test_not_an_object_is_refused() -> None:
    """A list where an instrument should be is refused in words."""
    with pytest.raises(InstrumentError, match=r"must be an object \(\{\.\.\.\}\), not a list"):
        load_instrument([])  # type: ignore[arg-type]


def test_every_problem_is_reported_at_once() -> None:
    """Three independent mistakes come back together, so an import can be fixed in one go."""
    data = demo()
    data["colour"] = "red"
    item(data, "calm")["options"][0].pop("value")
    item(data, "hope")["options"][1]["label"] = "option 0"
    with pytest.raises(InstrumentError) as raised:
        load_instrument(data)
    assert raised.value.problems == (
        "the instrument: unknown field 'colour' (expected: citation, decimals, domains, format,"
        " instructions, items, key, licence, notes, recall_period, title, total, translations,"
        " validity, version)",
        "item 3 ('calm'), option 1: 'value' is missing",
        "item 4 ('hope'): the label 'option 0' is given to 2 options",
    )
    assert str(raised.value).startswith("The instrument has 3 problems: ")


def test_scoring_problems_are_reported_together_without_follow_on_complaints() -> None:
    """A wrong domain range, a rule that counts nothing and a band gap come back together;
    the broken domain range is not repeated as a wrong total."""
    data = demo()
    data["domains"][1]["range"] = [0, 5]
    data["validity"][0].update(answered=[], or_missing=False)
    data["total"]["bands"][1]["range"] = [4.5, 8]
    with pytest.raises(InstrumentError) as raised:
        load_instrument(data)
    assert raised.value.problems == (
        "domain 'feeling': range is 0 to 5, but its items give 0 to 4 (weight 0.5, items 0 to 8)",
        "the total: bands 'Low' and 'High' leave a gap: a score of 4 would have no band",
        "validity rule 1 counts nothing: give answered values, or_missing, or both",
    )


def test_a_field_given_twice_in_the_file_is_refused() -> None:
    """JSON would silently keep the last of two 'weight' fields; the parser refuses it."""
    text = json.dumps(demo()).replace('"weight": 0.5', '"weight": 0.5, "weight": 5')
    with pytest.raises(InstrumentError, match="the field 'weight' is given twice"):
        parse_instrument(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [("{", "not valid JSON"), ('{"decimals": NaN}', "NaN is not a number")],
)
def test_broken_json_is_refused_in_words(text: str, message: str) -> None:
    """Broken JSON and NaN are refused as InstrumentError, not a parser traceback."""
    with pytest.raises(InstrumentError, match=message):
        parse_instrument(text)


def test_decimals_in_a_file_are_read_exactly() -> None:
    """0.3 in a file stays exactly 0.3 (never 0.299999...)."""
    instrument = parse_instrument(json.dumps(demo()))
    assert instrument.domains[1].weight == Decimal("0.5")
    assert FSFI.domains[1].weight == Decimal("0.3")


def test_a_float_weight_from_python_is_read_exactly() -> None:
    """load_instrument given the float 0.3 (not from a file) still uses exactly 0.3."""
    data = demo()
    data["domains"][1].update(weight=0.3, range=[0, 2.4])
    data["total"].update(range=[0, 6.4], bands=[band(0, 3.9, "Low"), band(4, 6.4, "High")])
    assert load_instrument(data).domains[1].weight == Decimal("0.3")


def test_looking_up_an_unknown_item_or_domain_is_a_key_error() -> None:
    """Instrument.item and Score.domain raise KeyError for a key they do not have."""
    with pytest.raises(KeyError):
        FSFI.item("q20")
    with pytest.raises(KeyError):
        score(FSFI, FSFI_EXAMPLE).domain("mood")


def test_describe_values() -> None:
    """A run of values reads '0 to 5'; others are listed."""
    assert describe_values([0, 1, 2, 3, 4, 5]) == "0 to 5"
    assert describe_values([0, 1]) == "0 or 1"
    assert describe_values([1, 3, 5]) == "1, 3 or 5"


def test_status_labels() -> None:
    """Each status has a label in words."""
    assert [s.label for s in Status] == ["Scored", "Not scored: too few answers", "Not valid"]


# ---------------------------------------------------------------------------------------
# Properties

ALL = [*SHIPPED.values(), DEMO]


def answers_for(instrument: Instrument, blank: bool = True) -> st.SearchStrategy[dict]:
    """Any response: each item one of its values, or blank when `blank`."""
    return st.fixed_dictionaries(
        {
            i.key: (st.none() | st.sampled_from(i.values)) if blank else st.sampled_from(i.values)
            for i in instrument.items
        }
    )


@given(st.sampled_from(ALL).flatmap(lambda i: st.tuples(st.just(i), answers_for(i))))
def test_scores_stay_within_their_declared_ranges(case: tuple[Instrument, dict]) -> None:
    """Property: every domain score and total lies in its declared range, at the
    instrument's decimals, and any band given contains the score."""
    instrument, answers = case
    result = score(instrument, answers)
    for rule, got in zip(instrument.domains, result.domains, strict=True):
        if got.score is not None:
            assert rule.minimum <= got.score <= rule.maximum
            assert got.score.as_tuple().exponent == -instrument.decimals
            assert got.band is None or got.band.contains(got.score)
    if result.total is not None:
        assert instrument.total.minimum <= result.total <= instrument.total.maximum
        assert result.band is None or result.band.contains(result.total)
        assert bool(instrument.total.bands) == (result.band is not None)
    assert (result.total is None) == (result.status is not Status.SCORED)
    assert (result.status is Status.SCORED) == (result.reasons == ())


@given(
    st.sampled_from(list(SHIPPED.values())).flatmap(
        lambda i: st.tuples(st.just(i), answers_for(i), st.data())
    )
)
def test_adding_an_answer_never_makes_a_valid_response_invalid(
    case: tuple[Instrument, dict, st.DataObject],
) -> None:
    """Property (bundled instruments: no skip logic, and every validity rule counts blanks):
    answering a blank item can only take a response away from 'not valid'."""
    instrument, answers, data = case
    assert all(i.shown_if is None for i in instrument.items)
    assert all(rule.or_missing for rule in instrument.validity)
    blanks = [key for key, value in answers.items() if value is None]
    assume(blanks)
    key = data.draw(st.sampled_from(blanks))
    value = data.draw(st.sampled_from(instrument.item(key).values))
    if score(instrument, answers).valid:
        assert score(instrument, {**answers, key: value}).valid


@given(answers_for(FSFI, blank=False))
def test_fsfi_domain_weights_are_applied_exactly(answers: dict[str, int]) -> None:
    """Property: with every FSFI item answered, each domain is exactly weight x sum and the
    total exactly their sum (no float drift: 0.3 x 13 is 3.9)."""
    result = score(FSFI, answers)
    for rule, got in zip(FSFI.domains, result.domains, strict=True):
        assert got.score == rule.weight * sum(answers[k] for k in rule.items)
    if result.valid:
        assert result.total == sum(d.score for d in result.domains if d.score is not None)


@given(answers_for(CPSI, blank=False))
def test_cpsi_subscales_are_plain_sums(answers: dict[str, int]) -> None:
    """Property: NIH-CPSI subscales are the sums of their items and the total their sum."""
    result = score(CPSI, answers)
    for rule, got in zip(CPSI.domains, result.domains, strict=True):
        assert got.score == sum(answers[k] for k in rule.items)
    assert result.total == sum(d.score for d in result.domains if d.score is not None)


@given(st.lists(st.integers(0, 4), min_size=4, max_size=4), st.integers(0, 4))
def test_confidence_pro_rating_is_the_mean_rounded_half_up(
    answered: list[int], blank_at: int
) -> None:
    """Property: with one blank, the confidence total is 5/4 of the four answers' sum,
    rounded half up, and equals the complete total when the blank would have been the mean."""
    values: list[int | None] = list(answered)
    values.insert(blank_at, None)
    result = score(CONFIDENCE, confidence(*values))
    exact = Decimal(sum(answered)) * 5 / 4
    assert result.total == (exact + Decimal("0.5")).to_integral_value(rounding="ROUND_FLOOR")
    if len(set(answered)) == 1:
        assert result.total == score(CONFIDENCE, confidence(*[answered[0]] * 5)).total


@given(answers_for(DEMO), st.integers(0, 4))
def test_answers_to_hidden_items_never_change_the_score(answers: dict, ease: int) -> None:
    """Property: while 'ease' is hidden, whatever it was answered does not change the score."""
    hidden = {**answers, "used": 0}
    expected = score(DEMO, {**hidden, "ease": None})
    got = score(DEMO, {**hidden, "ease": ease})
    assert (got.total, got.domains, got.status) == (
        expected.total,
        expected.domains,
        expected.status,
    )


@given(
    st.sampled_from(ALL).flatmap(lambda i: st.tuples(st.just(i), st.sampled_from(i.items))),
    st.integers(-1000, 1000),
)
def test_any_value_an_item_does_not_offer_is_refused(case: tuple, value: int) -> None:
    """Property: a whole number outside an item's values raises AnswerError, never scores."""
    instrument, chosen = case
    assume(value not in chosen.values)
    with pytest.raises(AnswerError):
        score(instrument, {chosen.key: value})


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(JSON)
def test_junk_is_refused_as_an_instrument_error(junk: Any) -> None:
    """Property: any JSON-like value either loads or is refused with InstrumentError; the
    validator never crashes."""
    try:
        load_instrument(junk)
    except InstrumentError as error:
        assert error.problems


@given(st.data())
def test_a_damaged_instrument_is_refused_cleanly(data: st.DataObject) -> None:
    """Property: replacing any one value of a valid instrument with junk gives either a valid
    instrument or an InstrumentError, never another exception."""
    document = demo()
    node: Any = document
    while True:
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        if not keys:
            break
        key = data.draw(st.sampled_from(keys))
        child = node[key]
        if isinstance(child, dict | list) and child and data.draw(st.booleans()):
            node = child
            continue
        node[key] = data.draw(JSON)
        break
    try:
        load_instrument(document)
    except InstrumentError as error:
        assert error.problems


# ---------------------------------------------------------------------------------------
# Which way is better, and instruments that rate change themselves


@pytest.mark.parametrize(
    ("key", "better"),
    [
        ("pain-nrs", Better.LOWER),
        ("dilator-confidence", Better.HIGHER),
        ("fsfi", Better.HIGHER),
        ("nih-cpsi", Better.LOWER),
        ("marinoff", Better.LOWER),
        ("pgic", Better.LOWER),
    ],
)
def test_every_bundled_total_says_which_way_is_better(key: str, better: Better) -> None:
    """Less pain, fewer symptoms and a lower Marinoff grade are better; more confidence and
    a higher FSFI are better; on PGIC 1 is 'very much improved'."""
    assert SHIPPED[key].total.better is better


def test_only_pgic_rates_change_itself() -> None:
    """PGIC is itself a rating of change since the start: no change from its first answer
    is computed. Every other bundled total is compared with its baseline."""
    assert {key for key, i in SHIPPED.items() if i.total.rates_change} == {"pgic"}


def test_better_and_rates_change_are_optional() -> None:
    """A total that says neither loads, with no direction and not rating change."""
    total = load_instrument(demo()).total
    assert (total.better, total.rates_change) == (None, False)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"better": "down"}, "the total: better must be 'lower' or 'higher', not 'down'"),
        ({"better": ["lower"]}, "the total: better must be 'lower' or 'higher'"),
        ({"rates_change": "yes"}, "the total: rates_change must be true or false"),
    ],
)
def test_better_and_rates_change_are_checked(fields: dict[str, Any], message: str) -> None:
    """A direction other than lower/higher, or rates_change that is not true/false, is
    refused in words."""
    data = demo()
    data["total"].update(fields)
    with pytest.raises(InstrumentError) as raised:
        load_instrument(data)
    assert any(message in p for p in raised.value.problems), raised.value.problems


def test_better_is_read_from_the_file() -> None:
    """'higher' in the file is Better.HIGHER on the total."""
    data = demo()
    data["total"].update(better="higher", rates_change=True)
    total = load_instrument(data).total
    assert (total.better, total.rates_change) == (Better.HIGHER, True)


# ---------------------------------------------------------------------------------------
# Comparing scoring rules (a licensed clinic adds only the wording)


@pytest.mark.parametrize("name", ["fsfi.scoring.json", "nih-cpsi.scoring.json"])
def test_wording_alone_makes_no_scoring_difference(name: str) -> None:
    """Text, labels, licence, title and version may change: the rules score alike."""
    worded = with_wording(file_data(name))
    worded.update(title="Our licensed copy", version="2026-clinic", notes="Licensed 2026.")
    imported = load_instrument(worded)
    assert scoring_differences(SHIPPED[imported.key], imported) == []


def _fsfi_changed(mutate: Mutation) -> Instrument:
    data = with_wording(file_data("fsfi.scoring.json"))
    mutate(data)
    return load_instrument(data)


def _domain(data: dict[str, Any], key: str) -> dict[str, Any]:
    return next(d for d in data["domains"] if d["key"] == key)


def _lighter_desire(data: dict[str, Any]) -> None:
    # Desire weighted 0.5 instead of 0.6, with the ranges that follow from it.
    _domain(data, "desire").update(weight=Decimal("0.5"), range=[Decimal("1.0"), Decimal("5.0")])
    data["total"]["range"] = [Decimal("1.8"), Decimal("35.0")]
    data["total"]["bands"][0]["range"][0] = Decimal("1.8")
    data["total"]["bands"][-1]["range"][1] = Decimal("35.0")


def _swap_first_items(data: dict[str, Any]) -> None:
    data["items"][0], data["items"][1] = data["items"][1], data["items"][0]


SCORING_CHANGES: list[tuple[str, Mutation, str]] = [
    (
        "a weight",
        _lighter_desire,
        "domain 'desire': its weight differs from the shipped rules",
    ),
    (
        "an answer value",
        lambda d: item(d, "q1")["options"].pop(2),
        "item 'q1' offers 1, 2, 4 or 5, but the shipped rules give it 1 to 5",
    ),
    (
        "the cut-off",
        lambda d: (
            d["total"]["bands"][0]["range"].__setitem__(1, Decimal("26.0"))
            or d["total"]["bands"][1]["range"].__setitem__(0, Decimal("26.1"))
        ),
        "the total: its bands differs from the shipped rules",
    ),
    (
        "the validity rule",
        lambda d: d["validity"][0].update(invalid_when_at_least=9),
        "the validity rules differ from the shipped rules",
    ),
    (
        "the rounding",
        lambda d: (
            d.update(decimals=2) or d["total"]["bands"][1]["range"].__setitem__(0, Decimal("26.51"))
        ),
        "decimals is 2, but the shipped rules round to 1",
    ),
    (
        "the direction",
        lambda d: d["total"].update(better="lower"),
        "the total: its better differs from the shipped rules",
    ),
    (
        "the order of the items",
        _swap_first_items,
        "the items are in a different order from the shipped rules",
    ),
    (
        "a domain's pro-rating",
        lambda d: _domain(d, "desire").update(min_answered=2),
        "domain 'desire': its min_answered differs from the shipped rules",
    ),
]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [(m, msg) for _, m, msg in SCORING_CHANGES],
    ids=[n for n, _, _ in SCORING_CHANGES],
)
def test_any_change_to_the_scoring_is_a_difference(mutate: Mutation, message: str) -> None:
    """Each change to what decides or interprets an FSFI score is named in words."""
    changed = _fsfi_changed(mutate)
    assert message in scoring_differences(FSFI, changed)


def test_missing_and_extra_items_and_domains_are_named() -> None:
    """A file with q19 replaced by q20 (and a domain renamed) names both sides."""
    data = demo()
    other = copy.deepcopy(data)
    item(other, "hope")["key"] = "joy"
    other["domains"][1]["items"] = ["calm", "joy"]
    other["domains"][1]["key"] = "mood"
    other["validity"][0]["of_items"] = ["calm", "joy"]
    problems = scoring_differences(load_instrument(data), load_instrument(other))
    assert "the shipped rules have items the file lacks: hope" in problems
    assert "the file has items the shipped rules do not: joy" in problems
    assert "the shipped rules have domains the file lacks: feeling" in problems
    assert "the file has domains the shipped rules do not: mood" in problems

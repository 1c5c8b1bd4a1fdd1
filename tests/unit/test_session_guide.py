"""The guided session's rules (clinic.domain.session_guide): which steps a stage gets, worded
from the clinical reference, and which prefilled minutes the log form accepts."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clinic.domain.diary import LOGGED_MINUTES
from clinic.domain.indications import Indication, Indications
from clinic.domain.protocols import Route
from clinic.domain.session_guide import (
    NEW_SIZE_DAYS,
    StageFacts,
    guide_steps,
    prefill_minutes,
    prefill_stopped,
)


def facts(**changes) -> StageFacts:
    values = {
        "route": Route.VAGINAL,
        "indications": Indications.of(Indication.VAGINISMUS),
        "material": "Medical-grade silicone",
        "minutes": 10,
    }
    return StageFacts(**(values | changes))


def text_of(steps) -> str:
    return " ".join(f"{s.heading} {s.text}" for s in steps)


def test_steps_follow_the_session_in_order() -> None:
    """A first stage: get ready, get comfortable, lubricant, insert on the out-breath, hold
    for the prescribed minutes, finish and log; steady pressure, never force."""
    steps = guide_steps(facts())
    assert [s.key for s in steps] == [
        "prepare",
        "position",
        "lubricant",
        "insert",
        "hold",
        "finish",
    ]
    words = text_of(steps)
    assert "as you breathe out" in words
    assert "never force" in words
    assert "Hold for 10 minutes" in words
    assert "never share it." in words


def test_one_minute_is_singular() -> None:
    """A one-minute stage says "1 minute", never "1 minutes"."""
    assert "Hold for 1 minute" in text_of(guide_steps(facts(minutes=1)))
    assert "1 minutes" not in text_of(guide_steps(facts(minutes=1)))


@pytest.mark.parametrize(
    ("material", "warned"),
    [
        ("Medical-grade silicone", True),
        ("SILICONE with a flared base", True),
        ("Rigid plastic", False),
        ("", False),
    ],
)
def test_silicone_devices_get_the_lubricant_warning(material: str, warned: bool) -> None:
    """Water-based lubricant always; with a silicone device (whatever the clinic's
    capitals), the reason: a silicone-based lubricant damages silicone."""
    lubricant = next(s for s in guide_steps(facts(material=material)) if s.key == "lubricant")
    assert "water-based lubricant" in lubricant.text
    assert ("never use a silicone-based lubricant" in lubricant.text) is warned


@pytest.mark.parametrize(
    "indication",
    [Indication.PELVIC_RADIOTHERAPY, Indication.DYSPAREUNIA, Indication.MENOPAUSE_GSM],
)
def test_easily_irritated_tissue_gets_a_low_irritant_lubricant(indication: Indication) -> None:
    """After radiotherapy, with vulvodynia, in menopause: a low-irritant lubricant."""
    steps = guide_steps(facts(indications=Indications.of(indication)))
    assert "low-irritant, water-based" in text_of(steps)


def test_other_indications_are_not_told_low_irritant() -> None:
    """Vaginismus alone: plain water-based lubricant, no low-irritant wording."""
    assert "low-irritant" not in text_of(guide_steps(facts()))


def test_the_patients_indication_counts_as_well_as_the_plans() -> None:
    """A patient after radiotherapy started on another template still gets the gentle
    lubricant and the word about spotting (the plan follows both indications' rules)."""
    both = Indications.of(Indication.PELVIC_RADIOTHERAPY, Indication.VAGINISMUS)
    words = text_of(guide_steps(facts(indications=both)))
    assert "low-irritant" in words and "spotting afterwards is common" in words


@pytest.mark.parametrize("days", [0, 1, NEW_SIZE_DAYS - 1])
def test_a_new_size_starts_with_a_warm_up_on_the_previous_one(days: int) -> None:
    """In its first week, a size that follows another starts with a warm-up on the
    previous size, named, before the lubricant step."""
    steps = guide_steps(facts(previous_size="Size 3 (21 mm)", days_on_stage=days))
    keys = [s.key for s in steps]
    assert keys.index("warm_up") == keys.index("lubricant") - 1
    assert "Size 3 (21 mm)" in steps[keys.index("warm_up")].text


@pytest.mark.parametrize(
    ("previous", "days"),
    [
        ("Size 3 (21 mm)", NEW_SIZE_DAYS),  # the size is no longer new
        ("Size 3 (21 mm)", None),  # the plan has not started
        (None, 0),  # the first stage, or a stage on the same size as the last
    ],
)
def test_no_warm_up_otherwise(previous: str | None, days: int | None) -> None:
    """No warm-up once the size is a week old, before the plan starts, or when there is
    no different previous size."""
    steps = guide_steps(facts(previous_size=previous, days_on_stage=days))
    assert "warm_up" not in [s.key for s in steps]


def test_target_depth_is_in_the_insert_step() -> None:
    """A stage with a target depth says it, read on the dilator's marks."""
    insert = next(s for s in guide_steps(facts(target_depth_cm=12.5)) if s.key == "insert")
    assert "depth of 12.5 cm" in insert.text
    plain = next(s for s in guide_steps(facts()) if s.key == "insert")
    assert "depth" not in plain.text


def test_anal_programmes_get_the_flared_base_and_the_route_rule() -> None:
    """For anal use: only the flared-base dilators given, and never move a device from
    anal to vaginal use; neither is said to a vaginal programme."""
    anal = text_of(guide_steps(facts(route=Route.ANAL)))
    assert "flared" in anal and "never move it from anal to vaginal use" in anal
    vaginal = text_of(guide_steps(facts()))
    assert "flared" not in vaginal and "anal" not in vaginal


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("7", 7),
        ("1", 1),
        ("240", 240),
        ("241", 240),
        ("9999", 240),
        ("007", 7),
        ("0", None),
        ("", None),
        (None, None),
        ("-3", None),
        ("7.5", None),
        (" 7", None),
        ("seven", None),
        ("٣", None),  # a digit, but not an ASCII one
        ("1" * 5000, None),  # never read as a huge integer
    ],
)
def test_prefilled_minutes(raw: str | None, expected: int | None) -> None:
    """Whole minutes are taken and held to what the form accepts; anything else is
    ignored (the plan's minutes stay)."""
    assert prefill_minutes(raw) == expected


@given(st.text(max_size=12))
def test_prefilled_minutes_never_leave_the_forms_range(raw: str) -> None:
    """Whatever the link says, the prefill is nothing or a number the form accepts."""
    minutes = prefill_minutes(raw)
    assert minutes is None or LOGGED_MINUTES.low <= minutes <= LOGGED_MINUTES.high


@pytest.mark.parametrize(
    ("raw", "expected"), [("1", True), ("0", False), ("yes", False), (None, False)]
)
def test_stopped_is_only_one(raw: str | None, expected: bool) -> None:
    """Only `stopped=1` ticks sharp pain; any other value is ignored."""
    assert prefill_stopped(raw) is expected

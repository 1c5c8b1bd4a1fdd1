"""What counts as a red flag in a session report."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clinic.domain.diary import (
    RADIOTHERAPY_QUIET_SESSIONS,
    SURGICAL_INDICATIONS,
    Bleeding,
    Concern,
    FlagReason,
    SessionReport,
    bleeding_may_return,
    bleeding_returned,
    concerns_offered,
    decode_concerns,
    encode_concerns,
    pain_band,
    red_flags,
)
from clinic.domain.flags import Severity
from clinic.domain.indications import Indication
from clinic.domain.protocols import Route


def report(
    during=2, after=1, bleeding=Bleeding.NONE, sharp=False, concerns=frozenset()
) -> SessionReport:
    return SessionReport(during, after, bleeding, sharp, concerns)


def test_an_ordinary_session_raises_nothing() -> None:
    """Mild discomfort and spotting are expected, not red flags."""
    assert red_flags(report(during=3, after=2, bleeding=Bleeding.SPOTTING), 7) == []


@pytest.mark.parametrize(("during", "after"), [(7, 0), (0, 7), (9, 9)])
def test_pain_at_the_threshold_during_or_after(during: int, after: int) -> None:
    """Pain at or above the stage's level, during or afterwards, is a red flag."""
    assert red_flags(report(during=during, after=after), 7) == [FlagReason.HIGH_PAIN]


def test_threshold_is_the_stages() -> None:
    """A stage with a threshold of 8 does not flag 7."""
    assert red_flags(report(during=7), 8) == []


def test_bleeding_beyond_spotting_and_sharp_pain_always_flag() -> None:
    """These two are red flags at any pain level and any threshold."""
    assert red_flags(report(bleeding=Bleeding.MORE, sharp=True), 10) == [
        FlagReason.BLEEDING,
        FlagReason.SHARP_PAIN,
    ]


@given(
    st.integers(0, 10),
    st.integers(0, 10),
    st.sampled_from(list(Bleeding)),
    st.booleans(),
    st.integers(1, 10),
)
def test_flags_follow_the_rules_exactly(during, after, bleeding, sharp, threshold) -> None:
    """Property: each reason appears exactly when its rule holds, in a fixed order."""
    flags = red_flags(SessionReport(during, after, bleeding, sharp), threshold)
    expected = []
    if max(during, after) >= threshold:
        expected.append(FlagReason.HIGH_PAIN)
    if bleeding is Bleeding.MORE:
        expected.append(FlagReason.BLEEDING)
    if sharp:
        expected.append(FlagReason.SHARP_PAIN)
    assert flags == expected


@pytest.mark.parametrize(
    ("pain", "band"),
    [(0, "mild"), (3, "mild"), (4, "moderate"), (6, "moderate"), (7, "severe"), (10, "severe")],
)
def test_pain_bands(pain: int, band: str) -> None:
    """The usual bands of the 0-10 scale."""
    assert pain_band(pain) == band


# --- More things a patient can report (issue 16) -------------------------------------


@pytest.mark.parametrize("concern", list(Concern))
def test_each_concern_reported_raises_its_own_red_flag(concern: Concern) -> None:
    """A ticked "Anything else today?" box is a red flag of its own, whatever the pain."""
    flags = red_flags(report(concerns=frozenset({concern})), 10)
    assert flags == [concern.reason]


def test_distress_is_flagged_at_a_lower_severity_than_the_others() -> None:
    """Distress or flashbacks ask for a gentle check-in: flagged, but not urgent; every
    other reason is urgent. Severity is said in words."""
    assert FlagReason.DISTRESS.severity is Severity.ATTENTION
    assert FlagReason.DISTRESS.severity.label == "Needs attention"
    assert all(r.urgent for r in FlagReason if r is not FlagReason.DISTRESS)


@pytest.mark.parametrize(
    ("route", "asked", "not_asked"),
    [
        (Route.VAGINAL, Concern.FISTULA, Concern.BOWEL_LEAKAGE),
        (Route.ANAL, Concern.BOWEL_LEAKAGE, Concern.FISTULA),
    ],
)
def test_route_specific_questions(route: Route, asked: Concern, not_asked: Concern) -> None:
    """Stool, wind or urine from the vagina is asked on vaginal routes only; new bowel
    leakage or urgency on anal routes only."""
    offered = concerns_offered(route, Indication.OTHER)
    assert asked in offered and not_asked not in offered


@given(st.sampled_from(list(Route)), st.sampled_from(list(Indication)))
def test_everyone_is_asked_the_common_questions(route: Route, indication: Indication) -> None:
    """Property: infection signs, urinary trouble, a stuck device and distress are asked on
    every plan, in a fixed order, with no question twice; after vaginoplasty one more:
    a size used before that would not go in (issue 16)."""
    offered = concerns_offered(route, indication)
    assert {
        Concern.INFECTION,
        Concern.URINARY,
        Concern.DEVICE_STUCK,
        Concern.DISTRESS,
    } <= set(offered)
    assert offered == sorted(set(offered), key=list(Concern).index)
    assert len(offered) == (6 if indication.is_neovagina else 5)


def test_the_infection_question_names_the_wound_only_after_surgery() -> None:
    """After an operation the question mentions a wound opening; otherwise it does not."""
    assert "wound" in Concern.INFECTION.label_for(True)
    assert "wound" not in Concern.INFECTION.label_for(False)
    assert Indication.VAGINOPLASTY in SURGICAL_INDICATIONS
    assert Indication.ANAL_STENOSIS in SURGICAL_INDICATIONS
    assert Indication.VAGINISMUS not in SURGICAL_INDICATIONS


def test_patient_words_never_name_a_diagnosis() -> None:
    """The checkbox words are plain: no "fistula", "incontinence" or "trauma"."""
    words = " ".join(c.label_for(s) for c in Concern for s in (True, False)).lower()
    for term in ("fistula", "incontinence", "trauma", "urinary tract", "retention"):
        assert term not in words


QUIET = [Bleeding.NONE] * RADIOTHERAPY_QUIET_SESSIONS
RT = Indication.PELVIC_RADIOTHERAPY


def test_bleeding_after_a_quiet_spell_after_radiotherapy_is_new() -> None:
    """After radiotherapy, spotting after six sessions without any bleeding is new."""
    assert bleeding_returned(RT, Bleeding.SPOTTING, QUIET)
    assert red_flags(report(bleeding=Bleeding.SPOTTING), 7, True) == [FlagReason.BLEEDING_RETURNED]


@pytest.mark.parametrize(
    "before",
    [
        QUIET[:-1],  # not yet a spell
        [*QUIET[:-1], Bleeding.SPOTTING],  # still bleeding last time
        [],
    ],
)
def test_bleeding_that_never_stopped_is_not_new(before: list[Bleeding]) -> None:
    """Early spotting after radiotherapy is expected: it is "new" only after a full spell."""
    assert not bleeding_returned(RT, Bleeding.SPOTTING, before)


def test_new_bleeding_is_a_radiotherapy_rule_only() -> None:
    """Other indications have their own bleeding rule (beyond spotting), not this one."""
    assert not bleeding_returned(Indication.VAGINISMUS, Bleeding.MORE, QUIET)


@given(
    st.sampled_from(list(Indication)),
    st.sampled_from(list(Bleeding)),
    st.lists(st.sampled_from(list(Bleeding)), max_size=12),
    st.integers(1, 8),
)
def test_bleeding_returned_follows_its_definition(indication, now, before, quiet) -> None:
    """Property: true exactly after radiotherapy, with bleeding now, and `quiet` sessions
    just before all without bleeding."""
    expected = (
        indication is RT
        and now is not Bleeding.NONE
        and len(before) >= quiet
        and all(b is Bleeding.NONE for b in before[-quiet:])
    )
    assert bleeding_returned(indication, now, before, quiet) == expected


@given(
    st.sampled_from(list(Indication)),
    st.sampled_from(list(Bleeding)),
    st.lists(st.sampled_from(list(Bleeding)), max_size=12),
)
def test_bleeding_can_return_only_where_it_may(indication, now, before) -> None:
    """Property: where `bleeding_may_return` says no, no sessions before change the answer
    (so the diary need not read them): bleeding never returns."""
    if not bleeding_may_return(indication, now):
        assert not bleeding_returned(indication, now, before)
    assert bleeding_may_return(indication, now) == (indication is RT and now is not Bleeding.NONE)


@given(
    st.integers(0, 10),
    st.integers(0, 10),
    st.sampled_from(list(Bleeding)),
    st.booleans(),
    st.frozensets(st.sampled_from(list(Concern))),
    st.booleans(),
    st.integers(1, 10),
)
def test_every_reason_appears_once_in_a_fixed_order(
    during, after, bleeding, sharp, concerns, returned, threshold
) -> None:
    """Property: no reason twice; the order is always the order of FlagReason; each
    concern's reason appears exactly when it was reported."""
    flags = red_flags(SessionReport(during, after, bleeding, sharp, concerns), threshold, returned)
    assert len(flags) == len(set(flags))
    assert flags == sorted(flags, key=list(FlagReason).index)
    assert {c.reason for c in concerns} == set(flags) & {c.reason for c in Concern}
    assert (FlagReason.BLEEDING_RETURNED in flags) == returned


@given(st.frozensets(st.sampled_from(list(Concern))))
def test_concerns_are_stored_and_read_back_unchanged(concerns) -> None:
    """Property: encoding then decoding gives the same set."""
    assert decode_concerns(encode_concerns(concerns)) == concerns

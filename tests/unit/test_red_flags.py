"""What counts as a red flag in a session report."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clinic.domain.diary import Bleeding, FlagReason, SessionReport, pain_band, red_flags


def report(during=2, after=1, bleeding=Bleeding.NONE, sharp=False) -> SessionReport:
    return SessionReport(during, after, bleeding, sharp)


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

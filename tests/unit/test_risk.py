"""The risk matrix of the hazard log (clinic.domain.risk): the DCB0129 5x5 matrix, read
exactly, ordered, and its levels said in words."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clinic.domain.risk import RISK_WORDS, Likelihood, Severity, risk_of, risk_words


@pytest.mark.parametrize(
    ("severity", "likelihood", "risk"),
    [
        (Severity.MINOR, Likelihood.VERY_LOW, 1),
        (Severity.CATASTROPHIC, Likelihood.VERY_HIGH, 5),
        (Severity.MAJOR, Likelihood.MEDIUM, 3),
        (Severity.MAJOR, Likelihood.VERY_LOW, 2),
        (Severity.CATASTROPHIC, Likelihood.VERY_LOW, 3),
        (Severity.MINOR, Likelihood.VERY_HIGH, 3),
        (Severity.CONSIDERABLE, Likelihood.LOW, 2),
        (Severity.MAJOR, Likelihood.HIGH, 4),
    ],
)
def test_the_matrix_reads_as_published(
    severity: Severity, likelihood: Likelihood, risk: int
) -> None:
    """Corners and sample cells of the DCB0129 matrix."""
    assert risk_of(severity, likelihood) == risk


@given(st.sampled_from(Severity), st.sampled_from(Likelihood))
def test_risk_never_falls_as_severity_or_likelihood_rises(
    severity: Severity, likelihood: Likelihood
) -> None:
    """Property: a worse effect, or a likelier one, is never a lower risk; every cell is
    a level from 1 to 5."""
    risk = risk_of(severity, likelihood)
    assert 1 <= risk <= 5
    severities, likelihoods = list(Severity), list(Likelihood)
    for worse in severities[severities.index(severity) :]:
        assert risk_of(worse, likelihood) >= risk
    for likelier in likelihoods[likelihoods.index(likelihood) :]:
        assert risk_of(severity, likelier) >= risk


def test_each_level_is_said_in_words() -> None:
    """Five levels, each with what it asks for."""
    assert sorted(RISK_WORDS) == [1, 2, 3, 4, 5]
    assert risk_words(1) == "1: Acceptable: no further action needed"
    assert risk_words(5).startswith("5: Unacceptable")

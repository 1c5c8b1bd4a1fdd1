"""Clinical risk as the hazard log scores it: the 5x5 matrix of DCB0129 practice.

A hazard's risk follows from the severity of its worst credible effect and the likelihood
of that effect: five severities (Minor to Catastrophic), five likelihoods (Very low to Very
high), and a risk from 1 (acceptable) to 5 (unacceptable) read from the matrix used in NHS
clinical safety guidance. The hazard log (docs/safety/hazards.json) states severity,
likelihood and risk before and after its controls; `risk_of` is the check that the stated
risk is the matrix's, and `RISK_WORDS` says what each level asks for.

No Flask, no database.
"""

from __future__ import annotations

from enum import StrEnum


class Severity(StrEnum):
    """How bad the worst credible effect of a hazard is, mildest first."""

    MINOR = "Minor"
    SIGNIFICANT = "Significant"
    CONSIDERABLE = "Considerable"
    MAJOR = "Major"
    CATASTROPHIC = "Catastrophic"


class Likelihood(StrEnum):
    """How likely that effect is, least likely first."""

    VERY_LOW = "Very low"
    LOW = "Low"
    MEDIUM = "Medium"
    HIGH = "High"
    VERY_HIGH = "Very high"


# Rows: likelihood; columns: severity, Minor to Catastrophic (DCB0129 guidance).
_MATRIX: dict[Likelihood, tuple[int, int, int, int, int]] = {
    Likelihood.VERY_HIGH: (3, 4, 4, 5, 5),
    Likelihood.HIGH: (2, 3, 3, 4, 5),
    Likelihood.MEDIUM: (2, 2, 3, 3, 4),
    Likelihood.LOW: (1, 2, 2, 3, 4),
    Likelihood.VERY_LOW: (1, 1, 2, 2, 3),
}

RISK_WORDS: dict[int, str] = {
    1: "Acceptable: no further action needed",
    2: "Acceptable where reducing it further would cost more than it gains",
    3: "Undesirable: reduce it where possible",
    4: "Mandatory reduction: must be controlled to an acceptable level",
    5: "Unacceptable: must be removed",
}


def risk_of(severity: Severity, likelihood: Likelihood) -> int:
    """The risk level (1 to 5) the matrix gives a severity at a likelihood."""
    return _MATRIX[likelihood][list(Severity).index(severity)]


def risk_words(level: int) -> str:
    """What a risk level means, in words ("3: Undesirable: ...")."""
    return f"{level}: {RISK_WORDS[level]}"

"""Rules for what patients record in their diary: what counts as a red flag, and how
sessions done compare with sessions prescribed.

From the clinical reference: discomfort (stretch, pressure, burning) is expected; sharp,
sudden pain is a stop signal; spotting that stops quickly is common, bleeding beyond it
needs review; pain at or above the stage's threshold (7-8/10 by default) must reach a
clinician promptly. Pain is the 0-10 numeric rating scale (LOINC 72514-3), stored as an
integer.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

PAIN_SCALE = range(0, 11)
MAX_BACKDATE_DAYS = 7
CORRECTION_WINDOW_HOURS = 24


class Bleeding(StrEnum):
    """Bleeding during or after a session, as the patient reports it."""

    NONE = "none"
    SPOTTING = "spotting"
    MORE = "more"

    @property
    def label(self) -> str:
        return {
            "none": "None",
            "spotting": "A few drops or spotting",
            "more": "More than spotting",
        }[self.value]

    @property
    def is_beyond_spotting(self) -> bool:
        return self is Bleeding.MORE


class SkipReason(StrEnum):
    """Why a session was skipped (clinicians read these as a summary, never as blame)."""

    NO_TIME = "no_time"
    PAIN_OR_FEAR = "pain_or_fear"
    UNWELL = "unwell"
    NO_PRIVACY = "no_privacy"
    FORGOT = "forgot"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {
            "no_time": "No time",
            "pain_or_fear": "Pain or worry about pain",
            "unwell": "Unwell or menstruating",
            "no_privacy": "No privacy",
            "forgot": "Forgot",
            "other": "Another reason",
        }[self.value]


class FlagReason(StrEnum):
    """Why an entry raised a red flag."""

    HIGH_PAIN = "high_pain"
    BLEEDING = "bleeding"
    SHARP_PAIN = "sharp_pain"

    @property
    def label(self) -> str:
        return {
            "high_pain": "High pain",
            "bleeding": "Bleeding beyond spotting",
            "sharp_pain": "Sharp pain",
        }[self.value]

    @property
    def is_high_pain(self) -> bool:
        """Raised by a pain score (which the flag then shows)."""
        return self is FlagReason.HIGH_PAIN


@dataclass(frozen=True)
class SessionReport:
    """What a patient reported about one session, as the rules need it."""

    pain_during: int
    pain_after: int
    bleeding: Bleeding
    sharp_pain: bool


def red_flags(report: SessionReport, red_flag_pain: int) -> list[FlagReason]:
    """The red flags a session raises under its stage's threshold, in a fixed order.

    Bleeding beyond spotting and sharp pain are always red flags; pain (during or after)
    is one from `red_flag_pain` upwards.
    """
    flags: list[FlagReason] = []
    if max(report.pain_during, report.pain_after) >= red_flag_pain:
        flags.append(FlagReason.HIGH_PAIN)
    if report.bleeding is Bleeding.MORE:
        flags.append(FlagReason.BLEEDING)
    if report.sharp_pain:
        flags.append(FlagReason.SHARP_PAIN)
    return flags


def pain_band(pain: int) -> str:
    """The usual severity bands of the 0-10 scale: mild 0-3, moderate 4-6, severe 7-10."""
    if pain <= 3:
        return "mild"
    return "moderate" if pain <= 6 else "severe"

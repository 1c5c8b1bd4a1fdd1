"""Rules for what patients record in their diary: what counts as a red flag, and how
sessions done compare with sessions prescribed.

From the clinical reference: discomfort (stretch, pressure, burning) is expected; sharp,
sudden pain is a stop signal; spotting that stops quickly is common, bleeding beyond it
needs review; pain at or above the stage's threshold (7-8/10 by default) must reach a
clinician promptly. Pain is the 0-10 numeric rating scale (LOINC 72514-3), stored as an
integer.

Beyond pain and bleeding, a patient can tell us about other things in a short "Anything
else today?" list (`Concern`): each is a red flag in the clinical reference (infection
signs, stool/wind/urine from the vagina, new urinary or bowel trouble, a device that could
not be removed, a size used before that could not be inserted after vaginoplasty),
except distress or flashbacks, which deserve a gentle check-in and are flagged at a lower
severity. Which of them are asked depends on the plan's route and
indication (`concerns_offered`). New bleeding after radiotherapy, after a spell with none,
is derived from the diary (`bleeding_returned`), never asked: the patient already answers
the bleeding question every session. Likewise a loss of depth after vaginoplasty is derived
from the depths logged (`clinic.domain.depth.depth_lost`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache

from clinic.domain.flags import Severity
from clinic.domain.indications import Indication, Indications
from clinic.domain.protocols import Bounds, Route
from clinic.domain.text import N_

PAIN_SCALE = range(0, 11)
# The minutes a logged session may have (a long session, or a few run together, included).
LOGGED_MINUTES = Bounds(1, 240)
MAX_BACKDATE_DAYS = 7
CORRECTION_WINDOW_HOURS = 24
# A new entry whose answers repeat one the patient saved this long ago or less is held
# until they say it was another session (clinic.diary.services.find_repeat): the Back
# button brings the form back, and a second Save would count the session twice.
REPEAT_WINDOW_MINUTES = 30


class Bleeding(StrEnum):
    """Bleeding during or after a session, as the patient reports it."""

    NONE = "none"
    SPOTTING = "spotting"
    MORE = "more"

    @property
    def label(self) -> str:
        return {
            "none": N_("None"),
            "spotting": N_("A few drops or spotting"),
            "more": N_("More than spotting"),
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
            "no_time": N_("No time"),
            "pain_or_fear": N_("Pain or worry about pain"),
            "unwell": N_("Unwell or menstruating"),
            "no_privacy": N_("No privacy"),
            "forgot": N_("Forgot"),
            "other": N_("Another reason"),
        }[self.value]


# Indications whose programme follows an operation: their infection question names the
# wound. Anal fissure counts: dilation there is surgeon-directed and often follows surgery.
SURGICAL_INDICATIONS = frozenset(
    {Indication.VAGINOPLASTY, Indication.ANAL_STENOSIS, Indication.ANAL_FISSURE}
)

# "A spell with none" after radiotherapy: this many sessions in a row without any bleeding
# (about three weeks at the usual twice a week), after which bleeding is new again.
RADIOTHERAPY_QUIET_SESSIONS = 6


class Concern(StrEnum):
    """Something else a patient can tell us about a session ("Anything else today?")."""

    INFECTION = "infection"
    FISTULA = "fistula"
    URINARY = "urinary"
    BOWEL_LEAKAGE = "bowel_leakage"
    DEVICE_STUCK = "device_stuck"
    NOT_INSERTED = "not_inserted"
    DISTRESS = "distress"

    def label_for(self, surgical: bool) -> str:
        """The checkbox's words for the patient (plain, no diagnosis named)."""
        if self is Concern.INFECTION:
            if surgical:
                return N_(
                    "A fever, or signs of infection: a bad-smelling discharge, redness that "
                    "is spreading, or a wound opening"
                )
            return N_(
                "A fever, or signs of infection: a bad-smelling discharge, redness that is "
                "spreading"
            )
        return {
            "fistula": N_("Stool (poo), wind or urine (pee) coming from the vagina"),
            "urinary": N_("New trouble peeing, burning when you pee, or blood in your pee"),
            "bowel_leakage": N_(
                "New leaking of stool (poo) or wind, or needing to rush to the toilet"
            ),
            "device_stuck": N_("The dilator would not come out"),
            "not_inserted": N_("I could not insert the size I used before"),
            "distress": N_("Upsetting feelings or memories (flashbacks) during the session"),
        }[self.value]

    @property
    def reason(self) -> FlagReason:
        """The red flag this concern raises."""
        return FlagReason(self.value)


def concerns_offered(route: Route, indication: Indication | Indications) -> list[Concern]:
    """The concerns a plan asks about, in a fixed order: stool, wind or urine from the
    vagina only on a vaginal route (a neovagina too); new bowel leakage or urgency only on
    an anal one; not being able to insert the size used before only after vaginoplasty,
    where it can mean narrowing. Infection signs are asked of everyone (worded for the wound after
    surgery): fragile tissue after radiotherapy or in skin conditions can become infected
    too, and one more checkbox costs less than a missed infection."""
    return [
        c
        for c in Concern
        if not (c is Concern.FISTULA and route is not Route.VAGINAL)
        and not (c is Concern.BOWEL_LEAKAGE and route is not Route.ANAL)
        and not (c is Concern.NOT_INSERTED and not indication.is_neovagina)
    ]


class FlagReason(StrEnum):
    """Why an entry raised a red flag (the words are for clinicians)."""

    HIGH_PAIN = "high_pain"
    BLEEDING = "bleeding"
    SHARP_PAIN = "sharp_pain"
    BLEEDING_RETURNED = "rt_bleeding"
    INFECTION = "infection"
    FISTULA = "fistula"
    URINARY = "urinary"
    BOWEL_LEAKAGE = "bowel_leakage"
    DEVICE_STUCK = "device_stuck"
    NOT_INSERTED = "not_inserted"
    DEPTH_LOSS = "depth_loss"
    DISTRESS = "distress"

    @property
    def label(self) -> str:
        return {
            "high_pain": N_("High pain"),
            "bleeding": N_("Bleeding beyond spotting"),
            "sharp_pain": N_("Sharp pain"),
            "infection": N_("Fever or infection signs"),
            "fistula": N_("Stool, wind or urine from the vagina or neovagina"),
            "urinary": N_("New trouble passing urine, burning or blood in the urine"),
            "bowel_leakage": N_("New leakage of stool or wind, or urgency"),
            "device_stuck": N_("Device could not be removed"),
            "not_inserted": N_("Could not insert a size used before"),
            "depth_loss": N_("Loss of depth"),
            "rt_bleeding": N_("New bleeding after radiotherapy, after a spell with none"),
            "distress": N_("Distress or flashbacks during the session"),
        }[self.value]

    @property
    def severity(self) -> Severity:
        """Urgent, except distress: a gentle check-in and signposting, not an alarm."""
        return Severity.ATTENTION if self is FlagReason.DISTRESS else Severity.URGENT

    @property
    def urgent(self) -> bool:
        return self.severity is Severity.URGENT

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
    concerns: frozenset[Concern] = field(default_factory=frozenset)


# The reasons that ask the patient to stop and the clinic to look promptly (every one but a
# distress check-in): for queries that pick them out.
URGENT_REASONS = tuple(reason for reason in FlagReason if reason.urgent)


def red_flags(
    report: SessionReport,
    red_flag_pain: int,
    bleeding_returned: bool = False,
    depth_lost: bool = False,
) -> list[FlagReason]:
    """The red flags a session raises under its stage's threshold, in a fixed order.

    Bleeding beyond spotting and sharp pain are always red flags; pain (during or after)
    is one from `red_flag_pain` upwards; each concern reported raises its own; and
    `bleeding_returned` (see `bleeding_returned`) raises one for new bleeding after
    radiotherapy, and `depth_lost` (see `clinic.domain.depth.depth_lost`) one for a loss
    of depth after vaginoplasty.
    """
    flags: list[FlagReason] = []
    if max(report.pain_during, report.pain_after) >= red_flag_pain:
        flags.append(FlagReason.HIGH_PAIN)
    if report.bleeding is Bleeding.MORE:
        flags.append(FlagReason.BLEEDING)
    if report.sharp_pain:
        flags.append(FlagReason.SHARP_PAIN)
    if bleeding_returned:
        flags.append(FlagReason.BLEEDING_RETURNED)
    if depth_lost:
        flags.append(FlagReason.DEPTH_LOSS)
    flags += [c.reason for c in Concern if c in report.concerns]
    return flags


def bleeding_may_return(indication: Indication | Indications, now: Bleeding) -> bool:
    """Whether `bleeding_returned` can hold for a session at all (after radiotherapy, with
    bleeding now): only then are the sessions before it worth reading."""
    return indication.follows_radiotherapy and now is not Bleeding.NONE


def bleeding_returned(
    indication: Indication | Indications,
    now: Bleeding,
    before: Sequence[Bleeding],
    quiet: int = RADIOTHERAPY_QUIET_SESSIONS,
) -> bool:
    """Whether a session after pelvic radiotherapy brings bleeding back after a spell with
    none: any bleeding now (spotting too), and none in each of the `quiet` sessions just
    before (`before` is the earlier sessions, oldest first). Spotting is expected early
    on; bleeding that comes back once the tissue has settled needs a clinician's look."""
    if not bleeding_may_return(indication, now):
        return False
    recent = before[-quiet:] if quiet > 0 else []
    return len(recent) == quiet and all(b is Bleeding.NONE for b in recent)


def encode_concerns(concerns: Iterable[Concern]) -> str:
    """Concerns as stored: their values, space-separated, in a fixed order."""
    chosen = set(concerns)
    return " ".join(c.value for c in Concern if c in chosen)


@lru_cache(maxsize=256)
def decode_concerns(text: str | None) -> frozenset[Concern]:
    """Stored concerns back as a set (unknown words are ignored)."""
    # Kept per stored text (at most 128 combinations as written): every diary row loaded
    # goes through here, and building the set from the enum each time cost more than
    # the rest of the row's loading.
    values = {c.value for c in Concern}
    return frozenset(Concern(v) for v in (text or "").split() if v in values)


def pain_band(pain: int) -> str:
    """The usual severity bands of the 0-10 scale: mild 0-3, moderate 4-6, severe 7-10."""
    if pain <= 3:
        return "mild"
    return "moderate" if pain <= 6 else "severe"

"""Why a patient is on a dilator program.

The list follows the clinical reference (shared guides, "Who uses a dilator program"). The
stored value is the enum's value; the label is what clinicians read.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

from clinic.domain.text import N_


class Indication(StrEnum):
    """Indications a clinic records; OTHER needs a free-text description."""

    VAGINISMUS = "vaginismus"
    DYSPAREUNIA = "dyspareunia"
    PELVIC_RADIOTHERAPY = "pelvic_radiotherapy"
    VAGINOPLASTY = "vaginoplasty"
    ANAL_STENOSIS = "anal_stenosis"
    ANAL_FISSURE = "anal_fissure"
    LEVATOR_ANI = "levator_ani"
    CHRONIC_PELVIC_PAIN = "chronic_pelvic_pain"
    VAGINAL_AGENESIS = "vaginal_agenesis"
    MENOPAUSE_GSM = "menopause_gsm"
    PERINEAL_SCARRING = "perineal_scarring"
    LICHEN_SCLEROSUS = "lichen_sclerosus"
    OTHER = "other"

    @property
    def label(self) -> str:
        """The wording shown to clinicians."""
        return INDICATION_LABELS[self]

    @property
    def is_surgeon_directed(self) -> bool:
        """Dilation for it is used only when the treating surgeon directs it, after a
        procedure whose date is recorded (clinical review: anal fissure, after
        haemorrhoidectomy / anal stenosis, after vaginoplasty)."""
        return self in SURGEON_DIRECTED

    @property
    def maintenance_duration(self) -> str:
        """How long a maintenance phase lasts, in the words the patient reads both in the
        portal and in the template's notes (one source, so they never disagree)."""
        return MAINTENANCE_DURATIONS.get(
            self, N_("This routine has no set end date: keep it going until your clinic says.")
        )

    @property
    def follows_radiotherapy(self) -> bool:
        """Dilation starts only once the clinic's interval after radiotherapy has passed."""
        return self is Indication.PELVIC_RADIOTHERAPY

    @property
    def is_neovagina(self) -> bool:
        """After vaginoplasty: depth is kept as much as diameter, and going down a size
        risks narrowing (the clinical reference's corrections)."""
        return self is Indication.VAGINOPLASTY


INDICATION_LABELS: dict[Indication, str] = {
    Indication.VAGINISMUS: N_("Vaginismus / genito-pelvic pain-penetration disorder"),
    Indication.DYSPAREUNIA: N_("Dyspareunia / vulvodynia"),
    Indication.PELVIC_RADIOTHERAPY: N_("After pelvic radiotherapy (stenosis prevention)"),
    Indication.VAGINOPLASTY: N_("After vaginoplasty"),
    Indication.ANAL_STENOSIS: N_("Anal stenosis / after haemorrhoidectomy"),
    Indication.ANAL_FISSURE: N_("Anal fissure (surgeon-directed)"),
    Indication.LEVATOR_ANI: N_("Levator ani syndrome"),
    Indication.CHRONIC_PELVIC_PAIN: N_("Chronic prostatitis / chronic pelvic pain syndrome"),
    Indication.VAGINAL_AGENESIS: N_("Vaginal agenesis / MRKH"),
    Indication.MENOPAUSE_GSM: N_("Genitourinary syndrome of menopause / vaginal atrophy"),
    Indication.PERINEAL_SCARRING: N_("Post-partum perineal scarring"),
    Indication.LICHEN_SCLEROSUS: N_("Narrowing from lichen sclerosus / lichen planus"),
    Indication.OTHER: N_("Other"),
}

# Clinical reference: after pelvic radiotherapy "continue about 1-2 years, and say so
# consistently"; after vaginoplasty, maintenance is lifelong.
MAINTENANCE_DURATIONS: dict[Indication, str] = {
    Indication.PELVIC_RADIOTHERAPY: N_(
        "Keep this routine going for about 1 to 2 years after radiotherapy. Your clinic will "
        "tell you when you can stop."
    ),
    Indication.VAGINOPLASTY: N_("This routine is lifelong: keep it going."),
}

SURGEON_DIRECTED = frozenset(
    {Indication.ANAL_FISSURE, Indication.ANAL_STENOSIS, Indication.VAGINOPLASTY}
)


@dataclass(frozen=True)
class Indications:
    """The indications whose safety rules a plan follows: the patient's recorded one and
    the plan's own (its template's). Every template is offered on the start page, so a
    patient after vaginoplasty may be started from another indication's template; the
    rules of either apply (as the start gates do), never only the template's.

    It answers the same questions as one `Indication` (any of them does), so the domain's
    rules take either."""

    members: frozenset[Indication]

    @classmethod
    def of(cls, patient: Indication, plan: Indication | None = None) -> Indications:
        """The patient's indication and the plan's (or template's), when there is one."""
        return cls(frozenset({patient, *([plan] if plan is not None else [])}))

    def __iter__(self) -> Iterator[Indication]:
        return iter(sorted(self.members))

    def __contains__(self, indication: object) -> bool:
        return indication in self.members

    @property
    def is_surgeon_directed(self) -> bool:
        """Whether any of them is surgeon-directed."""
        return any(i.is_surgeon_directed for i in self.members)

    @property
    def follows_radiotherapy(self) -> bool:
        """Whether any of them follows pelvic radiotherapy."""
        return any(i.follows_radiotherapy for i in self.members)

    @property
    def is_neovagina(self) -> bool:
        """Whether any of them is after vaginoplasty (the neovagina rules apply)."""
        return any(i.is_neovagina for i in self.members)

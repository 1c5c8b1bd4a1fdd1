"""Why a patient is on a dilator program.

The list follows the clinical reference (shared guides, "Who uses a dilator program"). The
stored value is the enum's value; the label is what clinicians read.
"""

from enum import StrEnum


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
    OTHER = "other"

    @property
    def label(self) -> str:
        """The wording shown to clinicians."""
        return INDICATION_LABELS[self]

    @property
    def is_surgeon_directed(self) -> bool:
        """Dilation for it is used only when the treating surgeon directs it."""
        return self is Indication.ANAL_FISSURE


INDICATION_LABELS: dict[Indication, str] = {
    Indication.VAGINISMUS: "Vaginismus / genito-pelvic pain-penetration disorder",
    Indication.DYSPAREUNIA: "Dyspareunia / vulvodynia",
    Indication.PELVIC_RADIOTHERAPY: "After pelvic radiotherapy (stenosis prevention)",
    Indication.VAGINOPLASTY: "After vaginoplasty",
    Indication.ANAL_STENOSIS: "Anal stenosis / after haemorrhoidectomy",
    Indication.ANAL_FISSURE: "Anal fissure (surgeon-directed)",
    Indication.LEVATOR_ANI: "Levator ani syndrome",
    Indication.CHRONIC_PELVIC_PAIN: "Chronic prostatitis / chronic pelvic pain syndrome",
    Indication.OTHER: "Other",
}

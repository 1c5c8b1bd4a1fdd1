"""Which of the clinic's indications a referral's stated reason names, when it names one.

A referral arrives with its reason in the sender's words (a coded reason's display, or
free text). The words below are those each indication is known by in referrals (the
clinical reference's list, "Who uses a dilator program"); the first indication whose
words appear in the reason is proposed, and the administrator confirms or changes it
on the new record's form. Nothing matched: no indication is proposed.
"""

from __future__ import annotations

import re

from clinic.domain.indications import Indication

# Most specific first: "anal stenosis after haemorrhoidectomy" is stenosis, not fissure;
# "vaginal stenosis after radiotherapy" is radiotherapy.
REASON_WORDS: tuple[tuple[Indication, tuple[str, ...]], ...] = (
    (Indication.PELVIC_RADIOTHERAPY, ("radiotherapy", "radiation", "brachytherapy")),
    (Indication.VAGINOPLASTY, ("vaginoplasty", "neovagina", "gender affirming surgery")),
    (Indication.ANAL_STENOSIS, ("anal stenosis", "haemorrhoidectomy", "hemorrhoidectomy")),
    (Indication.ANAL_FISSURE, ("anal fissure", "fissure in ano")),
    (Indication.VAGINAL_AGENESIS, ("vaginal agenesis", "mrkh", "mayer-rokitansky")),
    (Indication.LICHEN_SCLEROSUS, ("lichen sclerosus", "lichen planus")),
    (
        Indication.MENOPAUSE_GSM,
        ("genitourinary syndrome", "vaginal atrophy", "atrophic vaginitis", "menopaus"),
    ),
    (Indication.PERINEAL_SCARRING, ("perineal scar", "perineal tear", "episiotomy")),
    (Indication.LEVATOR_ANI, ("levator ani",)),
    (
        Indication.CHRONIC_PELVIC_PAIN,
        ("prostatitis", "chronic pelvic pain", "cpps"),
    ),
    (Indication.VAGINISMUS, ("vaginismus", "genito-pelvic pain", "penetration disorder")),
    (Indication.DYSPAREUNIA, ("dyspareunia", "vulvodynia", "vestibulodynia")),
)


def indication_for_reason(reason: str) -> Indication | None:
    """The indication the reason's words name, or None when none is named."""
    words = " " + re.sub(r"\s+", " ", reason.casefold()) + " "
    for indication, names in REASON_WORDS:
        if any(name in words for name in names):
            return indication
    return None

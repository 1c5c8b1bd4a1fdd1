"""Which indication a referral's reason names (clinic.domain.referral_reasons)."""

from __future__ import annotations

import pytest

from clinic.domain.indications import Indication
from clinic.domain.referral_reasons import REASON_WORDS, indication_for_reason


@pytest.mark.parametrize(
    ("reason", "indication"),
    [
        ("Vaginismus", Indication.VAGINISMUS),
        ("Superficial DYSPAREUNIA", Indication.DYSPAREUNIA),
        ("Vaginal stenosis after pelvic radiotherapy", Indication.PELVIC_RADIOTHERAPY),
        ("Post-brachytherapy care", Indication.PELVIC_RADIOTHERAPY),
        ("Vaginoplasty 6 weeks ago", Indication.VAGINOPLASTY),
        ("Anal stenosis after haemorrhoidectomy", Indication.ANAL_STENOSIS),
        ("Chronic anal fissure", Indication.ANAL_FISSURE),
        ("MRKH syndrome", Indication.VAGINAL_AGENESIS),
        ("Lichen sclerosus with introital narrowing", Indication.LICHEN_SCLEROSUS),
        ("Genitourinary syndrome of menopause", Indication.MENOPAUSE_GSM),
        ("Perineal scarring after a third-degree tear", Indication.PERINEAL_SCARRING),
        ("Levator ani syndrome", Indication.LEVATOR_ANI),
        ("Chronic prostatitis", Indication.CHRONIC_PELVIC_PAIN),
    ],
)
def test_the_reason_s_words_name_the_indication(reason: str, indication: Indication) -> None:
    """Each indication is recognised in the words referrers use, whatever the case."""
    assert indication_for_reason(reason) is indication


@pytest.mark.parametrize("reason", ["", "Please assess", "pelvic floor physiotherapy"])
def test_no_indication_is_guessed(reason: str) -> None:
    """A reason naming none proposes none (the administrator chooses)."""
    assert indication_for_reason(reason) is None


def test_every_indication_but_other_has_words() -> None:
    """No indication is left unrecognisable (Other needs a description: never proposed)."""
    assert {i for i, _ in REASON_WORDS} == set(Indication) - {Indication.OTHER}

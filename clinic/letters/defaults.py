"""The wording every clinic's letter templates start with: how each kind of letter opens
and what it asks. Defaults, not rules: an administrator edits them in the clinic's
settings, and the clinician edits each letter before it goes.

The wording follows the clinical reference (shared guides, clinical-content.md): the
programme is the clinic's, the treating team leads; pain that persists between sessions is
a reason for review and possibly referral (colorectal or anorectal surgery,
urogynaecology, urology, psychosexual therapy); maintenance after radiotherapy lasts about
one to two years, after vaginoplasty it is lifelong. It states nothing the record cannot
know: whether a discharged patient finished the programme, or what they were given to take
home, is the clinician's to write; and it promises no course while a referral is awaited (a
referral may follow a red flag, when the programme should not simply go on).
"""

from __future__ import annotations

from sqlalchemy import select

from clinic.extensions import db
from clinic.models import Clinic, LetterKind, LetterTemplate

# kind -> (opening, ask)
DEFAULT_WORDING: dict[LetterKind, tuple[str, str]] = {
    LetterKind.REFERRAL: (
        "I am writing to refer this patient, who is under our care for a graded dilator "
        "programme with pelvic health physiotherapy. A summary of the programme so far "
        "follows.",
        "I would be grateful if you would assess them and advise on further management, "
        "including whether the dilator programme should continue meanwhile. We will be "
        "glad to discuss them at any time.",
    ),
    LetterKind.UPDATE: (
        "Thank you for referring this patient to our pelvic health physiotherapy service. "
        "I am writing to update you on their graded dilator programme.",
        "No action is needed from you at present. We will write again at the next review, "
        "or sooner if anything changes.",
    ),
    LetterKind.DISCHARGE: (
        "I am writing to let you know that this patient is now discharged from our pelvic "
        "health physiotherapy service, where they followed a graded dilator programme. A "
        "summary of the programme follows.",
        "Please re-refer if their symptoms return or if pain persists between sessions. "
        "Where dilation is to continue as maintenance (after pelvic radiotherapy usually for "
        "about one to two years, after vaginoplasty for life), please encourage the patient "
        "to keep to it.",
    ),
}


def seed_letter_templates(clinic: Clinic) -> None:
    """Give a clinic the default wording for each kind of letter it has no template for
    (the caller commits)."""
    if clinic.id is None:
        db.session.flush()
    have = set(
        db.session.scalars(select(LetterTemplate.kind).where(LetterTemplate.clinic_id == clinic.id))
    )
    for kind, (opening, ask) in DEFAULT_WORDING.items():
        if kind not in have:
            db.session.add(LetterTemplate(clinic_id=clinic.id, kind=kind, opening=opening, ask=ask))

"""The portal's Today: its plan-and-sessions part kept under the patient's summary version
(clinic.monitoring.kept), rendered.

That part is made of what the summary is made of (the open protocol with its stages and
sizes, the diary, the red flags, the questionnaires answered, the clinic's rules and time
zone), plus the clinic's day (which moves the plan's stage, the week's counts and
"reported today"), the clinic's phone number, its instruments' revision (the
questionnaires waiting today are named and counted from them) and the page's language
(the article is rendered in it), all in the key. It holds
no form, token or other per-request data. The version and the instruments' revision are
read with the patient's record, in one statement, then the rest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from flask_babel import get_locale
from markupsafe import Markup

from clinic.measures.answers import WaitingQuestionnaire, any_answered, waiting
from clinic.monitoring.kept import kept
from clinic.patients.queries import OwnRecord


@dataclass(frozen=True)
class TodayPart:
    """The kept part of Today: the "Your sessions" article, rendered, whether the patient
    has sent any questionnaire, and the questionnaires waiting for answers today."""

    sessions: Markup
    answered_any: bool
    questionnaires: list[WaitingQuestionnaire]


def today_part(own: OwnRecord, today: date, draw: Callable[[], Markup]) -> TodayPart:
    """The plan-and-sessions article for the patient's `today` (the clinic's), drawn by
    `draw` only when the cache has none for what it is made of now, whether they answered
    any questionnaire, and those waiting today (made of the assignments, answers and
    drafts, and the plan's start and end, all summary inputs, and of the clinic's
    instruments, which are not: their revision is in the key, read before they are).
    `own` is the patient's record with their summary's version and the instruments'
    revision, read in one statement (see `clinic.portal.views.own_record_with_summary`)."""
    patient = own.patient
    clinic = patient.clinic
    phone = hashlib.sha256((clinic.phone or "").encode()).hexdigest()[:16]
    return kept(
        "today",
        patient,
        own.version,
        # The language: a Spanish page never shows an English article kept for another
        # request, nor the other way round.
        (today, clinic.completion_pct, phone, str(get_locale()), *own.instruments),
        lambda: TodayPart(
            sessions=draw(),
            answered_any=any_answered(patient),
            questionnaires=waiting(patient, today),
        ),
    )

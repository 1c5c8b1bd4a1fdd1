"""The portal's Today: its plan-and-sessions part kept under the patient's summary version.

What that part is made of (the open protocol with its stages and sizes, the diary, the red
flags, the questionnaires answered, the clinic's rules and time zone) is what the
patient's summary is made of, so every committed change to any of it adds one to the
summary's `version`, in the database and in the same transaction
(clinic.monitoring.upkeep), as for the progress charts (clinic.monitoring.progress_cache).
The part is kept, rendered, under that version with the clinic's day (which moves the
plan's stage, the week's counts and "reported today") and what else it shows that the
summary is not made of (the clinic's phone number): a changed input makes a new key,
never an old answer, in any process or instance. It holds no form, token or other
per-request data. The version is read first, then the rest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import partial

from markupsafe import Markup

from clinic.core.uow import after_commit
from clinic.extensions import cache
from clinic.measures.answers import any_answered
from clinic.models import Patient
from clinic.monitoring.progress_cache import summary_version


@dataclass(frozen=True)
class TodayPart:
    """The kept part of Today: the "Your sessions" article, rendered, and whether the
    patient has sent any questionnaire."""

    sessions: Markup
    answered_any: bool


def today_part(patient: Patient, today: date, draw: Callable[[], Markup]) -> TodayPart:
    """The plan-and-sessions article for the patient's `today` (the clinic's), drawn by
    `draw` only when the cache has none for what it is made of now, and whether they
    answered any questionnaire."""
    clinic = patient.clinic
    version = summary_version(patient.clinic_id, patient.id)
    if version is None:
        return TodayPart(sessions=draw(), answered_any=any_answered(patient))
    phone = hashlib.sha256((clinic.phone or "").encode()).hexdigest()[:16]
    # The clinic's creation time tells apart clinics that share an id across databases (a
    # restored backup, the test suite), as the dashboard's key does.
    key = (
        f"today:{clinic.id}:{clinic.created_at.timestamp()}:{patient.id}:{version}:"
        f"{today}:{clinic.completion_pct}:{phone}"
    )
    found = cache.get(key)
    if isinstance(found, TodayPart):
        return found
    part = TodayPart(sessions=draw(), answered_any=any_answered(patient))
    # Kept once the request's unit of work ends well (never from one rolled back).
    after_commit(partial(cache.set, key, part))
    return part

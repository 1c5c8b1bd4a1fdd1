"""The portal's Today, kept rendered under the patient's summary version
(clinic.monitoring.kept).

The page is made of what the summary is made of (the patient's record, the open protocol
with its stages and sizes, the diary, the red flags, the questionnaires answered, the
clinic's rules and time zone), plus the clinic's day (which moves the plan's stage, the
week's counts and "reported today"), the clinic's name and contact details, its staff
revision (the responsible clinician's name), its instruments' revision (the
questionnaires waiting today are named and counted from them), all in the key, with
the page's language (every kept part's key holds it). It holds no form, token or other
per-request data. The version and the instruments' revision are
read with the patient's record, in one statement, then the rest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date

from flask import render_template
from markupsafe import Markup

from clinic.measures.answers import any_answered, waiting
from clinic.monitoring.kept import kept
from clinic.patients.queries import OwnRecord


def today_page(own: OwnRecord, today: date, draw: Callable[[], Markup]) -> Markup:
    """Today's page below the layout for the patient's `today` (the clinic's), rendered
    only when the cache has none for what it is made of now: the plan-and-sessions
    article (drawn by `draw`), the questionnaires waiting today and whether any was sent
    (made of the assignments, answers and drafts, and the plan's start and end, all
    summary inputs, and of the clinic's instruments, which are not: their revision is in
    the key, read before they are), the greeting (the record), the care team (the
    responsible clinician's name: the clinic's staff revision; the clinic's name and
    contact details, in the key as a hash) and fixed words and links.
    `own` is the patient's record with their summary's version and the instruments'
    revision, read in one statement (see `clinic.portal.views.own_record_with_summary`)."""
    patient = own.patient
    clinic = patient.clinic
    contact = "\x1f".join(
        (clinic.name, clinic.phone or "", clinic.email or "", clinic.address or "")
    )
    return kept(
        "today",
        patient,
        own.version,
        (
            today,
            clinic.completion_pct,
            hashlib.sha256(contact.encode()).hexdigest()[:16],
            clinic.staff_revision,
            *own.instruments,
        ),
        lambda: Markup(  # noqa: S704 (rendered by Jinja with autoescaping on)
            render_template(
                "portal/_today.html",
                patient=patient,
                sessions=draw(),
                questionnaires=waiting(patient, today),
                answered_any=any_answered(patient),
            )
        ),
    )

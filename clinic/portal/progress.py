"""The patient's Progress page: weekly adherence, pain over time with the dilator size
steps marked, and the milestones reached.

The page costs a fixed number of queries whatever the diary holds: the record with its
summary's version and open protocol (one statement), and, when the figures must be drawn,
the protocol with its history (see `open_protocol`) and the window's entries. The figures
are made by `clinic.monitoring.progress`, the same code as the clinician's timeline, and
kept rendered (`templates/portal/_progress.html`) under the patient's summary version
(clinic.monitoring.kept): while nothing they are made of changes, neither the protocol
nor the entries are read again, nor the charts drawn, nor the figures rendered. The
summary names the open protocol (refreshed in the same transaction as any change of it),
read with the version and the record in one statement; the period shown follows from the
protocol and the day, both in the key, and the language is in every kept part's key.
"""

from __future__ import annotations

from datetime import date
from functools import partial

from flask import render_template
from markupsafe import Markup

from clinic.audit.log import audited, own_patient
from clinic.core.clock import clinic_today
from clinic.domain.adherence import week_start
from clinic.models import Patient
from clinic.monitoring.evidence import ScoredSession
from clinic.monitoring.kept import kept
from clinic.monitoring.progress import Progress, build_progress, first_week_shown
from clinic.monitoring.services import load_sessions
from clinic.portal.views import bp, own_record_with_summary, patients_only
from clinic.protocols.queries import History, open_protocol


@bp.get("/progress")
@patients_only
@audited("portal.progress", patient=own_patient)
def progress() -> str:
    """Progress: sessions done each week, pain over time and the milestones reached."""
    patient, version, protocol_id, _instruments = own_record_with_summary()
    today = clinic_today(patient.clinic.timezone)
    figures = kept(
        "portal-progress",
        patient,
        version,
        (protocol_id, today, patient.clinic.completion_pct),
        partial(_figures, patient, today),
    )
    return render_template("portal/progress.html", figures=figures)


def _figures(patient: Patient, today: date) -> Markup:
    """The page's figures for `today`, rendered."""
    html = render_template(
        "portal/_progress.html",
        progress=_draw(patient, today),
        completion_pct=patient.clinic.completion_pct,
    )
    # Safe: the output of an autoescaped template, marked so the page does not escape it again.
    return Markup(html)  # noqa: S704


def _draw(patient: Patient, today: date) -> Progress | None:
    """The patient's Progress for their open protocol (None without one): the protocol
    with its history and the window's entries, one query each."""
    protocol = open_protocol(patient.id, patient.clinic_id, load=History.RULES)
    if protocol is None:
        return None
    first = first_week_shown(protocol, today)
    since = patient.diary_since
    if since is not None:  # the weeks before the diary began have nothing of the patient's
        first = max(first, week_start(since))
    sessions = _entries(patient, first, today)
    return build_progress(
        protocol, sessions, first, today, patient.clinic.completion_pct, diary_since=since
    )


def _entries(patient: Patient, first: date, last: date) -> list[ScoredSession]:
    """The patient's entries of the open protocol from `first` to `last`, in one query."""
    return load_sessions(patient.clinic_id, [patient.id], first, last).get(patient.id, [])

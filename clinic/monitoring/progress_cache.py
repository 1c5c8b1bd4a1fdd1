"""The timeline's Progress with its charts, kept under the patient's summary version
(clinic.monitoring.kept; the portal keeps its Progress page rendered, clinic.portal.progress).

Drawing a year's charts is most of what the timeline and the portal's Progress page cost
(about 15 ms of CPU for 12 weeks); what they are drawn from (the diary, the protocol with
its sizes, the clinic's rules and time zone) is what the patient's summary is made of.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

from flask_babel import get_locale

from clinic.models import Patient, Protocol
from clinic.monitoring.evidence import ScoredSession
from clinic.monitoring.kept import kept
from clinic.monitoring.progress import Progress, build_progress


def cached_progress_at(
    version: int | None,
    patient: Patient,
    protocol: Protocol,
    sessions: Callable[[], Sequence[ScoredSession]],
    first: date,
    today: date,
    page: str,
) -> Progress:
    """`build_progress` for the patient's open `protocol` from `first` to `today` (the
    clinic's today), kept under the patient's summary `version`, which the caller read
    before loading anything the progress is drawn from (the protocol included).
    `sessions` loads the period's sessions, called only when it has to be drawn. `page`
    names the page (each loads its sessions its own way, and keeps its own)."""
    completion = patient.clinic.completion_pct
    return kept(
        f"progress-{page}",
        patient,
        version,
        (protocol.id, first, today, completion, str(get_locale())),
        lambda: build_progress(protocol, sessions(), first, today, completion),
    )

"""Progress with its charts, kept under the patient's summary version.

Drawing a year's charts is most of what the timeline and the portal's Progress page cost
(about 15 ms of CPU for 12 weeks). What they are drawn from (the diary, the protocol with
its sizes, the clinic's rules and time zone) is what the patient's summary is made of, so
every committed change to any of it adds one to the summary's `version`, in the database
and in the same transaction (clinic.monitoring.upkeep). A Progress is kept under that
version with the patient, the protocol, the period, the day and the clinic's completion
percentage: a changed input makes a new key, never an old answer, in any process or
instance, because the version is read from the database before anything else.

The version is read first, then the entries: what they give is at least as new as the key
(a change committed in between is kept under the old key, which is only ever asked for
by a request that read the old version before that change: it sees that change or none).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import partial

from sqlalchemy import select

from clinic.core.uow import after_commit
from clinic.extensions import cache, db
from clinic.models import Patient, PatientSummary, Protocol
from clinic.monitoring.evidence import ScoredSession
from clinic.monitoring.progress import Progress, build_progress


def summary_version(clinic_id: int, patient_id: int) -> int | None:
    """The patient's summary version (None: no summary yet, so nothing may be kept)."""
    return db.session.scalar(
        select(PatientSummary.version).where(
            PatientSummary.clinic_id == clinic_id, PatientSummary.patient_id == patient_id
        )
    )


def cached_progress(
    patient: Patient,
    protocol: Protocol,
    sessions: Callable[[], Sequence[ScoredSession]],
    first: date,
    today: date,
    page: str,
) -> Progress:
    """`build_progress` for the patient's open `protocol` from `first` to `today` (the
    clinic's today), from the cache when nothing it is made of changed since it was
    drawn. `sessions` loads the period's sessions, called only when it has to be drawn
    (after the version is read: a caller that needs the sessions anyway loads them after
    this call, never before). `page` names the page (each loads its sessions its own way,
    and keeps its own)."""
    version = summary_version(patient.clinic_id, patient.id)
    return cached_progress_at(version, patient, protocol, sessions, first, today, page)


def cached_progress_at(
    version: int | None,
    patient: Patient,
    protocol: Protocol,
    sessions: Callable[[], Sequence[ScoredSession]],
    first: date,
    today: date,
    page: str,
) -> Progress:
    """`cached_progress` for a caller that read the patient's summary `version` itself,
    before loading anything the progress is drawn from (the protocol included)."""
    clinic = patient.clinic
    if version is None:
        return build_progress(protocol, sessions(), first, today, clinic.completion_pct)
    # The clinic's creation time tells apart clinics that share an id across databases (a
    # restored backup, the test suite), as the dashboard's key does.
    key = (
        f"progress:{page}:{clinic.id}:{clinic.created_at.timestamp()}:{patient.id}:{version}:"
        f"{protocol.id}:{first}:{today}:{clinic.completion_pct}"
    )
    found = cache.get(key)
    if isinstance(found, Progress):
        return found
    progress = build_progress(protocol, sessions(), first, today, clinic.completion_pct)
    # Kept once the request's unit of work ends well (never from one rolled back).
    after_commit(partial(cache.set, key, progress))
    return progress


@dataclass(frozen=True)
class _Kept:
    """A page's Progress as kept (None: the patient had no open protocol)."""

    progress: Progress | None


def kept_progress(
    patient: Patient, today: date, page: str, draw: Callable[[], Progress | None]
) -> Progress | None:
    """The patient's Progress on `today` (the clinic's) for their open protocol, drawn by
    `draw` (which loads the protocol and its sessions itself) only when the cache has none
    for what it is made of now. The open protocol's id is read with the version, from the
    summary (which names it, refreshed in the same transaction as any change of it), so a
    page served from the cache loads neither the protocol nor the entries. The period
    shown follows from the protocol and the day, both in the key."""
    clinic = patient.clinic
    state = db.session.execute(
        select(PatientSummary.version, PatientSummary.protocol_id).where(
            PatientSummary.clinic_id == patient.clinic_id,
            PatientSummary.patient_id == patient.id,
        )
    ).first()
    if state is None:
        return draw()
    version, protocol_id = state
    key = (
        f"progress:{page}:{clinic.id}:{clinic.created_at.timestamp()}:{patient.id}:{version}:"
        f"{protocol_id}:{today}:{clinic.completion_pct}"
    )
    found = cache.get(key)
    if isinstance(found, _Kept):
        return found.progress
    progress = draw()
    # Kept once the request's unit of work ends well (never from one rolled back).
    after_commit(partial(cache.set, key, _Kept(progress)))
    return progress

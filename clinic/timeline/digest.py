"""The timeline's rules' assessment and entries, kept under the patient's summary version.

After its charts (clinic.monitoring.progress_cache), most of what the timeline costs is
the rules' assessment (a quarter's diary loaded and scored, the last entry's day, the open
red flags) and the period's entries with their table. All of it is made of what the
patient's summary is made of (the diary and its revisions, red flags, the protocol with
its versions, stages and events, the patient's record and portal password, the sizes'
labels and diameters, the clinic's rules and time zone), so every committed change to any
of it adds one to the summary's `version` in the same transaction
(clinic.monitoring.upkeep). A digest is kept under that version with the patient, the
protocol, the period, the day and the clinic's rules: a changed input makes a new key,
never an old answer, in any process or instance.

The version is read before anything the digest is made of (the caller reads it first,
then loads the protocol). What the digest holds depends on nobody's identity and on no
request: no form, no token, no name of the viewer.

Digests live in a cache of their own, per app and process, so that timelines viewed one
after another never push the dashboard's tables out of the app's cache.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from functools import partial

from flask import current_app
from flask_caching.backends import SimpleCache
from markupsafe import Markup

from clinic.core.uow import after_commit
from clinic.domain.depth import DepthWeek
from clinic.domain.diary import SkipReason
from clinic.models import Patient, Protocol
from clinic.monitoring.evidence import Assessment, stages_of

# Enough for every patient a few clinicians look at in a day, at a few periods each;
# about 20 kB a digest.
DIGESTS_KEPT = 300
DIGEST_SECONDS = 600


@dataclass(frozen=True)
class Digest:
    """The assessment (without its stage row: it is put back from the request's own
    protocol), the entries' table as HTML, why sessions were skipped, depth by week."""

    assessment: Assessment
    entries_html: Markup
    skips: list[tuple[SkipReason, int]] | None
    depth_weeks: list[DepthWeek]


def _cache() -> SimpleCache:
    found = current_app.extensions.get("timeline_digests")
    if found is None:
        found = SimpleCache(threshold=DIGESTS_KEPT, default_timeout=DIGEST_SECONDS)
        current_app.extensions["timeline_digests"] = found
    return found


def cached_digest(
    version: int | None,
    patient: Patient,
    protocol: Protocol | None,
    first: date | None,
    today: date,
    build: Callable[[], Digest],
) -> Digest:
    """The digest of the patient's timeline from `first` to `today` (the clinic's today),
    from the cache when nothing it is made of changed since it was built. `version` is
    the patient's summary version, read before `protocol` was loaded (None: no summary
    yet, so nothing is kept). `build` makes it afresh."""
    if version is None:
        return build()
    clinic = patient.clinic
    # The clinic's creation time tells apart clinics that share an id across databases (a
    # restored backup, the test suite), as the dashboard's key does.
    key = (
        f"timeline:{clinic.id}:{clinic.created_at.timestamp()}:{patient.id}:{version}:"
        f"{protocol.id if protocol else None}:{first}:{today}:{clinic.completion_pct}:"
        f"{clinic.not_logging_days}:{clinic.timezone}"
    )
    cache = _cache()
    found = cache.get(key)
    if isinstance(found, Digest):
        return _with_stage(found, protocol)
    digest = build()
    # The stage is an ORM row: kept without it. Kept once the request's unit of work ends
    # well (never from one rolled back).
    kept = replace(digest, assessment=replace(digest.assessment, stage=None))
    after_commit(partial(cache.set, key, kept))
    return digest


def _with_stage(digest: Digest, protocol: Protocol | None) -> Digest:
    """The kept digest with its assessment's stage row, from this request's protocol (the
    same as the one assessed: the version says so)."""
    state = digest.assessment.in_force
    if protocol is None or state is None:
        return digest
    stage = stages_of(protocol).get((state.version, state.stage))
    return replace(digest, assessment=replace(digest.assessment, stage=stage))

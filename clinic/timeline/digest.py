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

Digests are kept with the other parts of patients' pages (clinic.monitoring.kept).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date

from flask import get_template_attribute
from markupsafe import Markup

from clinic.domain.depth import DepthWeek
from clinic.domain.diary import SkipReason
from clinic.measures.instruments import revision
from clinic.measures.summaries import MeasureSummary
from clinic.models import Patient, Protocol
from clinic.monitoring.evidence import Assessment, stages_of
from clinic.monitoring.kept import kept


def measures_section(measures: list[MeasureSummary], patient: Patient) -> Markup:
    """The section as the timeline shows it (its macro, rendered with autoescaping on)."""
    section = get_template_attribute("timeline/_measures.html", "measures_section")
    return Markup(section(measures, patient))  # noqa: S704


@dataclass(frozen=True)
class Digest:
    """The assessment (without its stage row: it is put back from the request's own
    protocol), the entries' table as HTML, why sessions were skipped, depth by week."""

    assessment: Assessment
    entries_html: Markup
    skips: list[tuple[SkipReason, int]] | None
    depth_weeks: list[DepthWeek]


def cached_digest(
    version: int | None,
    patient: Patient,
    protocol: Protocol | None,
    first: date | None,
    today: date,
    build: Callable[[], Digest],
) -> Digest:
    """The digest of the patient's timeline from `first` to `today` (the clinic's today),
    kept while nothing it is made of changes. `version` is
    the patient's summary version, read before `protocol` was loaded (None: no summary
    yet, so nothing is kept). `build` makes it afresh."""
    clinic = patient.clinic
    digest = kept(
        "timeline",
        patient,
        version,
        (
            protocol.id if protocol else None,
            first,
            today,
            clinic.completion_pct,
            clinic.not_logging_days,
            clinic.timezone,
        ),
        build,
        # The stage is an ORM row: kept without it, and put back from this request's
        # protocol (the same as the one assessed: the version says so).
        as_kept=lambda built: replace(built, assessment=replace(built.assessment, stage=None)),
    )
    return _with_stage(digest, protocol)


def _with_stage(digest: Digest, protocol: Protocol | None) -> Digest:
    """The kept digest with its assessment's stage row, from this request's protocol (the
    same as the one assessed: the version says so)."""
    state = digest.assessment.in_force
    if protocol is None or state is None:
        return digest
    stage = stages_of(protocol).get((state.version, state.stage))
    return replace(digest, assessment=replace(digest.assessment, stage=stage))


def kept_measures(
    version: int | None, patient: Patient, build: Callable[[], list[MeasureSummary]]
) -> Markup:
    """The timeline's outcome measures section (every answer on record, in words, with
    charts), kept rendered while nothing it is made of changes: the answers and
    assignments (summary inputs: `version`, read before anything else, moves with them),
    the clinic's time zone (another), and the clinic's instruments, whose titles, scales
    and bands the words and charts use and which no summary is made of: their `revision`
    is read before `build` reads them. `build` makes the measures afresh."""
    clinic = patient.clinic
    return kept(
        "timeline-measures",
        patient,
        version,
        (clinic.timezone, *revision(clinic.id)),
        lambda: measures_section(build(), patient),
    )

"""The timeline's course of care and its outcome measures, kept rendered under the
patient's summary version (clinic.monitoring.kept).

Most of what the timeline costs is its course of care: where the patient stands now, the
flags, the rules' suggestion (a quarter's diary loaded and scored), progress with its
charts, the period's entries and the plan's history. All of it is made of what the
patient's summary is made of (the diary and its revisions, red flags and rule flags with
their acknowledgements, the protocol with its versions, stages and events, the patient's
record, the sizes' labels and diameters, the clinic's rules and time zone), so every
committed change to any of it adds one to the summary's `version` in the same
transaction (clinic.monitoring.upkeep). It is kept under that version with the period,
the day, the clinic's rules and the staff's names (the history says who recorded each
change, the flags who acknowledged them): a changed input makes a new key, never an old
answer, in any process or instance. A visit with nothing changed loads no protocol, no
flag and no diary, and draws nothing of it.

The version is read before anything the course is made of (the caller reads it first;
the course's `build` loads the rest). What is kept depends on nobody's identity and on no
request: the flags' acknowledgement forms are kept with a mark where the CSRF token goes,
and each request puts its own token back (clinic.core.kept_tokens); the reminders' state
(no summary is made of it) goes where its mark is, on every visit. A form sent back with
what was typed (a note refused) is drawn afresh and not kept.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date

from flask import get_template_attribute, render_template
from markupsafe import Markup, escape

from clinic.core.kept_tokens import token_marked, with_request_token
from clinic.measures.instruments import revision
from clinic.measures.summaries import MeasureSummary
from clinic.models import Patient
from clinic.monitoring.kept import kept

# Where the reminders' state goes in the kept course: an HTML comment, which no text on the
# page can read as (whatever a patient or clinician typed is escaped: "<" written "&lt;").
REMINDERS_MARK = Markup("<!--timeline:reminders-->")


def kept_course(
    version: int | None,
    patient: Patient,
    weeks: int,
    today: date,
    reminders: str,
    build: Callable[[], Mapping[str, object]],
) -> Markup:
    """The timeline's course of care over the last `weeks` to `today` (the clinic's
    today), kept while nothing it is made of changes, with this request's CSRF token in
    its forms and `reminders` (the reminders' state, in words) where it goes. `version` is
    the patient's summary version, read before anything else (None: no summary yet, or a
    form sent back with what was typed: nothing is kept). `build` loads what
    `timeline/_course.html` is drawn from, afresh."""
    clinic = patient.clinic
    html = kept(
        "timeline-course",
        patient,
        version,
        (
            weeks,
            today,
            clinic.completion_pct,
            clinic.not_logging_days,
            clinic.timezone,
            clinic.staff_revision,
        ),
        lambda: _drawn(build()),
    )
    return with_request_token(html.replace(REMINDERS_MARK, str(escape(reminders))))


def _drawn(context: Mapping[str, object]) -> str:
    """The course drawn, with the request's CSRF token marked, so that another request
    puts its own back (clinic.core.kept_tokens)."""
    return token_marked(
        render_template("timeline/_course.html", reminders_mark=REMINDERS_MARK, **context)
    )


def measures_section(measures: list[MeasureSummary], patient: Patient) -> Markup:
    """The section as the timeline shows it (its macro, rendered with autoescaping on)."""
    section = get_template_attribute("timeline/_measures.html", "measures_section")
    return Markup(section(measures, patient))  # noqa: S704


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

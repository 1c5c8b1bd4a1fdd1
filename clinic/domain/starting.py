"""What must be true before a protocol can start, for the indications that set conditions.

From the clinical reference (shared guides, clinical-content.md, "Corrections from a clinical
review"):

- After pelvic radiotherapy, dilating during or right after treatment can, rarely, injure
  the rectum: the program starts only once the clinic's interval after the end of
  radiotherapy has passed. The international guideline on dilation after pelvic
  radiotherapy says to start 2-8 weeks after treatment; the clinic sets where in that range
  its team starts (4 weeks unless changed: acute reactions have usually settled by then, and
  it stays inside the published range at either end).
- Surgeon-directed programs (anal fissure, after haemorrhoidectomy / anal stenosis, after
  vaginoplasty) need the treating surgeon's direction and the date of the procedure, and
  cannot start before that date.
- Children and young people: the product is not for children outside a specialist service,
  and where dilation is used young (vaginal agenesis / MRKH, often started in adolescence)
  a specialist service leads, with consent, privacy from family and safeguarding in place.
  A patient under 18 on the start date needs the service that leads the program named.

Pure functions: the protocol services apply them, the start page shows their messages.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from clinic.core.clock import whole_years
from clinic.domain.indications import Indication
from clinic.domain.text import N_

# The clinic setting "weeks after radiotherapy ends before dilation starts": its default
# and the published range it may be set in.
DEFAULT_RADIOTHERAPY_WEEKS = 4
RADIOTHERAPY_WEEKS_LOW = 2
RADIOTHERAPY_WEEKS_HIGH = 8

# From this age (completed years on the start date) a program needs no specialist service
# for children and young people.
ADULT_AGE = 18

SPECIALIST_SERVICE_NEEDED = N_(
    "The patient is under 18 on the start date: enter the specialist service for children "
    "and young people that leads this program."
)


@dataclass(frozen=True)
class StartProblem:
    """Why a protocol cannot start yet, next to the field the clinician can change."""

    field: str
    message: str


def earliest_after_radiotherapy(ended_on: date, interval_weeks: int) -> date:
    """The first day dilation may start after radiotherapy that ended on `ended_on`."""
    return ended_on + timedelta(weeks=interval_weeks)


def is_under_18_on(date_of_birth: date, day: date) -> bool:
    """Whether a person born on `date_of_birth` is under 18 on `day` (18 from the 18th
    birthday itself; born on 29 February, from 1 March in a year without one)."""
    return whole_years(date_of_birth, day) < ADULT_AGE


def start_problems(
    indications: Iterable[Indication],
    *,
    start_on: date,
    radiotherapy_ended_on: date | None,
    radiotherapy_weeks: int,
    surgeon_direction: str,
    procedure_on: date | None,
    date_of_birth: date,
    specialist_direction: str,
) -> list[StartProblem]:
    """Everything that stops a protocol for these indications (the patient's and the
    template's) from starting on `start_on` for a patient born on `date_of_birth`; an
    empty list means it may start."""
    found = set(indications)
    problems: list[StartProblem] = []
    if is_under_18_on(date_of_birth, start_on) and not specialist_direction.strip():
        problems.append(StartProblem("specialist_direction", SPECIALIST_SERVICE_NEEDED))
    if any(i.follows_radiotherapy for i in found):
        if radiotherapy_ended_on is None:
            problems.append(
                StartProblem(
                    "radiotherapy_ended_on",
                    "Enter the date radiotherapy ended: dilation starts only once the "
                    "clinic's interval after it has passed.",
                )
            )
        else:
            earliest = earliest_after_radiotherapy(radiotherapy_ended_on, radiotherapy_weeks)
            if start_on < earliest:
                problems.append(
                    StartProblem(
                        "start_on",
                        f"Radiotherapy ended on {radiotherapy_ended_on:%d %b %Y}. This clinic "
                        f"starts dilation {radiotherapy_weeks} weeks after it ends, so the "
                        f"earliest start date is {earliest:%d %b %Y}.",
                    )
                )
    if any(i.is_surgeon_directed for i in found):
        if not surgeon_direction.strip():
            problems.append(
                StartProblem(
                    "surgeon_direction",
                    "This program must be directed by the treating surgeon: enter the "
                    "surgeon's name.",
                )
            )
        if procedure_on is None:
            problems.append(
                StartProblem(
                    "procedure_on", "Enter the date of the procedure this program follows."
                )
            )
        elif start_on < procedure_on:
            problems.append(
                StartProblem(
                    "start_on",
                    f"The program cannot start before the procedure ({procedure_on:%d %b %Y}).",
                )
            )
    return problems

"""The conditions some indications put on starting a protocol (clinic.domain.starting):
the interval after radiotherapy, and the surgeon's direction with the procedure date; and
the one the patient's age puts on it: under 18 on the start date, a specialist service
leads."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clinic.domain.indications import Indication
from clinic.domain.starting import (
    DEFAULT_RADIOTHERAPY_WEEKS,
    RADIOTHERAPY_WEEKS_HIGH,
    RADIOTHERAPY_WEEKS_LOW,
    SPECIALIST_SERVICE_NEEDED,
    earliest_after_radiotherapy,
    is_under_18_on,
    start_problems,
)

RT = Indication.PELVIC_RADIOTHERAPY
ENDED = date(2026, 9, 1)
ADULT_BORN = date(1990, 1, 1)


def problems(indications, **kw) -> list[tuple[str, str]]:
    values = {
        "start_on": date(2026, 12, 1),
        "radiotherapy_ended_on": None,
        "radiotherapy_weeks": DEFAULT_RADIOTHERAPY_WEEKS,
        "surgeon_direction": "",
        "procedure_on": None,
        "date_of_birth": ADULT_BORN,
        "specialist_direction": "",
    } | kw
    return [(p.field, p.message) for p in start_problems(indications, **values)]


def test_the_default_interval_sits_inside_the_guideline_range() -> None:
    """The clinical reference says start 2-8 weeks after radiotherapy: the default (4) and
    the setting's bounds stay inside it."""
    assert RADIOTHERAPY_WEEKS_LOW == 2 and RADIOTHERAPY_WEEKS_HIGH == 8
    assert RADIOTHERAPY_WEEKS_LOW <= DEFAULT_RADIOTHERAPY_WEEKS <= RADIOTHERAPY_WEEKS_HIGH


def test_after_radiotherapy_the_end_date_is_required() -> None:
    """Without the date radiotherapy ended, a program after radiotherapy cannot start."""
    [(field, message)] = problems({RT})
    assert field == "radiotherapy_ended_on"
    assert "Enter the date radiotherapy ended" in message


def test_a_start_inside_the_interval_is_refused_with_the_earliest_date() -> None:
    """A start before the clinic's interval has passed is refused, naming the end date,
    the interval and the first allowed day."""
    [(field, message)] = problems(
        {RT}, start_on=date(2026, 9, 28), radiotherapy_ended_on=ENDED, radiotherapy_weeks=4
    )
    assert field == "start_on"
    assert "Radiotherapy ended on 01 Sep 2026" in message
    assert "4 weeks" in message and "earliest start date is 29 Sep 2026" in message
    assert problems({RT}, start_on=date(2026, 9, 29), radiotherapy_ended_on=ENDED) == []


@given(
    weeks=st.integers(RADIOTHERAPY_WEEKS_LOW, RADIOTHERAPY_WEEKS_HIGH),
    offset=st.integers(-120, 120),
)
def test_the_interval_is_exact(weeks: int, offset: int) -> None:
    """For every allowed interval, a start is refused exactly when it is earlier than the
    end date plus the interval."""
    start = ENDED + timedelta(days=offset)
    found = problems({RT}, start_on=start, radiotherapy_ended_on=ENDED, radiotherapy_weeks=weeks)
    assert (found != []) == (start < earliest_after_radiotherapy(ENDED, weeks))


@pytest.mark.parametrize(
    "indication", [Indication.ANAL_FISSURE, Indication.ANAL_STENOSIS, Indication.VAGINOPLASTY]
)
def test_surgeon_directed_programs_need_the_surgeon_and_the_procedure_date(
    indication: Indication,
) -> None:
    """Anal fissure, after haemorrhoidectomy / anal stenosis and after vaginoplasty: the
    surgeon's name and the procedure date are both required, each next to its field."""
    assert indication.is_surgeon_directed
    assert [f for f, _ in problems({indication})] == ["surgeon_direction", "procedure_on"]
    assert [f for f, _ in problems({indication}, surgeon_direction="Ms R. Patel")] == [
        "procedure_on"
    ]
    assert (
        problems({indication}, surgeon_direction="Ms R. Patel", procedure_on=date(2026, 11, 10))
        == []
    )


def test_a_program_cannot_start_before_its_procedure() -> None:
    """The start date is on or after the procedure date."""
    [(field, message)] = problems(
        {Indication.VAGINOPLASTY},
        surgeon_direction="Dr A. Surgeon",
        procedure_on=date(2026, 12, 2),
    )
    assert field == "start_on" and "before the procedure (02 Dec 2026)" in message


def test_a_blank_surgeon_name_is_no_direction() -> None:
    """Spaces do not count as a surgeon's name."""
    found = problems({Indication.ANAL_FISSURE}, surgeon_direction="   ", procedure_on=ENDED)
    assert [f for f, _ in found] == ["surgeon_direction"]


@given(st.sets(st.sampled_from(list(Indication))))
def test_conditions_apply_exactly_to_the_indications_that_set_them(
    indications: set[Indication],
) -> None:
    """With nothing recorded, a start is refused if and only if one of the indications
    (the patient's or the template's) follows radiotherapy or is surgeon-directed."""
    conditional = any(i.follows_radiotherapy or i.is_surgeon_directed for i in indications)
    assert (problems(indications) != []) == conditional


def test_maintenance_durations_match_the_clinical_reference() -> None:
    """After radiotherapy the patient reads "about 1 to 2 years"; after vaginoplasty,
    lifelong; otherwise no invented end."""
    assert "about 1 to 2 years" in RT.maintenance_duration
    assert "lifelong" in Indication.VAGINOPLASTY.maintenance_duration
    assert "until your clinic says" in Indication.VAGINISMUS.maintenance_duration


def eighteenth_birthday(born: date) -> date:
    """The day a person becomes 18, worked out on its own: the same day 18 years on, or
    1 March when born on 29 February and that year has none."""
    try:
        return born.replace(year=born.year + 18)
    except ValueError:
        return date(born.year + 18, 3, 1)


@given(
    born=st.dates(min_value=date(1900, 1, 1), max_value=date(2090, 12, 31)),
    offset=st.integers(-400, 400),
)
def test_under_18_exactly_until_the_18th_birthday(born: date, offset: int) -> None:
    """On every day around the 18th birthday, a person is under 18 exactly when the day
    comes before it: 17 years and 364 days is under 18, the birthday itself is not."""
    day = eighteenth_birthday(born) + timedelta(days=offset)
    assert is_under_18_on(born, day) == (day < eighteenth_birthday(born))


@pytest.mark.parametrize(
    ("born", "day", "under_18"),
    [
        (date(2008, 12, 6), date(2026, 12, 5), True),  # 17 years and 364 days
        (date(2008, 12, 6), date(2026, 12, 6), False),  # 18 today
        (date(2008, 2, 29), date(2026, 2, 28), True),  # no 29 February in 2026
        (date(2008, 2, 29), date(2026, 3, 1), False),
        (date(2019, 6, 1), date(2026, 12, 6), True),  # a 7-year-old
    ],
)
def test_the_18th_birthday_boundary(born: date, day: date, under_18: bool) -> None:
    """The boundary, spelled out."""
    assert is_under_18_on(born, day) is under_18


def test_under_18_a_specialist_service_must_be_named() -> None:
    """For a patient under 18 on the start date, whatever the indication, the service
    that leads the program is required, next to its field; spaces are no name; named, the
    start may go ahead. An adult is never asked."""
    young = {"date_of_birth": date(2012, 3, 4)}
    assert problems({Indication.VAGINISMUS}, **young) == [
        ("specialist_direction", SPECIALIST_SERVICE_NEEDED)
    ]
    assert problems({Indication.VAGINAL_AGENESIS}, **young, specialist_direction="   ") == [
        ("specialist_direction", SPECIALIST_SERVICE_NEEDED)
    ]
    assert problems({Indication.VAGINAL_AGENESIS}, **young, specialist_direction="Dr M. Osei") == []
    assert problems({Indication.VAGINAL_AGENESIS}) == []

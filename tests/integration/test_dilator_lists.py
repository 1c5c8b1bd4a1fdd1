"""The dilator lists of the stage editor and of the patient's session form (issue 17): only
sizes for the plan's route, each named with its set, grouped by set with the prescribed set
first; the server refuses a size of the other route or of another clinic in plain words;
and the lists cost the same number of queries however big the catalogue."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from clinic.core.clock import clinic_today
from clinic.domain.indications import Indication
from clinic.domain.protocols import IntendedUse
from clinic.extensions import db
from clinic.models import (
    DiaryEntry,
    DilatorSet,
    DilatorSize,
    Patient,
    Protocol,
    User,
)
from clinic.models.types import utcnow
from tests.support.auth import act_as
from tests.support.forms import form_values
from tests.support.protocols import clinic_template, make_protocol, seed_both_libraries
from tests.support.queries import queries_for
from tests.support.world import World

VAGINAL = "Graduated vaginal set"
VAGINOPLASTY = "Post-vaginoplasty set"
ANAL = "Anal dilator set"
WRONG_ROUTE = "this dilator is made for vaginal use and cannot be used in an anal protocol"


@pytest.fixture
def library(app: Flask, world: World) -> dict[str, int]:
    """The default catalogue and templates in both clinics; template ids of clinic A."""
    return seed_both_libraries(app, world)


def dilator_list(page: str, name: str) -> list[tuple[str, str, bool]]:
    """The options of the select `name` as (group label, option text, selected)."""
    start = re.search(f'<select[^>]* id="{name}"', page).start()
    html = page[start : page.index("</select>", start)]
    found: list[tuple[str, str, bool]] = []
    group = ""
    for tag in re.finditer(r'<optgroup label="([^"]*)">|<option([^>]*)>([^<]*)</option>', html):
        if tag.group(1) is not None:
            group = tag.group(1)
        else:
            found.append((group, tag.group(3), "selected" in tag.group(2)))
    return found


def size_id(app: Flask, clinic_id: int, set_name: str, label: str) -> int:
    with app.app_context():
        return db.session.scalars(
            select(DilatorSize.id)
            .join(DilatorSet)
            .where(
                DilatorSet.clinic_id == clinic_id,
                DilatorSet.name == set_name,
                DilatorSize.label == label,
            )
        ).one()


def start_url(world: World, template_id: int) -> str:
    return f"/patients/{world.patient.patient_id}/protocol/new?template={template_id}"


def protocols(app: Flask, world: World) -> int:
    with app.app_context():
        return db.session.scalar(
            select(func.count())
            .select_from(Protocol)
            .where(Protocol.patient_id == world.patient.patient_id)
        )


# ---------------------------------------------------------------------------------------
# The stage editor


def test_a_vaginal_plan_offers_the_vaginal_sets_named_and_grouped_its_own_set_first(
    client, world: World, library, as_clinician
) -> None:
    """Starting from the vaginismus template, each stage's list starts with "Choose a
    dilator", then the template's own set, then the clinic's other vaginal set; every line
    names its set; the anal set is not offered."""
    page = client.get(start_url(world, library["vaginismus"])).get_data(as_text=True)
    options = dilator_list(page, "stages-0-dilator_size_id")
    assert options[0] == ("", "Choose a dilator", False)
    groups = list(dict.fromkeys(group for group, _, _ in options[1:]))
    assert groups == [VAGINAL, VAGINOPLASTY]
    assert all(text.endswith(f"— {group}") for group, text, _ in options[1:])
    assert ("13 mm · Size 1 — Graduated vaginal set") in [t for _, t, _ in options]
    assert "27.5 mm — Post-vaginoplasty set" in [t for _, t, _ in options]
    assert [t for _, t, chosen in options if chosen] == ["13 mm · Size 1 — Graduated vaginal set"]
    assert ANAL not in page.split('id="stages-0-dilator_size_id"')[1].split("</select>")[0]


def test_an_anal_plan_offers_only_flared_anal_sizes(
    app: Flask, client, world: World, library, as_clinician
) -> None:
    """From an anal template only the anal set is offered: no vaginal set, and no anal set
    without a flared base."""
    with app.app_context():
        unflared = DilatorSet(
            clinic_id=world.clinic_a,
            name="Unflared anal set",
            intended_use=IntendedUse.ANAL,
            flared_base=False,
        )
        db.session.add(DilatorSize(dilator_set=unflared, label="U1", diameter_mm=12))
        db.session.commit()
    page = client.get(start_url(world, library["levator_ani"])).get_data(as_text=True)
    groups = {group for group, _, _ in dilator_list(page, "stages-0-dilator_size_id")[1:]}
    assert groups == {ANAL}


def test_showing_the_dilators_for_a_new_route_redraws_the_lists_and_saves_nothing(
    app: Flask, client, world: World, library, as_clinician
) -> None:
    """Changing the route to anal and pressing "Show dilators for this route" (no
    JavaScript needed) brings the form back with the anal sizes on offer, what was typed
    kept, no error shown, nothing saved; the stages' earlier vaginal choice still shows,
    marked as not for anal use."""
    url = start_url(world, library["vaginismus"])
    values = form_values(client.get(url).get_data(as_text=True))
    values.update({"route": "anal", "name": "Kept name", "action": "show_route"})
    response = client.post(url, data=values)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Error:" not in page
    assert 'value="Kept name"' in page
    options = dilator_list(page, "stages-0-dilator_size_id")
    assert {group for group, _, _ in options[1:]} == {VAGINAL, ANAL}
    anal = [text for group, text, _ in options if group == ANAL]
    assert anal[0] == "10 mm · Anal 1 — Anal dilator set"
    vaginal = [text for group, text, _ in options if group == VAGINAL]
    assert vaginal == ["13 mm · Size 1 — Graduated vaginal set (not for anal use)"]
    assert protocols(app, world) == 0


def test_a_size_for_the_other_route_is_refused_in_plain_words(
    app: Flask, client, world: World, library, as_clinician
) -> None:
    """A start whose route says anal while its stages hold vaginal sizes (the route
    changed, the lists not redrawn) is refused next to each stage's dilator, saying why;
    nothing is saved."""
    url = start_url(world, library["vaginismus"])
    values = form_values(client.get(url).get_data(as_text=True))
    values.update({"route": "anal", "action": "save"})
    page = client.post(url, data=values).get_data(as_text=True)
    assert WRONG_ROUTE in page
    assert "Not a valid choice" not in page
    assert protocols(app, world) == 0


def test_another_clinics_size_is_refused_in_plain_words(
    app: Flask, client, world: World, library, as_clinician
) -> None:
    """A forged size id of another clinic (same catalogue, other rows) is not in the list:
    "Choose a dilator from the list.", and nothing is saved."""
    url = start_url(world, library["vaginismus"])
    values = form_values(client.get(url).get_data(as_text=True))
    theirs = size_id(app, world.clinic_b, VAGINAL, "Size 1")
    values.update({"stages-0-dilator_size_id": str(theirs), "action": "save"})
    page = client.post(url, data=values).get_data(as_text=True)
    assert "Choose a dilator from the list." in page
    assert protocols(app, world) == 0


def test_revising_an_anal_plan_keeps_to_its_route(
    app: Flask, client, world: World, library, as_clinician
) -> None:
    """The revise form offers the sizes for the protocol's route (anal here) only, and a
    vaginal size sent anyway is refused with the plan rules' words."""
    with app.app_context():
        protocol = make_protocol(
            db.session.get(Patient, world.patient.patient_id),
            db.session.get(User, world.clinician.id),
            template=clinic_template(world.clinic_a, Indication.LEVATOR_ANI),
        )
        db.session.commit()
        url = f"/patients/{world.patient.patient_id}/protocol/{protocol.id}/revise"
    page = client.get(url).get_data(as_text=True)
    assert {group for group, _, _ in dilator_list(page, "stages-0-dilator_size_id")[1:]} == {ANAL}
    values = form_values(page)
    values.update(
        {
            "stages-0-dilator_size_id": str(size_id(app, world.clinic_a, VAGINAL, "Size 1")),
            "reason": "Trying a vaginal size",
            "action": "save",
        }
    )
    assert WRONG_ROUTE in client.post(url, data=values).get_data(as_text=True)


def test_the_start_form_costs_the_same_queries_with_a_bigger_catalogue(
    app: Flask, client, world: World, library, as_clinician
) -> None:
    """Sizes come with their sets in one query: ten more sets of five sizes add no query
    to the start form (seven stages, seven lists)."""
    url = start_url(world, library["vaginismus"])
    client.get(url)  # warm: the first request loads what every later one reuses
    before = queries_for(app, client, url)
    with app.app_context():
        for n in range(10):
            extra = DilatorSet(
                clinic_id=world.clinic_a, name=f"Extra set {n}", intended_use=IntendedUse.EITHER
            )
            for k in range(5):
                db.session.add(
                    DilatorSize(dilator_set=extra, label=f"E{k}", diameter_mm=10 + 3 * k)
                )
        db.session.commit()
    page = client.get(url).get_data(as_text=True)
    assert "Extra set 9" in page
    assert queries_for(app, client, url) == before


# ---------------------------------------------------------------------------------------
# The patient's session form


@pytest.fixture
def on_plan(app: Flask, world: World) -> None:
    """The world's patient on the vaginismus template (Size 1 of the vaginal set)."""
    with app.app_context():
        make_protocol(
            db.session.get(Patient, world.patient.patient_id),
            db.session.get(User, world.clinician.id),
            started_on=clinic_today("Europe/London") - timedelta(days=3),
        )
        db.session.commit()


def test_the_log_form_names_each_size_with_its_set_the_prescribed_set_first(
    client, world: World, on_plan, as_patient
) -> None:
    """The prescribed size comes first, chosen, said to be the prescribed one; then the
    rest of its set, then the clinic's other vaginal set, every line naming its set."""
    options = dilator_list(client.get("/diary/log").get_data(as_text=True), "dilator_size_id")
    assert options[0] == (
        VAGINAL,
        "13 mm · Size 1 — Graduated vaginal set (your prescribed size)",
        True,
    )
    assert [chosen for _, _, chosen in options].count(True) == 1
    assert options[1][:2] == (VAGINAL, "17 mm · Size 2 — Graduated vaginal set")
    assert list(dict.fromkeys(group for group, _, _ in options)) == [VAGINAL, VAGINOPLASTY]


NOT_SIZES = ["", "abc", "-1", "0", "\u00b2", "1.5", "99999999999999999999", "1" * 4301]


@pytest.mark.parametrize(
    "whose",
    ["anal set", "other clinic", "retired", *NOT_SIZES],
    ids=lambda whose: whose if len(whose) < 30 else f"{len(whose)} digits",
)
def test_the_log_form_refuses_a_size_not_listed_in_plain_words(
    app: Flask, client, world: World, library, on_plan, as_patient, whose: str
) -> None:
    """A size of the other route, of another clinic, or retired (and not the plan's), or
    something that is no size at all, sent anyway: "Choose the dilator you used from the
    list." (or, sent empty, "Choose the dilator you used."), nothing is saved, and the
    form shown again offers every size it offered before. (A form sent is checked
    against the size it names alone: the answer must be the whole list's.)"""
    if whose == "retired":
        with app.app_context():
            retired = db.session.get(DilatorSize, size_id(app, world.clinic_a, VAGINAL, "Size 5"))
            retired.retired_at = utcnow()
            db.session.commit()
    forged = {
        "anal set": lambda: str(size_id(app, world.clinic_a, ANAL, "Anal 1")),
        "other clinic": lambda: str(size_id(app, world.clinic_b, VAGINAL, "Size 1")),
        "retired": lambda: str(size_id(app, world.clinic_a, VAGINAL, "Size 5")),
    }.get(whose, lambda: whose)()
    shown = client.get("/diary/log").get_data(as_text=True)
    values = form_values(shown)
    values.update(
        {
            "dilator_size_id": forged,
            "pain_during": "1",
            "pain_after": "0",
            "bleeding": "none",
            "sharp_pain": "no",
        }
    )
    response = client.post("/diary/log", data=values)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    expected = "Choose the dilator you used." if whose == "" else "from the list."
    assert f"{expected}" in page
    listed = [text for _, text, _ in dilator_list(page, "dilator_size_id")]
    assert listed == [text for _, text, _ in dilator_list(shown, "dilator_size_id")]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(DiaryEntry)) == 0


def test_the_log_form_takes_a_larger_size_of_another_set(
    app: Flask, client, world: World, library, on_plan, as_patient
) -> None:
    """A size of the clinic's other set for the route, not in the plan, is saved: the
    form sent is checked against the clinic's sizes, not only the plan's."""
    other = size_id(app, world.clinic_a, VAGINOPLASTY, "27.5 mm")
    values = form_values(client.get("/diary/log").get_data(as_text=True))
    values.update(
        {
            "dilator_size_id": str(other),
            "pain_during": "1",
            "pain_after": "0",
            "bleeding": "none",
            "sharp_pain": "no",
        }
    )
    response = client.post("/diary/log", data=values)
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(select(DiaryEntry.dilator_size_id)).one() == other


def test_the_log_form_costs_the_same_queries_with_a_bigger_catalogue(
    app: Flask, client, world: World, on_plan, as_patient
) -> None:
    """Ten more vaginal sets add no query to the session form."""
    client.get("/diary/log")
    before = queries_for(app, client, "/diary/log")
    with app.app_context():
        for n in range(10):
            extra = DilatorSet(
                clinic_id=world.clinic_a, name=f"Extra set {n}", intended_use=IntendedUse.VAGINAL
            )
            for k in range(5):
                db.session.add(
                    DilatorSize(dilator_set=extra, label=f"E{k}", diameter_mm=10 + 3 * k)
                )
        db.session.commit()
    assert "Extra set 9" in client.get("/diary/log").get_data(as_text=True)
    assert queries_for(app, client, "/diary/log") == before


def test_another_clinics_patient_sees_none_of_this_clinics_sets(
    app: Flask, world: World, library
) -> None:
    """The clinic's own sets only: a patient of clinic B on a plan sees clinic B's sizes."""
    with app.app_context():
        make_protocol(
            db.session.get(Patient, world.other_clinic_patient.patient_id),
            db.session.get(User, world.other_clinician.id),
        )
        mine = db.session.get(DilatorSet, _set_id(world.clinic_a, VAGINAL))
        mine.name = "Clinic A's own set"
        db.session.commit()
    client = app.test_client()
    act_as(client, world.other_clinic_patient.id)
    page = client.get("/diary/log").get_data(as_text=True)
    assert VAGINAL in page and "Clinic A's own set" not in page


def _set_id(clinic_id: int, name: str) -> int:
    return db.session.scalars(
        select(DilatorSet.id).where(DilatorSet.clinic_id == clinic_id, DilatorSet.name == name)
    ).one()

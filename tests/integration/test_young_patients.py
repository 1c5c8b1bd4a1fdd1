"""A patient under 18 on a protocol's start date: the product is not for children outside
a specialist service (the clinical reference), so starting one (or a new one in place of
an open protocol) asks for the specialist service for children and young people that
leads it and the clinician's confirmation; adults see nothing of it."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from clinic.core.clock import clinic_today
from clinic.extensions import db
from clinic.fhir import patient_bundle
from clinic.models import Patient, Protocol
from clinic.protocols import integrity
from tests.support.forms import form_values
from tests.support.protocols import seed_both_libraries, start_plan
from tests.support.world import Person, World

SERVICE = "Dr M. Osei, adolescent gynaecology"
MISSING_SERVICE = "The patient is under 18 on the start date"
MISSING_TICK = (
    "Tick to confirm a specialist service for children and young people leads this program."
)
FIELDSET = "Under 18: a specialist service leads"


@pytest.fixture
def library(app: Flask, world: World) -> dict[str, int]:
    return seed_both_libraries(app, world)


def today() -> date:
    return clinic_today("Europe/London")


def years_before(day: date, years: int) -> date:
    """The same calendar day `years` earlier (28 February for a 29 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def born_on(app: Flask, world: World, born: date) -> None:
    with app.app_context():
        db.session.get_one(Patient, world.patient.patient_id).date_of_birth = born
        db.session.commit()


def new_url(world: World, template_id: int) -> str:
    return f"/patients/{world.patient.patient_id}/protocol/new?template={template_id}"


def start(client: FlaskClient, world: World, template_id: int, **changes: str):
    """Open the start form for a template and submit it with `changes`."""
    page = client.get(new_url(world, template_id))
    assert page.status_code == 200
    data = {**form_values(page.get_data(as_text=True)), "action": "save", **changes}
    return client.post(new_url(world, template_id), data=data)


def protocols_of(app: Flask, world: World) -> list[Protocol]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(Protocol)
                .where(Protocol.patient_id == world.patient.patient_id)
                .order_by(Protocol.id)
            )
        )


def test_a_childs_start_is_refused_without_the_specialist_service(
    app: Flask, client: FlaskClient, world: World, library, as_clinician: Person
) -> None:
    """For a 7-year-old the form says why before anything is sent (age on the start date)
    and asks for the service and the confirmation; without them it is refused, each
    message next to its field, nothing saved and everything typed kept."""
    born = years_before(today(), 7) - timedelta(days=40)
    born_on(app, world, born)
    form = client.get(new_url(world, library["vaginal_agenesis"])).get_data(as_text=True)
    assert FIELDSET in form
    assert "Age on the start date" in form and ": 7, born" in form
    assert 'name="specialist_direction"' in form and 'name="specialist_confirmed"' in form

    empty = start(client, world, library["vaginal_agenesis"], name="Kept name")
    html = empty.get_data(as_text=True).replace("&#39;", "'")
    assert empty.status_code == 200
    assert MISSING_SERVICE in html and MISSING_TICK in html
    assert 'id="specialist_direction-error"' in html
    assert 'id="specialist_confirmed-error"' in html
    assert 'value="Kept name"' in html

    unticked = start(
        client, world, library["vaginal_agenesis"], name="Kept name", specialist_direction=SERVICE
    ).get_data(as_text=True)
    assert MISSING_TICK in unticked and MISSING_SERVICE not in unticked
    assert f'value="{SERVICE}"' in unticked and 'value="Kept name"' in unticked

    unnamed = start(
        client, world, library["vaginal_agenesis"], specialist_confirmed="y", name="Kept name"
    ).get_data(as_text=True)
    assert MISSING_SERVICE in unnamed and MISSING_TICK not in unnamed
    assert form_values(unnamed)["specialist_confirmed"] == "y"  # the tick is kept too
    assert protocols_of(app, world) == []


def test_a_childs_start_with_the_service_is_kept_and_shown(
    app: Flask, client: FlaskClient, world: World, library, as_clinician: Person
) -> None:
    """With the service named and confirmed the protocol starts; the service is stored on
    it, shown on the protocol page with who confirmed it, in the CarePlan's note, and the
    protocol's record check still passes (the service is part of its fingerprint)."""
    born_on(app, world, years_before(today(), 15))
    response = start(
        client,
        world,
        library["vaginal_agenesis"],
        specialist_direction=f"  {SERVICE}  ",
        specialist_confirmed="y",
    )
    assert response.status_code == 302
    [protocol] = protocols_of(app, world)
    assert protocol.specialist_direction == SERVICE
    page = client.get(f"/patients/{world.patient.patient_id}/protocol/").get_data(as_text=True)
    assert "Led by" in page
    assert (
        f"{SERVICE} (specialist service for children and young people, confirmed by "
        f"{world.clinician.name})" in page
    )
    assert "The history matches its recorded fingerprints." in page
    with app.app_context():
        bundle = patient_bundle(db.session.get_one(Patient, world.patient.patient_id), "https://x")
        [plan] = [
            e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "CarePlan"
        ]
        assert plan["note"] == [
            {"text": f"Led by {SERVICE} (specialist service for children and young people)."}
        ]
        db.session.execute(
            update(Protocol)
            .where(Protocol.id == protocol.id)
            .values(specialist_direction="Changed directly")
        )
        db.session.commit()
    page = client.get(f"/patients/{world.patient.patient_id}/protocol/").get_data(as_text=True)
    assert "does not match its fingerprints" in page


def test_a_new_protocol_in_place_of_an_open_one_asks_again(
    app: Flask, client: FlaskClient, world: World, library, as_clinician: Person
) -> None:
    """Replacing a young person's open protocol is a start like any other: refused without
    the service, and the open protocol stays as it was."""
    start_plan(app, world.patient.patient_id, world.clinician.id, started_days_ago=20)
    born_on(app, world, years_before(today(), 16))  # (corrected on the record since)
    refused = start(client, world, library["vaginismus"]).get_data(as_text=True)
    assert MISSING_SERVICE in refused and FIELDSET in refused
    [open_one] = protocols_of(app, world)
    assert open_one.status.is_open
    assert (
        start(
            client,
            world,
            library["vaginismus"],
            specialist_direction=SERVICE,
            specialist_confirmed="y",
        ).status_code
        == 302
    )
    first, second = protocols_of(app, world)
    assert not first.status.is_open and second.specialist_direction == SERVICE


def test_an_adults_form_has_no_such_fields_and_keeps_nothing_sent(
    app: Flask, client: FlaskClient, world: World, library, as_clinician: Person
) -> None:
    """For an adult nothing changes: no fieldset, no fields; a forged form's service is
    not stored."""
    born_on(app, world, years_before(today(), 34))
    form = client.get(new_url(world, library["vaginal_agenesis"])).get_data(as_text=True)
    assert FIELDSET not in form
    assert "specialist_direction" not in form and "specialist_confirmed" not in form
    response = start(
        client,
        world,
        library["vaginal_agenesis"],
        specialist_direction="Forged",
        specialist_confirmed="y",
    )
    assert response.status_code == 302
    [protocol] = protocols_of(app, world)
    assert protocol.specialist_direction == ""


@pytest.mark.parametrize(("days_after_18th", "refused"), [(-1, True), (0, False)])
def test_the_18th_birthday_counts_on_the_start_date(
    app: Flask,
    client: FlaskClient,
    world: World,
    library,
    as_clinician: Person,
    days_after_18th: int,
    refused: bool,
) -> None:
    """Age is taken on the start date, not today: a patient who is an adult today (so the
    form shows nothing) but whose program is dated the day before their 18th birthday is
    refused, the refusal explaining it; dated on the birthday itself, it starts."""
    eighteenth = today() - timedelta(days=10)
    born_on(app, world, years_before(eighteenth, 18))
    form = client.get(new_url(world, library["vaginismus"])).get_data(as_text=True)
    assert FIELDSET not in form
    start_on = (eighteenth + timedelta(days=days_after_18th)).isoformat()
    response = start(client, world, library["vaginismus"], start_on=start_on)
    html = response.get_data(as_text=True)
    if refused:
        assert response.status_code == 200
        assert MISSING_SERVICE in html and FIELDSET in html
        assert "Age on the start date" in html and ": 17, born" in html
        assert f'value="{start_on}"' in html
        assert protocols_of(app, world) == []
    else:
        assert response.status_code == 302
        [protocol] = protocols_of(app, world)
        assert protocol.specialist_direction == ""


def test_existing_protocols_keep_their_fingerprints(app: Flask, world: World) -> None:
    """A protocol without a specialist service (every one before this change) is chained
    from the same identity as before: its hashes still verify, and the genesis is the
    digest of the fields it always covered."""
    protocol_id = start_plan(app, world.patient.patient_id, world.clinician.id)
    with app.app_context():
        protocol = db.session.get_one(Protocol, protocol_id)
        assert protocol.specialist_direction == ""
        assert integrity.verify(protocol)
        before = {
            "patient_id": protocol.patient_id,
            "clinic_id": protocol.clinic_id,
            "name": protocol.name,
            "route": protocol.route.value,
            "indication": protocol.indication.value,
            "surgeon_direction": protocol.surgeon_direction,
            "created_at": protocol.created_at.isoformat(),
        }
        assert integrity.genesis(protocol) == integrity._digest(before)


def test_the_service_typed_survives_a_start_date_moved_past_the_18th_birthday(
    app: Flask, client: FlaskClient, world: World, library, as_clinician: Person
) -> None:
    """A patient 18 in five days: the clinician types the service for today's start, then
    dates the start after the birthday with another mistake (no stage). The fieldset goes
    (not needed for that day) but what was typed is kept; dated back to today, it is
    there again. Nothing typed is lost, and an adult's plan still stores none of it."""
    born_on(app, world, years_before(today() + timedelta(days=5), 18))
    page = client.get(new_url(world, library["vaginismus"])).get_data(as_text=True)
    assert FIELDSET in page
    later = (today() + timedelta(days=6)).isoformat()
    sent = {
        **form_values(page),
        "action": "save",
        "specialist_direction": "Adolescent gynaecology, St Elsewhere",
        "specialist_confirmed": "y",
        "start_on": later,
        "start_stage": "99",
    }
    again = client.post(new_url(world, library["vaginismus"]), data=sent).get_data(as_text=True)
    assert FIELDSET not in again and protocols_of(app, world) == []
    values = form_values(again)
    assert values["specialist_direction"] == "Adolescent gynaecology, St Elsewhere"
    assert values["specialist_confirmed"] == "y"
    back = {**values, "action": "save", "start_on": today().isoformat(), "start_stage": "1"}
    response = client.post(new_url(world, library["vaginismus"]), data=back)
    assert response.status_code == 302, response.get_data(as_text=True)
    [protocol] = protocols_of(app, world)
    assert protocol.specialist_direction == "Adolescent gynaecology, St Elsewhere"

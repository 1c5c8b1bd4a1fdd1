"""Patient records: create, validate, edit, find, and keep within the clinic."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from clinic.core.clock import clinic_today
from clinic.domain.flags import FlagKind
from clinic.extensions import db
from clinic.models import CareFlag, Clinic, Patient, User
from tests.support.auth import act_as
from tests.support.factories import make_patient
from tests.support.world import World


def valid_form(world: World, **overrides: str) -> dict[str, str]:
    return {
        "full_name": "Robin Example",
        "date_of_birth": "1988-05-17",
        "clinic_identifier": "MRN-NEW-1",
        "pronouns": "they/them",
        "indication": "vaginismus",
        "indication_other": "",
        "referring_clinician": "Dr A. Person, GP",
        "status": "active",
        "responsible_clinician_id": str(world.clinician.id),
        **overrides,
    }


def clinic_day(app: Flask, world: World) -> date:
    """Today as clinic A sees it."""
    with app.app_context():
        return clinic_today(db.session.get(Clinic, world.clinic_a).timezone)


def review_flags(app: Flask, patient_id: int) -> list[tuple[str, bool]]:
    """(key, still open) of each "review due" flag of the patient."""
    with app.app_context():
        return [
            (f.key, f.acknowledged_at is None)
            for f in db.session.scalars(
                select(CareFlag).where(
                    CareFlag.patient_id == patient_id, CareFlag.kind == FlagKind.REVIEW_DUE
                )
            )
        ]


def patient_count(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Patient))


def test_clinician_adds_a_patient(app: Flask, client, world: World, as_clinician) -> None:
    """A valid form creates the record in the clinician's clinic and shows it."""
    response = client.post("/patients/new", data=valid_form(world))
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Robin Example" in page and "MRN-NEW-1" in page and "they/them" in page
    with app.app_context():
        robin = db.session.scalar(select(Patient).where(Patient.full_name == "Robin Example"))
        assert robin.clinic_id == world.clinic_a
        assert robin.responsible_clinician_id == world.clinician.id


def test_name_to_use_and_radiotherapy_end_are_recorded(
    app: Flask, client, world: World, as_clinician
) -> None:
    """The name to use and the date radiotherapy ended are saved and shown on the record,
    next to the legal name; the name to use is optional."""
    response = client.post(
        "/patients/new",
        data=valid_form(
            world,
            name_to_use="Rob",
            indication="pelvic_radiotherapy",
            radiotherapy_ended_on="2026-01-15",
        ),
    )
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Robin Example" in page and "Rob" in page and "15 Jan 2026" in page
    with app.app_context():
        robin = db.session.scalar(select(Patient).where(Patient.full_name == "Robin Example"))
        assert robin.name_to_use == "Rob" and robin.greeting == "Hello, Rob"
        assert robin.radiotherapy_ended_on == date(2026, 1, 15)
    other = client.post("/patients/new", data=valid_form(world, clinic_identifier="MRN-NEW-2"))
    assert other.status_code == 302
    with app.app_context():
        unnamed = db.session.scalar(select(Patient).where(Patient.clinic_identifier == "MRN-NEW-2"))
        assert unnamed.name_to_use == "" and unnamed.greeting == "Hello"


def test_new_patient_form_defaults_to_me_as_responsible(client, world: World, as_clinician) -> None:
    """The responsible clinician defaults to whoever is adding the patient."""
    html = client.get("/patients/new").get_data(as_text=True)
    assert f'<option selected value="{world.clinician.id}">' in html


def test_a_new_patients_indication_starts_unchosen(
    app: Flask, client, world: World, as_clinician
) -> None:
    """Issue 17: the indication decides a plan's safety rules, so nothing is chosen for
    the clinician: the list starts on an empty "Choose…" (selected, the only one), and a
    form sent without one is refused with "Choose the patient's indication." and saves
    nothing. A patient's own indication is chosen on their edit form."""
    html = client.get("/patients/new").get_data(as_text=True)
    start = html.index('id="indication"')
    indication = html[start : html.index("</select>", start)]
    assert '<option selected value="">Choose…</option>' in indication
    assert indication.count("selected") == 1
    before = patient_count(app)
    response = client.post("/patients/new", data=valid_form(world, indication=""))
    page = response.get_data(as_text=True)
    assert "Choose the patient&#39;s indication." in page
    assert 'id="indication-error"' in page
    assert patient_count(app) == before
    edit = client.get(f"/patients/{world.patient.patient_id}/edit").get_data(as_text=True)
    start = edit.index('id="indication"')
    chosen = re.findall(
        r'<option selected value="([^"]*)"', edit[start : edit.index("</select>", start)]
    )
    with app.app_context():
        assert chosen == [db.session.get(Patient, world.patient.patient_id).indication.value]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("full_name", "", "Enter the patient&#39;s name."),
        ("full_name", "   ", "Enter the patient&#39;s name."),
        ("full_name", "x" * 121, "Use at most 120 characters."),
        ("date_of_birth", "", "Enter the date of birth."),
        ("date_of_birth", "  ", "Enter the date of birth."),
        ("date_of_birth", "17/05/1988", "Enter a real date, for example 1990-04-23."),
        ("date_of_birth", "2999-01-01", "The date of birth must be in the past"),
        ("date_of_birth", "1850-01-01", "The date of birth must be in the past"),
        ("clinic_identifier", "", "Enter the clinic identifier."),
        ("clinic_identifier", " \t ", "Enter the clinic identifier."),
        ("indication", "astrology", "Choose the patient&#39;s indication."),
        ("indication", "", "Choose the patient&#39;s indication."),
        ("indication", "other", "Describe the indication when you choose Other."),
        ("indication_other", "post-surgical", "Choose Other to add a description"),
        ("status", "deleted", "Not a valid choice"),
        ("responsible_clinician_id", "999999", "Not a valid choice"),
        ("review_on", "next week", "Enter a real date, for example 1990-04-23."),
        ("review_on", "2999-01-01", "Choose a review date no more than two years from today"),
        ("name_to_use", "x" * 81, "Use at most 80 characters."),
        ("radiotherapy_ended_on", "2999-01-01", "Enter the day radiotherapy ended, today or"),
        ("radiotherapy_ended_on", "last spring", "Enter a real date, for example 1990-04-23."),
    ],
)
def test_invalid_input_is_explained_and_kept(
    app: Flask, client, world: World, field: str, value: str, message: str, as_clinician
) -> None:
    """Each rule answers with a plain message; nothing is saved and every other value
    the clinician typed is still in the form."""
    before = patient_count(app)
    response = client.post("/patients/new", data=valid_form(world, **{field: value}))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in html
    assert 'aria-invalid="true"' in html
    if field != "full_name":
        assert 'value="Robin Example"' in html
    if field != "referring_clinician":
        assert "Dr A. Person, GP" in html
    assert patient_count(app) == before


def test_other_clinics_clinician_cannot_be_made_responsible(
    client, world: World, as_clinician
) -> None:
    """Only this clinic's clinicians are offered, and a forged id is refused."""
    html = client.get("/patients/new").get_data(as_text=True)
    assert f'value="{world.other_clinician.id}"' not in html
    response = client.post(
        "/patients/new",
        data=valid_form(world, responsible_clinician_id=str(world.other_clinician.id)),
    )
    assert "Not a valid choice" in response.get_data(as_text=True)


def test_other_indication_needs_a_description(
    app: Flask, client, world: World, as_clinician
) -> None:
    """ "Other" is accepted with its free text, which the record then shows."""
    data = valid_form(world, indication="other", indication_other="Lichen sclerosus")
    location = client.post("/patients/new", data=data).headers["Location"]
    assert "Other: Lichen sclerosus" in client.get(location).get_data(as_text=True)


def test_identifier_is_unique_within_a_clinic_only(app: Flask, client, world: World) -> None:
    """The same MRN is refused twice in one clinic but allowed in another clinic."""
    with app.app_context():
        existing = db.session.get(Patient, world.patient.patient_id).clinic_identifier
        other = db.session.get(Patient, world.other_clinic_patient.patient_id).clinic_identifier
    act_as(client, world.clinician.id)
    taken = client.post("/patients/new", data=valid_form(world, clinic_identifier=existing))
    assert "already has this identifier" in taken.get_data(as_text=True)
    free = client.post("/patients/new", data=valid_form(world, clinic_identifier=other))
    assert free.status_code == 302


def test_edit_changes_the_record(app: Flask, client, world: World, as_clinician) -> None:
    """Editing shows current values and saves the change, keeping the identifier valid
    for the record itself."""
    url = f"/patients/{world.patient.patient_id}/edit"
    page = client.get(url).get_data(as_text=True)
    with app.app_context():
        current = db.session.get(Patient, world.patient.patient_id)
        identifier = current.clinic_identifier
        assert f'value="{current.full_name}"' in page
    data = valid_form(
        world, clinic_identifier=identifier, full_name="Renamed Person", status="paused"
    )
    response = client.post(url, data=data)
    assert response.status_code == 302
    with app.app_context():
        changed = db.session.get(Patient, world.patient.patient_id)
        assert changed.full_name == "Renamed Person"
        assert changed.status.value == "paused"


def test_edit_keeps_a_deactivated_responsible_clinician(app: Flask, client, world: World) -> None:
    """A record whose clinician was deactivated can still be edited without forcing a
    reassignment."""
    with app.app_context():
        db.session.get(User, world.clinician.id).active = False
        db.session.commit()
    act_as(client, world.colleague.id)
    url = f"/patients/{world.patient.patient_id}/edit"
    assert f'<option selected value="{world.clinician.id}">' in client.get(url).get_data(
        as_text=True
    )


def test_search_and_filter(app: Flask, client, world: World) -> None:
    """The list finds patients by part of the name or identifier, filters by status, and
    never lists another clinic's patients."""
    with app.app_context():
        clinic = db.session.get(Clinic, world.clinic_a)
        make_patient(clinic, full_name="Zoë 100% Findable", clinic_identifier="FIND-1")
        make_patient(clinic, full_name="Paused Person", status="paused")
        db.session.commit()
    act_as(client, world.clinician.id)
    found = client.get("/patients/?q=findable").get_data(as_text=True)
    assert "Zoë 100% Findable" in found and "Paused Person" not in found
    assert "Zoë" in client.get("/patients/?q=find-1").get_data(as_text=True)
    assert "Zoë" in client.get("/patients/?q=100%25").get_data(as_text=True)
    assert "Zoë" not in client.get("/patients/?q=_").get_data(as_text=True)
    paused = client.get("/patients/?status=paused").get_data(as_text=True)
    assert "Paused Person" in paused and "Zoë" not in paused
    everyone = client.get("/patients/").get_data(as_text=True)
    assert world.other_clinic_patient.name not in everyone


def test_pagination(app: Flask, client, world: World) -> None:
    """Long caseloads are split into pages with working next/previous links."""
    with app.app_context():
        clinic = db.session.get(Clinic, world.clinic_a)
        for n in range(30):
            make_patient(clinic, full_name=f"Paged {n:02d}")
        db.session.commit()
    act_as(client, world.clinician.id)
    first = client.get("/patients/").get_data(as_text=True)
    assert "Page 1 of 2" in first and "Next page" in first
    second = client.get("/patients/?page=2").get_data(as_text=True)
    assert "Page 2 of 2" in second and "Previous page" in second
    assert client.get("/patients/?page=abc").status_code == 200
    assert client.get("/patients/?page=999").status_code == 200


def test_free_text_is_escaped(app: Flask, client, world: World, as_clinician) -> None:
    """Markup typed into any free-text field is shown as text, never run."""
    payload = '<script>alert("x")</script>'
    data = valid_form(world, full_name=payload, pronouns=payload[:40], referring_clinician=payload)
    location = client.post("/patients/new", data=data).headers["Location"]
    for page in (client.get(location), client.get("/patients/")):
        html = page.get_data(as_text=True)
        assert payload not in html
        assert "&lt;script&gt;" in html


def test_a_name_of_only_spaces_is_refused_on_edit(
    app: Flask, client, world: World, as_clinician
) -> None:
    """Spaces are not a name: the edit is refused with the message and the record keeps
    its name (the strip filter leaves nothing, which counts as missing)."""
    url = f"/patients/{world.patient.patient_id}/edit"
    response = client.post(url, data=valid_form(world, full_name="   "))
    assert response.status_code == 200
    assert "Enter the patient&#39;s name." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Patient, world.patient.patient_id).full_name == world.patient.name


def test_review_date_today_raises_review_due(app: Flask, client, world: World) -> None:
    """A review planned for today raises an open "review due" flag on saving, and the
    record shows the date."""
    today = clinic_day(app, world)
    act_as(client, world.clinician.id)
    url = f"/patients/{world.patient.patient_id}/edit"
    response = client.post(url, data=valid_form(world, review_on=today.isoformat()))
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Patient, world.patient.patient_id).review_on == today
    assert review_flags(app, world.patient.patient_id) == [(f"review:{today.isoformat()}", True)]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Next review" in page and f"{today.day} {today:%b %Y}" in page


def test_review_date_in_the_past_or_on_a_new_record_is_allowed(
    app: Flask, client, world: World
) -> None:
    """A date already gone is accepted (it is due at once), also when adding a patient."""
    yesterday = clinic_day(app, world) - timedelta(days=1)
    act_as(client, world.clinician.id)
    response = client.post("/patients/new", data=valid_form(world, review_on=str(yesterday)))
    assert response.status_code == 302
    with app.app_context():
        robin = db.session.scalar(select(Patient).where(Patient.full_name == "Robin Example"))
        assert robin.review_on == yesterday
        robin_id = robin.id
    assert review_flags(app, robin_id) == [(f"review:{yesterday.isoformat()}", True)]


def test_a_future_review_date_raises_nothing_yet(app: Flask, client, world: World) -> None:
    """A review next week is saved but not yet due; exactly two years ahead is the limit."""
    today = clinic_day(app, world)
    act_as(client, world.clinician.id)
    url = f"/patients/{world.patient.patient_id}/edit"
    next_week = today + timedelta(days=7)
    assert client.post(url, data=valid_form(world, review_on=str(next_week))).status_code == 302
    assert review_flags(app, world.patient.patient_id) == []
    try:
        limit = today.replace(year=today.year + 2)
    except ValueError:  # 29 February
        limit = date(today.year + 2, 2, 28)
    assert client.post(url, data=valid_form(world, review_on=str(limit))).status_code == 302
    too_far = client.post(url, data=valid_form(world, review_on=str(limit + timedelta(days=1))))
    html = too_far.get_data(as_text=True)
    assert "Choose a review date no more than two years from today" in html
    assert f'value="{limit + timedelta(days=1)}"' in html
    with app.app_context():
        assert db.session.get(Patient, world.patient.patient_id).review_on == limit


def test_review_date_can_be_cleared(app: Flask, client, world: World) -> None:
    """The edit form shows the planned date where the timeline's link lands (#review_on);
    emptying the field removes it."""
    planned = clinic_day(app, world) + timedelta(days=30)
    with app.app_context():
        db.session.get(Patient, world.patient.patient_id).review_on = planned
        db.session.commit()
    act_as(client, world.clinician.id)
    url = f"/patients/{world.patient.patient_id}/edit"
    form = client.get(url).get_data(as_text=True)
    assert 'id="review_on"' in form and f'value="{planned}"' in form
    # The hint is a translated message (markup as written), so its quotes are not escaped.
    assert "A 'review due' flag appears on this day." in form
    response = client.post(url, data=valid_form(world, review_on=""))
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Patient, world.patient.patient_id).review_on is None
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Not planned" in page

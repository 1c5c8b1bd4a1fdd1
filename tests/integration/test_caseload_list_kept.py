"""The caseload list's table is kept rendered under the clinic's caseload version and staff
revision (clinic.patients.views): a visit with nothing changed serves it as kept, and any
committed change to what it shows, made through another app instance with a cache of its
own, shows on the next visit."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import update

from clinic.extensions import db
from clinic.models import Clinic, Patient, PatientStatus, User
from tests.support.auth import act_as
from tests.support.patient_pages import templates_drawn
from tests.support.world import World

LIST = "/patients/"


def _rows(client) -> str:
    """The list's table as served."""
    html = client.get(LIST).get_data(as_text=True)
    return html[html.index("<table") : html.index("</table>")]


def _staff_revision(app: Flask, clinic_id: int) -> int:
    with app.app_context():
        return db.session.get_one(Clinic, clinic_id).staff_revision


def test_a_change_elsewhere_shows_on_the_next_visit(
    app: Flask, make_app, client, world: World
) -> None:
    """A patient renamed and another discharged through another instance appear so on
    the next visit of a list this instance kept, as an instance with an empty cache
    shows them."""
    act_as(client, world.clinician.id)
    before = _rows(client)
    with templates_drawn(app) as drawn:
        assert _rows(client) == before
    assert "patients/index.html" in drawn and "patients/_list.html" not in drawn  # kept
    other = make_app()
    with other.app_context():
        db.session.get_one(Patient, world.patient.patient_id).full_name = "Robin Renamed"
        db.session.get_one(
            Patient, world.other_patient.patient_id
        ).status = PatientStatus.DISCHARGED
        db.session.commit()
    after = _rows(client)
    assert "Robin Renamed" in after and after != before
    fresh = make_app().test_client()
    act_as(fresh, world.clinician.id)
    assert _rows(fresh) == after


def test_a_responsible_clinician_renamed_shows_on_the_next_visit(
    app: Flask, make_app, client, world: World
) -> None:
    """The list names each patient's responsible clinician, which no patient's summary
    is made of: renaming them (through another instance) moves the clinic's staff
    revision by one, and the next visit shows the new name."""
    act_as(client, world.colleague.id)
    assert world.clinician.name in _rows(client)
    revision = _staff_revision(app, world.clinic_a)
    with make_app().app_context():
        db.session.get_one(User, world.clinician.id).full_name = "Dr Alex Newname"
        db.session.commit()
    assert _staff_revision(app, world.clinic_a) == revision + 1
    rows = _rows(client)
    assert "Dr Alex Newname" in rows and world.clinician.name not in rows


def test_a_bulk_rename_moves_the_staff_revision_too(
    app: Flask, make_app, client, world: World
) -> None:
    """Staff renamed by a bulk UPDATE (no object in the session) move their clinic's
    staff revision as an object's rename does, and the list shows the new name."""
    act_as(client, world.colleague.id)
    assert world.clinician.name in _rows(client)
    revision = _staff_revision(app, world.clinic_a)
    with make_app().app_context():
        db.session.execute(
            update(User).where(User.id == world.clinician.id).values(full_name="Dr Bulk Renamed")
        )
        db.session.commit()
    assert _staff_revision(app, world.clinic_a) == revision + 1
    assert "Dr Bulk Renamed" in _rows(client)


def test_only_a_staff_name_moves_the_staff_revision(app: Flask, world: World) -> None:
    """Other changes to an account (its email), a patient's record and a patient's own
    account renamed (the record's change moves the caseload version itself) leave the
    staff revision as it was; a staff rename moves only its own clinic's."""
    revision_a = _staff_revision(app, world.clinic_a)
    revision_b = _staff_revision(app, world.clinic_b)
    with app.app_context():
        db.session.get_one(User, world.clinician.id).email = "alex.new@example.org"
        db.session.get_one(Patient, world.patient.patient_id).full_name = "Sam New"
        db.session.get_one(User, world.patient.id).full_name = "Sam New"
        db.session.commit()
    assert _staff_revision(app, world.clinic_a) == revision_a
    with app.app_context():
        db.session.get_one(User, world.other_clinician.id).full_name = "Dr B Renamed"
        db.session.commit()
    assert _staff_revision(app, world.clinic_a) == revision_a
    assert _staff_revision(app, world.clinic_b) == revision_b + 1


def test_a_status_and_a_page_are_kept_under_their_own_keys(
    app: Flask, client, world: World, monkeypatch
) -> None:
    """The list filtered by status, and each page of it, are tables of their own: none is
    served for another."""
    monkeypatch.setitem(app.config, "PATIENTS_PER_PAGE", 1)
    with app.app_context():
        db.session.get_one(
            Patient, world.other_patient.patient_id
        ).status = PatientStatus.DISCHARGED
        db.session.commit()
    act_as(client, world.clinician.id)
    pages = [
        client.get(LIST, query_string=query).get_data(as_text=True)
        for query in ({}, {"page": 2}, {"status": "discharged"}, {"page": 2})
    ]
    tables = [html[html.index("<table") : html.index("</table>")] for html in pages]
    assert tables[0] != tables[1] and tables[1] == tables[3]
    assert "1 patient matching your search" in tables[2]
    assert world.other_patient.name in tables[2] and world.patient.name not in tables[2]


def test_a_search_is_kept_under_its_own_key(client, world: World) -> None:
    """Two searches on one page are two tables: neither is served for the other."""
    act_as(client, world.clinician.id)
    patient = world.patient.name
    found = client.get(LIST, query_string={"q": patient}).get_data(as_text=True)
    none = client.get(LIST, query_string={"q": "zz-nobody"}).get_data(as_text=True)
    assert patient in found
    assert "No patients match your search." in none and patient not in none.split("<main")[1]

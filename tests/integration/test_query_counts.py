"""List pages send the same number of queries whatever the caseload."""

from __future__ import annotations

from flask import Flask

from clinic.extensions import db
from clinic.models import Clinic, Role
from tests.conftest import World, act_as
from tests.support.factories import make_patient, make_user
from tests.support.queries import count_queries


def add_patients(app: Flask, clinic_id: int, n: int) -> None:
    """n more patients, half with portal logins and responsible clinicians, so every
    column of the list has something to load."""
    with app.app_context():
        clinic = db.session.get(Clinic, clinic_id)
        clinician = make_user(clinic, Role.CLINICIAN)
        for i in range(n):
            make_patient(
                clinic, portal=i % 2 == 0, responsible_clinician=clinician if i % 2 else None
            )
        db.session.commit()


def queries_for(app: Flask, client, url: str) -> int:
    with app.app_context():
        engine = db.engine
    with count_queries(engine) as statements:
        assert client.get(url).status_code == 200
    return len(statements)


def test_patient_list_query_count_is_constant(
    app: Flask, client, world: World, monkeypatch
) -> None:
    """The patient list costs the same number of queries at 5 and at 50 patients, all
    rows on one page."""
    monkeypatch.setitem(app.config, "PATIENTS_PER_PAGE", 100)
    act_as(client, world.clinician.id)
    add_patients(app, world.clinic_a, 2)  # the world has 3: now 5
    at_five = queries_for(app, client, "/patients/")
    add_patients(app, world.clinic_a, 45)
    at_fifty = queries_for(app, client, "/patients/")
    assert at_five == at_fifty
    assert client.get("/patients/").get_data(as_text=True).count("<tr>") == 51  # header + 50
    assert at_fifty <= 4  # the user, the count, the page of rows (+ a savepoint at most)


def test_staff_list_query_count_is_constant(app: Flask, client, world: World) -> None:
    """The staff list costs the same number of queries at any staff size."""
    act_as(client, world.admin.id)
    small = queries_for(app, client, "/admin/staff")
    with app.app_context():
        clinic = db.session.get(Clinic, world.clinic_a)
        for _ in range(30):
            make_user(clinic, Role.CLINICIAN)
        db.session.commit()
    assert queries_for(app, client, "/admin/staff") == small

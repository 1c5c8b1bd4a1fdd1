"""The patient portal shows a patient their own record and nothing else."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from clinic.extensions import db
from clinic.models import Clinic, Patient, Role
from tests.conftest import World, act_as
from tests.support.factories import make_user


def test_patient_sees_their_own_care_team(app: Flask, client, world: World) -> None:
    """The portal greets the patient and shows their clinician and clinic contact."""
    act_as(client, world.patient.id)
    html = client.get("/diary/").get_data(as_text=True)
    assert world.patient.name.split()[0] in html
    assert world.clinician.name in html
    assert "0100 000 000" in html  # the clinic's phone from its settings


def test_two_patients_never_see_each_other(client, world: World) -> None:
    """Each patient's portal shows only their own name."""
    act_as(client, world.other_patient.id)
    html = client.get("/diary/").get_data(as_text=True)
    assert world.other_patient.name.split()[0] in html
    assert world.patient.name not in html


def test_portal_titles_are_discreet(client, world: World) -> None:
    """Nothing in the portal's title or headings names the therapy."""
    act_as(client, world.patient.id)
    html = client.get("/diary/").get_data(as_text=True).lower()
    title = html.split("<title>")[1].split("</title>")[0]
    assert "therapy diary" in title
    for word in ("dilator", "vagin", "pelvic", "anal", "sexual"):
        assert word not in title


def test_login_without_a_record_gets_not_found(app: Flask, client, world: World) -> None:
    """A patient login not linked to any record sees a 404, not someone else's record."""
    with app.app_context():
        clinic = db.session.get(Clinic, world.clinic_a)
        orphan = make_user(clinic, Role.PATIENT)
        db.session.commit()
        orphan_id = orphan.id
        assert db.session.scalar(select(Patient).where(Patient.user_id == orphan_id)) is None
    act_as(client, orphan_id)
    assert client.get("/diary/").status_code == 404

"""The page header: the product's name and mark on every page; the clinic's name beside it
for staff, never for a patient (a clinic's name can say what it treats, "… Pelvic Health",
on a screen others may see)."""

from __future__ import annotations

import pytest
from flask import Flask

from clinic.core.templating import NEUTRAL_BRAND, STAFF_BRAND
from clinic.extensions import db
from clinic.models import Clinic
from tests.support.auth import act_as
from tests.support.world import World


def _header(html: str) -> str:
    return html[html.index("<header") : html.index("</header>")]


@pytest.fixture
def clinic_name(app: Flask, world: World) -> str:
    """Clinic A's name, made to say what the clinic treats."""
    with app.app_context():
        clinic = db.session.get(Clinic, world.clinic_a)
        assert clinic is not None
        clinic.name = "Northgate Pelvic Health"
        db.session.commit()
        return clinic.name


@pytest.mark.parametrize(("who", "page"), [("clinician", "/dashboard/"), ("admin", "/admin/staff")])
def test_staff_see_the_product_and_their_clinic(
    client, world: World, clinic_name: str, who: str, page: str
) -> None:
    """A clinician's and an administrator's header names the workspace and their clinic,
    beside the mark (an image with no text of its own: the names say it)."""
    act_as(client, getattr(world, who).id)
    header = _header(client.get(page).get_data(as_text=True))
    assert STAFF_BRAND in header
    assert clinic_name in header
    assert 'src="/static/icons/logo.svg" alt=""' in header


@pytest.mark.parametrize("page", ["/diary/", "/diary/progress", "/account"])
def test_a_patient_sees_the_neutral_name_only(
    client, world: World, clinic_name: str, page: str
) -> None:
    """A patient's header says "Therapy diary" and nothing of the clinic."""
    act_as(client, world.patient.id)
    header = _header(client.get(page).get_data(as_text=True))
    assert NEUTRAL_BRAND in header
    assert "Pelvic" not in header and STAFF_BRAND not in header


def test_a_visitor_sees_the_neutral_name(client, clinic_name: str) -> None:
    """Signed out (the sign-in page), the header names no clinic."""
    header = _header(client.get("/login").get_data(as_text=True))
    assert NEUTRAL_BRAND in header and "Pelvic" not in header

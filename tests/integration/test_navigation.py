"""The main navigation each kind of account sees, from the one list per role."""

from __future__ import annotations

import re

import pytest
from flask import Flask, url_for

from clinic.core.navigation import NAVIGATION
from clinic.models import Role
from tests.support.auth import act_as
from tests.support.world import World


def _nav(html: str) -> list[tuple[str, str, bool]]:
    """The main navigation's links after the brand: (label, href, marked current)."""
    nav = html[html.index('<nav aria-label="Main">') : html.index("</nav>")]
    links = re.findall(r'<li><a href="([^"]+)" ?(aria-current="page")?>([^<]+)</a></li>', nav)
    return [(label, href, bool(current)) for href, current, label in links]


@pytest.mark.parametrize(
    ("who", "role", "page", "current"),
    [
        ("clinician", Role.CLINICIAN, "/dashboard/", "Today"),
        ("clinician", Role.CLINICIAN, "/templates/", "Templates"),
        ("admin", Role.ADMIN, "/admin/clinic", "Clinic"),
        ("patient", Role.PATIENT, "/diary/progress", "Progress"),
        ("patient", Role.PATIENT, "/account", "Your account"),
    ],
)
def test_each_role_sees_its_list_with_the_current_section_marked(
    app: Flask, client, world: World, who: str, role: Role, page: str, current: str
) -> None:
    """The links are the role's list in order, pointing where the list says, and exactly
    the section of the page shown is marked as current."""
    act_as(client, getattr(world, who).id)
    response = client.get(page)
    assert response.status_code == 200
    shown = _nav(response.get_data(as_text=True))
    with app.test_request_context():
        expected = [(e.label, url_for(e.endpoint)) for e in NAVIGATION[role]]
    assert [(label, href) for label, href, _ in shown] == expected
    assert [label for label, _, marked in shown if marked] == [current]


def test_a_patients_pages_sit_under_patients(client, world: World) -> None:
    """A patient's record, protocol and timeline pages mark "Patients" as current."""
    act_as(client, world.clinician.id)
    for page in (
        f"/patients/{world.patient.patient_id}",
        f"/patients/{world.patient.patient_id}/timeline",
    ):
        shown = _nav(client.get(page).get_data(as_text=True))
        assert [label for label, _, marked in shown if marked] == ["Patients"], page


def test_todays_steps_sit_under_today(client, world: World, on_protocol: int) -> None:
    """The session guide, the log and skip forms mark "Today" as current: they are its
    steps, and a patient on them should see where they came from."""
    act_as(client, world.patient.id)
    for page in ("/diary/session", "/diary/log", "/diary/skip"):
        response = client.get(page)
        assert response.status_code == 200, page
        shown = _nav(response.get_data(as_text=True))
        assert [label for label, _, marked in shown if marked] == ["Today"], page

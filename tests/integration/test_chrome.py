"""The layout's header, footer and head links are rendered once per kind of page and reader
and kept (clinic.core.chrome): what is kept must be what a fresh render gives, change as
soon as anything it shows changes, and carry each request's own CSRF token."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from clinic.core.chrome import site_chrome
from clinic.extensions import db
from clinic.models import Clinic, User
from tests.support.auth import act_as
from tests.support.client import csrf_token_in
from tests.support.world import World

PARTS = {
    "links": re.compile(r'<link rel="icon".*?(?=\n\s*</head>)', re.S),
    "header": re.compile(r'<header class="site-header">.*?</header>', re.S),
    "footer": re.compile(r'<footer class="container site-footer">.*?</footer>', re.S),
}


def _parts(html: str) -> dict[str, str]:
    """The page's chrome, each part as shown, its CSRF token blanked."""
    found = {}
    for name, pattern in PARTS.items():
        match = pattern.search(html)
        assert match, f"the page has no {name}"
        found[name] = re.sub(r'(name="csrf_token" value=")[^"]+', r"\1…", match.group(0))
    return found


def _forget_kept(app: Flask) -> None:
    app.extensions.pop("clinic.chrome", None)


@pytest.mark.parametrize(
    ("who", "page"),
    [
        (None, "/login"),
        (None, "/about"),
        ("clinician", "/dashboard/"),
        ("clinician", "/patients/"),
        ("clinician", "/about"),
        ("admin", "/admin/clinic"),
        ("patient", "/diary/"),
        ("patient", "/diary/progress"),
        ("patient", "/about"),
    ],
)
def test_the_kept_chrome_is_what_a_fresh_render_gives(
    app: Flask, client, world: World, who: str | None, page: str
) -> None:
    """A page served from kept parts shows exactly the parts a fresh render shows, for
    each kind of reader (signed out, staff, patient) and page."""
    if who is not None:
        act_as(client, getattr(world, who).id)
    _forget_kept(app)
    fresh = client.get(page)
    assert fresh.status_code == 200
    kept = client.get(page)
    assert app.extensions["clinic.chrome"], "nothing was kept"
    assert _parts(kept.get_data(as_text=True)) == _parts(fresh.get_data(as_text=True))


def test_a_renamed_clinic_and_clinician_show_on_the_next_page(
    app: Flask, client, world: World
) -> None:
    """The header's clinic name and the footer's "Signed in as" are the current ones on
    the very next page after a rename, though the old parts were kept."""
    act_as(client, world.clinician.id)
    before = client.get("/dashboard/").get_data(as_text=True)
    assert "Clinic A" in _parts(before)["header"]
    assert world.clinician.name in _parts(before)["footer"]
    with app.app_context():
        db.session.get(Clinic, world.clinic_a).name = "Riverside Pelvic Health"
        db.session.get(User, world.clinician.id).full_name = "Alex Renamed"
        db.session.commit()
    after = _parts(client.get("/dashboard/").get_data(as_text=True))
    assert "Riverside Pelvic Health" in after["header"] and "Clinic A" not in after["header"]
    assert "Signed in as Alex Renamed" in after["footer"]


def test_the_current_page_is_marked_whatever_was_kept_for_another(client, world: World) -> None:
    """The navigation's current entry follows the page: a header kept for one page is not
    shown on another."""
    act_as(client, world.clinician.id)
    client.get("/dashboard/")
    header = _parts(client.get("/patients/").get_data(as_text=True))["header"]
    assert re.search(r'aria-current="page">Patients<', header)
    assert not re.search(r'aria-current="page">Today<', header)


def test_each_session_signs_out_with_its_own_token(app: Flask, world: World) -> None:
    """Two people whose headers are the same kept part (same role, clinic and name) each
    get their own session's CSRF token in the sign-out form, and signing out with it
    works; the other's token is refused."""
    with app.app_context():
        twin = db.session.get(User, world.colleague.id)
        twin.full_name = world.clinician.name
        db.session.commit()
    first, second = app.test_client(), app.test_client()
    act_as(first, world.clinician.id)
    act_as(second, world.colleague.id)
    first_page = first.get("/dashboard/").get_data(as_text=True)
    second_page = second.get("/dashboard/").get_data(as_text=True)
    assert _parts(first_page) == _parts(second_page)  # one kept header for both
    mine, theirs = csrf_token_in(first_page), csrf_token_in(second_page)
    assert mine != theirs
    refused = second.post("/logout", data={"csrf_token": mine})
    assert refused.status_code == 400
    assert second.get("/dashboard/").status_code == 200  # still signed in
    assert second.post("/logout", data={"csrf_token": theirs}).status_code in (302, 303)
    assert second.get("/dashboard/").status_code in (302, 303)  # signed out


def test_the_language_is_part_of_the_key(app: Flask, client, world: World) -> None:
    """A part kept in one language is never shown to a reader of another."""
    act_as(client, world.clinician.id)
    english = _parts(client.get("/about").get_data(as_text=True))["footer"]
    with app.test_request_context("/about", headers={"Accept-Language": "es"}):
        from flask_babel import force_locale

        with force_locale("es"):
            spanish = str(site_chrome("footer"))
    assert "About this software" in english
    assert "About this software" not in spanish

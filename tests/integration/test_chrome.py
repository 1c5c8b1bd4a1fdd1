"""The layout's header, footer and head links are rendered once per kind of page and reader
and kept (clinic.core.chrome): what is kept must be what a fresh render gives, change as
soon as anything it shows changes, and carry each request's own CSRF token."""

from __future__ import annotations

import re

from flask import Flask

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


# Readers (None: signed out) and the pages each visits.
VISITS = [
    (None, "/login"),
    (None, "/about"),
    ("clinician", "/dashboard/"),
    ("clinician", "/patients/"),
    ("clinician", "/about"),
    ("colleague", "/dashboard/"),
    ("admin", "/admin/clinic"),
    ("admin", "/about"),
    ("other_clinician", "/dashboard/"),
    ("patient", "/diary/"),
    ("patient", "/diary/progress"),
    ("patient", "/about"),
    ("other_patient", "/diary/"),
]


def test_the_kept_chrome_is_what_a_fresh_render_gives(app: Flask, world: World) -> None:
    """Each reader's page, served after every other reader's pages were (their parts
    kept), shows exactly the parts a fresh render gives it: signed out, staff of two
    clinics and roles, patients; a key missing anything a part shows would hand one
    reader another's part."""
    clients = {}
    for who in {who for who, _ in VISITS}:
        clients[who] = app.test_client()
        if who is not None:
            act_as(clients[who], getattr(world, who).id)
    for who, page in VISITS:
        _forget_kept(app)
        for other, other_page in VISITS:
            if (other, other_page) != (who, page):
                assert clients[other].get(other_page).status_code == 200
        served = clients[who].get(page)
        assert served.status_code == 200
        _forget_kept(app)
        fresh = clients[who].get(page)
        assert _parts(served.get_data(as_text=True)) == _parts(fresh.get_data(as_text=True)), (
            who,
            page,
        )


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
    """Two clinicians of one clinic share one kept header (the second visit keeps only
    their own footer), yet each gets their own session's CSRF token in the sign-out
    form: signing out with it works, and the other's token is refused."""
    first, second = app.test_client(), app.test_client()
    act_as(first, world.clinician.id)
    act_as(second, world.colleague.id)
    _forget_kept(app)
    first_page = first.get("/dashboard/").get_data(as_text=True)
    kept_before = len(app.extensions["clinic.chrome"])
    second_page = second.get("/dashboard/").get_data(as_text=True)
    assert len(app.extensions["clinic.chrome"]) == kept_before + 1  # the footer only
    assert _parts(first_page)["header"] == _parts(second_page)["header"]
    mine, theirs = csrf_token_in(first_page), csrf_token_in(second_page)
    assert mine != theirs
    refused = second.post("/logout", data={"csrf_token": mine})
    assert refused.status_code == 400
    assert second.get("/dashboard/").status_code == 200  # still signed in
    assert second.post("/logout", data={"csrf_token": theirs}).status_code in (302, 303)
    assert second.get("/dashboard/").status_code in (302, 303)  # signed out


def test_a_name_holding_the_mark_never_shows_the_token(app: Flask, client, world: World) -> None:
    """A clinic named with what looks like the token's mark shows that name as typed:
    the request's token goes only into the sign-out form."""
    with app.app_context():
        db.session.get(Clinic, world.clinic_a).name = "Acme <clinic-csrf-token> Health"
        db.session.commit()
    act_as(client, world.clinician.id)
    html = client.get("/dashboard/").get_data(as_text=True)
    token = csrf_token_in(html)
    assert "Acme &lt;clinic-csrf-token&gt; Health" in _parts(html)["header"]
    assert html.count(token) == 1


def test_the_language_is_part_of_the_key(client) -> None:
    """A part kept in one language is never shown to a reader of another: the same page,
    signed out, in English and then in Spanish."""
    english = client.get("/about", headers={"Accept-Language": "en"}).get_data(as_text=True)
    spanish = client.get("/about", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert 'lang="es' in spanish
    assert "About this software" in _parts(english)["footer"]
    assert "About this software" not in _parts(spanish)["footer"]

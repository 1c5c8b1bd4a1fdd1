"""The protocol page's body is kept rendered under the patient's summary version and the
clinic's staff revision (clinic.protocols.views): a view with nothing changed serves it as
kept, any committed change to what it shows (made through another app instance with a
cache of its own) shows on the next view, and it is kept under the fingerprint of the open
protocol's rows, read on every view, so a change made behind the app's back (which moves
no version) is drawn and checked at once."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy import update

from clinic.catalogue.services import remove_size
from clinic.core.clock import clinic_today
from clinic.domain.protocols import EventKind
from clinic.extensions import db
from clinic.models import Protocol, ProtocolStage, User
from tests.support.auth import act_as
from tests.support.patient_pages import templates_drawn
from tests.support.protocols import ZONE, decide_today, start_plan
from tests.support.world import World

FINGERPRINTS_MATCH = "The history matches its recorded fingerprints."
FINGERPRINTS_BROKEN = "the history does not match its fingerprints"


def _page(client, world: World, query: str = "") -> str:
    """The protocol page's body as served (below the patient's header)."""
    html = client.get(f"/patients/{world.patient.patient_id}/protocol/{query}").get_data(
        as_text=True
    )
    return html[html.index('<div class="page-head">') : html.index("</main>")]


def test_a_view_with_nothing_changed_serves_the_kept_body(app: Flask, client, world: World) -> None:
    """The second view serves the body without drawing it again, byte for byte as the
    first; the page around it (the patient's header) is drawn on every view."""
    start_plan(app, world.patient.patient_id, world.clinician.id)
    act_as(client, world.clinician.id)
    first = _page(client, world)
    with templates_drawn(app) as drawn:
        assert _page(client, world) == first
    assert "protocols/show.html" in drawn and "protocols/_detail.html" not in drawn


def test_a_decision_recorded_elsewhere_shows_on_the_next_view(
    app: Flask, make_app, client, world: World
) -> None:
    """A stage decision committed through another instance shows on the next view of a
    body this instance kept, as an instance with an empty cache shows it."""
    protocol_id = start_plan(app, world.patient.patient_id, world.clinician.id)
    act_as(client, world.clinician.id)
    before = _page(client, world)
    assert "Stage 1 of" in before
    decide_today(
        make_app(), protocol_id, EventKind.ADVANCE, world.clinician.id, "Comfortable for two weeks"
    )
    after = _page(client, world)
    assert "Stage 2 of" in after and "Comfortable for two weeks" in after
    fresh = make_app().test_client()
    act_as(fresh, world.clinician.id)
    assert _page(fresh, world) == after


def test_a_colleague_renamed_shows_in_the_history(
    app: Flask, make_app, client, world: World
) -> None:
    """The history names who recorded each change, which no summary is made of: renaming
    them (through another instance) shows on the next view."""
    start_plan(app, world.patient.patient_id, world.clinician.id)
    act_as(client, world.colleague.id)
    assert world.clinician.name in _page(client, world)
    with make_app().app_context():
        db.session.get_one(User, world.clinician.id).full_name = "Dr Alex Newname"
        db.session.commit()
    page = _page(client, world)
    assert "Dr Alex Newname" in page and world.clinician.name not in page


def test_a_change_behind_the_apps_back_shows_at_once(app: Flask, client, world: World) -> None:
    """A prescription edited in the database directly (a table-level UPDATE, which the
    session's upkeep does not see, so no version moves) is caught by the fingerprints on
    the very next view: the page warns and shows the rows as they are now, not the kept
    body."""
    start_plan(app, world.patient.patient_id, world.clinician.id)
    act_as(client, world.clinician.id)
    kept = _page(client, world)
    assert FINGERPRINTS_MATCH in kept and "<td>59</td>" not in kept
    with app.app_context():
        db.session.execute(update(ProtocolStage.__table__).values(minutes=59))
        db.session.commit()
    tampered = _page(client, world)
    assert FINGERPRINTS_BROKEN in tampered and "<td>59</td>" in tampered
    # Drawn afresh on every view while the check fails.
    with templates_drawn(app) as drawn:
        assert FINGERPRINTS_BROKEN in _page(client, world)
    assert "protocols/_detail.html" in drawn


def test_the_day_asked_about_is_kept_under_its_own_key(app: Flask, client, world: World) -> None:
    """ "What was prescribed on a given day?" answers each day asked for, never another
    day's kept answer."""
    start_plan(app, world.patient.patient_id, world.clinician.id, started_days_ago=20)
    act_as(client, world.clinician.id)
    today = clinic_today(ZONE)
    before_start = (today - timedelta(days=40)).isoformat()
    during = (today - timedelta(days=5)).isoformat()
    assert "had not started" in _page(client, world, f"?on={before_start}")
    answer = _page(client, world, f"?on={during}")
    assert "had not started" not in answer and "plan version 1, stage 1" in answer
    assert "had not started" in _page(client, world, f"?on={before_start}")


def test_a_past_protocol_is_drawn_on_every_view(app: Flask, make_app, client, world: World) -> None:
    """A closed protocol's page is not kept: it names sizes whose relabelling moves no
    version once the protocol is closed."""
    protocol_id = start_plan(app, world.patient.patient_id, world.clinician.id)
    decide_today(app, protocol_id, EventKind.COMPLETE, world.clinician.id, "Goals met")
    act_as(client, world.clinician.id)
    url = f"/patients/{world.patient.patient_id}/protocol/{protocol_id}"
    assert client.get(url).status_code == 200
    with templates_drawn(app) as drawn:
        assert client.get(url).status_code == 200
    assert "protocols/_detail.html" in drawn


def test_a_size_retired_in_the_open_plan_shows_on_the_next_view(
    app: Flask, make_app, client, world: World
) -> None:
    """The plan marks a retired size: retiring one the plan uses (through another
    instance) moves the patient's summary version, so the next view says so."""
    protocol_id = start_plan(app, world.patient.patient_id, world.clinician.id)
    act_as(client, world.clinician.id)
    assert "(retired size)" not in _page(client, world)
    with make_app().app_context():
        protocol = db.session.get_one(Protocol, protocol_id)
        remove_size(protocol.versions[-1].stages[0].dilator_size)  # in use: retired
        db.session.commit()
    assert "(retired size)" in _page(client, world)

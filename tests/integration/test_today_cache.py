"""The portal's Today is kept rendered under the patient's summary version
(clinic.portal.today): a second visit with nothing changed reads neither the plan nor the
diary, and any committed change it is made of (the care team's names and the clinic's
details included), made through another app instance with a cache of its own, shows at
the next visit exactly as an instance with an empty cache shows it."""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy import select

from clinic.core.clock import clinic_today
from clinic.extensions import db
from clinic.models import Clinic, MeasureAssignment, User
from clinic.monitoring.kept import store
from tests.support.diaries import add_entries
from tests.support.measures import (
    OWN_PAIN_TITLE,
    answer_measure,
    assign,
    import_own_pain_scale,
)
from tests.support.patient_pages import load
from tests.support.protocols import ZONE, pause_today
from tests.support.queries import count_queries
from tests.support.world import World

TODAY = "/diary/"
SESSIONS = re.compile(r'<article aria-labelledby="today-heading">.*?</article>', re.S)


def sessions(html: str) -> str:
    """The page's "Your sessions" article as served."""
    found = SESSIONS.search(html)
    assert found, "no sessions article on the page"
    return found.group(0)


def fresh(make_app, world: World) -> str:
    """Today's sessions article as an instance with an empty cache renders it."""
    return sessions(load(make_app(), world.patient.id, TODAY)[0])


def test_today_is_kept_until_what_it_shows_changes(
    app: Flask, make_app, world: World, on_protocol: int
) -> None:
    """Unchanged, the second visit sends three statements (the session; the record with
    its summary's version and the instruments' revision; the audit row) and serves the
    same article; a session logged today through another instance moves the counts at
    the next visit."""
    add_entries(app, on_protocol, world.patient, [1, 2])
    first, drawn = load(app, world.patient.id, TODAY)
    again, kept = load(app, world.patient.id, TODAY)
    assert kept == 3 < drawn
    assert sessions(again) == sessions(first)

    add_entries(make_app(), on_protocol, world.patient, [0])
    after, sent = load(app, world.patient.id, TODAY)
    assert sent == drawn
    assert sessions(after) == fresh(make_app, world) != sessions(first)


def test_today_follows_a_decision_made_elsewhere(
    app: Flask, make_app, world: World, on_protocol: int
) -> None:
    """The clinician pauses the plan through another instance: the patient's next visit
    says so."""
    before = sessions(load(app, world.patient.id, TODAY)[0])
    assert "paused" not in before
    pause_today(make_app(), on_protocol, world.clinician.id)
    after = sessions(load(app, world.patient.id, TODAY)[0])
    assert "Your plan is paused" in after
    assert after == fresh(make_app, world)


def test_today_follows_the_clinic_phone(
    app: Flask, make_app, world: World, on_protocol: int
) -> None:
    """The clinic's phone number, shown in the article after a report but not part of any
    summary, is in the key: a number changed elsewhere is never served stale."""
    load(app, world.patient.id, TODAY)
    with app.app_context():
        key_before = _keys(app)
    other = make_app()
    with other.app_context():
        clinic = db.session.get(Clinic, world.clinic_a)
        assert clinic is not None
        clinic.phone = "0100 000 9999"
        db.session.commit()
    load(app, world.patient.id, TODAY)
    with app.app_context():
        assert _keys(app) - key_before, "a new key was not made for the new number"


CARE_TEAM = re.compile(r"<h2>Your care team</h2>.*?</article>", re.S)


def care_team(html: str) -> str:
    """Today's "Your care team" article as served."""
    found = CARE_TEAM.search(html)
    assert found, "no care team on the page"
    return found.group(0)


def test_today_follows_the_care_team_changed_elsewhere(
    app: Flask, make_app, world: World, on_protocol: int
) -> None:
    """The care team names the responsible clinician and the clinic's name, email and
    address, which no summary is made of: a clinician renamed, and the clinic's details
    changed, through another instance, show at the next visit of a page this instance
    kept, as an instance with an empty cache shows them."""
    before = care_team(load(app, world.patient.id, TODAY)[0])
    assert world.clinician.name in before
    with make_app().app_context():
        db.session.get_one(User, world.clinician.id).full_name = "Dr Alex Newname"
        db.session.commit()
    renamed = care_team(load(app, world.patient.id, TODAY)[0])
    assert "Dr Alex Newname" in renamed and world.clinician.name not in renamed
    with make_app().app_context():
        clinic = db.session.get_one(Clinic, world.clinic_a)
        clinic.name, clinic.email = "Riverside Pelvic Health", "desk@riverside.example"
        clinic.address = "2 River Street"
        db.session.commit()
    moved = care_team(load(app, world.patient.id, TODAY)[0])
    for shown in ("Riverside Pelvic Health", "desk@riverside.example", "2 River Street"):
        assert shown in moved
    assert moved == care_team(load(make_app(), world.patient.id, TODAY)[0])


def _keys(app: Flask) -> set[str]:
    """The Today keys in `app`'s store of kept parts (in this process)."""
    with app.app_context():
        parts = store()
    return {key for key in parts._cache if key.startswith("today:")}


QUESTIONNAIRES = re.compile(r'<section class="callout questionnaires".*?</section>', re.S)


def waiting_of(app: Flask, world: World) -> tuple[str, list[str]]:
    """Today's "questionnaires ready" section as served ("" when there is none), and the
    statements the visit sent."""
    with app.app_context():
        engine = db.engine
    with count_queries(engine) as statements:
        html = load(app, world.patient.id, TODAY)[0]
    found = QUESTIONNAIRES.search(html)
    return (found.group(0) if found else ""), statements


def test_questionnaires_waiting_are_kept_and_follow_changes_made_elsewhere(
    app: Flask, make_app, world: World, on_protocol: int
) -> None:
    """The questionnaires ready today are kept with the rest of Today: a second visit reads
    no assignments. A questionnaire assigned, the clinic's own version of an instrument
    imported (instruments are no summary's input: their revision is in the key) and a
    questionnaire answered, each committed through another instance: after each, the
    section is the one an instance with an empty cache shows, and differs from before."""
    assign(app, world.patient.patient_id, "pain-nrs")
    first, _ = waiting_of(app, world)
    assert "Pain" in first
    again, statements = waiting_of(app, world)
    assert again == first
    assert not [s for s in statements if "FROM measure_assignments" in s]

    def assigned(elsewhere: Flask) -> None:
        assign(elsewhere, world.patient.patient_id, "dilator-confidence")

    def imported(elsewhere: Flask) -> None:
        import_own_pain_scale(elsewhere, world.clinic_a)

    def answered(elsewhere: Flask) -> None:
        with elsewhere.app_context():
            row = db.session.scalars(
                select(MeasureAssignment).where(
                    MeasureAssignment.patient_id == world.patient.patient_id,
                    MeasureAssignment.instrument_key == "dilator-confidence",
                )
            ).one()
            assignment_id = row.id
        answer_measure(
            elsewhere, assignment_id, "once", {"insert": 2, "on_own": 3}, on=clinic_today(ZONE)
        )

    for made in (assigned, imported, answered):
        before, _ = waiting_of(app, world)
        made(make_app())
        after, _ = waiting_of(app, world)
        assert after == waiting_of(make_app(), world)[0]
        assert after != before, made
    assert OWN_PAIN_TITLE in after

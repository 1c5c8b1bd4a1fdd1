"""The timeline's assessment and entries kept under the patient's summary version
(clinic.timeline.digest): a second visit with nothing changed neither reads the diary nor
assesses it again, and any committed change, made through another app instance with
caches of its own, shows at once, exactly as an instance with empty caches shows it."""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy import select, update

from clinic.extensions import db
from clinic.models import Clinic, ClinicInstrument, DiaryEntry
from clinic.models.types import utcnow
from tests.support.diaries import add_entries, refresh, report_red_flag
from tests.support.measure_scores import answer_measure, assign_measure, weekly_pain_scores
from tests.support.measures import OWN_PAIN_TITLE, import_own_pain_scale
from tests.support.patient_pages import advance_today, load
from tests.support.protocols import start_plan
from tests.support.queries import count_queries
from tests.support.world import World

# What the digest gives the page: the suggestion, the entries' table, the skips.
KEPT = re.compile(
    r'<section aria-labelledby="(?:suggestion|entries)-heading".*?</section>'
    r"|<h3>Why sessions were skipped</h3>.*?</section>",
    re.S,
)


def kept_parts(html: str) -> list[str]:
    """The parts of the timeline the digest makes, as served."""
    found = KEPT.findall(html)
    assert len(found) == 3, "the suggestion, the entries or the skips are missing"
    return found


def test_second_visit_reads_no_diary(app: Flask, world: World) -> None:
    """With nothing changed, the second visit serves the same suggestion, entries and
    skips with six statements fewer: the period's entries and their red flags, the
    rules' quarter of sessions, last entry and open red flags, and the outcome measures'
    answers are not read again."""
    protocol = start_plan(app, world.patient.patient_id, world.clinician.id, started_days_ago=40)
    add_entries(app, protocol, world.patient, range(1, 30, 3))
    add_entries(app, protocol, world.patient, [2], skipped=True)
    url = f"/patients/{world.patient.patient_id}/timeline"
    first, drawn = load(app, world.clinician.id, url)
    again, kept = load(app, world.clinician.id, url)
    assert again == first or kept_parts(again) == kept_parts(first)
    assert kept == drawn - 6


def test_changes_made_elsewhere_show_at_once(app: Flask, make_app, world: World) -> None:
    """A red flag reported, a decision recorded, an entry's note corrected and the
    clinic's time zone changed, each committed through another instance: after each, the
    suggestion, entries and skips are those an instance with empty caches shows, and
    differ from what was shown before."""
    protocol = start_plan(app, world.patient.patient_id, world.clinician.id, started_days_ago=40)
    add_entries(app, protocol, world.patient, range(1, 30, 2))
    url = f"/patients/{world.patient.patient_id}/timeline"
    other = make_app()

    def note_corrected(elsewhere: Flask) -> None:
        with elsewhere.app_context():
            entry = db.session.scalar(
                select(DiaryEntry.id).where(DiaryEntry.protocol_id == protocol).limit(1)
            )
            db.session.execute(
                update(DiaryEntry).where(DiaryEntry.id == entry).values(note="Corrected later")
            )
            db.session.commit()

    def rules_changed(elsewhere: Flask) -> None:
        with elsewhere.app_context():
            clinic = db.session.get(Clinic, world.clinic_a)
            # The entries' times are shown in the clinic's zone: 12:00 UTC moves by hours.
            clinic.timezone = "America/New_York"
            db.session.commit()

    changes = [
        lambda elsewhere: report_red_flag(elsewhere, world.patient, protocol),
        lambda elsewhere: advance_today(elsewhere, protocol, world),
        note_corrected,
        rules_changed,
    ]
    for change in changes:
        before = kept_parts(load(app, world.clinician.id, url)[0])
        assert kept_parts(load(app, world.clinician.id, url)[0]) == before
        change(other)
        after = kept_parts(load(app, world.clinician.id, url)[0])
        fresh = kept_parts(load(make_app(), world.clinician.id, url)[0])
        assert after == fresh
        assert after != before, change


MEASURES = re.compile(r'<section aria-labelledby="measures-heading".*?</section>', re.S)


def measures_of(app: Flask, person_id: int, url: str) -> tuple[str, list[str]]:
    """The timeline's outcome-measures section as served, and the statements sent."""
    with app.app_context():
        engine = db.engine
    with count_queries(engine) as statements:
        html = load(app, person_id, url)[0]
    found = MEASURES.search(html)
    assert found is not None, "no outcome-measures section"
    return found.group(0), statements


def test_outcome_measures_are_kept_and_changes_made_elsewhere_show_at_once(
    app: Flask, make_app, world: World
) -> None:
    """The outcome measures (words, tables, charts) are made once: a second visit reads no
    answers. Then an answer submitted, the clinic's new version of the instrument imported
    (no summary is made of instruments: their own revision is in the key) and retired, each
    committed through another instance: after each, the section is the one an instance
    with empty caches shows, and differs from what was shown before."""
    patient = world.patient.patient_id
    start_plan(app, patient, world.clinician.id, started_days_ago=40)
    weekly_pain_scores(app, patient, weeks=3, started_days_ago=40)
    change = assign_measure(app, patient, "pgic", on_days_ago=2)
    refresh(app, world.clinic_a)
    url = f"/patients/{patient}/timeline"
    other = make_app()
    first, _ = measures_of(app, world.clinician.id, url)
    again, statements = measures_of(app, world.clinician.id, url)
    assert again == first
    assert not [s for s in statements if "FROM measure_responses" in s]

    def answered(elsewhere: Flask) -> None:
        answer_measure(elsewhere, change, "once", {"change": 2}, occasion_days_ago=2)

    def imported(elsewhere: Flask) -> None:
        import_own_pain_scale(elsewhere, world.clinic_a)

    def retired(elsewhere: Flask) -> None:
        with elsewhere.app_context():
            row = db.session.scalars(
                select(ClinicInstrument).where(ClinicInstrument.clinic_id == world.clinic_a)
            ).one()
            row.retired_at = utcnow()
            db.session.commit()

    for made in (answered, imported, retired):
        before, _ = measures_of(app, world.clinician.id, url)
        made(other)
        after, _ = measures_of(app, world.clinician.id, url)
        assert after == measures_of(make_app(), world.clinician.id, url)[0]
        assert after != before, made
    assert OWN_PAIN_TITLE not in after

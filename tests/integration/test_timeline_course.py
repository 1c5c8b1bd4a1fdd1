"""The timeline's course of care kept under the patient's summary version
(clinic.timeline.course): a second visit with nothing changed neither loads the protocol
nor reads the diary nor assesses it again, and any committed change, made through another
app instance with caches of its own, shows at once, exactly as an instance with empty
caches shows it."""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy import select, update

from clinic.catalogue.services import SizeDetails, add_size, update_size
from clinic.domain.protocols import EventKind
from clinic.extensions import db
from clinic.models import (
    Clinic,
    ClinicInstrument,
    DiaryEntry,
    DilatorSize,
    Protocol,
    RedFlag,
    ReminderPlan,
    User,
)
from clinic.models.types import utcnow
from clinic.monitoring.services import acknowledge
from tests.support.auth import act_as
from tests.support.diaries import add_entries, refresh, report_red_flag
from tests.support.factories import make_patient
from tests.support.html import forms_in
from tests.support.measure_scores import answer_measure, assign_measure, weekly_pain_scores
from tests.support.measures import OWN_PAIN_TITLE, import_own_pain_scale
from tests.support.patient_pages import advance_today, load, templates_drawn
from tests.support.protocols import start_plan
from tests.support.queries import count_queries
from tests.support.world import World

# What the kept course gives the page: the flags, the suggestion, the entries' table, the
# skips.
KEPT = re.compile(
    r'<section aria-labelledby="(?:flags|suggestion|entries)-heading".*?</section>'
    r"|<h3>Why sessions were skipped</h3>.*?</section>",
    re.S,
)
# Each reader's forms carry their own session's token.
TOKEN = re.compile(r'(name="[\w-]*csrf_token"[^>]*value=")[^"]+')


def kept_parts(html: str) -> list[str]:
    """The parts of the timeline's kept course, as served (CSRF tokens blanked)."""
    found = [TOKEN.sub(r"\1", part) for part in KEPT.findall(html)]
    assert len(found) == 4, "the flags, the suggestion, the entries or the skips are missing"
    return found


def test_second_visit_reads_no_diary(app: Flask, world: World) -> None:
    """With nothing changed, the second visit serves the same flags, suggestion, entries
    and skips with ten statements fewer: the flags, the open protocol with its versions
    and events, the period's entries and their red flags, the rules' quarter of sessions,
    their facts (last entry and open red flags, one statement), and the outcome measures'
    answers are not read again."""
    protocol = start_plan(app, world.patient.patient_id, world.clinician.id, started_days_ago=40)
    add_entries(app, protocol, world.patient, range(1, 30, 3))
    add_entries(app, protocol, world.patient, [2], skipped=True)
    url = f"/patients/{world.patient.patient_id}/timeline"
    first, drawn = load(app, world.clinician.id, url)
    again, kept = load(app, world.clinician.id, url)
    assert again == first or kept_parts(again) == kept_parts(first)
    assert kept == drawn - 10


def test_changes_made_elsewhere_show_at_once(app: Flask, make_app, world: World) -> None:
    """A red flag reported and then acknowledged, a decision recorded, an entry's note
    corrected and the clinic's time zone changed, each committed through another
    instance: after each, the flags, suggestion, entries and skips are those an instance
    with empty caches shows, and differ from what was shown before."""
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

    def flag_acknowledged(elsewhere: Flask) -> None:
        with elsewhere.app_context():
            flag = db.session.scalars(select(RedFlag)).one()
            acknowledge(flag, db.session.get_one(User, world.colleague.id), "Phoned; settled.")
            db.session.commit()

    changes = [
        lambda elsewhere: report_red_flag(elsewhere, world.patient, protocol),
        flag_acknowledged,
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


def test_each_reader_acknowledges_with_their_own_token(app: Flask, world: World) -> None:
    """The flags' forms are kept with the course, but each reader's page carries their
    own session's CSRF token: a colleague served the course the clinician's visit drew
    acknowledges the flag from it."""
    protocol = start_plan(app, world.patient.patient_id, world.clinician.id)
    report_red_flag(app, world.patient, protocol)
    url = f"/patients/{world.patient.patient_id}/timeline"
    first = app.test_client()
    act_as(first, world.clinician.id)
    assert "Acknowledge" in first.get(url).get_data(as_text=True)
    colleague = app.test_client()
    act_as(colleague, world.colleague.id)
    with templates_drawn(app) as drawn:
        page = colleague.get(url).get_data(as_text=True)
    assert "timeline/_course.html" not in drawn  # served as kept
    form = next(f for f in forms_in(page) if "/acknowledge" in f.action)
    values = dict(form.values) | {n: "Phoned; settled." for n in form.names if n.endswith("note")}
    answer = colleague.post(form.action, data=values)
    assert answer.status_code == 302, answer.get_data(as_text=True)
    with app.app_context():
        flag = db.session.scalars(select(RedFlag)).one()
        assert flag.acknowledged_by_id == world.colleague.id


def test_a_refused_note_is_shown_once_and_never_kept(app: Flask, world: World) -> None:
    """An acknowledgement sent without a note comes back with the message and the form as
    sent; the next visit shows the flag's form afresh, without the message."""
    protocol = start_plan(app, world.patient.patient_id, world.clinician.id)
    report_red_flag(app, world.patient, protocol)
    url = f"/patients/{world.patient.patient_id}/timeline"
    client = app.test_client()
    act_as(client, world.clinician.id)
    form = next(
        f for f in forms_in(client.get(url).get_data(as_text=True)) if "/acknowledge" in f.action
    )
    # The form posts to its own card: a browser shows the refused note's message there.
    assert "/acknowledge#flag-session-" in form.action
    refused = client.post(form.action, data=dict(form.values))
    assert refused.status_code == 400
    message = "Write a short note on what you did"
    assert message in refused.get_data(as_text=True)
    again = client.get(url).get_data(as_text=True)
    assert message not in again and "Acknowledge" in again


def test_reminders_switched_elsewhere_show_while_the_course_is_kept(
    app: Flask, make_app, world: World
) -> None:
    """The reminders' state is no part of the summary: switched on through another
    instance, it shows on the next visit, while the rest of the course is served as
    kept."""
    start_plan(app, world.patient.patient_id, world.clinician.id)
    url = f"/patients/{world.patient.patient_id}/timeline"
    before, _ = load(app, world.clinician.id, url)
    assert "<dt>Reminders</dt><dd>Off</dd>" in before
    with make_app().app_context():
        db.session.add(
            ReminderPlan(
                clinic_id=world.clinic_a,
                patient_id=world.patient.patient_id,
                enabled=True,
                since=utcnow(),
                slots_text="1@07:30",
            )
        )
        db.session.commit()
    with templates_drawn(app) as drawn:
        after, _ = load(app, world.clinician.id, url)
    assert "timeline/_course.html" not in drawn
    assert "<dt>Reminders</dt><dd>On since " in after


def test_a_patient_without_a_plan_has_a_kept_course_too(app: Flask, world: World) -> None:
    """No open protocol: the course says so and offers to start one, with no progress and
    no reminders' state, drawn once; a plan started then shows at once."""
    refresh(app, world.clinic_a)  # a summary to key on, as every patient has once
    url = f"/patients/{world.patient.patient_id}/timeline"
    first, drawn = load(app, world.clinician.id, url)
    assert "No open protocol." in first and "Reminders" not in first
    again, kept = load(app, world.clinician.id, url)
    assert kept < drawn and again.count("No open protocol.") == 1
    start_plan(app, world.patient.patient_id, world.clinician.id)
    after, _ = load(app, world.clinician.id, url)
    assert "No open protocol." not in after and "<dt>Reminders</dt>" in after


def test_a_size_used_off_plan_relabelled_elsewhere_shows_at_once(
    app: Flask, make_app, world: World
) -> None:
    """The entries name the size each session used, which may be any size of the
    clinic's sets, not only the plan's: one relabelled through another instance shows
    its new label on the next visit, as an instance with an empty cache shows it (found
    by review: only the sizes of open plans moved the summaries' versions)."""
    protocol_id = start_plan(app, world.patient.patient_id, world.clinician.id, started_days_ago=10)
    with app.app_context():
        protocol = db.session.get_one(Protocol, protocol_id)
        plan_size = protocol.versions[0].stages[0].dilator_size
        spare = add_size(plan_size.dilator_set, SizeDetails("Spare", 14.0, None))
        db.session.commit()
        spare_id = spare.id
    add_entries(app, protocol_id, world.patient, [1, 2], size_id=spare_id)
    url = f"/patients/{world.patient.patient_id}/timeline"
    assert "Spare (14 mm)" in load(app, world.clinician.id, url)[0]
    with make_app().app_context():
        update_size(db.session.get_one(DilatorSize, spare_id), SizeDetails("Renamed", 14.0, None))
        db.session.commit()
    after, _ = load(app, world.clinician.id, url)
    entries = re.search(r'<section aria-labelledby="entries-heading".*?</section>', after, re.S)
    assert entries is not None
    assert "Renamed (14 mm)" in entries.group() and "Spare (14 mm)" not in entries.group()
    assert kept_parts(after) == kept_parts(load(make_app(), world.clinician.id, url)[0])


def test_a_colleague_renamed_elsewhere_shows_in_the_history(
    app: Flask, make_app, world: World
) -> None:
    """The plan's history names who recorded each change, which no summary is made of:
    a clinician renamed through another instance is named anew on the next visit (the
    clinic's staff revision is in the course's key)."""
    start_plan(app, world.patient.patient_id, world.clinician.id)
    url = f"/patients/{world.patient.patient_id}/timeline"
    assert world.clinician.name in load(app, world.colleague.id, url)[0]
    with make_app().app_context():
        db.session.get_one(User, world.clinician.id).full_name = "Dr Alex Newname"
        db.session.commit()
    assert "Dr Alex Newname" in load(app, world.colleague.id, url)[0]


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


def test_adherence_says_why_there_is_no_figure(app: Flask, world: World) -> None:
    """Adherence reads "72% (5 of 7 sessions)" for a patient with a diary; for a patient
    who does not use the portal there is no diary to count, and for days a paused plan
    prescribes nothing there is nothing to count against: the page says which, instead
    of "— (0 of 7 sessions)"."""
    with app.app_context():
        offline = make_patient(db.session.get_one(Clinic, world.clinic_a)).id
        db.session.commit()
    for patient_id in (world.patient.patient_id, offline):
        start_plan(app, patient_id, world.clinician.id, started_days_ago=30)
    start_plan(
        app,
        world.other_patient.patient_id,
        world.clinician.id,
        [(EventKind.PAUSE, 10)],
        started_days_ago=30,
    )
    add_entries(app, protocol_of(app, world.patient.patient_id), world.patient, range(1, 8))
    refresh(app, world.clinic_a)
    with_diary, _ = load(app, world.clinician.id, f"/patients/{world.patient.patient_id}/timeline")
    without, _ = load(app, world.clinician.id, f"/patients/{offline}/timeline")
    paused, _ = load(
        app, world.clinician.id, f"/patients/{world.other_patient.patient_id}/timeline"
    )
    said = re.compile(r"<dt>Adherence, last (?:7|28) days</dt><dd>([^<]*)</dd>")
    assert said.findall(paused)[0] == "— (no sessions prescribed in these days)"
    shown = said.findall(with_diary)
    assert len(shown) == 2
    assert all(re.fullmatch(r"\d+% \(\d+ of \d+ sessions\)", s) for s in shown), shown
    assert said.findall(without) == ["— (no diary: the patient does not use the portal)"] * 2
    # Week by week too: the prescriptions stand, what was done is unknown, and no chart
    # draws 0% bars for sessions nobody could record.
    week_row = re.compile(
        r'<tr><th scope="row" class="nowrap">[^<]*</th>'
        r"<td>(\d+)</td><td>([^<]*)</td><td>([^<]*)</td>"
    )
    assert 'id="adherence-chart' in with_diary and 'id="adherence-chart' not in without
    assert "there is no diary of the sessions done" in without
    offline_weeks = week_row.findall(without)
    assert len(offline_weeks) >= 4
    assert {(done, share) for _, done, share in offline_weeks} == {("—", "no diary")}
    assert any(prescribed != "0" for prescribed, _, _ in offline_weeks)
    assert all(share.endswith("%") for _, _, share in week_row.findall(with_diary)[1:])


def protocol_of(app: Flask, patient_id: int) -> int:
    with app.app_context():
        return db.session.scalars(
            select(Protocol.id).where(Protocol.patient_id == patient_id)
        ).one()


def test_the_28_days_figure_counts_28_days_whatever_period_is_shown(
    app: Flask, world: World
) -> None:
    """Shown over 4 weeks (Monday to Sunday), the period holds fewer than 28 days until
    its last Sunday: the 28 days' figure still counts 28 days of a daily plan, and its
    sessions agree with its percentage (it read "100% (22 of 28 sessions)" on a Monday,
    the percentage from 28 days and the sessions from 22)."""
    protocol = start_plan(app, world.patient.patient_id, world.clinician.id, started_days_ago=60)
    add_entries(app, protocol, world.patient, range(1, 41))  # every day but today
    refresh(app, world.clinic_a)
    html, _ = load(
        app, world.clinician.id, f"/patients/{world.patient.patient_id}/timeline?weeks=4"
    )
    figure = re.search(
        r"<dt>Adherence, last 28 days</dt><dd>(\d+)% \((\d+) of (\d+) sessions\)</dd>", html
    )
    assert figure is not None, html
    percent, done, prescribed = (int(g) for g in figure.groups())
    assert (percent, done, prescribed) == (100, 28, 28)  # the 28 days before today

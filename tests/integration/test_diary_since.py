"""Adherence counts from the day a patient began the diary (accepted the portal's
invitation): a plan often starts at the appointment and the invitation is accepted days
later, when nothing could have been logged before. The summary, the "not logging" flag,
the timeline, the progress report and the letter built from it all count from that day."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import insert, select

from clinic import create_app
from clinic.core.clock import clinic_today
from clinic.domain.flags import FlagKind
from clinic.extensions import db
from clinic.letters.compose import programme_text
from clinic.models import CareFlag, Clinic, Invitation, Patient, PatientSummary, Protocol, User
from clinic.models.types import utcnow
from clinic.models.users import Role
from clinic.protocols.queries import patient_protocols
from clinic.reporting.progress import build_progress_report
from tests.support.apps import config_for_tests
from tests.support.auth import act_as
from tests.support.databases import temporary_database
from tests.support.diaries import ZONE, add_entries, refresh
from tests.support.invitations import choose_password, invite_patient, link_in
from tests.support.patient_pages import load
from tests.support.protocols import start_plan
from tests.support.world import World

STARTED_DAYS_AGO = 20


def join_portal(app: Flask, client, world: World) -> SimpleNamespace:
    """The offline patient, on a daily plan for 20 days, is invited and chooses a password
    today, then logs today's session. Returns them as the diary helpers take a person."""
    start_plan(app, world.offline_patient_id, world.clinician.id, started_days_ago=STARTED_DAYS_AGO)
    act_as(client, world.clinician.id)
    link = link_in(invite_patient(client, world.offline_patient_id, "joined@example.org"))
    choose_password(app.test_client(), link)
    with app.app_context():
        patient = db.session.get_one(Patient, world.offline_patient_id)
        person = SimpleNamespace(patient_id=patient.id, id=patient.user_id)
        protocol = patient_protocols(patient.id, patient.clinic_id)[0].id
    add_entries(app, protocol, person, [0])
    refresh(app, world.clinic_a)
    return person


def test_accepting_the_invitation_marks_the_day_the_diary_began(
    app: Flask, client, world: World
) -> None:
    """The account keeps when its invitation was accepted; the patient's diary begins on
    that clinic-local day."""
    before = utcnow()
    join_portal(app, client, world)
    with app.app_context():
        patient = db.session.get_one(Patient, world.offline_patient_id)
        assert before <= patient.user.claimed_at <= utcnow()
        assert patient.diary_since == clinic_today(ZONE)
        # A patient given a password another way (seeded, or claimed before this was
        # kept): not known, so every day counts as before.
        assert db.session.get_one(Patient, world.patient.patient_id).diary_since is None


def test_joining_weeks_into_a_plan_is_neither_a_silence_nor_missed_sessions(
    app: Flask, client, world: World
) -> None:
    """Twenty days into a daily plan, the patient joins and logs today's session: 100%
    (1 of 1) over 7 and 28 days, not 5% (1 of 21), and no "not logging" flag for the
    twenty days nobody could log."""
    join_portal(app, client, world)
    with app.app_context():
        summary = db.session.get_one(PatientSummary, world.offline_patient_id)
        assert (summary.adherence_7, summary.adherence_28) == (100.0, 100.0)
        kinds = db.session.scalars(
            select(CareFlag.kind).where(CareFlag.patient_id == world.offline_patient_id)
        ).all()
    assert FlagKind.NOT_LOGGING not in kinds


def test_the_timeline_counts_from_the_day_the_diary_began(app: Flask, client, world: World) -> None:
    """The timeline says from when adherence counts; the weeks before read "before the
    diary" (no figure, nothing prescribed or done to count), and the 28-day figure names
    the one session it counts."""
    join_portal(app, client, world)
    html, _ = load(app, world.clinician.id, f"/patients/{world.offline_patient_id}/timeline")
    assert "the day the patient began the diary (joined the portal)" in html
    said = re.compile(r"<dt>Adherence, last (?:7|28) days</dt><dd>([^<]*)</dd>")
    assert said.findall(html) == ["100% (1 of 1 sessions)"] * 2
    rows = re.findall(
        r'<tr><th scope="row" class="nowrap">[^<]*</th><td>([^<]*)</td><td>([^<]*)</td>'
        r"<td>([^<]*)</td>",
        html,
    )
    assert "adherence at this stage since the diary began (1 day): 100%" in html
    assert ("—", "—", "before the diary") in rows
    assert rows[-1][2] == "100%"


def test_reports_and_letters_count_from_the_day_the_diary_began(
    app: Flask, client, world: World
) -> None:
    """The progress report over the plan so far counts from the day the patient joined,
    and says so; a period that ended before has no figure, and says why."""
    join_portal(app, client, world)
    today = clinic_today(ZONE)
    with app.test_request_context():
        patient = db.session.get_one(Patient, world.offline_patient_id)
        protocol = db.session.scalars(
            select(Protocol).where(Protocol.patient_id == patient.id)
        ).one()
        start = today - timedelta(days=STARTED_DAYS_AGO)
        report = build_progress_report(patient, protocol, start, today, author=None)
        earlier = build_progress_report(
            patient, protocol, start, today - timedelta(days=1), author=None
        )
        letter, earlier_letter = programme_text(report), programme_text(earlier)
    assert (report.adherence.prescribed, report.adherence.completed) == (1, 1)
    assert report.progress.diary_since == today
    assert "counted from" in letter and "when the patient began the clinic's online diary" in letter
    assert earlier.adherence.before_diary and earlier.adherence.percent is None
    assert "after this period" in earlier_letter


def test_the_migration_takes_the_day_from_the_accepted_invitation(tmp_path: Path) -> None:
    """Accounts claimed before `claimed_at` was kept get it from their accepted
    invitation; an account with a password but no invitation (seeded) keeps none, and so
    counts every day, as before; an account not claimed yet keeps none either."""
    accepted = utcnow() - timedelta(days=3)
    with temporary_database(tmp_path) as url:
        app = create_app(config_for_tests(url))
        with app.app_context():
            upgrade(revision="i18_size_users")  # the revision before: no claimed_at
            # Written as that revision's tables are, past the session (whose models, and
            # the summaries' upkeep, know claimed_at).
            with db.engine.begin() as conn:
                clinic_id = conn.execute(
                    insert(Clinic.__table__)
                    .values(name="Migration clinic", timezone=ZONE)
                    .returning(Clinic.__table__.c.id)
                ).scalar_one()
                ids = [
                    conn.execute(
                        insert(User.__table__)
                        .values(
                            clinic_id=clinic_id,
                            email=email,
                            full_name=email,
                            role=Role.PATIENT,
                            password_hash=password_hash,
                        )
                        .returning(User.__table__.c.id)
                    ).scalar_one()
                    for email, password_hash in (
                        ("a@x.org", "h"),
                        ("b@x.org", "h"),
                        ("c@x.org", None),
                    )
                ]
                conn.execute(
                    insert(Invitation.__table__).values(
                        user_id=ids[0], token_hash="x" * 64, expires_at=utcnow(), used_at=accepted
                    )
                )
            upgrade()
            claimed = db.session.scalars(
                select(User.claimed_at).where(User.id.in_(ids)).order_by(User.id)
            ).all()
            assert claimed == [accepted, None, None]
            db.session.remove()
            db.engine.dispose()

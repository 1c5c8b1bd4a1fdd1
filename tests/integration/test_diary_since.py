"""Adherence counts from the day a patient began the diary (accepted the portal's
invitation): a plan often starts at the appointment and the invitation is accepted days
later, when nothing could have been logged before. The summary, the "not logging" flag,
the timeline, the progress report and the letter built from it all count from that day."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import insert, select

from clinic import create_app
from clinic.core.clock import clinic_today
from clinic.core.templating import short_date
from clinic.domain.flags import FlagKind
from clinic.extensions import db
from clinic.letters.compose import programme_text
from clinic.models import (
    AuditEvent,
    CareFlag,
    Clinic,
    Invitation,
    Patient,
    PatientSummary,
    Protocol,
    User,
)
from clinic.models.types import utcnow
from clinic.models.users import Role
from clinic.protocols.queries import patient_protocols
from clinic.reporting.progress import build_progress_report
from tests.support.apps import config_for_tests
from tests.support.auth import act_as
from tests.support.databases import temporary_database
from tests.support.diaries import ZONE, add_entries, refresh
from tests.support.invitations import choose_password, invite_patient, link_in
from tests.support.mdt import make_pack
from tests.support.patient_pages import load
from tests.support.protocols import start_plan
from tests.support.reports import read_pdf
from tests.support.world import World

STARTED_DAYS_AGO = 20


def claim_today(app: Flask, client, world: World) -> SimpleNamespace:
    """The offline patient, 20 days into a daily plan, joins the portal today (invited,
    chooses a password) and logs nothing yet. Returns them as the diary helpers take a
    person, with their protocol's id."""
    start_plan(app, world.offline_patient_id, world.clinician.id, started_days_ago=STARTED_DAYS_AGO)
    act_as(client, world.clinician.id)
    link = link_in(invite_patient(client, world.offline_patient_id, "joined@example.org"))
    choose_password(app.test_client(), link)
    with app.app_context():
        patient = db.session.get_one(Patient, world.offline_patient_id)
        protocol = patient_protocols(patient.id, patient.clinic_id)[0].id
        return SimpleNamespace(patient_id=patient.id, id=patient.user_id, protocol=protocol)


def join_portal(app: Flask, client, world: World) -> SimpleNamespace:
    """`claim_today`, then today's session logged and the clinic's summaries refreshed."""
    person = claim_today(app, client, world)
    add_entries(app, person.protocol, person, [0])
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
    assert f"not known (the patient began the clinic's online diary on {short_date(today)})" in (
        earlier_letter
    )


def test_the_migration_takes_the_day_from_the_accepted_invitation(tmp_path: Path) -> None:
    """Accounts claimed before `claimed_at` was kept get it from their accepted
    invitation (never from a password reset's link), or, once the clean-up has deleted
    the invitation, from the audit trail's acceptance; an account with a password but
    neither (seeded) keeps none, and so counts every day, as before; an account not
    claimed yet keeps none either."""
    accepted = utcnow() - timedelta(days=3)
    reset = utcnow() - timedelta(days=40)
    audited = utcnow() - timedelta(days=60)
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
                        ("d@x.org", "h"),
                    )
                ]
                for token, used_at, purpose in (
                    ("a", accepted, "invitation"),
                    ("r", reset, "reset"),
                ):
                    conn.execute(
                        insert(Invitation.__table__).values(
                            user_id=ids[0],
                            token_hash=token * 64,
                            expires_at=utcnow(),
                            used_at=used_at,
                            purpose=purpose,
                        )
                    )
                conn.execute(
                    insert(AuditEvent.__table__).values(
                        at=audited, clinic_id=clinic_id, actor_id=ids[3], action="invitation.accept"
                    )
                )
            upgrade()
            claimed = db.session.scalars(
                select(User.claimed_at).where(User.id.in_(ids)).order_by(User.id)
            ).all()
            assert claimed == [accepted, None, None, audited]
            db.session.remove()
            db.engine.dispose()


def test_the_day_a_patient_joins_nothing_reads_as_nothing_planned_or_missed(
    app: Flask, client, world: World
) -> None:
    """Joined today, nothing logged yet (today counts once logged): the patient's own
    Progress says the diary starts today, never "nothing in your plan"; the timeline's
    suggestion says there is no adherence yet, never "no sessions prescribed"."""
    person = claim_today(app, client, world)
    patient_page, _ = load(app, person.id, "/diary/progress")
    assert patient_page.count("nothing yet: your diary starts today") == 2  # 7 and 28 days
    assert "nothing in your plan" not in patient_page
    timeline, _ = load(app, world.clinician.id, f"/patients/{person.patient_id}/timeline")
    assert "no adherence yet: the patient began the diary today" in timeline
    assert "no sessions prescribed at this stage yet" not in timeline


def test_sessions_logged_back_before_joining_do_not_carry_a_suggestion(
    app: Flask, client, world: World
) -> None:
    """Joined today and logged the last week back, all at low pain: the evidence for
    moving on starts with the diary, as its adherence does, so one day's adherence does
    not carry a week of backfilled sessions to "advance"; the diary keeps them all."""
    person = claim_today(app, client, world)
    add_entries(app, person.protocol, person, range(7), pain=(1, 1))
    refresh(app, world.clinic_a)
    with app.app_context():
        summary = db.session.get_one(PatientSummary, person.patient_id)
        assert summary.suggestion is not None and summary.suggestion.name != "ADVANCE"
    timeline, _ = load(app, world.clinician.id, f"/patients/{person.patient_id}/timeline")
    assert "adherence at this stage since the diary began (1 day): 100%" in timeline
    reasons = re.findall(r"(?:Not met|Met): ([^<]*)</li>", timeline)
    assert reasons[0] == (
        "pain during and after ≤\N{NO-BREAK SPACE}3 in 1 of the last 6 sessions"
        " (5 logged for days before the diary began, not counted)"
    )


def test_painful_sessions_logged_back_before_joining_still_call_for_a_review(
    app: Flask, client, world: World
) -> None:
    """Joined today and logged the last six days back at pain 6 (above the stage's
    ceiling): they speak against moving on like any other, so the first stage calls for
    a review, as it would have had they been logged on their days."""
    person = claim_today(app, client, world)
    add_entries(app, person.protocol, person, range(1, 7), pain=(6, 6))
    refresh(app, world.clinic_a)
    with app.app_context():
        summary = db.session.get_one(PatientSummary, person.patient_id)
        assert summary.suggestion is not None and summary.suggestion.name == "REVIEW"


def test_the_patients_week_and_the_mdt_pack_count_from_the_day_the_diary_began(
    app: Flask, client, world: World
) -> None:
    """The portal's "this week" counts from the day the patient joined (1 of 1 today,
    not 1 of the week's days so far); the MDT pack's 28 days say from when they count,
    and its first fortnight's pain is "before the diary", not "no sessions"."""
    person = join_portal(app, client, world)
    today_page, _ = load(app, person.id, "/diary/")
    assert re.search(r"This week: <strong>1</strong> of 1\b", today_page)
    act_as(client, world.clinician.id)
    pdf = make_pack(client, [person.patient_id], clinic_today(ZONE))
    assert pdf.status_code == 200, pdf.get_data(as_text=True)[:500]
    text = read_pdf(pdf.get_data()).text
    assert "counted from" in text and "when the patient began the diary" in text
    assert "mean): before the diary in the first two weeks" in text


def test_the_day_the_diary_began_is_the_clinics_day(app: Flask, world: World) -> None:
    """Accepted at 23:30 UTC on 1 July is 2 July in London (summer time): the clinic's day."""
    with app.app_context():
        patient = db.session.get_one(Patient, world.patient.patient_id)
        patient.user.claimed_at = datetime(2026, 7, 1, 23, 30, tzinfo=UTC)
        assert patient.diary_since == date(2026, 7, 2)
        db.session.rollback()

"""The scheduled daily work, with a clock the tests move: each clinic's summaries are
brought up to the new day once per clinic-local day, at the early hour of its own zone;
a dashboard visit pays for the refresh only when the scheduler has not run, and says so
(and a warning is logged); the clean-up removes old sessions, links and message bodies
and nothing else."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from clinic.extensions import db
from clinic.models import AuditEvent, Clinic, Invitation, PatientSummary, User, UserSession
from clinic.models.invitations import hash_token
from clinic.models.outbox import MessageStatus, OutboxMessage
from tests.support.auth import act_as
from tests.support.clock import Clock, frozen_at
from tests.support.scheduled import run_at
from tests.support.world import World

# January: London is on UTC, New York five hours behind.
JAN_11 = date(2027, 1, 11)
JAN_12 = date(2027, 1, 12)


def utc(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The app's clock, frozen on 11 January 2027 at noon UTC until the test ends."""
    return frozen_at(monkeypatch, utc(JAN_11, 12))


@pytest.fixture
def two_zones(app: Flask, world: World, clock: Clock) -> World:
    """Clinic A in London, clinic B in New York, both with their daily work done for
    11 January (their local day then)."""
    with app.app_context():
        a = db.session.get(Clinic, world.clinic_a)
        b = db.session.get(Clinic, world.clinic_b)
        b.timezone = "America/New_York"
        db.session.commit()
        for clinic in (a, b):
            clinic.daily_run_on = JAN_11
            clinic.summaries_on = JAN_11
        db.session.commit()
    return world


def days_of(app: Flask, clinic_id: int) -> tuple[date | None, date | None, set[date]]:
    """The clinic's last daily run, last refresh, and the days its summaries were computed."""
    with app.app_context():
        clinic = db.session.get(Clinic, clinic_id)
        computed = set(
            db.session.scalars(
                select(PatientSummary.computed_on).where(PatientSummary.clinic_id == clinic_id)
            )
        )
        return clinic.daily_run_on, clinic.summaries_on, computed


def test_the_daily_refresh_runs_at_the_early_hour_of_each_clinics_zone(
    app: Flask, two_zones: World, clock: Clock
) -> None:
    """At 03:05 UTC London's day has reached 03:00 and New York's (22:05 the day before)
    has not turned: only London runs. At 08:05 UTC it is 03:05 in New York: New York runs,
    London does not again. Each runs once however often the scheduler looks."""
    w = two_zones
    assert run_at(app, clock, utc(JAN_12, 2, 50), "start_daily_work") == []
    assert run_at(app, clock, utc(JAN_12, 3, 5), "start_daily_work") == [w.clinic_a]
    assert days_of(app, w.clinic_a) == (JAN_12, JAN_12, {JAN_12})
    assert days_of(app, w.clinic_b)[:2] == (JAN_11, JAN_11)
    assert run_at(app, clock, utc(JAN_12, 3, 20), "start_daily_work") == []
    assert run_at(app, clock, utc(JAN_12, 8, 5), "start_daily_work") == [w.clinic_b]
    assert days_of(app, w.clinic_b) == (JAN_12, JAN_12, {JAN_12})
    for minutes in range(20, 24 * 60 - 8 * 60, 15):  # the rest of the UTC day
        assert (
            run_at(app, clock, utc(JAN_12, 8) + timedelta(minutes=minutes), "start_daily_work")
            == []
        )


def test_a_clinic_job_run_twice_does_the_work_once(
    app: Flask, two_zones: World, clock: Clock
) -> None:
    """Two runs of one clinic's daily job (a retried job, two workers): the second finds
    the day taken and does nothing."""
    clock.set(utc(JAN_12, 4))
    with app.app_context():
        from clinic.schedule.jobs import run_clinic_day

        first = run_clinic_day.call_local(two_zones.clinic_a)
        second = run_clinic_day.call_local(two_zones.clinic_a)
    assert first is not None and first.refreshed
    assert second is None


def dashboard(client) -> str:
    response = client.get("/dashboard/")
    assert response.status_code == 200
    return response.get_data(as_text=True)


LATE = "because the overnight update had not run"
EARLY = "the day has begun before the overnight update"


def test_without_the_scheduler_the_first_visit_refreshes_and_says_so(
    app: Flask, client, two_zones: World, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    """At 10:00 with no daily run, the first dashboard visit brings the summaries up to
    today itself, tells the clinician in a calm line, and logs a warning for operators;
    the next visit has nothing to say."""
    clock.set(utc(JAN_12, 10))
    act_as(client, two_zones.clinician.id)
    with caplog.at_level(logging.WARNING, logger="clinic.schedule.daily"):
        html = dashboard(client)
    assert LATE in html
    assert any("scheduled daily work has not run" in r.getMessage() for r in caplog.records)
    assert days_of(app, two_zones.clinic_a)[1:] == (JAN_12, {JAN_12})
    caplog.clear()
    assert LATE not in dashboard(client)
    assert not caplog.records


def test_after_the_scheduled_run_the_dashboard_has_nothing_to_do(
    app: Flask, client, two_zones: World, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    """When the scheduler ran at 03:05, the 09:00 visit refreshes nothing and says nothing."""
    run_at(app, clock, utc(JAN_12, 3, 5), "start_daily_work")
    clock.set(utc(JAN_12, 9))
    act_as(client, two_zones.clinician.id)
    with caplog.at_level(logging.WARNING, logger="clinic.schedule.daily"):
        html = dashboard(client)
    assert LATE not in html and EARLY not in html
    assert not caplog.records


def test_a_visit_before_the_early_hour_refreshes_without_alarm(
    app: Flask, client, two_zones: World, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    """At 01:30 the scheduler is not late (its hour has not come): the visit refreshes,
    says why, and logs no warning. The 03:00 run still does the rest of the day's work
    (without refreshing twice)."""
    clock.set(utc(JAN_12, 1, 30))
    act_as(client, two_zones.clinician.id)
    with caplog.at_level(logging.WARNING, logger="clinic.schedule.daily"):
        html = dashboard(client)
    assert EARLY in html and LATE not in html
    assert not caplog.records
    assert run_at(app, clock, utc(JAN_12, 3, 5), "start_daily_work") == [two_zones.clinic_a]
    assert days_of(app, two_zones.clinic_a)[:2] == (JAN_12, JAN_12)


# --- Clean-up -------------------------------------------------------------------------


def test_clean_up_removes_old_sessions_links_and_message_bodies_only(
    app: Flask, world: World, clock: Clock
) -> None:
    """Sessions ended (or past their lifetime) and links used, replaced or expired more
    than 30 days ago are deleted; failed and withdrawn messages that old lose their body
    but keep their row. Everything younger, every pending message and the audit trail
    stay as they were."""
    now = utc(JAN_12, 2, 40)
    old, recent = now - timedelta(days=40), now - timedelta(days=5)
    with app.app_context():
        user = db.session.get(User, world.patient.id)

        def session(name: str, created: datetime, ended: datetime | None) -> None:
            db.session.add(
                UserSession(
                    user_id=user.id,
                    token_hash=hash_token(name),
                    created_at=created,
                    last_seen_at=created,
                    ended_at=ended,
                    user_agent=name,
                )
            )

        session("ended long ago", old, old)
        session("never ended, long dead", old - timedelta(days=1), None)
        session("ended lately", recent - timedelta(hours=2), recent)
        session("live", now - timedelta(hours=1), None)

        def link(name: str, *, expires: datetime, used: datetime | None = None) -> None:
            db.session.add(
                Invitation(
                    user_id=user.id,
                    token_hash=hash_token(name),
                    created_at=expires - timedelta(days=7),
                    expires_at=expires,
                    used_at=used,
                )
            )

        link("used long ago", expires=old + timedelta(days=3), used=old)
        link("expired long ago", expires=old)
        link("expired lately", expires=recent)
        link("still valid", expires=now + timedelta(days=3))

        def message(name: str, status: MessageStatus, created: datetime) -> None:
            db.session.add(
                OutboxMessage(
                    clinic_id=world.clinic_a,
                    user_id=user.id,
                    kind="password_reset",
                    key=name,
                    recipient=user.email,
                    subject="Your sign-in link",
                    body=f"body of {name}",
                    status=status,
                    created_at=created,
                    next_attempt_at=created,
                )
            )

        message("failed long ago", MessageStatus.FAILED, old)
        message("withdrawn long ago", MessageStatus.CANCELLED, old)
        message("failed lately", MessageStatus.FAILED, recent)
        message("pending long ago", MessageStatus.PENDING, old)
        db.session.commit()
        audit_before = db.session.scalar(select(func.count(AuditEvent.id)))

    cleaned = run_at(app, clock, now, "clean_up_daily")

    assert (cleaned.sessions, cleaned.links, cleaned.message_bodies) == (2, 2, 2)
    with app.app_context():
        assert set(db.session.scalars(select(UserSession.user_agent))) == {"ended lately", "live"}
        assert set(db.session.scalars(select(Invitation.token_hash))) == {
            hash_token("expired lately"),
            hash_token("still valid"),
        }
        bodies = {
            k: b for k, b in db.session.execute(select(OutboxMessage.key, OutboxMessage.body))
        }
        assert bodies == {
            "failed long ago": "",
            "withdrawn long ago": "",
            "failed lately": "body of failed lately",
            "pending long ago": "body of pending long ago",
        }
        assert db.session.scalar(select(func.count(AuditEvent.id))) == audit_before

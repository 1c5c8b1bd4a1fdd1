"""Patient reminders: the Reminders page (proposed from the prescription, saved, audited,
refused in plain words with nothing typed lost, each patient's own), the minute's job
(one message per slot occurrence however often it runs, none while paused or after
completion, none for a day already logged, one nudge then silence until an entry, local
time across a clock change), and what clinicians see (on since when, never the times; the
dashboard's filter; the progress report)."""

from __future__ import annotations

import re
from dataclasses import fields
from datetime import UTC, date, datetime, time, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from clinic.admin.services import ClinicSettings, update_clinic_settings
from clinic.core.clock import clinic_today
from clinic.core.templating import short_date
from clinic.domain.protocols import EventKind
from clinic.domain.reminders import Slot, moment
from clinic.extensions import db
from clinic.models import (
    AuditEvent,
    Clinic,
    OutboxMessage,
    Patient,
    PushSubscription,
    ReminderPlan,
    User,
)
from clinic.reminders import sending
from clinic.reminders.jobs import send_reminders_now
from clinic.reminders.services import ReminderChoice, save_reminders
from tests.support.auth import act_as
from tests.support.clock import Clock, frozen_at
from tests.support.diaries import add_entries, refresh
from tests.support.protocols import start_plan
from tests.support.reports import generate, read_pdf, stored_reports
from tests.support.world import World

URL = "/diary/reminders"
ZONE = "Europe/London"
# A Monday in winter (GMT): local time is UTC.
MONDAY = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)


def _form(**overrides: object) -> dict[str, object]:
    """The page's form, turned on, Monday 07:30 only, quiet 22:00 to 07:00."""
    data: dict[str, object] = {
        "reminders": "on",
        "on_0": "y",
        "at_0_1": "07:30",
        "quiet_from": "22:00",
        "quiet_to": "07:00",
        "timezone": ZONE,
        "subject": "reminder",
        "sender": "clinic",
        "by_email": "y",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def _plan(app: Flask, patient_id: int) -> ReminderPlan | None:
    with app.app_context():
        plan = db.session.scalar(select(ReminderPlan).where(ReminderPlan.patient_id == patient_id))
        if plan is not None:
            db.session.expunge(plan)
        return plan


def _turn_on(
    app: Flask,
    world: World,
    slots: tuple[Slot, ...],
    at: datetime,
    zone: str | None = None,
    nudge_days: int = 4,
) -> None:
    """Reminders on for the world's patient at `at` (as the page would save them)."""
    with app.app_context():
        patient = db.session.get(Patient, world.patient.patient_id)
        patient.clinic.reminder_nudge_days = nudge_days
        save_reminders(
            patient,
            ReminderChoice(True, slots, None, zone, "asked", True),
            db.session.get(User, world.patient.id),
            at,
        )
        db.session.commit()


def _messages(app: Flask) -> list[OutboxMessage]:
    with app.app_context():
        rows = list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        db.session.expunge_all()
        return [r for r in rows if r.kind.startswith("reminder")]


def _run(app: Flask, clock: Clock, when: datetime) -> int:
    clock.set(when)
    with app.app_context():
        return send_reminders_now()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return frozen_at(monkeypatch, MONDAY)


# -- the page --------------------------------------------------------------------------


def test_the_page_proposes_days_and_times_from_the_prescription(
    client, world: World, on_protocol: int
) -> None:
    """Off by default, said plainly; the days and times are proposed from the stage's
    frequency; the portal's navigation and Today link to it."""
    act_as(client, world.patient.id)
    html = client.get(URL).get_data(as_text=True)
    assert "Your reminders are <strong>off</strong>" in html
    assert "Proposed from your plan" in html
    assert 'value="19:00"' in html
    # The sender is first proposed without the clinic's name (it may say what it treats).
    assert re.search(r'name="sender"[^>]*value="none"[^>]*checked|checked[^>]*value="none"', html)
    # ... and says the choice covers every email, tied to the question for screen readers.
    assert 'aria-describedby="sender-hint"' in html
    assert 'id="sender-hint" class="hint">For reminders and every other email sent to you' in html
    assert 'value="off" checked' in html or "checked" in html
    assert URL in client.get("/diary/").get_data(as_text=True)


def test_turning_reminders_on_is_saved_audited_and_scheduled(
    app: Flask, client, world: World, clock: Clock
) -> None:
    """Saved with "since" = now and the next slot's moment as when the job looks next;
    audited as the patient's change (field names only); the page says on since when."""
    act_as(client, world.patient.id)
    response = client.post(URL, data=_form(), follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "Saved: your reminders are on." in html
    assert "on</strong>, since 2 November 2026" in html
    plan = _plan(app, world.patient.patient_id)
    assert plan.enabled and plan.since == MONDAY
    assert plan.slots == (Slot(0, time(7, 30)),)
    assert plan.next_due_at == datetime(2026, 11, 2, 7, 30, tzinfo=UTC)
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "reminders.change"))
        assert event.patient_id == world.patient.patient_id
        assert "07:30" not in (event.detail or "")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"at_0_1": None}, "Give a time for Monday, or untick it."),
        ({"at_0_1": "23:00"}, "23:00 is in your quiet hours (22:00 to 07:00)."),
        ({"at_0_2": "07:30"}, "Monday already has 07:30."),
        ({"on_0": None}, "Tick at least one day"),
        ({"quiet_to": None}, "Give both times for quiet hours"),
        ({"quiet_to": "22:00"}, "Quiet hours need an end that differs from their start"),
        ({"by_email": None}, "Choose at least one way to receive reminders."),
        ({"timezone": "Mars/Olympus"}, "Choose your time zone from the list."),
        ({"at_0_1": "7h"}, "Enter a time like 08:30."),
    ],
)
def test_refused_choices_say_why_and_keep_what_was_typed(
    app: Flask, client, world: World, overrides: dict[str, object], message: str
) -> None:
    """Each refusal in plain words; nothing saved; what was typed is still on the page."""
    act_as(client, world.patient.id)
    data = _form(at_1_1="12:15", **overrides)
    response = client.post(URL, data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in html
    assert 'value="12:15"' in html
    assert _plan(app, world.patient.patient_id) is None


def test_turned_off_nothing_is_due_and_the_choices_are_kept(
    app: Flask, client, world: World, clock: Clock
) -> None:
    """Off: no next look, the days and times kept for turning them on again."""
    act_as(client, world.patient.id)
    client.post(URL, data=_form())
    client.post(URL, data=_form(reminders="off"))
    plan = _plan(app, world.patient.patient_id)
    assert not plan.enabled and plan.next_due_at is None
    assert plan.slots == (Slot(0, time(7, 30)),)
    assert 'value="07:30"' in client.get(URL).get_data(as_text=True)


def test_each_patient_sees_and_changes_only_their_own(
    app: Flask, client, world: World, clock: Clock
) -> None:
    """The page takes the patient from the session: another patient of the clinic (or of
    another clinic) sees their own settings, off, and saving changes only theirs; staff
    are refused."""
    act_as(client, world.patient.id)
    client.post(URL, data=_form())
    act_as(client, world.other_patient.id)
    assert "Your reminders are <strong>off</strong>" in client.get(URL).get_data(as_text=True)
    client.post(URL, data=_form(reminders="off", at_0_1="09:00"))
    assert _plan(app, world.patient.patient_id).slots == (Slot(0, time(7, 30)),)
    act_as(client, world.other_clinic_patient.id)
    assert "Your reminders are <strong>off</strong>" in client.get(URL).get_data(as_text=True)
    for staff in (world.clinician.id, world.admin.id, world.other_clinician.id):
        act_as(client, staff)
        assert client.get(URL).status_code in (403, 404)
        assert client.post(URL, data=_form()).status_code in (403, 404)
    assert _plan(app, world.patient.patient_id).enabled


def test_the_preview_is_exactly_what_arrives(app: Flask, client, world: World, clock) -> None:
    """The page's preview shows the subject chosen and the body the job sends; with no
    clinic name chosen, no name."""
    act_as(client, world.patient.id)
    client.post(URL, data=_form(subject="routine", sender="none"))
    html = client.get(URL).get_data(as_text=True)
    assert "Time for your routine" in html
    assert "This is the reminder you set for 07:30." in html


# -- the job -------------------------------------------------------------------------


def test_the_job_posts_one_message_per_slot_occurrence(
    app: Flask, world: World, clock: Clock, on_protocol: int
) -> None:
    """Nothing before the slot; at 07:30 one message (run twice, and again a minute
    later, still one); its subject is the patient's choice and the body names no care."""
    _turn_on(app, world, (Slot(0, time(7, 30)),), MONDAY)
    assert _run(app, clock, MONDAY + timedelta(hours=1, minutes=29)) == 0
    assert _run(app, clock, datetime(2026, 11, 2, 7, 30, tzinfo=UTC)) == 1
    assert _run(app, clock, datetime(2026, 11, 2, 7, 30, tzinfo=UTC)) == 0
    assert _run(app, clock, datetime(2026, 11, 2, 7, 31, tzinfo=UTC)) == 0
    (message,) = _messages(app)
    assert message.subject == "A reminder you asked for"
    assert message.key.startswith("reminder:slot:2026-11-02-1:user:")
    assert "dilat" not in message.body.lower()
    # A week later, the next occurrence.
    assert _run(app, clock, datetime(2026, 11, 9, 7, 30, tzinfo=UTC)) == 1


def test_two_job_runs_at_once_never_send_twice(
    app: Flask, world: World, clock: Clock, on_protocol: int
) -> None:
    """A plan looked at twice for the same minute (a second worker, a run after a
    failure left `next_due_at` as it was) posts one message: the outbox key holds."""
    _turn_on(app, world, (Slot(0, time(7, 30)),), MONDAY)
    _run(app, clock, datetime(2026, 11, 2, 7, 30, tzinfo=UTC))
    with app.app_context():
        plan = db.session.scalar(select(ReminderPlan))
        plan.next_due_at = datetime(2026, 11, 2, 7, 30, tzinfo=UTC)
        db.session.commit()
    assert _run(app, clock, datetime(2026, 11, 2, 7, 40, tzinfo=UTC)) == 0
    assert len(_messages(app)) == 1


@pytest.mark.parametrize("kind", [EventKind.PAUSE, EventKind.COMPLETE])
def test_nothing_while_paused_or_after_completion(
    app: Flask, world: World, clock: Clock, kind: EventKind
) -> None:
    """A paused plan or a completed one gets no reminder at its slot."""
    start_plan(app, world.patient.patient_id, world.clinician.id, [(kind, 1)])
    _turn_on(app, world, (Slot(0, time(7, 30)),), MONDAY)
    assert _run(app, clock, datetime(2026, 11, 2, 7, 30, tzinfo=UTC)) == 0
    assert _messages(app) == []


def test_no_reminder_without_a_plan(app: Flask, world: World, clock: Clock) -> None:
    """No programme open: nothing to remind of."""
    _turn_on(app, world, (Slot(0, time(7, 30)),), MONDAY)
    assert _run(app, clock, datetime(2026, 11, 2, 7, 30, tzinfo=UTC)) == 0


def test_a_day_already_logged_gets_no_reminder(
    app: Flask, world: World, clock: Clock, on_protocol: int
) -> None:
    """A session noted that day (before the slot) covers it; the next day's still comes."""
    _turn_on(app, world, (Slot(0, time(19, 0)), Slot(1, time(19, 0))), MONDAY)
    clock.set(datetime(2026, 11, 2, 18, 0, tzinfo=UTC))
    add_entries(app, on_protocol, world.patient, [0])  # noon today
    assert _run(app, clock, datetime(2026, 11, 2, 19, 0, tzinfo=UTC)) == 0
    assert _run(app, clock, datetime(2026, 11, 3, 19, 0, tzinfo=UTC)) == 1


def test_one_nudge_after_the_silence_then_nothing_until_an_entry(
    app: Flask, world: World, clock: Clock, on_protocol: int
) -> None:
    """Daily 19:00, nudge after 2 days: reminders Monday and Tuesday, the nudge on
    Wednesday, nothing Thursday or Friday; after an entry on Saturday, Sunday's reminder."""
    every_day = tuple(Slot(d, time(19, 0)) for d in range(7))
    _turn_on(app, world, every_day, MONDAY, nudge_days=2)
    sent = [_run(app, clock, datetime(2026, 11, day, 19, 0, tzinfo=UTC)) for day in range(2, 7)]
    assert sent == [1, 1, 1, 0, 0]
    kinds = [m.kind for m in _messages(app)]
    assert kinds == ["reminder", "reminder", "reminder_nudge"]
    clock.set(datetime(2026, 11, 7, 20, 0, tzinfo=UTC))
    add_entries(app, on_protocol, world.patient, [0])
    assert _run(app, clock, datetime(2026, 11, 8, 19, 0, tzinfo=UTC)) == 1
    assert _messages(app)[-1].kind == "reminder"


def test_a_slot_keeps_its_local_time_across_the_clock_change(
    app: Flask, world: World, clock: Clock
) -> None:
    """07:30 in London: 07:30 GMT on the Saturday before clocks go forward (28 March
    2027), 06:30 UTC (07:30 BST) on the Monday after, never at 07:30 UTC."""
    start = datetime(2027, 3, 26, tzinfo=UTC)
    clock.set(start)
    start_plan(app, world.patient.patient_id, world.clinician.id)
    _turn_on(app, world, (Slot(5, time(7, 30)), Slot(0, time(7, 30))), start)
    assert _run(app, clock, datetime(2027, 3, 27, 7, 30, tzinfo=UTC)) == 1
    assert _run(app, clock, datetime(2027, 3, 29, 6, 29, tzinfo=UTC)) == 0
    assert _run(app, clock, datetime(2027, 3, 29, 6, 30, tzinfo=UTC)) == 1
    assert _run(app, clock, datetime(2027, 3, 29, 7, 30, tzinfo=UTC)) == 0
    plan = _plan(app, world.patient.patient_id)
    assert plan.next_due_at == moment(date(2027, 4, 3), time(7, 30), ZONE)
    assert plan.next_due_at == datetime(2027, 4, 3, 6, 30, tzinfo=UTC)


def test_a_clinic_zone_change_moves_the_reminders_that_follow_it(
    app: Flask, world: World, clock: Clock
) -> None:
    """A patient following the clinic's zone has their next reminder moved with it."""
    _turn_on(app, world, (Slot(0, time(7, 30)),), MONDAY)
    with app.app_context():
        clinic = db.session.get(Clinic, world.clinic_a)
        values = {f.name: getattr(clinic, f.name, None) for f in fields(ClinicSettings)}
        values["sender_name"] = clinic.sender_name
        values["timezone"] = "America/New_York"
        update_clinic_settings(clinic, ClinicSettings(**values))
        db.session.commit()
    plan = _plan(app, world.patient.patient_id)
    assert plan.next_due_at == datetime(2026, 11, 2, 12, 30, tzinfo=UTC)


# -- clinicians ----------------------------------------------------------------------


def test_the_timeline_says_on_since_when_never_the_times(
    app: Flask, client, world: World, clock: Clock, on_protocol: int
) -> None:
    """Overview: "Off", then "On since 2 Nov 2026"; no day or time of the reminders."""
    act_as(client, world.clinician.id)
    timeline = f"/patients/{world.patient.patient_id}/timeline"
    assert "<dt>Reminders</dt><dd>Off</dd>" in client.get(timeline).get_data(as_text=True)
    _turn_on(app, world, (Slot(0, time(7, 30)),), MONDAY)
    html = client.get(timeline).get_data(as_text=True)
    assert "<dt>Reminders</dt><dd>On since 2 Nov 2026</dd>" in html
    assert "07:30" not in html


def test_the_dashboard_filters_no_reminders_and_low_adherence(
    app: Flask, client, world: World, clock: Clock, on_protocol: int
) -> None:
    """With the filter, a patient with low adherence and no reminders is listed; once
    their reminders are on, they are not (the cached table is not reused)."""
    refresh(app, world.clinic_a)
    act_as(client, world.clinician.id)
    url = "/dashboard/?who=all&reminders=off-low"
    name = world.patient.name
    assert name in client.get(url).get_data(as_text=True)
    _turn_on(app, world, (Slot(0, time(7, 30)),), MONDAY)
    assert name not in client.get(url).get_data(as_text=True)
    assert name in client.get("/dashboard/?who=all").get_data(as_text=True)


def test_the_progress_report_says_whether_reminders_are_on(
    app: Flask, client, world: World, on_protocol: int
) -> None:
    """The PDF reads "Reminders: off", then "Reminders: on since <day>", never the times."""
    act_as(client, world.clinician.id)
    generate(client, world.patient.patient_id)
    now = datetime.now(UTC)
    _turn_on(app, world, (Slot(0, time(7, 30)),), now)
    generate(client, world.patient.patient_id)
    off, on = (read_pdf(r.pdf).text for r in stored_reports(app, world.patient.patient_id))
    assert "Reminders: off." in off
    with app.app_context():
        since = clinic_today(db.session.get(Clinic, world.clinic_a).timezone, now)
    assert f"Reminders: on since {short_date(since)}." in on
    assert "07:30" not in on


def test_notifications_alone_need_a_device(app: Flask, client, world: World, clock: Clock) -> None:
    """The page offers notifications beside email. Notifications alone, with no device
    turned on, are refused in plain words (nothing would arrive) and what was typed stays;
    once a device is on, notifications alone are kept."""
    act_as(client, world.patient.id)
    page = client.get(URL).get_data(as_text=True)
    assert "Notification on your phone or computer" in page
    assert "No device has notifications on yet" in page
    refused = client.post(URL, data=_form(by_push="y", by_email=None, at_0_1="07:45"))
    assert refused.status_code == 200
    html = refused.get_data(as_text=True)
    assert "No device has notifications on yet. Choose email too" in html
    assert 'value="07:45"' in html
    assert _plan(app, world.patient.patient_id) is None
    with app.app_context():
        db.session.add(
            PushSubscription(
                user_id=world.patient.id,
                clinic_id=world.clinic_a,
                endpoint="https://fcm.googleapis.com/fcm/send/test-device",
                p256dh="key",
                auth="secret",
            )
        )
        db.session.commit()
    assert "Notifications are on for 1 device." in client.get(URL).get_data(as_text=True)
    client.post(URL, data=_form(by_push="y", by_email=None))
    plan = _plan(app, world.patient.patient_id)
    assert plan is not None and plan.by_push and not plan.by_email


def test_the_reminders_filter_is_kept_by_the_pager_and_row_links(
    app: Flask, client, world: World, clock: Clock, on_protocol: int
) -> None:
    """The dashboard's links built from the filters (the pager, "Go to the first page",
    where a decision comes back to) keep "no reminders, low adherence": page 2 of the
    filtered list is not page 2 of everyone."""
    refresh(app, world.clinic_a)
    act_as(client, world.clinician.id)
    html = client.get("/dashboard/?who=all&reminders=off-low&page=9").get_data(as_text=True)
    assert "There is no page 9" in html
    assert "reminders=off-low" in html.split("There is no page 9", 1)[1]


def test_a_slot_moved_later_the_same_day_does_not_remind_twice(
    app: Flask, world: World, clock: Clock, on_protocol: int
) -> None:
    """Monday 07:30 reminded at 07:30; at 08:00 the patient moves Monday's time to 09:00:
    the day's one reminder was sent, so 09:00 brings nothing. A second time added that
    day is a second reminder (the day's second slot), and next Monday's 09:00 comes."""
    _turn_on(app, world, (Slot(0, time(7, 30)),), MONDAY)
    assert _run(app, clock, datetime(2026, 11, 2, 7, 30, tzinfo=UTC)) == 1
    _turn_on(app, world, (Slot(0, time(9, 0)),), datetime(2026, 11, 2, 8, 0, tzinfo=UTC))
    assert _run(app, clock, datetime(2026, 11, 2, 9, 0, tzinfo=UTC)) == 0
    _turn_on(
        app,
        world,
        (Slot(0, time(9, 0)), Slot(0, time(19, 0))),
        datetime(2026, 11, 2, 10, 0, tzinfo=UTC),
    )
    assert _run(app, clock, datetime(2026, 11, 2, 19, 0, tzinfo=UTC)) == 1
    assert _run(app, clock, datetime(2026, 11, 9, 9, 0, tzinfo=UTC)) == 1


def test_an_entry_noted_for_an_earlier_day_ends_the_silence(
    app: Flask, world: World, clock: Clock, on_protocol: int
) -> None:
    """Daily 19:00, nudge after 2 days: on Wednesday at 18:00 the patient notes Monday's
    session (dated Monday). They have just noted something, so Wednesday brings the usual
    reminder (the day is not covered), not "nothing has been noted for a few days"."""
    every_day = tuple(Slot(d, time(19, 0)) for d in range(7))
    _turn_on(app, world, every_day, MONDAY, nudge_days=2)
    assert [_run(app, clock, datetime(2026, 11, d, 19, 0, tzinfo=UTC)) for d in (2, 3)] == [1, 1]
    clock.set(datetime(2026, 11, 4, 18, 0, tzinfo=UTC))
    add_entries(app, on_protocol, world.patient, [2])  # Monday noon, noted now
    assert _run(app, clock, datetime(2026, 11, 4, 19, 0, tzinfo=UTC)) == 1
    assert [m.kind for m in _messages(app)] == ["reminder"] * 3


def test_a_resumption_recorded_late_does_not_leave_the_reminders_silent(
    app: Flask, world: World, clock: Clock
) -> None:
    """Daily 19:00, nudge after 2 days, reminders on for a fortnight; the plan was paused
    12 days ago and today the clinician records that it resumed 5 days ago. The nudge
    for that silence would have fallen while the plan was still recorded as paused (never
    sent), so counting from the resumption's date would silence every reminder until the
    patient notes something. Counted from when it was recorded: tonight's reminder comes,
    then Tuesday's, then Wednesday's nudge."""
    start_plan(
        app,
        world.patient.patient_id,
        world.clinician.id,
        [(EventKind.PAUSE, 12), (EventKind.RESUME, 5)],
        started_days_ago=30,
    )
    every_day = tuple(Slot(d, time(19, 0)) for d in range(7))
    _turn_on(app, world, every_day, MONDAY - timedelta(days=14), nudge_days=2)
    sent = [_run(app, clock, datetime(2026, 11, day, 19, 0, tzinfo=UTC)) for day in (2, 3, 4)]
    assert sent == [1, 1, 1]
    assert [m.kind for m in _messages(app)] == ["reminder", "reminder", "reminder_nudge"]


def test_a_nudge_missed_by_a_stopped_worker_still_comes_once(
    app: Flask, world: World, clock: Clock, on_protocol: int
) -> None:
    """Daily 19:00, nudge after 2 days, nothing noted: the worker is stopped over
    Wednesday's 19:00 (the nudge's slot) and back at 21:00. Thursday's slot brings the
    nudge that never went (not silence until the patient notes something); Friday,
    nothing."""
    every_day = tuple(Slot(d, time(19, 0)) for d in range(7))
    _turn_on(app, world, every_day, MONDAY, nudge_days=2)
    assert [_run(app, clock, datetime(2026, 11, d, 19, 0, tzinfo=UTC)) for d in (2, 3)] == [1, 1]
    assert _run(app, clock, datetime(2026, 11, 4, 21, 0, tzinfo=UTC)) == 0
    assert _run(app, clock, datetime(2026, 11, 5, 19, 0, tzinfo=UTC)) == 1
    assert _run(app, clock, datetime(2026, 11, 6, 19, 0, tzinfo=UTC)) == 0
    assert [m.kind for m in _messages(app)] == ["reminder", "reminder", "reminder_nudge"]


def test_notifications_alone_with_no_device_left_say_nothing_arrives(
    app: Flask, client, world: World, clock: Clock
) -> None:
    """Reminders on by notification only, then the one device is gone (turned off, or
    its push service answered "gone"): the page does not just say "on", it says that
    nothing arrives now and what to do."""
    with app.app_context():
        patient = db.session.get(Patient, world.patient.patient_id)
        save_reminders(
            patient,
            ReminderChoice(True, (Slot(0, time(7, 30)),), None, None, "asked", True, False, True),
            db.session.get(User, world.patient.id),
            MONDAY,
        )
        db.session.commit()
    act_as(client, world.patient.id)
    html = client.get(URL).get_data(as_text=True)
    assert "Nothing arrives at the moment" in html


def test_one_plans_failure_does_not_hold_back_the_others(
    app: Flask, world: World, clock: Clock, monkeypatch: pytest.MonkeyPatch, caplog
) -> None:
    """Two patients due at 07:30; sending the first one's reminder fails after it posted:
    that post is undone and the plan is looked at again in 15 minutes, the other patient's
    reminder goes out, and the log names the plan only (no name, no address)."""
    people = (world.patient, world.other_patient)
    for person in people:
        start_plan(app, person.patient_id, world.clinician.id)
        with app.app_context():
            save_reminders(
                db.session.get(Patient, person.patient_id),
                ReminderChoice(True, (Slot(0, time(7, 30)),), None, None, "asked", True),
                db.session.get(User, person.id),
                MONDAY,
            )
            db.session.commit()
    original = sending.send_due

    def failing_for_the_first(plan, reminder, *, account, **kwargs):  # type: ignore[no-untyped-def]
        posted = original(plan, reminder, account=account, **kwargs)
        if account.id == world.patient.id:
            raise RuntimeError("a bug in one plan")
        return posted

    monkeypatch.setattr(sending, "send_due", failing_for_the_first)
    slot = datetime(2026, 11, 2, 7, 30, tzinfo=UTC)
    assert _run(app, clock, slot) == 1
    (message,) = _messages(app)
    assert message.recipient == world.other_patient.email
    failed = _plan(app, world.patient.patient_id)
    assert failed is not None and failed.next_due_at == slot + timedelta(minutes=15)
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "failed; tried again later" in logged
    assert world.patient.email not in logged and world.patient.name not in logged

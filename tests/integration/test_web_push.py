"""Web Push end to end on the server side, against a real push service on the loopback.

The loopback service (tests/support/push.py) checks each POST's VAPID signature against
the app's public key and decrypts the payload with the subscription's private key, as the
browser would: what it records is what a phone would show. Subscriptions come from a
patient's form post, as the page's script sends them.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, time, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask

from clinic import create_app, push
from clinic.core import webpush
from clinic.core.mail import Message
from clinic.core.uow import unit_of_work
from clinic.domain.reminders import Slot
from clinic.extensions import db
from clinic.models import AuditEvent, Clinic, Patient, User
from clinic.models.outbox import MessageStatus, OutboxMessage
from clinic.models.push import PushSubscription
from clinic.models.types import utcnow
from clinic.outbox.delivery import DEVICE_GONE, PUSH_UNREACHABLE, deliver_due
from clinic.outbox.kinds import MessageKind
from clinic.reminders.jobs import send_reminders_now
from clinic.reminders.services import ReminderChoice, save_reminders
from tests.support.apps import config_for_tests
from tests.support.auth import act_as
from tests.support.clock import frozen_at
from tests.support.privacy import assert_discreet
from tests.support.push import BrowserSubscription, LoopbackPushService, loopback_push_service
from tests.support.world import World

SUBSCRIBE = "/account/notifications/device"
UNSUBSCRIBE = "/account/notifications/device/off"
JSON = {"Accept": "application/json"}
TITLE = "A reminder"
BODY = "There is something for you to do today. Open to sign in."
# 1,500 different CJK characters: within the endpoint's length, 4,500 bytes in UTF-8.
NOT_ASCII = "".join(chr(0x4E00 + (i * 7919) % 20000) for i in range(1500))
KIND = MessageKind.QUESTIONNAIRE_READY  # any kind: the reminders will bring their own


@pytest.fixture
def service(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[LoopbackPushService]:
    """A push service on the loopback that the app may post to (http, 127.0.0.1)."""
    monkeypatch.setitem(app.config, "PUSH_ALLOW_HTTP", True)
    monkeypatch.setitem(app.config, "PUSH_SERVICE_HOSTS", ("127.0.0.1",))
    with app.app_context():
        key = webpush.application_server_key()
    with loopback_push_service(key) as running:
        yield running


def subscribed(app: Flask, world: World, service: LoopbackPushService) -> BrowserSubscription:
    """A device of the world's patient, turned on through the route the page uses."""
    device = service.subscribe()
    client = app.test_client()
    act_as(client, world.patient.id)
    response = client.post(SUBSCRIBE, data=device.form(), headers=JSON)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json == {"state": "on", "message": "Notifications are on for this device."}
    return device


def notify(app: Flask, user_id: int, occasion: str = "day-1") -> int:
    with app.app_context(), unit_of_work():
        user = db.session.get(User, user_id)
        return push.notify(
            KIND, occasion, user=user, clinic_id=user.clinic_id, title=TITLE, body=BODY
        )


def push_rows(app: Flask) -> list[OutboxMessage]:
    with app.app_context():
        rows = db.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.channel == "push")
        ).all()
        db.session.expunge_all()
        return list(rows)


def test_the_worker_delivers_one_decrypted_neutral_payload(
    app: Flask, world: World, service: LoopbackPushService
) -> None:
    """A patient's device turned on, then one notification posted: the outbox holds one
    push row, the worker (run at once after the commit in tests) hands it to the push
    service signed with the app's VAPID key, and what the service decrypts is the
    caller's neutral title and body with the site's root to open, a TTL and normal
    urgency."""
    device = subscribed(app, world, service)
    assert notify(app, world.patient.id) == 1
    assert service.refused == []
    [received] = service.received
    assert received.token == device.token
    assert received.payload == {"title": TITLE, "body": BODY, "url": "/"}
    assert received.ttl == "14400" and received.urgency == "normal"
    assert received.claims["aud"] == service.base_url
    [row] = push_rows(app)
    assert row.status == MessageStatus.SENT and row.body == "" and row.attempts == 1
    assert row.recipient.startswith("push device ") and row.user_id == world.patient.id
    with app.app_context():
        subscription = db.session.scalars(sa.select(PushSubscription)).one()
        assert subscription.last_used_at is not None


def test_the_same_occasion_twice_sends_once_and_each_device_gets_one(
    app: Flask, world: World, service: LoopbackPushService
) -> None:
    """Two devices: one message each; posting the same occasion again writes nothing."""
    first, second = subscribed(app, world, service), subscribed(app, world, service)
    assert notify(app, world.patient.id) == 2
    assert notify(app, world.patient.id) == 0
    assert sorted(r.token for r in service.received) == sorted([first.token, second.token])
    assert len(push_rows(app)) == 2


def test_a_due_reminder_reaches_each_device_and_the_mailbox(
    app: Flask,
    world: World,
    service: LoopbackPushService,
    on_protocol: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Reminders by email and notification, two devices on: at the slot, the minute's job
    posts one email and one push message per device; each device's push service decrypts
    the patient's chosen subject and a neutral line naming the time, nothing else; run
    again, it sends nothing more."""
    monday = datetime(2026, 11, 2, 7, 30, tzinfo=UTC)  # GMT: local time is UTC
    clock = frozen_at(monkeypatch, monday - timedelta(hours=1))
    first, second = subscribed(app, world, service), subscribed(app, world, service)
    with app.app_context():
        patient = db.session.get(Patient, world.patient.patient_id)
        save_reminders(
            patient,
            ReminderChoice(
                True, (Slot(0, time(7, 30)),), None, None, "routine", False, by_push=True
            ),
            db.session.get(User, world.patient.id),
            clock.current,
        )
        db.session.commit()
    clock.set(monday)
    with app.app_context():
        assert send_reminders_now() == 3
        assert send_reminders_now() == 0
    assert sorted(r.token for r in service.received) == sorted([first.token, second.token])
    for received in service.received:
        assert received.payload == {
            "title": "Time for your routine",
            "body": "The reminder you set for 07:30. Open to sign in.",
            "url": "/",
        }
        assert_discreet(
            Message(to="device", subject=received.payload["title"], body=received.payload["body"]),
            (world.patient.name,),
        )
    with app.app_context():
        email = db.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.channel == "email")
        ).one()
    assert (email.kind, email.subject) == (MessageKind.REMINDER.value, "Time for your routine")


def test_a_user_without_a_device_gets_no_row(app: Flask, world: World) -> None:
    """No subscription, no message: notify says so and the outbox stays empty."""
    assert notify(app, world.patient.id) == 0
    assert push_rows(app) == []


def test_410_removes_the_subscription(
    app: Flask, world: World, service: LoopbackPushService
) -> None:
    """The push service says the subscription is gone (410): it is deleted, and the
    message is "not needed", not failed or retried."""
    device = subscribed(app, world, service)
    service.answers[device.token] = 410
    notify(app, world.patient.id)
    [row] = push_rows(app)
    assert row.status == MessageStatus.CANCELLED and row.last_error == DEVICE_GONE
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PushSubscription)) == 0


def test_a_busy_or_unreachable_push_service_uses_no_attempt(
    app: Flask, world: World, service: LoopbackPushService
) -> None:
    """503 from the service, then no service at all: the message waits without using an
    attempt (as when the mail server is away); once the service answers, it goes."""
    device = subscribed(app, world, service)
    service.answers[device.token] = 503
    notify(app, world.patient.id)
    [row] = push_rows(app)
    assert row.status == MessageStatus.PENDING and row.attempts == 0
    assert row.last_error.startswith(PUSH_UNREACHABLE)
    with app.app_context():
        # Nothing listens on the endpoint's port any more: a connection refused.
        subscription = db.session.scalars(sa.select(PushSubscription)).one()
        subscription.endpoint = "http://127.0.0.1:9/push/" + device.token
        db.session.execute(sa.update(OutboxMessage).values(next_attempt_at=utcnow()))
        db.session.commit()
        assert deliver_due().sent == 0
    [row] = push_rows(app)
    assert row.status == MessageStatus.PENDING and row.attempts == 0
    assert "ConnectionError" in row.last_error and "127.0.0.1" not in row.last_error
    with app.app_context():
        subscription = db.session.scalars(sa.select(PushSubscription)).one()
        subscription.endpoint = device.endpoint
        db.session.execute(sa.update(OutboxMessage).values(next_attempt_at=utcnow()))
        db.session.commit()
        service.answers.pop(device.token)
        assert deliver_due().sent == 1
    assert [r.payload["title"] for r in service.received] == [TITLE]


def test_a_refusal_backs_off_and_is_recorded_on_the_device(
    app: Flask, world: World, service: LoopbackPushService
) -> None:
    """Any other refusal (400) uses an attempt and waits, like a refused email; the
    device keeps the kind of error, never the endpoint."""
    device = subscribed(app, world, service)
    service.answers[device.token] = 400
    notify(app, world.patient.id)
    [row] = push_rows(app)
    assert row.status == MessageStatus.PENDING and row.attempts == 1
    assert row.last_error == "push service refused (400)"
    assert row.next_attempt_at > utcnow() + timedelta(seconds=30)
    with app.app_context():
        subscription = db.session.scalars(sa.select(PushSubscription)).one()
        assert subscription.last_error == "push service refused (400)"


def test_a_device_turned_off_before_sending_makes_the_message_not_needed(
    app: Flask, world: World, service: LoopbackPushService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A message written for a device the patient turns off before the worker sends it
    is "not needed": nothing goes to the push service."""
    from clinic.outbox import jobs

    device = subscribed(app, world, service)
    monkeypatch.setattr(jobs, "deliver_due", lambda: None)  # hold the worker back
    monkeypatch.setattr(jobs, "come_back_when_due", lambda: None)
    notify(app, world.patient.id)
    client = app.test_client()
    act_as(client, world.patient.id)
    assert client.post(UNSUBSCRIBE, data={"endpoint": device.endpoint}, headers=JSON).json == {
        "state": "off",
        "message": "Notifications are off for this device.",
    }
    with app.app_context():
        deliver_due()
    [row] = push_rows(app)
    assert row.status == MessageStatus.CANCELLED and service.received == []


def test_the_payload_carries_no_health_words(
    app: Flask, world: World, service: LoopbackPushService
) -> None:
    """What the push service decrypts (the words shown and the whole plaintext) passes
    the privacy deny-list, with the patient's name and the clinic's name as extra words."""
    subscribed(app, world, service)
    notify(app, world.patient.id)
    [received] = service.received
    payload = received.payload
    with app.app_context():
        clinic_name = db.session.get(Clinic, world.clinic_a).name
    also = [world.patient.name, clinic_name]
    assert_discreet(Message(to="device", subject=payload["title"], body=payload["body"]), also)
    assert_discreet(Message(to="device", subject="", body=received.plaintext.decode()), also)


def test_a_patient_can_never_remove_another_patients_device(
    app: Flask, world: World, service: LoopbackPushService
) -> None:
    """The other patient posts the first one's endpoint to "turn off": 404, and the
    subscription stays; the attempt is audited as not done."""
    device = subscribed(app, world, service)
    other = app.test_client()
    act_as(other, world.other_patient.id)
    response = other.post(UNSUBSCRIBE, data={"endpoint": device.endpoint}, headers=JSON)
    assert response.status_code == 404
    with app.app_context():
        subscription = db.session.scalars(sa.select(PushSubscription)).one()
        assert subscription.user_id == world.patient.id
        outcomes = db.session.scalars(
            sa.select(AuditEvent.outcome).where(AuditEvent.action == "push.unsubscribe")
        ).all()
        assert outcomes == ["refused"]


def test_the_same_browser_turned_on_by_another_patient_moves_to_them(
    app: Flask, world: World, service: LoopbackPushService
) -> None:
    """One browser, two patients in turn: the endpoint is one row, now the second
    patient's, so the first one's notifications never show on a device someone else
    now uses."""
    device = subscribed(app, world, service)
    other = app.test_client()
    act_as(other, world.other_patient.id)
    assert other.post(SUBSCRIBE, data=device.form(), headers=JSON).status_code == 200
    with app.app_context():
        subscription = db.session.scalars(sa.select(PushSubscription)).one()
        assert subscription.user_id == world.other_patient.id
    assert notify(app, world.patient.id) == 0


def test_subscribe_and_unsubscribe_are_audited_with_the_service_host_only(
    app: Flask, world: World, service: LoopbackPushService
) -> None:
    """Both events name the patient and the push service's host; the endpoint's path
    (which identifies the browser) is nowhere in the audit trail."""
    device = subscribed(app, world, service)
    client = app.test_client()
    act_as(client, world.patient.id)
    client.post(UNSUBSCRIBE, data={"endpoint": device.endpoint}, headers=JSON)
    with app.app_context():
        events = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action.like("push.%")).order_by(AuditEvent.id)
        ).all()
        assert [e.action for e in events] == ["push.subscribe", "push.unsubscribe"]
        for event in events:
            assert event.patient_id == world.patient.patient_id and event.outcome == "ok"
            assert json.loads(event.detail)["service"] == "127.0.0.1"
            assert device.token not in event.detail


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"endpoint": "https://attacker.example/push/x"}, "not one this site sends to"),
        ({"endpoint": "http://169.254.169.254/latest"}, "not one this site sends to"),
        # requests would post to attacker.example (urllib3 ends the host at "\\").
        ({"endpoint": "http://attacker.example\\.127.0.0.1/push/x"}, "not one this site"),
        # Not ASCII: 4,500 bytes that PostgreSQL's unique index on the endpoint cannot hold.
        ({"endpoint": "http://127.0.0.1/push/" + NOT_ASCII}, "not one this site sends to"),
        ({"p256dh": "not-a-key"}, "not understood"),
        ({"auth": "QUJD"}, "not understood"),
        ({"endpoint": ""}, "not understood"),
    ],
)
def test_a_subscription_the_server_cannot_use_is_refused(
    app: Flask, world: World, service: LoopbackPushService, change: dict, expected: str
) -> None:
    """Endpoints outside the configured push services (the worker would post there) and
    keys that are not a P-256 point and a 16-byte secret are refused, in plain words."""
    device = service.subscribe()
    client = app.test_client()
    act_as(client, world.patient.id)
    response = client.post(SUBSCRIBE, data={**device.form(), **change}, headers=JSON)
    assert response.status_code == 400 and expected in response.json["message"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PushSubscription)) == 0


def test_without_script_a_form_post_comes_back_to_the_page(
    app: Flask, world: World, service: LoopbackPushService
) -> None:
    """A plain form post (no JSON asked for) is answered with the notifications page and
    a message, as every form here is."""
    client = app.test_client()
    act_as(client, world.patient.id)
    response = client.post(SUBSCRIBE, data=service.subscribe().form(), follow_redirects=True)
    assert response.status_code == 200
    assert "Notifications are on for this device." in response.get_data(as_text=True)


def test_erasing_the_patient_erases_their_devices(
    app: Flask, world: World, service: LoopbackPushService
) -> None:
    """A patient's erasure takes their subscriptions with it (clinic.rights)."""
    from clinic.rights.erasure import erased_tables

    assert "push_subscriptions" in erased_tables()


def test_the_key_file_is_made_once_with_mode_0600_and_reused(tmp_path) -> None:
    """Without a configured key, the first use makes instance/vapid-private.pem, owner
    read/write only; threads racing to make it end with one key, which a new app (a
    restart) reads back rather than replacing."""
    instance = tmp_path / "instance"
    apps = [create_app(config_for_tests("sqlite://", VAPID_PRIVATE_KEY="")) for _ in range(4)]
    for each in apps:
        each.instance_path = str(instance)
    keys: list[str] = []
    barrier = threading.Barrier(len(apps))

    def first_use(each: Flask) -> None:
        with each.app_context():
            barrier.wait()
            keys.append(webpush.application_server_key())

    threads = [threading.Thread(target=first_use, args=(each,)) for each in apps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    path = instance / webpush.KEY_FILE
    assert len(set(keys)) == 1 and len(keys) == len(apps)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert sorted(p.name for p in instance.iterdir()) == [webpush.KEY_FILE]
    before = path.read_bytes()
    restarted = create_app(config_for_tests("sqlite://", VAPID_PRIVATE_KEY=""))
    restarted.instance_path = str(instance)
    with restarted.app_context():
        assert webpush.application_server_key() == keys[0]
    assert path.read_bytes() == before


def test_a_key_file_others_could_read_is_made_private(
    tmp_path, caplog: pytest.LogCaptureFixture
) -> None:
    """A key file restored with a loose mode (0644) is read as it is, made owner-only
    again, and the log says so (without the key)."""
    made = create_app(config_for_tests("sqlite://", VAPID_PRIVATE_KEY=""))
    made.instance_path = str(tmp_path)
    with made.app_context():
        key = webpush.application_server_key()
    path = tmp_path / webpush.KEY_FILE
    path.chmod(0o644)
    restored = create_app(config_for_tests("sqlite://", VAPID_PRIVATE_KEY=""))
    restored.instance_path = str(tmp_path)
    with restored.app_context():
        assert webpush.application_server_key() == key
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert "made private" in caplog.text and "PRIVATE KEY" not in caplog.text


def test_a_configured_key_is_used_and_no_file_is_made(tmp_path) -> None:
    """CLINIC_VAPID_PRIVATE_KEY (the VAPID_PRIVATE_KEY setting) wins: no file appears."""
    from tests.support.apps import vapid_key_for_tests

    configured = create_app(config_for_tests("sqlite://"))
    configured.instance_path = str(tmp_path)
    with configured.app_context():
        key = webpush.vapid()
    assert key.private_pem().decode() == vapid_key_for_tests()
    assert list(tmp_path.iterdir()) == []


def test_no_endpoint_reaches_the_logs(
    app: Flask, world: World, service: LoopbackPushService, caplog: pytest.LogCaptureFixture
) -> None:
    """Subscribing, sending and a gone device, with every logger at DEBUG: the endpoints'
    paths (which identify browsers) appear in no log record. (urllib3 would write each
    request line at DEBUG: clinic.core.webpush keeps its logger at INFO.)"""
    caplog.set_level(logging.DEBUG)
    first, second = subscribed(app, world, service), subscribed(app, world, service)
    service.answers[second.token] = 410
    notify(app, world.patient.id)
    assert [r.token for r in service.received] == [first.token]
    assert logging.getLogger("urllib3.connectionpool").getEffectiveLevel() >= logging.INFO
    for device in (first, second):
        assert device.token not in caplog.text


def test_an_unexpected_push_error_neither_stops_the_emails_nor_sticks_in_sending(
    app: Flask,
    world: World,
    service: LoopbackPushService,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path,
) -> None:
    """The push side fails in a way it did not foresee (here the key file cannot be read:
    PermissionError): that one message is refused (an attempt used, backing off), and the
    emails claimed in the same batch after it are still sent, not left "sending"."""
    from clinic.core.mail import FileTransport
    from clinic.outbox import jobs
    from tests.support.outbox import add_messages, transport_in_use

    subscribed(app, world, service)
    monkeypatch.setattr(jobs, "deliver_due", lambda: None)  # hold the worker back
    monkeypatch.setattr(jobs, "come_back_when_due", lambda: None)
    notify(app, world.patient.id)
    with app.app_context():
        db.session.execute(
            sa.update(OutboxMessage).values(next_attempt_at=utcnow() - timedelta(minutes=1))
        )
        db.session.commit()
    emails = add_messages(app, world.clinic_a, 2, MessageStatus.PENDING)

    def unreadable_key() -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(webpush, "vapid", unreadable_key)
    with app.app_context(), transport_in_use(app, FileTransport(tmp_path, "no-reply@x.test")):
        done = deliver_due()
        rows = {m.id: m for m in db.session.scalars(sa.select(OutboxMessage))}
    assert (done.sent, done.refused) == (2, 1)
    assert {rows[i].status for i in emails} == {MessageStatus.SENT}
    [row] = push_rows(app)
    assert row.status == MessageStatus.PENDING and row.attempts == 1
    assert row.last_error == "could not be sent (PermissionError)"
    assert service.received == []


def test_a_mail_server_outage_does_not_hold_back_push_messages(
    app: Flask, world: World, service: LoopbackPushService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An email due before a push message, with the mail server unreachable: the email
    waits without using an attempt, as before, and the push message still goes to its
    device in the same run instead of waiting for the mail server."""
    from clinic.core.mail import MailServerUnavailable
    from clinic.outbox import jobs
    from tests.support.outbox import add_messages, transport_in_use

    class NoMailServer:
        @contextmanager
        def session(self):
            def send(message: Message) -> None:
                raise MailServerUnavailable("ConnectionRefusedError")

            yield send

    device = subscribed(app, world, service)
    monkeypatch.setattr(jobs, "deliver_due", lambda: None)  # hold the worker back
    monkeypatch.setattr(jobs, "come_back_when_due", lambda: None)
    (email,) = add_messages(app, world.clinic_a, 1, MessageStatus.PENDING, minutes_ago=5)
    notify(app, world.patient.id)
    with app.app_context(), transport_in_use(app, NoMailServer()):
        done = deliver_due()
        waiting = db.session.get(OutboxMessage, email)
        assert done.server_unavailable and done.sent == 1
        assert waiting.status == MessageStatus.PENDING and waiting.attempts == 0
    [row] = push_rows(app)
    assert row.status == MessageStatus.SENT
    assert [r.token for r in service.received] == [device.token]


def test_an_unusable_signing_key_is_not_blamed_on_the_device(
    app: Flask, world: World, service: LoopbackPushService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A configured VAPID key that is not a key (a deployment's mistake) fails the send,
    but the device keeps no error of its own: it is the server's key, not the
    subscription's keys, that could not be used."""
    subscribed(app, world, service)
    monkeypatch.setitem(app.config, "VAPID_PRIVATE_KEY", "not a PEM")
    app.extensions.pop(webpush._EXTENSION_KEY, None)
    notify(app, world.patient.id)
    [row] = push_rows(app)
    assert row.status == MessageStatus.PENDING and row.attempts == 1
    assert "subscription" not in row.last_error
    with app.app_context():
        subscription = db.session.scalars(sa.select(PushSubscription)).one()
        assert subscription.last_error == "" and subscription.last_failed_at is None
    assert service.received == []

"""Notifications on this device, in Debian's Chromium: the switch on /account/notifications,
the service worker, and the installable portal.

Headless Chromium here has no network, so its real push service (Google's FCM) cannot be
reached and `pushManager.subscribe()` fails ("AbortError: Registration failed - push
service error"). The tests therefore split the journey where that wall stands:

- `test_turning_on_asks_only_after_the_tap_and_registers_the_worker` runs the real flow
  as far as it goes: no permission question on load, one after the tap, the service
  worker registered and active with the portal's scope; then the real subscribe fails,
  and the page tells the patient so in plain words, and nothing reaches the server.
- `test_a_subscription_reaches_the_server_and_a_push_is_shown` replaces only the
  browser's `subscribe()` with one that answers what a push service would: a
  subscription at the test's loopback push service, whose keys the test made. From there
  everything is real: the page posts it with its CSRF token, the server keeps it, the
  outbox's delivery signs and encrypts a message to the loopback service (which checks
  the VAPID signature and decrypts it), and the same payload, delivered to the real
  service worker through the DevTools protocol (`ServiceWorker.deliverPushMessage`),
  becomes a notification with the expected title and body. Then "Turn off on this
  device" removes it on both sides.
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Iterator
from datetime import date

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, BrowserContext, Page, expect

from clinic import push
from clinic.core import webpush
from clinic.core.uow import unit_of_work
from clinic.extensions import db
from clinic.models import ClinicLanguage, Patient, User
from clinic.models.push import PushSubscription
from clinic.outbox.kinds import MessageKind
from tests.e2e.helpers import sign_in, sign_out
from tests.support.browser import DESKTOP, PHONE_390, LiveServer, open_context
from tests.support.push import BrowserSubscription, LoopbackPushService, loopback_push_service

PATIENT = "sam.rivera@example.org"
CLINICIAN = "physio@northside.example"
TITLE = "A reminder"
BODY = "There is something for you to do today. Open to sign in."

# Counts the page's permission questions (before any page script runs).
COUNT_PERMISSION_ASKS = """
window.__permissionAsks = 0;
const ask = Notification.requestPermission.bind(Notification);
Notification.requestPermission = (...args) => {
  window.__permissionAsks += 1;
  return ask(...args);
};
"""

# The browser's subscribe() answered as a push service would, with a subscription the
# test made at its loopback service (see the module's docstring).
FAKE_SUBSCRIBE = """
(() => {
  const made = %s;
  // Kept across reloads, as the browser keeps a subscription.
  const KEPT = "e2e-fake-subscription";
  let current = null;
  const bytes = (text) => {
    const padded = text + "===".slice((text.length + 3) %% 4);
    const raw = atob(padded.replace(/-/g, "+").replace(/_/g, "/"));
    return Uint8Array.from(raw, (c) => c.charCodeAt(0)).buffer;
  };
  const subscription = {
    endpoint: made.endpoint,
    expirationTime: null,
    options: {},
    getKey: (name) => bytes(made[name]),
    toJSON: () => ({
      endpoint: made.endpoint,
      expirationTime: null,
      keys: { p256dh: made.p256dh, auth: made.auth },
    }),
    unsubscribe: async () => { current = null; localStorage.removeItem(KEPT); return true; },
  };
  if (localStorage.getItem(KEPT)) { current = subscription; }
  PushManager.prototype.subscribe = async function () {
    current = subscription; localStorage.setItem(KEPT, "1"); return current;
  };
  PushManager.prototype.getSubscription = async function () { return current; };
})();
"""


def patient_devices(live_server: LiveServer) -> list[str]:
    with live_server.app.app_context():
        return list(
            db.session.scalars(
                sa.select(PushSubscription.endpoint)
                .join(User, User.id == PushSubscription.user_id)
                .where(User.email == PATIENT)
            )
        )


@pytest.fixture
def context(browser: Browser, live_server: LiveServer) -> Iterator[BrowserContext]:
    """A desktop context that counts permission questions, notifications granted (as
    the patient would grant them when asked: Chromium headless cannot show the prompt)."""
    opened = open_context(browser, live_server, DESKTOP)
    opened.add_init_script(COUNT_PERMISSION_ASKS)
    opened.grant_permissions(["notifications"], origin=live_server.base_url)
    yield opened
    opened.close()


@pytest.fixture
def service(
    live_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[LoopbackPushService]:
    """A push service on the loopback that the live server may post to."""
    monkeypatch.setitem(live_server.app.config, "PUSH_ALLOW_HTTP", True)
    monkeypatch.setitem(live_server.app.config, "PUSH_SERVICE_HOSTS", ("127.0.0.1",))
    with live_server.app.app_context():
        key = webpush.application_server_key()
    with loopback_push_service(key) as running:
        yield running


def open_switch(page: Page) -> None:
    sign_in(page, PATIENT)
    page.goto("/account/notifications")
    expect(page.get_by_role("heading", name="Notifications on this device")).to_be_visible()


def test_turning_on_asks_only_after_the_tap_and_registers_the_worker(
    context: BrowserContext, live_server: LiveServer
) -> None:
    """On load: no permission question, the state "off" and the button. After the tap:
    one question, the service worker active at /diary/; the real push service being
    unreachable here, the page says so plainly, keeps the button, and the server has no
    subscription."""
    page = context.new_page()
    open_switch(page)
    section = page.locator("[data-push-device]")
    expect(section.locator("[data-push-state]")).to_have_text(
        "Notifications are off for this device."
    )
    assert page.evaluate("window.__permissionAsks") == 0
    assert page.evaluate("navigator.serviceWorker.getRegistration('/diary/')") is None

    page.get_by_role("button", name="Turn on notifications").click()

    expect(section.locator("[data-push-state]")).to_contain_text(
        "could not reach its notification service", timeout=20_000
    )
    assert page.evaluate("window.__permissionAsks") == 1
    registered = page.evaluate(
        """navigator.serviceWorker.getRegistration('/diary/').then(
             (r) => r && { scope: r.scope, script: r.active && r.active.scriptURL })"""
    )
    assert registered == {
        "scope": live_server.url("/diary/"),
        "script": live_server.url("/diary/service-worker.js"),
    }
    expect(page.get_by_role("button", name="Turn on notifications")).to_be_visible()
    assert patient_devices(live_server) == []


def test_a_subscription_reaches_the_server_and_a_push_is_shown(
    context: BrowserContext, live_server: LiveServer, service: LoopbackPushService
) -> None:
    """The page posts the browser's subscription (its CSRF token with it) and shows "on";
    the outbox's delivery reaches the loopback push service, which verifies and decrypts
    the neutral payload; delivered to the service worker, it shows as a notification;
    "Turn off on this device" then forgets the device on the server."""
    device: BrowserSubscription = service.subscribe()
    context.add_init_script(FAKE_SUBSCRIBE % json.dumps(device.form()))
    page = context.new_page()
    open_switch(page)
    page.get_by_role("button", name="Turn on notifications").click()
    state = page.locator("[data-push-state]")
    expect(state).to_have_text("Notifications are on for this device.", timeout=20_000)
    expect(page.get_by_role("button", name="Turn off on this device")).to_be_visible()
    assert patient_devices(live_server) == [device.endpoint]

    # Reloaded, the page recognises this device as on (by its endpoint's digest).
    page.reload()
    expect(state).to_have_text("Notifications are on for this device.")

    # The server sends: one message, verified and decrypted by the push service.
    with live_server.app.app_context(), unit_of_work():
        user = db.session.scalars(sa.select(User).where(User.email == PATIENT)).one()
        push.notify(
            MessageKind.QUESTIONNAIRE_READY,
            "e2e-push",
            user=user,
            clinic_id=user.clinic_id,
            title=TITLE,
            body=BODY,
        )
    [received] = service.received
    assert received.payload == {"title": TITLE, "body": BODY, "url": "/"}

    # The real service worker turns that payload into a notification.
    cdp = context.new_cdp_session(page)
    registrations: list[dict] = []
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda e: registrations.extend(e["registrations"]),
    )
    cdp.send("ServiceWorker.enable")
    page.wait_for_timeout(500)
    [registration] = [r for r in registrations if r["scopeURL"] == live_server.url("/diary/")]
    # A push delivered to a worker not yet activated can be dropped (seen once in CI, on a
    # loaded machine): wait for it to be active, and deliver again if nothing shows (the
    # notification's tag makes a second one replace the first, not add to it).
    state_of_worker = """navigator.serviceWorker.getRegistration('/diary/')
                           .then((r) => r && r.active && r.active.state)"""
    for _ in range(100):
        if page.evaluate(state_of_worker) == "activated":
            break
        page.wait_for_timeout(100)
    shown: list[dict] = []
    for _attempt in range(2):
        cdp.send(
            "ServiceWorker.deliverPushMessage",
            {
                "origin": live_server.base_url,
                "registrationId": registration["registrationId"],
                "data": received.plaintext.decode(),
            },
        )
        for _ in range(50):  # the worker shows it within moments
            shown = page.evaluate(
                """navigator.serviceWorker.getRegistration('/diary/')
                     .then((r) => r.getNotifications())
                     .then((list) => list.map(
                       (n) => ({ title: n.title, body: n.body, url: n.data.url })))"""
            )
            if shown:
                break
            page.wait_for_timeout(200)
        if shown:
            break
    assert shown == [{"title": TITLE, "body": BODY, "url": live_server.url("/")}]

    page.get_by_role("button", name="Turn off on this device").click()
    expect(state).to_have_text("Notifications are off for this device.")
    expect(page.get_by_role("button", name="Turn on notifications")).to_be_visible()
    assert patient_devices(live_server) == []


def test_blocked_notifications_are_said_plainly(browser: Browser, live_server: LiveServer) -> None:
    """Notifications the browser blocks for the site: the page says so and how to change
    it, and offers no button that could not work."""
    opened = open_context(browser, live_server, PHONE_390)
    try:
        page = opened.new_page()
        # The context's id, from the page's own target, to deny notifications there.
        target = opened.new_cdp_session(page).send("Target.getTargetInfo")["targetInfo"]
        browser.new_browser_cdp_session().send(
            "Browser.setPermission",
            {
                "permission": {"name": "notifications"},
                "setting": "denied",
                "origin": live_server.base_url,
                "browserContextId": target["browserContextId"],
            },
        )
        open_switch(page)
        expect(page.locator("[data-push-state]")).to_contain_text(
            "blocked by the browser for this site"
        )
        expect(page.get_by_role("button", name="Turn on notifications")).to_be_hidden()
        expect(page.get_by_role("button", name="Turn off on this device")).to_be_hidden()
    finally:
        opened.close()


def test_without_javascript_the_section_says_email_still_works(
    browser: Browser, live_server: LiveServer
) -> None:
    """Script off: the section says notifications need JavaScript and email reminders
    still work, and shows no button."""
    opened = browser.new_context(
        base_url=live_server.base_url, java_script_enabled=False, **DESKTOP
    )
    try:
        page = opened.new_page()
        page.goto("/login")
        page.get_by_label("Email").fill(PATIENT)
        page.get_by_label("Password").fill("demo-pass-2026")
        page.get_by_role("button", name="Sign in").click()
        page.goto("/account/notifications")
        section = page.locator("[data-push-device]")
        expect(section).to_contain_text("Notifications need a browser with JavaScript turned on.")
        expect(section).to_contain_text("Email reminders still work without it.")
        expect(page.get_by_role("button", name="Turn on notifications")).to_be_hidden()
    finally:
        opened.close()


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    zlib.crc32(data)  # a whole file, read
    return width, height


def test_the_portal_is_installable(page: Page, live_server: LiveServer) -> None:
    """Patient pages link a valid manifest (neutral name, start and scope /diary/,
    standalone, 192 and 512 px PNG icons that load), Chromium reports no installability
    error but the incognito profile Playwright's contexts are, and staff pages link no
    manifest."""
    sign_in(page, PATIENT)
    page.goto("/diary/")
    href = page.locator("link[rel=manifest]").get_attribute("href")
    assert href == "/diary/manifest.webmanifest"
    response = page.request.get(href)
    assert response.ok and response.headers["content-type"].startswith("application/manifest+json")
    manifest = response.json()
    assert manifest["name"] == "Therapy diary" and manifest["short_name"] == "Diary"
    assert manifest["start_url"] == manifest["scope"] == manifest["id"] == "/diary/"
    assert manifest["display"] == "standalone"
    assert manifest["theme_color"].startswith("#") and manifest["background_color"].startswith("#")
    sizes = {}
    for icon in manifest["icons"]:
        fetched = page.request.get(icon["src"])
        assert fetched.ok, icon["src"]
        if icon["type"] == "image/png":
            sizes[icon["sizes"]] = _png_size(fetched.body())
    assert sizes == {"192x192": (192, 192), "512x512": (512, 512)}
    worker = page.request.get("/diary/service-worker.js")
    assert worker.ok and worker.headers["content-type"].startswith("text/javascript")

    page.evaluate(
        "navigator.serviceWorker.register('/diary/service-worker.js', {scope: '/diary/'})"
        ".then(() => navigator.serviceWorker.ready)"
    )
    page.reload()
    cdp = page.context.new_cdp_session(page)
    errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
    # A Playwright context is an incognito profile, where Chromium installs nothing;
    # any other error would be the portal's.
    assert [e["errorId"] for e in errors if e["errorId"] != "in-incognito"] == [], errors

    sign_out(page)
    sign_in(page, CLINICIAN)
    assert page.locator("link[rel=manifest]").count() == 0


@pytest.fixture
def spanish_patient(live_server: LiveServer) -> Iterator[None]:
    """The demo patient reads Spanish, which their clinic has turned on (issue 20); both
    undone afterwards (the live server's data is shared by the run's browser tests)."""
    with live_server.app.app_context():
        patient = db.session.scalar(
            sa.select(Patient).join(User, User.id == Patient.user_id).where(User.email == PATIENT)
        )
        before = patient.language
        patient.language = "es"
        turned_on = ClinicLanguage(
            clinic_id=patient.clinic_id,
            code="es",
            reviewed_by="Dr Review, pelvic-health physiotherapist",
            reviewed_on=date(2026, 11, 1),
        )
        db.session.add(turned_on)
        db.session.commit()
        patient_id, row_id = patient.id, turned_on.id
    yield
    with live_server.app.app_context():
        db.session.get_one(Patient, patient_id).language = before
        db.session.execute(sa.delete(ClinicLanguage).where(ClinicLanguage.id == row_id))
        db.session.commit()


def test_the_switch_and_its_script_speak_the_patients_language(
    context: BrowserContext, live_server: LiveServer, spanish_patient: None
) -> None:
    """For a patient who reads Spanish, the section and the words its script writes (the
    state of this device) are Spanish; the account page offers their language by its
    own name, chosen. (Every page is checked at 390 px and for accessibility.)"""
    page = context.new_page()
    sign_in(page, PATIENT)
    page.goto("/account/notifications")
    expect(page.get_by_role("heading", name="Notificaciones en este dispositivo")).to_be_visible()
    expect(page.locator("[data-push-device] [data-push-state]")).to_have_text(
        "Las notificaciones están desactivadas en este dispositivo."
    )
    expect(page.get_by_role("button", name="Activar las notificaciones")).to_be_visible()
    page.goto("/account")
    expect(page.get_by_role("heading", level=1, name="Su cuenta")).to_be_visible()
    expect(page.get_by_role("radio", name="Español")).to_be_checked()
    page.get_by_role("banner").get_by_role("button", name="Cerrar sesión").click()
    expect(page.get_by_role("heading", level=1, name="Sign in")).to_be_visible()

"""The installable portal and the "Notifications on this device" switch.

- `/diary/manifest.webmanifest`: the web app manifest (a neutral name and icon: an
  installed portal on a home screen says nothing about care). Public: browsers fetch
  manifests without cookies.
- `/diary/service-worker.js`: the service worker (clinic/static/push-sw.js), served from
  under `/diary/` so that its scope covers the portal. It shows a notification when a
  push arrives and opens the portal when it is tapped; it caches nothing (the pages hold
  health data and are never stored). Public, like any script.
- `POST /account/notifications/device` and `.../device/off`: the signed-in patient turns
  notifications on or off on this device (clinic.push.services). The page's script sends
  them with fetch and reads a JSON answer; a form sent without script gets the page back.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, flash, jsonify, redirect, request, url_for
from flask_babel import get_locale, gettext
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from clinic.access import public, roles
from clinic.audit.log import audited, own_patient
from clinic.core.templating import NEUTRAL_BRAND
from clinic.core.uow import discard
from clinic.core.webpush import application_server_key
from clinic.domain.text import N_
from clinic.i18n import language
from clinic.models import Role, User
from clinic.push import PORTAL_PATH, devices_of, services
from clinic.push.forms import SubscribeForm, UnsubscribeForm

bp = Blueprint("push", __name__)

SERVICE_WORKER = "push-sw.js"
# The manifest's words and colours: the portal's own, with nothing about care.
APP_NAME = NEUTRAL_BRAND
APP_SHORT_NAME = N_("Diary")
THEME_COLOUR = "#1d6a72"
BACKGROUND_COLOUR = "#ffffff"

# Marked for translation; `_answer` says them (and the forms' messages) in the patient's
# language.
TURNED_ON = N_("Notifications are on for this device.")
TURNED_OFF = N_("Notifications are off for this device.")
NOT_FOUND = N_("This device had no notifications on.")
UNREADABLE = N_("The form could not be read.")
EXPIRED = N_("The page had expired. Reload it and try again.")
UNREADABLE_RELOAD = N_("The form could not be read. Reload the page and try again.")


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


def _answer(status: int, state: str, message: str) -> BaseResponse:
    """JSON for the page's script; for a plain form, the notifications page again. The
    message (an English msgid) is said in the page's language."""
    message = gettext(message)
    if _wants_json():
        response = jsonify({"state": state, "message": message})
        response.status_code = status
        return response
    flash(message, "success" if status == 200 else "error")
    return redirect(url_for("account.notifications"))


def endpoint_digest(endpoint: str) -> str:
    """How the page names a device's endpoint without showing it: its SHA-256 (the
    script hashes the browser's own endpoint the same way to see whether it is on)."""
    return hashlib.sha256(endpoint.encode()).hexdigest()


@bp.app_template_global("push_device_context")
def device_context() -> dict[str, Any]:
    """What templates/push/_device.html needs, for the signed-in patient: the public
    key browsers subscribe with, the service worker and its scope, and the digests of the
    endpoints of this patient's devices."""
    user: User = current_user._get_current_object()
    return {
        "key": application_server_key(),
        "worker": url_for("push.service_worker"),
        "scope": PORTAL_PATH,
        "known": [endpoint_digest(device.endpoint) for device in devices_of(user)],
    }


@bp.app_template_global("push_device_count")
def device_count() -> int:
    """How many devices the signed-in patient has turned notifications on on."""
    return len(devices_of(current_user._get_current_object()))


@bp.get("/diary/manifest.webmanifest")
@public
def manifest() -> Response:
    """The web app manifest that makes the portal installable."""
    icons = [
        {
            "src": url_for("static", filename=f"icons/app-{size}.png"),
            "sizes": f"{size}x{size}",
            "type": "image/png",
            "purpose": "any",
        }
        for size in (192, 512)
    ]
    icons.append(
        {
            "src": url_for("static", filename="icons/logo.svg"),
            "sizes": "any",
            "type": "image/svg+xml",
            "purpose": "any",
        }
    )
    response = jsonify(
        {
            "id": PORTAL_PATH,
            "name": gettext(APP_NAME),
            "short_name": gettext(APP_SHORT_NAME),
            "start_url": PORTAL_PATH,
            "scope": PORTAL_PATH,
            "display": "standalone",
            "theme_color": THEME_COLOUR,
            "background_color": BACKGROUND_COLOUR,
            "lang": language(str(get_locale() or "en")).lang,
            "icons": icons,
        }
    )
    response.mimetype = "application/manifest+json"
    return response


@bp.get("/diary/service-worker.js")
@public
def service_worker() -> Response:
    """The service worker script, served from the portal's path (its scope)."""
    script = Path(current_app.static_folder or "") / SERVICE_WORKER
    response = current_app.response_class(script.read_bytes(), mimetype="text/javascript")
    # The browser checks for a new version on its own; never serve it a stale one.
    response.headers["Service-Worker-Allowed"] = PORTAL_PATH
    return response


@bp.post("/account/notifications/device")
@roles(Role.PATIENT)
@audited(change="push.subscribe", patient=own_patient, object_type="push_subscription")
def subscribe() -> BaseResponse:
    """Turn notifications on for this device (the browser's subscription)."""
    user: User = current_user._get_current_object()
    form = SubscribeForm()
    if not form.validate_on_submit():
        message = next(iter(form.errors.values()), [UNREADABLE])[0]
        if "csrf_token" in form.errors:
            message = EXPIRED
        return _answer(400, "error", str(message))
    services.subscribe(
        user, endpoint=form.endpoint.data, p256dh=form.p256dh.data, auth=form.auth.data
    )
    return _answer(200, "on", TURNED_ON)


@bp.post("/account/notifications/device/off")
@roles(Role.PATIENT)
@audited(change="push.unsubscribe", patient=own_patient, object_type="push_subscription")
def unsubscribe() -> BaseResponse:
    """Turn notifications off for this device."""
    user: User = current_user._get_current_object()
    form = UnsubscribeForm()
    if not form.validate_on_submit():
        return _answer(400, "error", UNREADABLE_RELOAD)
    if not services.unsubscribe(user, endpoint=form.endpoint.data):
        discard()
        return _answer(404, "off", NOT_FOUND)
    return _answer(200, "off", TURNED_OFF)

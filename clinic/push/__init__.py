"""Web Push: notifications on the devices where a patient turned them on.

The public API is `notify(...)`, called inside a unit of work (a reminders job, say):

    from clinic import push
    push.notify(MessageKind.X, occasion, user=user, clinic_id=user.clinic_id,
                title="A reminder", body="Something to do today. Open to see it.")

It writes one outbox row per device (subscription) the user has, and nothing when they
have none; the outbox's worker sends them (clinic.outbox.delivery, clinic.core.webpush).
One row per device, not per user: each device's push service answers for itself (one
may be gone, 410, while another accepted), and a retry must go to the device that failed
only, never again to those that showed it. The key names the device (as the message's
address: "push device 12"), so a job that runs twice still posts one message per
occasion and device; `occasion` is passed on to `post` as it is, so the outbox's
occasion check (tests/unit/test_outbox_occasions.py) classifies each caller's.

What a payload says is the caller's choice of `title` and `body`: neutral words only (no
condition, device, symptom, score, name or clinic name; tests/support/privacy.py lists
the words refused), because a notification shows on a lock screen. The payload also
carries `url`, the page of this site the notification opens (the site's root unless
the caller names another path).

The subscriptions themselves (turning notifications on and off on a device) are
clinic.push.services; the pages, manifest and service worker are clinic.push.views.
"""

from __future__ import annotations

import json

import sqlalchemy as sa

from clinic.extensions import db
from clinic.models import User
from clinic.models.push import PushSubscription
from clinic.outbox import PUSH, Content, post
from clinic.outbox.kinds import MessageKind

# The portal's path (the manifest's scope and start, the service worker's scope).
PORTAL_PATH = "/diary/"
# Where a notification takes the patient: the site's root, which sends a signed-in
# patient to the portal and anyone else to sign in. Not "/diary/": the payload carries
# no telling word, not even in a path the device never shows.
OPEN_PATH = "/"
# Push services take up to 4 KiB encrypted; a notification's words are far shorter.
MAX_TITLE = 80
MAX_BODY = 200


def payload(title: str, body: str, url: str = OPEN_PATH) -> dict[str, str]:
    """What the service worker receives (clinic/static/push-sw.js): the words it shows and
    the page it opens."""
    # A browser reads "/\\host" as "//host" and drops tabs and line breaks ("/<tab>/host"):
    # another site. A path here is printable ASCII, without backslashes.
    if (
        not url.startswith("/")
        or url.startswith("//")
        or not url.isascii()
        or not url.isprintable()
        or "\\" in url
    ):
        raise ValueError("a notification opens a page of this site: give a path")
    return {"title": title[:MAX_TITLE], "body": body[:MAX_BODY], "url": url}


def device_address(device: PushSubscription) -> str:
    """How a push message names its device in the outbox (administrators see it as the
    recipient; the endpoint itself never leaves its table)."""
    return f"push device {device.id}"


def devices_of(user: User) -> list[PushSubscription]:
    """The user's subscriptions (devices with notifications on), oldest first."""
    return devices_by_user([user.id]).get(user.id, [])


def devices_by_user(user_ids: list[int]) -> dict[int, list[PushSubscription]]:
    """The devices of several users at once (a batch of reminders), by user id, each
    list oldest first; users with none are absent. Only each user's own clinic's rows:
    a device is kept with the clinic of the account that turned it on."""
    found: dict[int, list[PushSubscription]] = {}
    if not user_ids:
        return found
    for device in db.session.scalars(
        sa.select(PushSubscription)
        .join(
            User,
            sa.and_(
                User.id == PushSubscription.user_id, User.clinic_id == PushSubscription.clinic_id
            ),
        )
        .where(PushSubscription.user_id.in_(user_ids))
        .order_by(PushSubscription.id)
    ):
        found.setdefault(device.user_id, []).append(device)
    return found


def notify(
    kind: MessageKind,
    occasion: object,
    *,
    user: User,
    clinic_id: int,
    title: str,
    body: str,
    url: str = OPEN_PATH,
    devices: list[PushSubscription] | None = None,
) -> int:
    """Post a push message about `occasion` to each of the user's devices, in the current
    unit of work; returns how many new messages were written (0: the user has no device,
    or this occasion's messages were already written). `devices`: the user's devices when
    the caller read them already (`devices_by_user`, for a batch)."""
    message = payload(title, body, url)
    written = 0
    for device in devices_of(user) if devices is None else devices:
        if device.clinic_id != clinic_id:
            continue
        stored = json.dumps({"device": device.id, "payload": message}, sort_keys=True)
        # The device is the message's address (its key: "...:address:push device 12:push"),
        # the account its owner (erased with it).
        written += post(
            kind,
            occasion,
            to=device_address(device),
            account=user,
            clinic_id=clinic_id,
            content=Content(subject=message["title"], body=stored),
            channel=PUSH,
        )
    return written

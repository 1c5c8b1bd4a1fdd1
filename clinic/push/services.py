"""Turning notifications on and off on a device, for the signed-in patient.

An endpoint belongs to one browser. Turned on again in the same browser, it keeps its row
(new keys, if the browser made new ones). Turned on by another patient signing in to the
same browser, it moves to them: the device now shows that patient's notifications, never
the first one's. Turning off removes only the signed-in patient's own row: an endpoint
belonging to someone else is "not found", as if it did not exist.

Both are audited ("push.subscribe", "push.unsubscribe") with the push service's host
only: the rest of the endpoint identifies a browser.
"""

from __future__ import annotations

import sqlalchemy as sa

from clinic.audit.log import record
from clinic.extensions import db
from clinic.models import Patient, User
from clinic.models.push import PushSubscription, service_host


def _own_patient_id(user: User) -> int | None:
    return db.session.scalar(
        sa.select(Patient.id).where(Patient.user_id == user.id, Patient.clinic_id == user.clinic_id)
    )


def subscribe(user: User, *, endpoint: str, p256dh: str, auth: str) -> PushSubscription:
    """Keep this device's subscription for `user` (new, renewed, or taken over from the
    account that used this browser before)."""
    subscription = db.session.scalar(
        sa.select(PushSubscription).where(PushSubscription.endpoint == endpoint)
    )
    moved = subscription is not None and (
        subscription.user_id != user.id or subscription.clinic_id != user.clinic_id
    )
    if subscription is None:
        subscription = PushSubscription(
            user_id=user.id, clinic_id=user.clinic_id, endpoint=endpoint, p256dh=p256dh, auth=auth
        )
        db.session.add(subscription)
    elif moved:
        # A new row: the previous account's messages (keyed by the old id) stay theirs and
        # find no device; this account's are keyed by the new one.
        db.session.delete(subscription)
        db.session.flush()
        subscription = PushSubscription(
            user_id=user.id, clinic_id=user.clinic_id, endpoint=endpoint, p256dh=p256dh, auth=auth
        )
        db.session.add(subscription)
    else:
        subscription.p256dh, subscription.auth = p256dh, auth
        subscription.last_error = ""
        subscription.last_failed_at = None
    db.session.flush()
    record(
        "push.subscribe",
        patient_id=_own_patient_id(user),
        object_type="push_subscription",
        object_id=subscription.id,
        detail={"service": service_host(endpoint), "taken_over": moved},
    )
    return subscription


def unsubscribe(user: User, *, endpoint: str) -> bool:
    """Forget this device for `user`; False when `user` has no such subscription (another
    account's endpoint included: never removed here)."""
    subscription = db.session.scalar(
        sa.select(PushSubscription).where(
            PushSubscription.endpoint == endpoint,
            PushSubscription.user_id == user.id,
            PushSubscription.clinic_id == user.clinic_id,
        )
    )
    if subscription is None:
        return False
    record(
        "push.unsubscribe",
        patient_id=_own_patient_id(user),
        object_type="push_subscription",
        object_id=subscription.id,
        detail={"service": subscription.service_host},
    )
    db.session.delete(subscription)
    db.session.flush()
    return True

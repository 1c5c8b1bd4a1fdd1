"""The forms of the "Notifications on this device" section (templates/push/_device.html).

The page's script fills them with what the browser's `pushManager.subscribe()` gave and
sends them with fetch, as an ordinary form body with the CSRF token (the app takes no
JSON bodies: clinic.core.requests.refuse_files_and_json).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from wtforms import HiddenField
from wtforms.validators import InputRequired, Length, ValidationError

from clinic.core.forms import ClinicForm, strip
from clinic.core.webpush import endpoint_allowed
from clinic.domain.text import N_

# Marked for translation: clinic.push.views says them in the patient's language.
SUBSCRIPTION_MESSAGE = N_("This browser's notification details were not understood.")
ENDPOINT_MESSAGE = N_("This browser's notification service is not one this site sends to.")


def _part(max_length: int) -> dict[str, Any]:
    """What every part of a subscription takes: trimmed, present, not too long."""
    return {
        "filters": [strip],
        "validators": [
            InputRequired(SUBSCRIPTION_MESSAGE),
            Length(max=max_length, message=SUBSCRIPTION_MESSAGE),
        ],
    }


def _hidden(max_length: int) -> HiddenField:
    return HiddenField(**_part(max_length))


def _decoded_length(value: str) -> int:
    try:
        return len(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
    except (binascii.Error, ValueError):
        return -1


class EndpointField(HiddenField):
    """A push endpoint: an https address at a push service the configuration allows."""


class SubscribeForm(ClinicForm):
    """A browser's push subscription: where to post, and the keys to encrypt for it."""

    endpoint = EndpointField(**_part(2048))
    p256dh = _hidden(200)
    auth = _hidden(100)

    def validate_endpoint(self, field: HiddenField) -> None:
        if not endpoint_allowed(field.data):
            raise ValidationError(ENDPOINT_MESSAGE)

    def validate_p256dh(self, field: HiddenField) -> None:
        # An uncompressed P-256 point: 65 bytes, the first 0x04.
        if _decoded_length(field.data) != 65 or not field.data.startswith("B"):
            raise ValidationError(SUBSCRIPTION_MESSAGE)

    def validate_auth(self, field: HiddenField) -> None:
        if _decoded_length(field.data) != 16:
            raise ValidationError(SUBSCRIPTION_MESSAGE)


class UnsubscribeForm(ClinicForm):
    """Turn notifications off on this device (the browser says which endpoint it has)."""

    endpoint = _hidden(2048)

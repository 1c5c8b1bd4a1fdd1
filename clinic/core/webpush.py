"""How a push message leaves the system: the VAPID key that signs it and the POST to the
browser's push service (the Web Push transport, as clinic.core.mail is email's).

Features never send: they write an outbox row (clinic.push.notify) and the outbox's
worker calls `send` (clinic.outbox.delivery). What can happen to one message:

- accepted (201): sent;
- `SubscriptionGone` (404, 410): the browser dropped the subscription; it is deleted;
- `PushServiceUnavailable` (no connection, a time-out, 429, 502, 503, 504): the service,
  not the message; it waits without using up an attempt, as when the mail server is away;
- `PushRefused` (any other answer, an endpoint the configuration does not allow): an
  attempt used, backing off like a refused email.

Errors name a status code, never the endpoint: its path identifies a browser. Payloads are
encrypted for the browser (aes128gcm, RFC 8291) by pywebpush.

The key pair (RFC 8292).

A push service accepts a message for a browser only when it is signed with the key the
browser subscribed with, so the key must outlive every restart: production passes it in
the environment (`CLINIC_VAPID_PRIVATE_KEY`, a PEM), and otherwise it is made on first
need and kept in the instance folder as `vapid-private.pem` (owner-readable only, never in
the repository). Two processes starting together make one key between them: each writes
its own to a temporary file and links it into place, which fails for the second, which
then reads the first one's (`os.link` never replaces an existing file).
"""

from __future__ import annotations

import base64
import contextlib
import logging
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives import serialization
from flask import Flask, current_app
from py_vapid import Vapid
from pywebpush import WebPushException, webpush
from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

KEY_FILE = "vapid-private.pem"
_EXTENSION_KEY = "clinic.push.vapid"

logger = logging.getLogger(__name__)


def key_path(app: Flask) -> Path:
    """Where the instance keeps its key when the environment gives none."""
    return Path(app.instance_path) / KEY_FILE


def _create_once(path: Path) -> bytes:
    """The PEM at `path`, created (mode 0600, atomically) if there is none yet. A file
    others may read (restored from a backup, copied by hand) is made private again."""
    with contextlib.suppress(FileNotFoundError):
        pem_found = path.read_bytes()
        if path.stat().st_mode & 0o077:
            logger.warning("the Web Push signing key could be read by others: made private")
            with contextlib.suppress(PermissionError):
                path.chmod(0o600)
        return pem_found
    key = Vapid()
    key.generate_keys()
    pem: bytes = key.private_pem()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)  # fails if another process got there first
        except FileExistsError:
            return path.read_bytes()
    finally:
        temporary.unlink(missing_ok=True)
    return pem


def vapid() -> Vapid:
    """This app's signing key (read or made once per process)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    key = app.extensions.get(_EXTENSION_KEY)
    if key is None:
        configured = (app.config.get("VAPID_PRIVATE_KEY") or "").strip()
        pem = configured.encode() if configured else _create_once(key_path(app))
        key = Vapid.from_pem(pem)
        app.extensions[_EXTENSION_KEY] = key
    return key


def application_server_key() -> str:
    """The public key as browsers take it (`applicationServerKey`): the uncompressed P-256
    point, base64url without padding."""
    raw = vapid().public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def subject() -> str:
    """Who runs this deployment, for the push services (the JWT's `sub`): the configured
    VAPID_SUBJECT, else the site's https address, else a mailto: of the sender address."""
    config = current_app.config
    configured = (config.get("VAPID_SUBJECT") or "").strip()
    if configured:
        return configured
    base = config.get("CLINIC_BASE_URL", "")
    if base.startswith("https://"):
        return base
    return f"mailto:{config['MAIL_FROM']}"


# urllib3 (under requests, under pywebpush) logs each request line at DEBUG: the line
# names the endpoint's path, which identifies a browser. Never below INFO, whatever the
# root logger's level.
logging.getLogger("urllib3.connectionpool").setLevel(logging.INFO)

# What the push service's answer means for the message (see the module's docstring).
GONE = frozenset({404, 410})
SERVICE_BUSY = frozenset({429, 502, 503, 504})
# The connection and the answer together; a push service answers in well under a second.
TIMEOUT_SECONDS = 10.0
URGENCY = "normal"
# A host name as push services have them: dot-separated ASCII labels, no trailing dot.
_DNS_NAME = re.compile(
    r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*"
)


class PushServiceUnavailable(Exception):
    """The push service could not be reached or is overloaded: try again later, without
    counting it against the message."""


class SubscriptionGone(Exception):
    """The browser no longer has this subscription (unsubscribed, data cleared)."""


class PushRefused(Exception):
    """The push service refused this message; `reason` names a status, never the URL."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Device:
    """Where one push message goes: a subscription's endpoint and keys."""

    endpoint: str
    p256dh: str
    auth: str


def endpoint_allowed(endpoint: str) -> bool:
    """Whether the worker may post to `endpoint`: https (http only where tests allow it)
    to one of the configured push services (a host or its subdomains), on the default
    port (any port only where tests allow http). The endpoint comes from a browser, that
    is from a patient's request: without this list, the worker could be made to post to
    any address its network reaches.

    The host is read as the HTTP client will read it, not only as `urlsplit` does: the
    two disagree on a backslash (`https://evil.example\\.fcm.googleapis.com/` is
    fcm.googleapis.com's subdomain to `urlsplit`, but requests posts to evil.example), so
    the endpoint must be plain printable ASCII, the host plain DNS labels, and urllib3
    (under requests) must find the same host and port."""
    config = current_app.config
    allow_http = bool(config.get("PUSH_ALLOW_HTTP"))
    if not endpoint.isascii() or not endpoint.isprintable() or " " in endpoint:
        return False
    try:
        parts = urlsplit(endpoint)
        host = (parts.hostname or "").lower()
        port = parts.port  # raises ValueError for a port that is not a number
        seen = parse_url(endpoint)
    except (ValueError, LocationParseError):
        return False
    schemes = ("https", "http") if allow_http else ("https",)
    if parts.scheme not in schemes or not host or parts.username or parts.password:
        return False
    if not _DNS_NAME.fullmatch(host) or (seen.host or "").lower() != host or seen.port != port:
        return False
    if port not in (None, 443) and not allow_http:
        return False
    return any(
        host == allowed or host.endswith("." + allowed) for allowed in config["PUSH_SERVICE_HOSTS"]
    )


def send(device: Device, payload: str) -> None:
    """Encrypt `payload` for the device and hand it to its push service (see the module's
    docstring for what each failure raises)."""
    if not endpoint_allowed(device.endpoint):
        raise PushRefused("endpoint not allowed")
    endpoint = urlsplit(device.endpoint)
    claims: dict[str, str | int] = {
        "sub": subject(),
        "aud": f"{endpoint.scheme}://{endpoint.netloc}",
    }
    # Outside the `try`: a key that cannot be read or used is this server's fault, not the
    # subscription's (the ValueError below would blame the device's keys).
    key = vapid()
    try:
        webpush(
            subscription_info={
                "endpoint": device.endpoint,
                "keys": {"p256dh": device.p256dh, "auth": device.auth},
            },
            data=payload,
            vapid_private_key=key,
            vapid_claims=claims,
            ttl=int(current_app.config["PUSH_TTL"].total_seconds()),
            timeout=TIMEOUT_SECONDS,
            headers={"Urgency": URGENCY},
        )
    except WebPushException as error:
        if error.response is None:  # never sent: the subscription's data is unusable
            raise PushRefused("subscription unusable") from None
        status = error.response.status_code
        if status in GONE:
            raise SubscriptionGone(str(status)) from None
        if status in SERVICE_BUSY:
            raise PushServiceUnavailable(f"push service busy ({status})") from None
        raise PushRefused(f"push service refused ({status})") from None
    except requests.RequestException as error:
        # str(error) names the URL: keep the class only.
        raise PushServiceUnavailable(type(error).__name__) from None
    except (ValueError, TypeError) as error:
        # Keys that are not valid base64 or not a P-256 point: the subscription's fault.
        raise PushRefused(f"subscription keys unusable ({type(error).__name__})") from None

"""A push service on the loopback, and browsers' subscriptions to it, for tests of Web Push.

`LoopbackPushService` is a real HTTP server in a thread. It plays a browser vendor's push
service: it takes the POST the worker sends (clinic.core.webpush, through pywebpush),
checks its VAPID `Authorization` (a JWT signed with the app's key, `aud` the endpoint's
origin, not expired, with a `sub`), then decrypts the body (aes128gcm, RFC 8291) with the
private key and auth secret of the subscription the test made, exactly as the browser
would, and keeps the plaintext. A test may tell it to answer a device with another status
(410: the browser dropped the subscription; 503: busy).

`FakeBrowser.subscribe(service)` makes what `pushManager.subscribe()` gives a page: an
endpoint at the service, the browser's public key (`p256dh`) and auth secret.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class BrowserSubscription:
    """A subscription as a browser holds it: the endpoint and both keys, private part too."""

    endpoint: str
    private_key: ec.EllipticCurvePrivateKey
    auth_secret: bytes

    @property
    def p256dh(self) -> str:
        return b64url(
            self.private_key.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        )

    @property
    def auth(self) -> str:
        return b64url(self.auth_secret)

    @property
    def token(self) -> str:
        return self.endpoint.rsplit("/", 1)[1]

    def form(self) -> dict[str, str]:
        """What the page's script posts to /account/notifications/device."""
        return {"endpoint": self.endpoint, "p256dh": self.p256dh, "auth": self.auth}


@dataclass
class Received:
    """One push the service accepted: the decrypted payload and the headers that matter."""

    token: str
    plaintext: bytes
    ttl: str
    urgency: str
    claims: dict

    @property
    def payload(self) -> dict:
        return json.loads(self.plaintext)


@dataclass
class LoopbackPushService:
    """The push service (see the module's docstring). `vapid_public_key` is the app's
    application server key (base64url), against which every Authorization is checked."""

    vapid_public_key: str
    received: list[Received] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # why a request was not accepted
    answers: dict[str, int] = field(default_factory=dict)  # token -> status to answer
    devices: dict[str, BrowserSubscription] = field(default_factory=dict)
    base_url: str = ""

    def subscribe(self) -> BrowserSubscription:
        """A new browser subscription at this service."""
        device = BrowserSubscription(
            endpoint=f"{self.base_url}/push/{secrets.token_urlsafe(24)}",
            private_key=ec.generate_private_key(ec.SECP256R1()),
            auth_secret=secrets.token_bytes(16),
        )
        self.devices[device.token] = device
        return device

    def check_vapid(self, authorization: str) -> dict:
        """The JWT's claims, if `authorization` is a valid VAPID header for this origin
        signed with the app's key; raises AssertionError otherwise."""
        scheme, _, params = authorization.partition(" ")
        assert scheme.lower() == "vapid", f"not a VAPID header: {scheme}"
        parts = dict(p.strip().split("=", 1) for p in params.split(","))
        assert parts["k"] == self.vapid_public_key, "signed with another key than the app's"
        header, claims, signature = parts["t"].split(".")
        assert json.loads(unb64url(header)) == {"typ": "JWT", "alg": "ES256"}
        raw = unb64url(signature)
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(parts["k"]))
        try:
            public.verify(
                encode_dss_signature(
                    int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
                ),
                f"{header}.{claims}".encode(),
                ec.ECDSA(hashes.SHA256()),
            )
        except InvalidSignature:
            raise AssertionError("the VAPID signature does not verify") from None
        decoded = json.loads(unb64url(claims))
        assert decoded["aud"] == self.base_url, f"aud {decoded['aud']} is not the origin"
        assert decoded["exp"] > time.time(), "expired"
        assert decoded["exp"] <= time.time() + 24 * 3600, "valid for more than 24 hours"
        assert decoded["sub"].startswith(("mailto:", "https://")), "no contact in sub"
        return decoded

    def handle(self, path: str, headers, body: bytes) -> int:
        token = path.rsplit("/", 1)[-1]
        device = self.devices.get(token)
        if device is None:
            self.refused.append("unknown endpoint")
            return 404
        try:
            claims = self.check_vapid(headers.get("Authorization", ""))
            assert headers.get("Content-Encoding") == "aes128gcm", "not aes128gcm"
            plaintext = http_ece.decrypt(
                body,
                private_key=device.private_key,
                auth_secret=device.auth_secret,
                version="aes128gcm",
            )
        except Exception as error:  # recorded for the test to show
            self.refused.append(f"{type(error).__name__}: {error}")
            return 400
        status = self.answers.get(token, 201)
        if status == 201:
            self.received.append(
                Received(
                    token=token,
                    plaintext=plaintext,
                    ttl=headers.get("TTL", ""),
                    urgency=headers.get("Urgency", ""),
                    claims=claims,
                )
            )
        return status


def _handler(service: LoopbackPushService) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            status = service.handle(self.path, self.headers, body)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet: endpoints stay out of the test output too

    return Handler


@contextmanager
def loopback_push_service(vapid_public_key: str) -> Iterator[LoopbackPushService]:
    """A push service listening on 127.0.0.1 until the block ends."""
    service = LoopbackPushService(vapid_public_key)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(service))
    service.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield service
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

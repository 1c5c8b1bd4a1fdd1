"""A real SMTP server on the loopback (aiosmtpd), for tests of what the system sends.

`SmtpSink` accepts every message and keeps it (parsed) in `received`; a test can make it
refuse recipients (`refuse`), stall a message until released (`hold_at`), act in the
instant after it kept a message and before it says so (`after_keeping`), or stop and
start it again (the mail server going down and coming back).
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class SinkHandler:
    """What the server does with each message."""

    received: list[EmailMessage] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    # Recipients refused for now (450: a mailbox busy or greylisting), not for good.
    refuse_for_now: set[str] = field(default_factory=set)
    # Stall the n-th message (1-based) in DATA until `release` is set, then answer 421
    # without keeping it: for killing a worker in the middle of a send.
    hold_at: int | None = None
    held: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    # Called with the message's number (1-based) once it is kept, before the server
    # answers 250: for killing a worker in the instant after the server took a message.
    after_keeping: Callable[[int], None] | None = None
    _seen: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        if address in self.refuse_for_now:
            return "450 4.2.1 mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self._seen += 1
            number = self._seen
        if self.hold_at is not None and number == self.hold_at:
            self.held.set()
            # aiosmtpd runs handlers on its event loop: wait without blocking it.
            while not self.release.is_set():
                await asyncio.sleep(0.05)
            return "421 4.3.0 try again later"
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.received.append(parsed)  # type: ignore[arg-type]
        if self.after_keeping is not None:
            self.after_keeping(number)
        return "250 OK"


@dataclass
class SmtpSink:
    """A running SMTP server on 127.0.0.1:`port`."""

    port: int
    handler: SinkHandler
    controller: Controller

    @property
    def received(self) -> list[EmailMessage]:
        return self.handler.received

    def stop(self) -> None:
        self.controller.stop()

    def start(self) -> None:
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()


@contextmanager
def smtp_sink(port: int | None = None) -> Iterator[SmtpSink]:
    """Run an SMTP server on the loopback for the block."""
    handler = SinkHandler()
    port = port or free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    sink = SmtpSink(port=port, handler=handler, controller=controller)
    try:
        yield sink
    finally:
        with suppress(AssertionError, RuntimeError):  # stopped by the test already
            sink.controller.stop()

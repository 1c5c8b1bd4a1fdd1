"""The browser tests' live server survives a browser dropping a connection in the middle of
a response: the response is closed, nothing is left for the garbage collector to warn
about (a stray ResourceWarning fails whichever test is running when it surfaces)."""

from __future__ import annotations

import gc
import socket
import struct
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from tests.support.browser import closing_responses

STATIC = Path(__file__).resolve().parents[2] / "clinic" / "static"
BIG_FILE = "/static/vendor/pico/pico.min.css"  # 80 kB: more than one write


@pytest.fixture
def unraisable() -> Iterator[list[str]]:
    """What reached sys.unraisablehook (a warning raised in a finaliser) during the test."""
    seen: list[str] = []
    previous = sys.unraisablehook
    sys.unraisablehook = lambda raised: seen.append(repr(raised.exc_value))
    try:
        yield seen
    finally:
        sys.unraisablehook = previous


def drop_in_the_middle(port: int, path: str) -> None:
    """Ask for `path`, read the first bytes of the answer, then reset the connection."""
    with socket.socket() as conn:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        conn.connect(("127.0.0.1", port))
        conn.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
        conn.recv(100)
        # linger 0: close sends a reset, as a browser abandoning a navigation can.
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def test_a_dropped_connection_leaves_no_file_open(unraisable: list[str]) -> None:
    """Forty requests for a big static file, each reset after its first bytes: no file is
    left for the garbage collector (without closing_responses, Werkzeug leaves a few open
    in every forty)."""
    app = Flask(__name__, static_folder=str(STATIC))
    server = make_server("127.0.0.1", 0, closing_responses(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", ResourceWarning)
            for _ in range(40):
                drop_in_the_middle(server.server_port, BIG_FILE)
            time.sleep(0.3)  # the server's threads finish with the dropped connections
            gc.collect()
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
    assert unraisable == []

"""gunicorn's settings for this app, shipped inside the package so that an installed app has
them wherever it starts: `gunicorn --config python:clinic.gunicorn_config "clinic:create_app()"`.
(In the repository, gunicorn.conf.py names them, and gunicorn reads that file by itself
when started from the project folder.)

No access log, and none that could say more than it should if one is turned on
(`--access-logfile -`): search boxes send what was typed (often a patient's name) in the
query string, a page's Referer carries the previous page's query string, and invitation and
password-reset links carry a secret token in their path. So access log lines hold the
method, the path with any such token replaced by "[token]", the status, the size and the
time taken: never the query string, the Referer, a redirect's Location, cookies or the
request line as sent.

`post_fork`: with `--preload` the app is built once in gunicorn's master and each worker
forked from it; a worker then opens database connections of its own instead of sharing
any the master's pool held.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from gunicorn.glogging import Logger

from clinic.extensions import forget_inherited_connections

# Off: the app's own audit trail records who did what, without anything typed.
accesslog = None
# Used only when an access log is turned on. %(U)s is the path without the query string;
# the request line %(r)s, the query %(q)s and the Referer %(f)s are left out on purpose.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'

# A path segment that is a secret token (invitation and reset links, 32 random bytes); ids
# and words in our paths are far shorter.
_TOKEN_SEGMENT = re.compile(r"(?<=/)[A-Za-z0-9_-]{24,}(?=/|$)")
_HARMLESS_HEADERS = frozenset(
    {"{user-agent}i", "{x-forwarded-for}i", "{content-type}o", "{content-length}o"}
)


def scrub_path(path: str) -> str:
    """The path as an access log may show it: tokens replaced."""
    return _TOKEN_SEGMENT.sub("[token]", path)


class PrivateAccessLogger(Logger):
    """gunicorn's logger, whose access log lines cannot carry the query string, the
    Referer, cookies or a link's token, whatever `access_log_format` asks for."""

    def atoms(self, resp: Any, req: Any, environ: dict, request_time: Any) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        path = scrub_path(environ.get("PATH_INFO", ""))
        atoms.update(
            U=path,
            r=f"{atoms['m']} {path} {atoms['H']}",
            q="",
            f="-",
        )
        # Headers ("{name}i" in, "{name}o" out) and the WSGI environ ("{name}e") hold the
        # query string again (Referer, Location, QUERY_STRING, RAW_URI) and the cookies:
        # only the harmless few stay.
        for key in [k for k in atoms if k.startswith("{") and k not in _HARMLESS_HEADERS]:
            del atoms[key]
        return atoms


logger_class = PrivateAccessLogger


def post_fork(server: Any, _worker: Any) -> None:
    """gunicorn's hook in each new worker: with `--preload`, forget the master's pooled
    database connections (without it the worker builds its own app, and there are none)."""
    app = getattr(server.app, "callable", None)  # set in the master by --preload only
    if isinstance(app, Flask):
        forget_inherited_connections(app)

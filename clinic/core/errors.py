"""Error pages in the site's layout, and the headers every response carries."""

from __future__ import annotations

import sqlite3

from flask import Flask, current_app, g, render_template, request
from flask_babel import gettext
from flask_login import AnonymousUserMixin
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import (
    DBAPIError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.wrappers import Response

from clinic.core.uow import discard
from clinic.domain.text import N_
from clinic.fhirapi.outcomes import api_error

# Marked for translation (N_) and shown in the reader's language (`_render`).
MESSAGES: dict[int, tuple[str, str]] = {
    400: (
        N_("Something in that request was not right"),
        N_("Go back, check the form and try again."),
    ),
    403: (
        N_("You do not have access to this page"),
        N_("If you think you should, ask your clinic."),
    ),
    404: (N_("Page not found"), N_("The page may have moved, or the address may be mistyped.")),
    405: (N_("That action is not available here"), N_("Go back and use the buttons on the page.")),
    410: (N_("This link can no longer be used"), N_("Ask your clinic for a new one.")),
    409: (
        N_("That could not be saved"),
        N_(
            "It clashes with something saved a moment ago (perhaps the same form sent twice). "
            "Nothing was changed: go back, reload the page and check before trying again."
        ),
    ),
    413: (N_("That was too much to send at once"), N_("Shorten what you entered and try again.")),
    500: (
        N_("Something went wrong on our side"),
        N_("Nothing you entered was saved. Please try again in a moment."),
    ),
    503: (N_("This page is not available right now"), N_("Please try again in a moment.")),
}

# A database that is unreachable or too busy to take a write: the request is abandoned
# whole, and the browser is told when to try again.
UNAVAILABLE_SAVE = (
    N_("We could not save this"),
    N_("Nothing was changed. Please try again in a moment."),
)
RETRY_AFTER_SECONDS = 10


def _render(
    code: int, title: str | None = None, detail: str | None = None
) -> tuple[str | Response, int]:
    # The FHIR API never answers with a page: machines read an OperationOutcome.
    if (outcome := api_error(code)) is not None:
        return outcome, code
    default_title, default_detail = MESSAGES.get(code, MESSAGES[500])
    return (
        render_template(
            "errors/error.html",
            code=code,
            title=gettext(title or default_title),
            detail=gettext(detail or default_detail),
        ),
        code,
    )


def register_error_handlers(app: Flask) -> None:
    """Friendly pages for HTTP errors. A failed view's unit of work has rolled back already;
    an error outside any view (a before_request hook) is rolled back here."""

    @app.errorhandler(CSRFError)
    def csrf_error(_error: CSRFError) -> tuple[str | Response, int]:
        return _render(
            400,
            N_("This form has expired"),
            N_(
                "For your security, forms stop working after you sign out or after a long "
                "pause. Go back, reload the page and submit it again."
            ),
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str | Response, int, list] | HTTPException:
        if error.code is None or error.code < 400:
            return error
        # Keep headers such as Allow (405); our page brings its own Content-Type.
        headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
        return (*_render(error.code), headers)

    @app.errorhandler(IntegrityError)
    def conflict(_error: IntegrityError) -> tuple[str | Response, int]:
        # A check passed a moment ago and the database refused the write anyway: two
        # submissions raced (a double tap, two colleagues). Nothing was saved.
        discard()
        return _render(409)

    @app.errorhandler(DBAPIError)
    def database_unavailable(error: DBAPIError) -> tuple[str | Response, int, dict[str, str]]:
        if not is_unavailability(error):
            raise error  # a bug, not an outage: the 500 path logs it in full
        return unavailable(error, type(error.orig).__name__)

    @app.errorhandler(PoolTimeout)
    def no_free_connection(error: PoolTimeout) -> tuple[str | Response, int, dict[str, str]]:
        # Every connection this process may open is in use, and none came back within
        # CLINIC_DATABASE_POOL_TIMEOUT: busy, not broken. The page is shown as to a
        # visitor unless the account is loaded already: finding out who is signed in
        # would wait for a connection all over again.
        if "_login_user" not in g:
            g._login_user = AnonymousUserMixin()
        return unavailable(error, "pool exhausted")

    def unavailable(
        error: SQLAlchemyError, cause: str
    ) -> tuple[str | Response, int, dict[str, str]]:
        discard()
        # Class names and the route's pattern only: the message and the statement's
        # parameters may carry patient data or connection details.
        current_app.logger.warning(
            "database unavailable during %s %s: %s (%s)",
            request.method,
            request.url_rule.rule if request.url_rule else "(no route)",
            type(error).__name__,
            cause,
        )
        title, detail = UNAVAILABLE_SAVE if request.method == "POST" else MESSAGES[503]
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        try:
            return (*_render(503, title, detail), headers)
        except SQLAlchemyError:
            # The layout asks who is signed in, and that needs the database (the rollback
            # expired the loaded account): show the page as to a visitor instead.
            discard()
            g._login_user = AnonymousUserMixin()
            return (*_render(503, title, detail), headers)

    @app.errorhandler(InternalServerError)
    def server_error(_error: InternalServerError) -> tuple[str | Response, int]:
        discard()
        return _render(500)


# SQLite's primary result codes that mean "not now": busy or locked past the timeout, the
# file cannot be opened, a disk error, a full disk, no memory. SQLite reports a missing
# table or column, or a syntax error, as an OperationalError too (code SQLITE_ERROR):
# that is a bug, which retrying cannot cure.
_SQLITE_UNAVAILABLE = frozenset(
    {
        sqlite3.SQLITE_BUSY,
        sqlite3.SQLITE_LOCKED,
        sqlite3.SQLITE_NOMEM,
        sqlite3.SQLITE_IOERR,
        sqlite3.SQLITE_FULL,
        sqlite3.SQLITE_CANTOPEN,
        sqlite3.SQLITE_PROTOCOL,
    }
)


def is_unavailability(error: DBAPIError) -> bool:
    """Whether a database error means "not now" (connection lost or refused, the database
    locked or busy past the timeout, a lock or deadlock timeout) rather than a bug:
    trying again later is the right advice."""
    if error.connection_invalidated:
        return True
    if isinstance(error.orig, sqlite3.Error):
        code = getattr(error.orig, "sqlite_errorcode", None)
        return code is not None and code & 0xFF in _SQLITE_UNAVAILABLE
    return isinstance(error, OperationalError | InterfaceError)


# default-src 'self' and no 'unsafe-inline': the app ships no inline script or style.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)


def set_security_headers(response: Response) -> Response:
    """after_request hook: headers that keep pages private and hard to misuse."""
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if current_app.config["SESSION_COOKIE_SECURE"]:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    mimetype = response.mimetype or ""
    if mimetype != "text/css" and not mimetype.startswith(("image/", "font/")):
        # Pages show health data: never keep them in a browser or proxy cache.
        response.headers["Cache-Control"] = "no-store"
    return response

"""Error pages in the site's layout, and the headers every response carries."""

from __future__ import annotations

from flask import Flask, current_app, render_template
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.wrappers import Response

from clinic.extensions import db

MESSAGES: dict[int, tuple[str, str]] = {
    400: ("Something in that request was not right", "Go back, check the form and try again."),
    403: ("You do not have access to this page", "If you think you should, ask your clinic."),
    404: ("Page not found", "The page may have moved, or the address may be mistyped."),
    405: ("That action is not available here", "Go back and use the buttons on the page."),
    410: ("This link can no longer be used", "Ask your clinic for a new one."),
    409: (
        "That could not be saved",
        "It clashes with something saved a moment ago (perhaps the same form sent twice). "
        "Nothing was changed: go back, reload the page and check before trying again.",
    ),
    413: ("That was too much to send at once", "Shorten what you entered and try again."),
    500: (
        "Something went wrong on our side",
        "Nothing you entered was saved. Please try again in a moment.",
    ),
}


def _render(code: int, title: str | None = None, detail: str | None = None) -> tuple[str, int]:
    default_title, default_detail = MESSAGES.get(code, MESSAGES[500])
    return (
        render_template(
            "errors/error.html",
            code=code,
            title=title or default_title,
            detail=detail or default_detail,
        ),
        code,
    )


def register_error_handlers(app: Flask) -> None:
    """Friendly pages for HTTP errors; a server error rolls the transaction back first."""

    @app.errorhandler(CSRFError)
    def csrf_error(_error: CSRFError) -> tuple[str, int]:
        return _render(
            400,
            "This form has expired",
            "For your security, forms stop working after you sign out or after a long pause. "
            "Go back, reload the page and submit it again.",
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str, int, list] | HTTPException:
        if error.code is None or error.code < 400:
            return error
        # Keep headers such as Allow (405); our page brings its own Content-Type.
        headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
        return (*_render(error.code), headers)

    @app.errorhandler(IntegrityError)
    def conflict(_error: IntegrityError) -> tuple[str, int]:
        # A check passed a moment ago and the database refused the write anyway: two
        # submissions raced (a double tap, two colleagues). Nothing was saved.
        db.session.rollback()
        return _render(409)

    @app.errorhandler(InternalServerError)
    def server_error(_error: InternalServerError) -> tuple[str, int]:
        db.session.rollback()
        return _render(500)


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
    if response.mimetype != "text/css" and not response.mimetype.startswith(("image/", "font/")):
        # Pages show health data: never keep them in a browser or proxy cache.
        response.headers["Cache-Control"] = "no-store"
    return response

"""The request's CSRF token in HTML kept between requests.

A form's token belongs to one browser's session, so HTML holding a form is kept with a
mark where the token goes and each request puts its own token back (a request's forms all
carry the same token). The mark is a tag, which no escaped value (a name, a note) can
contain. Parts mark the token one of two ways: the layout's parts render with a
`csrf_token()` that gives the mark (clinic.core.chrome), and parts holding WTForms forms,
whose token field asks Flask-WTF itself, replace the request's token once rendered
(`token_marked`; clinic.timeline.course).
"""

from __future__ import annotations

from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape

TOKEN_MARK = Markup("<clinic-csrf-token>")


def token_marked(html: str) -> str:
    """`html` as rendered in this request, with this request's token replaced by the mark,
    to be kept."""
    return html.replace(_request_token(), TOKEN_MARK)


def with_request_token(kept: str) -> Markup:
    """A kept part with this request's token where its marks are (rendered by Jinja with
    autoescaping on, the token escaped like any value: safe to put into the page)."""
    if TOKEN_MARK not in kept:
        return Markup(kept)  # noqa: S704 (as above)
    return Markup(kept.replace(TOKEN_MARK, _request_token()))  # noqa: S704 (as above)


def _request_token() -> str:
    # Escaped as the templates write it (a token never needs it).
    return str(escape(generate_csrf()))

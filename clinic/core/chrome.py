"""The layout's chrome (its head links, header and footer), rendered once per kind of page
and reader and kept, not rendered on every visit.

Every page repeats the same header (the brand, the clinic's name for staff, the navigation
with the current entry marked, the sign-out button), footer (who is signed in) and links
in its head. Rendering them was a tenth of a cached page's time (the dashboard's, on
PostgreSQL), for markup that changes only with what `_key` holds: the part, the language,
the reader's role, the name the footer shows, the clinic's name, the page's endpoint and
blueprint (the navigation's current entry) and the root the app is served under. So a
part is kept under that key for the life of the process, in the app (each app its own:
tests make many), and any change to one of those values is a new key: a clinic renamed
shows its new name on the next page.

The sign-out form's CSRF token is the request's own: a part is kept split where the token
goes, and the request's token is put back in on every visit.

`templates/layout/*.html` are the parts; whatever they show must be in `_key`
(tests/integration/test_chrome.py renders them afresh and compares).
"""

from __future__ import annotations

from typing import Literal

from flask import current_app, render_template, request
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape

from clinic.i18n import current_locale

Part = Literal["links", "header", "footer"]

# Where the request's CSRF token goes in a kept part: no template or person writes this.
_TOKEN_MARK = "clinic-chrome-csrf-token-mark"  # noqa: S105 (a marker, not a secret)
_KEPT = "clinic.chrome"
# Parts (kinds of page times readers) a process keeps at most; beyond, it starts afresh.
KEEP_AT_MOST = 4096


def site_chrome(part: Part) -> Markup:
    """The layout's `part`, for this request (pages are made in requests only: the parts
    read the request's endpoint): from the app's kept parts when one was rendered for the
    same key, else rendered now (and kept)."""
    kept: dict[tuple[object, ...], list[str]] = current_app.extensions.setdefault(_KEPT, {})
    key = _key(part)
    pieces = kept.get(key)
    if pieces is None:
        html = render_template(f"layout/{part}.html", csrf_token=lambda: _TOKEN_MARK)
        pieces = html.split(_TOKEN_MARK)
        if len(kept) >= KEEP_AT_MOST:
            kept.clear()
        kept[key] = pieces
    if len(pieces) == 1:
        return Markup(pieces[0])  # noqa: S704 (an autoescaped template's output)
    # The token is the request's own, escaped like any value (it never needs it).
    return Markup(str(escape(generate_csrf())).join(pieces))  # noqa: S704 (as above)


def _key(part: Part) -> tuple[object, ...]:
    """Everything the parts show that may differ between two requests."""
    if not current_user.is_authenticated:
        return (
            part,
            str(current_locale()),
            None,
            request.endpoint,
            request.blueprint,
            request.script_root,
        )
    role = current_user.role
    patient = role.is_patient
    return (
        part,
        str(current_locale()),
        role,
        # The footer's "Signed in as": a patient's sign-in address, staff's name.
        current_user.email if patient else current_user.full_name,
        # The header shows staff their clinic's name (it is loaded with the account).
        None if patient else current_user.clinic.name,
        request.endpoint,
        request.blueprint,
        request.script_root,
    )

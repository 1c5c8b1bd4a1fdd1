"""The layout's chrome (its head links, header and footer), rendered once per kind of page
and reader and kept, not rendered on every visit.

Every page repeats the same head links (the icon, the style sheet, a patient's installable
portal), header (the brand, the clinic's name for staff, the navigation with the current
entry marked, the sign-out button) and footer (who is signed in, the "About" link).
Rendering them was a tenth of a cached page's time (the dashboard's, on PostgreSQL), for
markup that changes only with what each part's key holds (`_key`): the language, whether
someone is signed in and as which role, the clinic's name (the header, for staff), the
page's endpoint and blueprint (the navigation's current entry), the name the footer shows,
and the root the app is served under. So each part is kept under its key for the life of
the process, in the app (each app its own: tests make many); any change to one of those
values is a new key: a clinic renamed shows its new name on the next page. The header is
shared by the staff of one clinic and role, the links by everyone of a kind; the footer,
which names its reader, is one per person (the oldest kept parts go first when the
process holds `KEEP_AT_MOST`).

The sign-out form's CSRF token is the request's own: a part is kept with a mark where the
token goes, and the request's token is put back in on every visit
(clinic.core.kept_tokens).

`templates/layout/*.html` are the parts; whatever they show must be in `_key`
(tests/integration/test_chrome.py compares kept parts with fresh ones, each reader's
after every other reader's).
"""

from __future__ import annotations

from typing import Literal

from flask import current_app, render_template, request
from flask_login import current_user
from markupsafe import Markup

from clinic.core.kept_tokens import TOKEN_MARK, with_request_token
from clinic.i18n import current_locale

Part = Literal["links", "header", "footer"]

_KEPT = "clinic.chrome"
# Parts a process keeps at most (the oldest go first): a footer per person signed in lately.
KEEP_AT_MOST = 4096


def site_chrome(part: Part) -> Markup:
    """The layout's `part`, for this request (pages are made in requests only: the parts
    read the request's endpoint): from the app's kept parts when one was rendered for the
    same key, else rendered now (and kept)."""
    kept: dict[tuple[object, ...], str] = current_app.extensions.setdefault(_KEPT, {})
    key = _key(part)
    html = kept.get(key)
    if html is None:
        html = render_template(f"layout/{part}.html", csrf_token=lambda: TOKEN_MARK)
        while len(kept) >= KEEP_AT_MOST:
            kept.pop(next(iter(kept)), None)  # the oldest kept (dicts keep their order)
        kept[key] = html
    return with_request_token(html)


def _key(part: Part) -> tuple[object, ...]:
    """Everything `part` shows that may differ between two requests."""
    signed_in = current_user.is_authenticated
    role = current_user.role if signed_in else None
    patient = role is not None and role.is_patient
    if part == "links":  # the same for everyone of a kind: no words, no names
        return (part, signed_in, patient, request.script_root)
    language = str(current_locale())
    if part == "header":
        return (
            part,
            language,
            role,
            # Staff see their clinic's name (loaded with the account); patients never do.
            current_user.clinic.name if signed_in and not patient else None,
            request.endpoint,
            request.blueprint,
            request.script_root,
        )
    return (
        part,
        language,
        # "Signed in as": a patient's sign-in address, staff's name.
        (current_user.email if patient else current_user.full_name) if signed_in else None,
        request.endpoint == "safety.about",  # the "About" link marked as the current page
        request.script_root,
    )

"""Where a decision or an acknowledgement goes back to: the page it was started from.

A stage decision or a flag's acknowledgement started from the timeline, the protocol page,
the patient's record or the dashboard carries that page's address in a `next` value and
returns there once saved, so the clinician carries on where they were. The value comes
from the browser, so it is never followed as given (an open redirect would send a
clinician, after a real decision, to any site, or to another patient's chart): the path is
matched against the app's own routes, only a few pages are accepted (this patient's chart
pages and the dashboard), and the address is rebuilt from the route with only the query
words that page reads and a plain anchor. Anything else is ignored, and the form's own
default is used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from flask import current_app, request, url_for
from werkzeug.exceptions import HTTPException

from clinic.access import is_safe_redirect
from clinic.i18n import lazy_text as _l
from clinic.models import Patient


@dataclass(frozen=True)
class ReturnPage:
    """A page to go back to: its address and how a "back" link names it."""

    url: str
    label: str  # "the timeline"


@dataclass(frozen=True)
class _Accepted:
    label: str
    query: frozenset[str]  # the query words the page reads (the others are dropped)
    patient_page: bool = True  # its URL names the patient (it must be this one)


ACCEPTED: dict[str, _Accepted] = {
    "timeline.show": _Accepted(_l("the timeline"), frozenset({"weeks"})),
    "protocols.current": _Accepted(_l("the protocol"), frozenset({"on"})),
    "protocols.detail": _Accepted(_l("the protocol"), frozenset({"on"})),
    "patients.show": _Accepted(_l("the patient's record"), frozenset()),
    "dashboard.index": _Accepted(
        _l("Today"),
        frozenset({"who", "status", "indication", "flag", "q", "page", "show"}),
        patient_page=False,
    ),
}

_ANCHOR = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")
_LONGEST = 2000  # characters: no page of ours has a longer address


def return_page(value: str | None, patient: Patient) -> ReturnPage | None:
    """The accepted page `value` names, rebuilt, or None when it names anything else (another
    site, another patient's page, a page not in `ACCEPTED`, junk)."""
    if not is_safe_redirect(value) or len(value) > _LONGEST:
        return None
    parts = urlsplit(value)
    adapter = current_app.create_url_adapter(request)
    if adapter is None:
        return None
    try:
        endpoint, arguments = adapter.match(parts.path, method="GET")
    except HTTPException:  # not found, another method, or a redirect (a missing slash)
        return None
    accepted = ACCEPTED.get(str(endpoint))
    if accepted is None:
        return None
    if accepted.patient_page and arguments.get("patient_id") != patient.id:
        return None
    values: dict[str, Any] = dict(arguments)  # only route arguments and listed words
    for name, word in parse_qsl(parts.query):
        if name in accepted.query and name not in values:
            values[name] = word[:120]
    url = url_for(str(endpoint), **values)
    if _ANCHOR.fullmatch(parts.fragment):
        url += f"#{parts.fragment}"
    return ReturnPage(url, accepted.label)


def return_to(value: str | None, patient: Patient, default: ReturnPage) -> ReturnPage:
    """The accepted page `value` names, else `default`."""
    return return_page(value, patient) or default

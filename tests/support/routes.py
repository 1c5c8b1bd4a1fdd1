"""Walking the app's routes as the people allowed to use them: who may use a route (from
the access matrix), a client signed in as them, and the page that holds a route's form.

Tests built on this cover routes added later without being told about them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from urllib.parse import urlsplit

import pytest
from flask import Flask

from tests.support import access_matrix as matrix
from tests.support.access_matrix import url_of
from tests.support.auth import act_as
from tests.support.html import Form, elements_and_text, forms_in
from tests.support.reauth import confirmed_recently
from tests.support.world import World

# Who uses a route when several roles may: the visitor for the doors (sign-in, invitation
# links), else the role whose work it is.
VISITOR_FIRST = [
    matrix.ANONYMOUS,
    matrix.CLINICIAN,
    matrix.ADMIN,
    matrix.PATIENT,
    matrix.OTHER_PATIENT,
    matrix.OTHER_CLINIC_CLINICIAN,
    matrix.OTHER_CLINIC_ADMIN,
]
SIGNED_IN_FIRST = VISITOR_FIRST[1:] + VISITOR_FIRST[:1]

# Pages that are files, not HTML (never where a form is found).
NOT_PAGES = re.compile(r"(pdf|download|export|static)")


def endpoints(app: Flask, method: str) -> list[str]:
    """Every endpoint (but static files, and the FHIR API, which tokens open: see
    test_fhir_api.py) that answers `method`."""
    return sorted(
        {
            rule.endpoint
            for rule in app.url_map.iter_rules()
            if method in rule.methods
            and rule.endpoint != "static"
            and (rule.endpoint, method) not in matrix.TOKEN_ROUTES
        }
    )


def actor_for(endpoint: str, method: str, preference: Iterable[str] = VISITOR_FIRST) -> str:
    """The first actor in `preference` the access matrix lets use the route."""
    allowed = matrix.MATRIX.get((endpoint, method))
    if not allowed:
        pytest.fail(f"{endpoint} {method} is not in the access matrix: add it there first")
    return next(actor for actor in preference if actor in allowed)


def client_as(app: Flask, world: World, actor: str, address: str | None = None):
    """A fresh client signed in as `actor` (none for the anonymous visitor), optionally
    from its own client address (rate limits are counted per address). As after a real
    sign-in, the password counts as just confirmed, so pages behind "confirm it is you"
    (account changes, erasure) are walked, fuzzed and checked too."""
    client = app.test_client()
    if address:
        client.environ_base["REMOTE_ADDR"] = address
    user_id = matrix.actor_user_id(world, actor)
    if user_id is not None:
        act_as(client, user_id)
        confirmed_recently(client)
    return client


def page_html(response) -> str | None:
    """The page's HTML for a 200 HTML answer, else None (the answer is closed)."""
    if response.status_code != 200 or response.mimetype != "text/html":
        response.close()
        return None
    return response.get_data(as_text=True)


def _above(path: str) -> Iterator[str]:
    parts = path.rstrip("/").split("/")
    for end in range(len(parts) - 1, 0, -1):
        yield "/".join(parts[:end]) or "/"
        yield "/".join(parts[:end]) + "/"


def pages_to_search(app: Flask, url: str, actor: str, targets: dict) -> list[str]:
    """Where the form posting to `url` may be: its own page, the pages above it, then
    every page the actor may open."""
    pages = [url, *_above(urlsplit(url).path)]
    for (endpoint, method), allowed in sorted(matrix.MATRIX.items()):
        if method == "GET" and actor in allowed and not NOT_PAGES.search(endpoint):
            pages.append(url_of(app, endpoint, targets))
    return pages


def find_form(client, pages: Iterable[str], path: str) -> tuple[str, Form] | None:
    """The page (its address after redirects) and the form on it that posts to `path`.
    Links on a page to `path` with a query string (a template to start from) are followed
    first."""
    seen: set[str] = set()
    queue = list(pages)
    while queue:
        page = queue.pop(0)
        if page in seen:
            continue
        seen.add(page)
        response = client.get(page, follow_redirects=True)
        html = page_html(response)
        if html is None:
            continue
        where = response.request.full_path.rstrip("?")
        for form in forms_in(html):
            if form.method == "post" and form.path(where) == path:
                return where, form
        elements, _ = elements_and_text(html)
        queue[:0] = [
            href
            for element in elements
            if element.tag == "a"
            and (href := dict(element.attrs).get("href", ""))
            and urlsplit(href).path == path
            and urlsplit(href).query
        ][:1]
    return None


def csrf_token_in_page(client, html: str | None) -> str:
    """The page's CSRF token, or a fresh one from the client's start page."""
    for form in forms_in(html or ""):
        for name, value in form.values:
            if name == "csrf_token":
                return value
    return client.fetch_csrf_token()

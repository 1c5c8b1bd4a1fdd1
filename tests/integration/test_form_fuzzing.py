"""Junk in every form: no input ever answers 500, and a form that comes back says what is
wrong.

The routes come from `app.url_map`, so a form added later is fuzzed without anyone writing
a test for it. Each POST route is used by a role the access matrix allows, on the objects
of the matrix's world (`targets`); its real field names are read from the page that holds
the form (the route's own page, else the nearest page above it, else any page the role can
open). Hypothesis then changes those fields: text in every script, NUL and other control
characters, huge, negative and non-finite numbers, impossible dates, fields left out or
sent twice, options of other fields, unknown fields; and files or JSON (numbers, lists
and objects where text is expected).
Bodies over MAX_CONTENT_LENGTH get 413. GET routes get the same junk in their query
strings (the names the code reads, and those of the filter forms on their pages).

Bounded for CI: a named settings profile (`form-fuzzing`) runs a fixed, derandomised set
of examples per route; raise it locally with CLINIC_FUZZ_EXAMPLES=200.
"""

from __future__ import annotations

import io
import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from clinic import create_app
from tests.support.apps import config_for_tests
from tests.support.html import Form, forms_in
from tests.support.routes import (
    actor_for,
    client_as,
    csrf_token_in_page,
    endpoints,
    find_form,
    page_html,
    pages_to_search,
    url_of,
)
from tests.support.world import World

settings.register_profile(
    "form-fuzzing",
    max_examples=int(os.environ.get("CLINIC_FUZZ_EXAMPLES", "12")),
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FUZZING = settings.get_profile("form-fuzzing")
GET_FUZZING = settings(FUZZING, max_examples=max(3, FUZZING.max_examples // 3))


# A client address of its own (TEST-NET-3), so the fuzzer's sign-in attempts never count
# against the rate limits of other tests, which come from 127.0.0.1.
FUZZER_ADDRESS = "203.0.113.77"

# How the page shows a problem: the form's summary or a field's message, an alert, or an
# error page of its own.
ERROR_SHOWN = re.compile(
    r'class="error-summary"|class="field-error"|role="alert"|Error code \d{3}'
    r'|class="flash flash-error"'
)

_COLLECTION_APP = create_app(config_for_tests("sqlite://"))  # only its url_map is read
POST_ENDPOINTS = endpoints(_COLLECTION_APP, "POST")
GET_ENDPOINTS = endpoints(_COLLECTION_APP, "GET")

# Query-string names the code reads (request.args / request.values), found in the source.
CODE_QUERY_NAMES = sorted(
    set(
        re.findall(
            r"request\.(?:args|values)\.get(?:list)?\(\s*\"([^\"]+)\"",
            "\n".join(
                path.read_text() for path in (Path(__file__).parents[2] / "clinic").rglob("*.py")
            ),
        )
    )
)

AWKWARD = [
    "",
    " ",
    "\t\r\n",
    "-1",
    "0",
    "-0",
    "1.5",
    "1e400",
    "-1e400",
    "nan",
    "inf",
    "-inf",
    "99999999999999999999999999999",
    "2147483648",
    "-2147483649",
    "9223372036854775808",
    "0x1F",
    "\uff11\uff12",  # full-width digits
    "٣",
    "true",
    "None",
    "null",
    "[]",
    "{}",
    "0001-01-01",
    "9999-12-31",
    "2026-02-30",
    "0000-00-00",
    "2026-13-01",
    "1899-12-31",
    "0001-01-01T00:00",
    "9999-12-31T23:59",
    "2026-03-29T01:30",  # a local time that does not exist (clocks go forward)
    "2026-10-25T01:30",  # a local time that happens twice
    "../../etc/passwd",
    "<script>alert(1)</script>",
    "' OR '1'='1' --",
    "\u202eevil",
    "\x00",
    "a\x00b",
    "\x7f\x1b[31m",
    "%00",
    "😀" * 50,
    "x" * 300,
]

text_junk = st.one_of(
    st.sampled_from(AWKWARD),
    st.text(st.characters(exclude_categories=("Cc", "Cs")), max_size=40),
    st.text(max_size=10).map(lambda s: f"{s}\x00{s}"),
    st.integers().map(str),
    st.integers(min_value=-(2**80), max_value=2**80).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=500, max_value=20_000).map(lambda n: "ü" * n),
)


def _client(app: Flask, world: World, actor: str):
    return client_as(app, world, actor, address=FUZZER_ADDRESS)


@dataclass(frozen=True)
class Mangling:
    """How to mangle a form: nothing sent at all, or the fields as the browser fills them
    except a few (name -> how, junk); a choice for each radio group the page leaves open;
    perhaps a field the form does not have."""

    send_nothing: bool
    changes: dict[str, tuple[str, str]]
    radio_choices: dict[str, str]
    stranger: tuple[str, str] | None

    def apply(self, form: Form) -> MultiDict:
        """What is sent, from the form as the page shows it now (fresh submission keys and
        lock versions; CSRF tokens are never mangled)."""
        sent = MultiDict([(n, v) for n, v in form.values if n.endswith("csrf_token")])
        if self.send_nothing:
            return sent
        for name in form.names:
            if name.endswith("csrf_token"):
                continue
            as_filled = [v for n, v in form.values if n == name]
            if not as_filled and name in self.radio_choices:
                as_filled = [self.radio_choices[name]]
            how, junk = self.changes.get(name, ("keep", ""))
            values = {
                "keep": as_filled,
                "junk": [junk],
                "drop": [],
                "twice": [*as_filled, junk],
                "option": [junk],
            }[how]
            for value in values:
                sent.add(name, value)
        if self.stranger:
            sent.add(*self.stranger)
        return sent


@st.composite
def manglings(draw: st.DrawFn, form: Form) -> Mangling:
    """Few changes at a time, so the junk gets past the first check it meets and reaches
    the code behind the form. Drawn from the form as first seen, never from the page of
    the moment, so every example replays exactly."""
    names = [name for name in form.names if not name.endswith("csrf_token")]
    options = sorted({o for values in form.options.values() for o in values}) or [""]
    changes = {}
    for name in draw(
        st.lists(st.sampled_from(names), max_size=4, unique=True) if names else st.just([])
    ):
        how = draw(st.sampled_from(["junk", "junk", "junk", "drop", "twice", "option"]))
        junk = draw(st.sampled_from(options)) if how == "option" else draw(text_junk)
        changes[name] = (how, junk)
    radio_choices = {
        name: draw(st.sampled_from(form.options[name]))
        for name in names
        if form.kinds.get(name) == "radio" and form.options.get(name)
    }
    stranger = None
    if draw(st.integers(0, 3)) == 0:
        name = draw(st.sampled_from(["id", "patient_id", "clinic_id", "role", "x"]))
        stranger = (name, draw(text_junk))
    return Mangling(draw(st.integers(0, 9)) == 0, changes, radio_choices, stranger)


def _shows_the_form_again(html: str, page: str, path: str, form: Form) -> bool:
    visible = {n for n in form.names if n not in ("csrf_token", "action")}
    return any(
        other.method == "post"
        and other.path(page) == path
        and (not visible or visible & set(other.names))
        for other in forms_in(html)
    )


@pytest.mark.parametrize("endpoint", POST_ENDPOINTS)
def test_junk_in_a_form_never_crashes(
    app: Flask, world: World, targets: dict, endpoint: str
) -> None:
    """Whatever arrives in the form, the answer is never a 500: a page, a redirect or a
    refusal; a 400 always, and a form shown again, says what is wrong. A body over
    MAX_CONTENT_LENGTH answers 413, and a file or JSON where text belongs 400 (or, on the
    one form that takes a file, a message on the form)."""
    actor = actor_for(endpoint, "POST")
    url = url_of(app, endpoint, targets)
    path = urlsplit(url).path
    scout = _client(app, world, actor)
    found = find_form(scout, pages_to_search(app, url, actor, targets), path)
    page, form = found if found else (None, Form(action=url, method="post"))

    @FUZZING
    @given(mangling=manglings(form))
    def post_junk(mangling: Mangling) -> None:
        client = _client(app, world, actor)
        current, target = form, url
        html = None
        if page is not None:
            html = page_html(client.get(page, follow_redirects=True))
            fresh = [f for f in forms_in(html or "") if f.method == "post" and f.path(page) == path]
            if fresh:  # today's values: submission keys, lock versions, ids
                current, target = fresh[0], fresh[0].target(page)
        sent = mangling.apply(current)
        token = csrf_token_in_page(client, html)  # this client's (a fallback form's is not)
        for name in [n for n in sent if n.endswith("csrf_token")] + ["csrf_token"]:
            sent[name] = token
        response = client.post(target, data=sent, csrf=False)
        status = response.status_code
        body = response.get_data(as_text=True) if response.mimetype == "text/html" else ""
        response.close()
        assert status < 500, status
        if status == 400 or (
            status == 200 and body and _shows_the_form_again(body, target, path, current)
        ):
            assert ERROR_SHOWN.search(body), f"{status} without a visible message"

    post_junk()

    client = _client(app, world, actor)
    token = client.fetch_csrf_token()
    name = next((n for n in form.names if n != "csrf_token"), "note")
    huge = "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    response = client.post(url, data={"csrf_token": token, name: huge}, csrf=False)
    assert response.status_code == 413
    assert "too much to send" in response.get_data(as_text=True)
    # A file where a text field belongs: refused with the site's 400 page, or, on the one
    # form that takes a file, a message on the form.
    upload = {"csrf_token": token, name: (io.BytesIO(b"\x00\xff"), "upload.bin")}
    response = client.post(url, data=upload, content_type="multipart/form-data", csrf=False)
    if getattr(app.view_functions[endpoint], "takes_files", False):
        assert response.status_code in (200, 400)
    else:
        assert response.status_code == 400
    assert ERROR_SHOWN.search(response.get_data(as_text=True))
    # JSON (numbers, lists, objects where text is read): the site's 400 page.
    as_json = {name: {"nested": [1, 2.5, None, True]}}
    response = client.post(url, json=as_json, headers={"X-CSRFToken": token}, csrf=False)
    assert response.status_code == 400 and ERROR_SHOWN.search(response.get_data(as_text=True))


def test_junk_in_a_query_string_never_crashes(app: Flask, world: World, targets: dict) -> None:
    """Every page given junk in its query string (the names the code reads, and those of
    the page's own filter forms) answers a page, a redirect or a refusal, never a 500.
    (One test for all pages: GETs change nothing, so they can share one world.)"""
    crashed: dict[str, str] = {}
    for endpoint in GET_ENDPOINTS:
        try:
            _fuzz_query_string(app, world, targets, endpoint)
        except Exception as exc:  # collected, so one crash does not hide the others
            crashed[endpoint] = f"{type(exc).__name__}: {exc}"[:500]
    assert crashed == {}


def _fuzz_query_string(app: Flask, world: World, targets: dict, endpoint: str) -> None:
    actor = actor_for(endpoint, "GET")
    url = url_of(app, endpoint, targets)
    scout = _client(app, world, actor)
    html = page_html(scout.get(url)) or ""
    names = sorted(
        set(CODE_QUERY_NAMES)
        | {name for form in forms_in(html) if form.method == "get" for name in form.names}
    )

    @GET_FUZZING
    @given(
        pairs=st.lists(
            st.tuples(st.sampled_from(names), text_junk.filter(lambda s: len(s) < 2000)),
            min_size=1,
            max_size=6,
        )
    )
    def get_junk(pairs: list[tuple[str, str]]) -> None:
        client = _client(app, world, actor)
        response = client.get(f"{url}?{urlencode(pairs)}")
        status = response.status_code
        response.close()
        assert status < 500, status

    get_junk()


# The first and last days Python's dates can hold, and the days next to them: a date typed
# there must get an answer or a message, never an overflow from a day added or taken away.
EXTREME_DAYS = ["0001-01-01", "0001-01-02", "9999-12-30", "9999-12-31"]
EXTREME_MOMENTS = ["0001-01-01T00:00", "0001-01-01T23:59", "9999-12-31T00:00", "9999-12-31T23:59"]
EXTREMES = {"date": EXTREME_DAYS, "datetime-local": EXTREME_MOMENTS}


def _with_extremes(form: Form) -> list[MultiDict]:
    """The form as the browser fills it, with one date field at a time set to each
    extreme, then every date field at once (the first day, and the last)."""
    dated = [n for n in form.names if form.kinds.get(n) in EXTREMES]
    kept = [(n, v) for n, v in form.values if n not in dated]
    sent = [
        MultiDict(
            [*kept, *[(n, v) for n, v in form.values if n in dated and n != name], (name, day)]
        )
        for name in dated
        for day in EXTREMES[form.kinds[name]]
    ]
    for end in (0, -1):
        sent.append(MultiDict([*kept, *[(n, EXTREMES[form.kinds[n]][end]) for n in dated]]))
    return sent if dated else []


@pytest.mark.parametrize("endpoint", POST_ENDPOINTS)
def test_extreme_dates_in_a_form_never_crash(
    app: Flask, world: World, targets: dict, endpoint: str
) -> None:
    """Every date (and date-and-time) field of every form, set to the first or last day a
    date can hold (or the day next to it), answers a page, a redirect or a refusal, never
    a 500, and the page a save leads to shows; a form shown again says what is wrong.
    (The random fuzzing above draws these values too, but too rarely to meet each
    field.)"""
    actor = actor_for(endpoint, "POST")
    url = url_of(app, endpoint, targets)
    path = urlsplit(url).path
    found = find_form(_client(app, world, actor), pages_to_search(app, url, actor, targets), path)
    if found is None or not _with_extremes(found[1]):
        pytest.skip("no date field in this form")
    page, form = found
    for index in range(len(_with_extremes(form))):
        client = _client(app, world, actor)
        html = page_html(client.get(page, follow_redirects=True)) or ""
        fresh = [f for f in forms_in(html) if f.method == "post" and f.path(page) == path]
        current, target = (fresh[0], fresh[0].target(page)) if fresh else (form, url)
        variants = _with_extremes(current)
        sent = variants[min(index, len(variants) - 1)]
        response = client.post(target, data=sent, csrf=False, follow_redirects=True)
        body = response.get_data(as_text=True) if response.mimetype == "text/html" else ""
        assert response.status_code < 500, (dict(sent), response.status_code)
        if response.status_code == 200 and _shows_the_form_again(body, target, path, current):
            assert ERROR_SHOWN.search(body), dict(sent)


def test_extreme_dates_in_a_search_never_crash(app: Flask, world: World, targets: dict) -> None:
    """Every search (GET) form's date fields, set to the first or last day a date can hold
    (or the day next to it), answer a page, never a 500: the audit trail's "To" of
    31/12/9999 once crashed adding the day after it."""
    crashed: dict[str, list[str]] = {}
    for endpoint in GET_ENDPOINTS:
        actor = actor_for(endpoint, "GET")
        url = url_of(app, endpoint, targets)
        client = _client(app, world, actor)
        html = page_html(client.get(url)) or ""
        for form in forms_in(html):
            if form.method != "get":
                continue
            for sent in _with_extremes(form):
                response = client.get(
                    f"{form.target(url)}?{urlencode(list(sent.items(multi=True)))}"
                )
                if response.status_code >= 500:
                    crashed.setdefault(endpoint, []).append(urlencode(list(sent.items(multi=True))))
                response.close()
    assert crashed == {}

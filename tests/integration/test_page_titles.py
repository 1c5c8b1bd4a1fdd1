"""Every page's title is short, plain words: what a browser tab, a history list or a
shared screen shows. No markup in it (a template that put content into the title block
would show it in the tab), never the patient's name or health words on a patient's page."""

from __future__ import annotations

import re

from flask import Flask

from tests.support import access_matrix as matrix
from tests.support.access_matrix import url_of
from tests.support.privacy import denied_words
from tests.support.routes import NOT_PAGES, actor_for, client_as, page_html
from tests.support.world import World

TITLE = re.compile(r"<title>(.*?)</title>", re.S)
PATIENTS = {matrix.PATIENT, matrix.OTHER_PATIENT}
# The portal's own plain vocabulary ("Therapy diary", "Log a session"), which says what the
# page is for without naming a condition, a device or a symptom.
PORTAL_WORDS = {"diary", "session", "sessions"}


def test_every_page_has_a_short_plain_title(app: Flask, world: World, targets: dict) -> None:
    """Each page any role may open, opened by that role: one title, under 80 characters,
    one line, no tags; on the pages a patient opens, none of the deny-listed words."""
    problems: dict[str, str] = {}
    for (endpoint, method), _allowed in sorted(matrix.MATRIX.items()):
        if method != "GET" or NOT_PAGES.search(endpoint):
            continue
        actor = actor_for(endpoint, method)
        html = page_html(client_as(app, world, actor).get(url_of(app, endpoint, targets)))
        if html is None:
            continue
        titles = TITLE.findall(html)
        if len(titles) != 1:
            problems[endpoint] = f"{len(titles)} titles"
            continue
        title = titles[0]
        if "<" in title or "\n" in title.strip() or len(title) > 80:
            problems[endpoint] = title[:120]
        elif actor in PATIENTS:
            words = set(re.findall(r"[a-z-]+", title.lower()))
            if found := words & (denied_words() - PORTAL_WORDS):
                problems[endpoint] = f"{title!r} says {sorted(found)}"
    assert problems == {}

"""No data: URI images in anything we serve: the Content-Security-Policy (default-src 'self',
no data: images) makes the browser refuse them, with a console error on every page and a
missing affordance (a select with no arrow).

Pico, vendored unchanged, draws its icons as data: URIs in `--pico-icon-*` custom
properties; site.css redefines each of them, in every scope Pico sets it, as a file under
clinic/static/icons/. These tests read the style sheets and every page of every route.
"""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask

from tests.support import access_matrix as matrix
from tests.support.routes import NOT_PAGES, SIGNED_IN_FIRST, actor_for, client_as, url_of
from tests.support.world import World

STATIC = Path(__file__).resolve().parents[2] / "clinic" / "static"
TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
PICO = STATIC / "vendor" / "pico" / "pico.min.css"
SITE_CSS = STATIC / "site.css"

DATA_URI = re.compile(r"data:[\w.+-]+/[\w.+-]+", re.IGNORECASE)
# A custom property whose value holds a data: URI, in Pico: "--pico-icon-chevron:url("data:…")".
DATA_PROPERTY = re.compile(r"""(--[\w-]+)\s*:\s*url\(\s*["']?data:""", re.IGNORECASE)
URL = re.compile(r"""url\(\s*["']?([^"')]+)["']?\s*\)""")
COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
# In order: the start of an @media block, a rule (selector and declarations), or an end.
PART = re.compile(r"@media(?P<media>[^{]*)\{|(?P<selector>[^{}]*)\{(?P<body>[^{}]*)\}|\}")


def scopes_defining(css: str, pattern: re.Pattern[str]) -> dict[str, set[str]]:
    """For each custom property matched by `pattern`, the scopes of the rules that set it:
    "<@media prelude>|<selector>"."""
    found: dict[str, set[str]] = {}
    media = ""
    for match in PART.finditer(COMMENT.sub("", css)):
        if match.group("media") is not None:
            media = match.group("media")
        elif match.group("selector") is None:
            media = ""  # the end of an @media block
        else:
            for name in pattern.findall(match.group("body")):
                # (After any statement before it: Pico's first rule follows @charset.)
                selector = match.group("selector").rpartition(";")[2]
                found.setdefault(name, set()).add(f"{media}|{selector}")
    return found


def normalised(scope: str) -> str:
    """A scope compared loosely: Pico's minified selectors beside our spaced ones."""
    media, _, selector = scope.partition("|")
    keep = [s.strip() for s in selector.split(",") if not s.strip().startswith(":host")]
    return re.sub(r"\s+", "", media.replace("only screen and", "") + "|" + ",".join(keep))


def test_every_pico_data_icon_is_redefined_as_a_file_in_each_of_its_scopes() -> None:
    """Each `--pico-icon-*` Pico sets to a data: URI is set again in site.css, in the same
    scope (the root, each theme), to a url() of a file under clinic/static."""
    pico = PICO.read_text(encoding="utf-8")
    site = SITE_CSS.read_text(encoding="utf-8")
    pico_scopes = scopes_defining(pico, DATA_PROPERTY)
    assert "--pico-icon-chevron" in pico_scopes, "the test no longer reads Pico's icons"
    # From the site's root (see the next test but one).
    site_scopes = scopes_defining(site, re.compile(r"(--pico-icon-[\w-]+)\s*:\s*url\(\"/static/"))
    missing = {
        name: sorted(
            scope
            for scope in scopes
            if normalised(scope) not in {normalised(s) for s in site_scopes.get(name, ())}
        )
        for name, scopes in pico_scopes.items()
    }
    assert {name: scopes for name, scopes in missing.items() if scopes} == {}


def test_pico_uses_data_uris_only_in_the_icon_properties() -> None:
    """Every data: URI in Pico sits in one of the custom properties site.css redefines (a
    data: URI written straight into a rule could not be overridden that way)."""
    pico = PICO.read_text(encoding="utf-8")
    in_properties = len(DATA_PROPERTY.findall(pico))
    assert len(DATA_URI.findall(pico)) == in_properties


def test_our_style_sheets_and_templates_hold_no_data_uri() -> None:
    """site.css, every other file under clinic/static (Pico apart) and every template are
    free of data: URIs."""
    offenders = []
    for path in [*STATIC.rglob("*"), *TEMPLATES.rglob("*")]:
        if path.is_dir() or path == PICO or path.suffix in {".png", ".ico", ".woff2"}:
            continue
        if DATA_URI.search(path.read_text(encoding="utf-8", errors="replace")):
            offenders.append(str(path))
    assert offenders == []


def test_every_url_in_site_css_names_a_static_file() -> None:
    """Every url() in site.css (Pico's import, the icons) names a file under clinic/static.
    The icons are named from the site's root: a url() in a custom property is resolved
    against the sheet that uses it in one browser (Pico's, in vendor/pico/), the sheet that
    sets it in another."""
    urls = URL.findall(SITE_CSS.read_text(encoding="utf-8"))
    assert "vendor/pico/pico.min.css" in urls
    missing = [
        url
        for url in urls
        if not (STATIC / url.removeprefix("/static/")).is_file()
        or (url.startswith("/") and not url.startswith("/static/"))
    ]
    assert missing == []


def test_pico_comes_in_through_site_css_only() -> None:
    """No template links Pico itself: a page styled by Pico before site.css has arrived
    asks for Pico's data: icons (the browser refuses them, with an error)."""
    linking = [
        str(path)
        for path in TEMPLATES.rglob("*.html")
        if "pico.min.css" in path.read_text(encoding="utf-8")
    ]
    assert linking == []


def test_no_page_of_any_route_holds_a_data_uri(app: Flask, world: World, targets: dict) -> None:
    """Every page (GET, HTML), opened by someone allowed to, is free of data: URIs:
    inline SVG, images and links included."""
    offenders = []
    for (endpoint, method), _allowed in sorted(matrix.MATRIX.items()):
        if method != "GET" or NOT_PAGES.search(endpoint):
            continue
        client = client_as(app, world, actor_for(endpoint, method, SIGNED_IN_FIRST))
        response = client.get(url_of(app, endpoint, targets), follow_redirects=True)
        if response.mimetype == "text/html" and (
            found := DATA_URI.search(response.get_data(as_text=True))
        ):
            offenders.append(f"{endpoint}: {found.group(0)[:60]}")
        response.close()
    assert offenders == []

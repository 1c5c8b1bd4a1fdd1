"""Accessibility checks of the pages the browser tests load: axe-core in a page, and every
page a test loads checked at a phone's and a desktop's width.

Each page is checked as a copy: once a page has loaded, its document is read (reading
changes nothing, so it is read while the journey goes on) and, in a browser context of its
own, served at the page's own address (stylesheets and images come from the live server),
laid out at 390 and then 1280 px and checked by axe. The journey's own page is never
resized under it, and a page reached by a POST is checked as the person saw it.
tests/e2e/conftest.py wires `EveryPageChecked` to every browser test; `assert_accessible`
(tests/e2e/helpers.py) checks the page as it stands through the same checker.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Browser, BrowserContext, Page, Route
from playwright.sync_api import Error as PlaywrightError

AXE_SCRIPT = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
WCAG_AA_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING_IMPACTS = frozenset({"serious", "critical"})

_RUN_AXE = """
async (tags) => {
  // Violations only: axe skips describing every element that passes (much less work).
  const results = await axe.run(document, {
    runOnly: {type: 'tag', values: tags},
    resultTypes: ['violations'],
  });
  return results.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    targets: v.nodes.map((node) => node.target.map(String).join(' ')),
  }));
}
"""


def blocking_violations(page: Page) -> list[dict]:
    """The serious and critical WCAG 2.1 AA violations axe finds in the page as laid out now."""
    page.wait_for_load_state("load")  # stylesheets applied: contrast is judged as shown
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=AXE_SCRIPT)
    violations = page.evaluate(_RUN_AXE, WCAG_AA_TAGS)
    return [v for v in violations if v["impact"] in BLOCKING_IMPACTS]


def violations_report(violations: list[dict]) -> str:
    """One line per violation, then the elements it was found on."""
    return "\n".join(
        f"- {v['id']} ({v['impact']}): {v['help']}\n"
        + "\n".join(f"    {target}" for target in v["targets"])
        for v in violations
    )


# The widths every page a journey loads is checked at: a phone's and a desktop's.
CHECKED_WIDTHS = (390, 1280)

# The page's document, doctype and all, as it stands now (null when it is not an HTML
# page: a PDF, an image).
_SNAPSHOT = """
() => document.contentType === 'text/html' && document.documentElement
  ? (document.doctype ? new XMLSerializer().serializeToString(document.doctype) : '')
    + document.documentElement.outerHTML
  : null
"""
# What differs between two copies of the same page: the forms' CSRF tokens.
_CSRF_VALUE = re.compile(r'(name="csrf_token"[^>]*value=")[^"]*"')
# Scripts have already done their work in the copy (and must not do it twice); a page that
# reloads itself (a job's progress) would leave the copy for the live page.
_SCRIPT = re.compile(r"<script\b.*?</script>", re.IGNORECASE | re.DOTALL)
_META_REFRESH = re.compile(r"<meta[^>]*http-equiv=\"refresh\"[^>]*>", re.IGNORECASE)


# Long tables and lists are checked by their kinds of row: a row (or list item) built
# like two earlier ones in the same table or list is taken out of the copy before axe
# runs (a diary of 90 sessions is 500 cells of the same few kinds; axe takes seconds on
# each). What is checked is unchanged: every kind of row, at every width.
_THIN_REPEATS = """
() => {
  const kindOf = (element) => Array.from(element.querySelectorAll('*'), (e) =>
    e.tagName + '.' + (e.getAttribute('class') || '') + '.' + (e.getAttribute('role') || '')
  ).join(' ');
  for (const list of document.querySelectorAll('tbody, ul, ol')) {
    const seen = new Map();
    for (const item of Array.from(list.children)) {
      const kind = item.tagName + ' ' + (item.getAttribute('class') || '') + ' ' + kindOf(item);
      const count = seen.get(kind) || 0;
      if (count >= 2) item.remove(); else seen.set(kind, count + 1);
    }
  }
}
"""


def _copy_of(html: str) -> str:
    return _META_REFRESH.sub("", _SCRIPT.sub("", _CSRF_VALUE.sub(r'\1"', html)))


# What the checks depend on in an element: its kind, classes and the attributes that
# change its role, state or look. Words and counts apart.
_KIND_ATTRIBUTES = ("class", "role", "type", "aria-invalid", "aria-current", "open", "disabled")


class _Kinds(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.kinds: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        kept = sorted((name, value or "") for name, value in attrs if name in _KIND_ATTRIBUTES)
        self.kinds.add(tag + repr(kept))


def route_and_kinds(url: str, copy: str) -> tuple[str, frozenset[str]]:
    """The page's route (its path, ids apart) and the kinds of element it is built of (see
    `_KIND_ATTRIBUTES`)."""
    parser = _Kinds()
    parser.feed(copy)
    return re.sub(r"\d+", "N", urlsplit(url).path), frozenset(parser.kinds)


class CopyChecker:
    """Checks copies of pages with axe at each of `CHECKED_WIDTHS`, in a browser context
    of its own: each copy is served at its page's own address (stylesheets and images
    come from the live server), laid out at each width, checked.

    A page built only of kinds of element already checked, and passed, on pages of the same
    route is not checked again in the run: axe's rules look at elements' roles, names,
    states and colours, which come with their kind, not at how many there are (the sign-in
    page of every journey; a second patient's timeline). That keeps the browser tests
    within twice the time they took without these checks.
    """

    def __init__(self, browser: Browser) -> None:
        self._context = browser.new_context(bypass_csp=True)
        self._page = self._context.new_page()
        self._serving = {"address": "", "html": ""}
        self._page.route(lambda url: url == self._serving["address"], self._serve)
        self.passed: dict[str, set[str]] = {}  # route -> kinds of element checked there

    def _serve(self, route: Route) -> None:
        route.fulfill(
            status=200, content_type="text/html; charset=utf-8", body=self._serving["html"]
        )

    def problems(self, url: str, copy: str) -> list[str]:
        """The violations in `copy` (of the page at `url`) at each width."""
        route, kinds = route_and_kinds(url, copy)
        if kinds <= self.passed.get(route, set()):
            return []
        self._serving.update(address=url.split("#")[0], html=copy)
        self._page.goto(self._serving["address"])
        self._page.evaluate(_THIN_REPEATS)
        found = []
        for width in CHECKED_WIDTHS:
            self._page.set_viewport_size({"width": width, "height": 800})
            if blocking := blocking_violations(self._page):
                found.append(f"{url} at {width} px:\n{violations_report(blocking)}")
        if not found:
            self.passed.setdefault(route, set()).update(kinds)
        return found

    def close(self) -> None:
        """Close the checker's browser context."""
        self._context.close()


class EveryPageChecked:
    """Every page a test's browsers load, checked at a phone's and a desktop's width.

    A copy of each page's document is kept once it has loaded (reading it changes nothing,
    so it is read while the journey goes on); `assert_accessible` checks a copy of the page
    as it stands at once; `problems`, after the test, checks the copies not yet checked.
    The journey's own page is never resized under it, and a page reached by a POST is
    checked as the person saw it.
    """

    def __init__(self, checker: CopyChecker) -> None:
        self.checker = checker
        self.copies: dict[str, str] = {}  # the copy -> the address it was loaded at

    def watch(self, context: BrowserContext) -> None:
        """Keep a copy of every page loaded in `context` from now on."""
        context.on("page", lambda page: page.on("load", self._keep_copy))

    def _copy(self, page: Page) -> str | None:
        try:
            html = page.evaluate(_SNAPSHOT)
        except PlaywrightError:
            return None  # the page went on (or closed) before it could be read
        return _copy_of(html) if html else None

    def _keep_copy(self, page: Page) -> None:
        if copy := self._copy(page):
            self.copies.setdefault(copy, page.url)

    def check_now(self, page: Page) -> list[str]:
        """The violations in the page as it stands, at each width."""
        page.wait_for_load_state("load")
        copy = self._copy(page)
        return self.checker.problems(page.url, copy) if copy else []

    def problems(self) -> list[str]:
        """The violations in every copy kept, at each width."""
        found = []
        for copy, url in list(self.copies.items()):
            found += self.checker.problems(url, copy)
        return found


# The watch of the running test's pages (set by tests/e2e/conftest.py), or None.
_watching: EveryPageChecked | None = None


@contextmanager
def watching(checked: EveryPageChecked) -> Iterator[EveryPageChecked]:
    """Make `watched()` answer `checked` for the block (the running test)."""
    global _watching
    _watching = checked
    try:
        yield checked
    finally:
        _watching = None


def watched() -> EveryPageChecked | None:
    """The watch of the running test's pages, if one is set."""
    return _watching

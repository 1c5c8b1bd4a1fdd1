"""Steps the browser journeys share: signing in and out, and checks every page must pass.

`assert_accessible` runs axe-core (WCAG 2.0/2.1 A and AA rules) in the page and fails on
every serious or critical violation. Besides the journeys' own calls, `EveryPageChecked`
keeps a copy of every page a journey loads and checks each copy at a phone's and a
desktop's width once the journey is over (tests/e2e/conftest.py wires it to every test).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Browser, BrowserContext, Locator, Page, Route, expect
from playwright.sync_api import Error as PlaywrightError

from clinic.demo import DEMO_PASSWORD

AXE_SCRIPT = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
WCAG_AA_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING_IMPACTS = frozenset({"serious", "critical"})

# Words that must never show in a patient's tab title or browser history.
REVEALING_WORDS = ("dilator", "vagin", "pelvic", "anal")

_RUN_AXE = """
async (tags) => {
  // Violations only: axe skips describing every element that passes (a third faster).
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


def assert_accessible(page: Page) -> None:
    """Fail listing every serious or critical WCAG 2.1 AA violation axe finds in the page:
    at a phone's and a desktop's width while a test's pages are being watched (see
    `EveryPageChecked`), else as the page is laid out now."""
    if _watching is not None:
        problems = _watching.check_now(page)
        assert not problems, "accessibility violations:\n" + "\n".join(problems)
        return
    blocking = blocking_violations(page)
    assert not blocking, f"accessibility violations on {page.url}:\n{violations_report(blocking)}"


def assert_accessible_at(page: Page, widths: tuple[int, ...] = (390, 1280)) -> None:
    """`assert_accessible` with the page laid out at each of `widths` (a phone and a
    desktop by default), then back at its own size."""
    if _watching is not None and widths == CHECKED_WIDTHS:
        assert_accessible(page)  # checked at those widths already
        return
    own = page.viewport_size
    assert own is not None
    try:
        for width in widths:
            page.set_viewport_size({"width": width, "height": own["height"]})
            blocking = blocking_violations(page)
            assert not blocking, (
                f"accessibility violations on {page.url} at {width} px:\n"
                + violations_report(blocking)
            )
    finally:
        page.set_viewport_size(own)


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
    """Make `assert_accessible` check through `checked` for the block."""
    global _watching
    _watching = checked
    try:
        yield checked
    finally:
        _watching = None


def sign_in(page: Page, email: str, password: str = DEMO_PASSWORD) -> None:
    """Open the sign-in page, check it, and submit the form as a person would."""
    page.goto("/login")
    expect(page.get_by_role("heading", level=1, name="Sign in")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def sign_out(page: Page) -> None:
    """Use the "Sign out" button in the page header."""
    page.get_by_role("banner").get_by_role("button", name="Sign out").click()


def expect_path(page: Page, path: str) -> None:
    """Wait until the page shows `path` on the live server, whatever its query or fragment.

    (A fragment outlives redirects: after following the skip link to #main, the page a form
    redirects to keeps it.)
    """
    expect(page).to_have_url(re.compile(r"^https?://[^/?#]+" + re.escape(path) + r"([?#].*)?$"))


def open_patient_list(page: Page) -> None:
    """Go from any staff page to the patient list through the main navigation."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Patients").click()
    expect_path(page, "/patients/")


def assert_discreet_title(page: Page) -> None:
    """The tab title names no body part or therapy (it shows in history and tab bars)."""
    title = page.title().lower()
    revealed = [word for word in REVEALING_WORDS if word in title]
    assert not revealed, f"the title {page.title()!r} reveals {revealed}"


def assert_no_horizontal_scrolling(page: Page) -> None:
    """Nothing is wider than the viewport, so the page never scrolls sideways."""
    page.wait_for_load_state("load")
    width = page.viewport_size["width"]
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, (
        f"{page.url} is {scroll_width}px wide on a {width}px screen: it scrolls sideways"
    )


def focus_path_to(page: Page, target: Locator, max_presses: int = 40) -> list[str]:
    """Press Tab until `target` has focus; return the ids of the elements focused on the way.

    An element that keeps focus over several presses (a date input's parts) counts once.
    """
    visited: list[str] = []
    for _ in range(max_presses):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return visited
        focused = page.evaluate("document.activeElement.id || document.activeElement.tagName")
        if not visited or visited[-1] != focused:
            visited.append(focused)
    raise AssertionError(f"Tab never reached the target; focus went through {visited}")

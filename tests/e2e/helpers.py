"""Steps the browser journeys share: signing in and out, and checks every page must pass.

`assert_accessible` runs axe-core (WCAG 2.0/2.1 A and AA rules) in the page and fails on
every serious or critical violation; the journeys call it on each page they visit.
"""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from clinic.demo import DEMO_PASSWORD

AXE_SCRIPT = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
WCAG_AA_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING_IMPACTS = frozenset({"serious", "critical"})

# Words that must never show in a patient's tab title or browser history.
REVEALING_WORDS = ("dilator", "vagin", "pelvic", "anal")

_RUN_AXE = """
async (tags) => {
  const results = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
  return results.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    targets: v.nodes.map((node) => node.target.map(String).join(' ')),
  }));
}
"""


def assert_accessible(page: Page) -> None:
    """Fail listing every serious or critical WCAG 2.1 AA violation axe finds in the page."""
    page.wait_for_load_state("load")  # stylesheets applied: contrast is judged as shown
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=AXE_SCRIPT)
    violations = page.evaluate(_RUN_AXE, WCAG_AA_TAGS)
    blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
    report = "\n".join(
        f"- {v['id']} ({v['impact']}): {v['help']}\n"
        + "\n".join(f"    {target}" for target in v["targets"])
        for v in blocking
    )
    assert not blocking, f"accessibility violations on {page.url}:\n{report}"


def assert_accessible_at(page: Page, widths: tuple[int, ...] = (390, 1280)) -> None:
    """`assert_accessible` with the page laid out at each of `widths` (a phone and a
    desktop by default), then back at its own size."""
    own = page.viewport_size
    assert own is not None
    try:
        for width in widths:
            page.set_viewport_size({"width": width, "height": own["height"]})
            assert_accessible(page)
    finally:
        page.set_viewport_size(own)


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

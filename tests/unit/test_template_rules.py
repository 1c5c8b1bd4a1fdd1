"""Rules every page and printed report keeps, checked on the template sources: dates go
through the named filters, enums are asked through their properties, decision URLs use
the kinds' own words, and the navigation is one list per role."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from clinic.core.navigation import ACCOUNT, NAVIGATION
from clinic.models import Role

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted(
    path
    for folder in ("templates", "reports")
    for path in (ROOT / folder).rglob("*")
    if path.suffix in (".html", ".txt")
)


def _offending_lines(pattern: str) -> list[str]:
    found = []
    for path in SOURCES:
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if re.search(pattern, line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:120]}")
    return found


def test_the_rules_see_the_templates() -> None:
    """The checks below read real files (an empty list would pass anything)."""
    assert any(p.name == "base.html" for p in SOURCES)
    assert any(p.parent.name == "reports" for p in SOURCES)


@pytest.mark.parametrize(
    ("pattern", "why"),
    [
        (r"strftime\(", "format dates with the named filters of clinic.core.templating"),
        (r"\.value\s*[!=]=\s*['\"]", "ask the enum through a property, not its stored value"),
        (r"\brole\s*[!=]=\s*['\"]", "ask the role through a property (role.is_admin)"),
        (r"change=['\"]", "name a decision's URL word with EventKind.<KIND>.slug"),
        (r"current_user\.role\b[^.]", "navigation comes from clinic.core.navigation"),
    ],
)
def test_templates_keep_the_rule(pattern: str, why: str) -> None:
    """No template or report breaks the rule."""
    assert _offending_lines(pattern) == [], why


def test_every_role_has_one_navigation_list_ending_with_the_account() -> None:
    """Each kind of account sees its own list, and every list ends with "Your account"."""
    assert set(NAVIGATION) == set(Role)
    for entries in NAVIGATION.values():
        assert entries[-1] is ACCOUNT
        assert len({e.label for e in entries}) == len(entries)

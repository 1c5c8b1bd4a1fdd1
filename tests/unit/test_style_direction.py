"""The style sheets lay out right-to-left as well as left-to-right (issue 20): pages and
printed documents use logical properties (margin-inline-start, text-align: start), which
follow `dir`, never physical left and right, which would not mirror."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHEETS = [ROOT / "clinic" / "static" / "site.css", ROOT / "reports" / "print.css"]
# A declaration naming a physical side; page-margin boxes (@bottom-left) are the page's
# corners, not the text's direction, and are allowed.
PHYSICAL = re.compile(
    r"(?<![-@\w])(?:(?:margin|padding|border)-(?:left|right)[\w-]*|left|right)\s*:"
    r"|text-align\s*:\s*(?:left|right)\b"
)


def physical_declarations(css: str) -> list[str]:
    """Declarations in `css` (comments removed) that name left or right."""
    return PHYSICAL.findall(re.sub(r"/\*.*?\*/", "", css, flags=re.S))


def test_the_check_finds_physical_sides() -> None:
    """The check below can fail: it finds a left border, a right margin, a `left:` offset
    and a left alignment, and not their logical forms or page-margin boxes."""
    css = ".a { border-left: 1px; margin-right: 0; left: 0; text-align: left } @bottom-left {}"
    assert len(physical_declarations(css)) == 4
    assert physical_declarations(".a { inset-inline-start: 0; text-align: start }") == []


@pytest.mark.parametrize("sheet", SHEETS, ids=lambda p: p.name)
def test_style_sheets_use_logical_sides(sheet: Path) -> None:
    """No declaration of the product's style sheets names a physical side."""
    assert physical_declarations(sheet.read_text()) == []

"""The small part of Markdown the safety documents use, as HTML for a page or a print.

docs/safety/intended-use.md is written in this subset only: `#` and `##` headings,
paragraphs, `- ` list items (continued on lines indented by two spaces) and `**bold**`.
Everything is escaped first, so the document can hold no markup of its own; anything else
is shown as the text it is. A full Markdown library would be a dependency for one page.
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

_BOLD = re.compile(r"\*\*(.+?)\*\*")


def _inline(text: str) -> str:
    return _BOLD.sub(r"<strong>\1</strong>", str(escape(text)))


def _blocks(text: str) -> list[tuple[str, str]]:
    """(kind, text) for each block: "h1", "h2", "p" or "li" (list items one by one)."""
    blocks: list[tuple[str, str]] = []
    current: tuple[str, list[str]] | None = None

    def close() -> None:
        nonlocal current
        if current:
            blocks.append((current[0], " ".join(current[1])))
        current = None

    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            close()
        elif line.startswith("## "):
            close()
            blocks.append(("h2", stripped[3:]))
        elif line.startswith("# "):
            close()
            blocks.append(("h1", stripped[2:]))
        elif line.startswith("- "):
            close()
            current = ("li", [stripped[2:]])
        elif current and (current[0] == "p" or line.startswith("  ")):
            current[1].append(stripped)
        else:
            close()
            current = ("p", [stripped])
    close()
    return blocks


def render(text: str, top: int = 1) -> Markup:
    """The document as HTML; `#` becomes a heading of level `top`, `##` the next level."""
    html: list[str] = []
    in_list = False
    for kind, content in _blocks(text):
        if kind == "li" and not in_list:
            html.append("<ul>")
        elif kind != "li" and in_list:
            html.append("</ul>")
        in_list = kind == "li"
        if kind in ("h1", "h2"):
            level = top + (kind == "h2")
            html.append(f"<h{level}>{_inline(content)}</h{level}>")
        else:
            html.append(f"<{kind}>{_inline(content)}</{kind}>")
    if in_list:
        html.append("</ul>")
    return Markup("\n".join(html))  # noqa: S704 - every piece of text was escaped above

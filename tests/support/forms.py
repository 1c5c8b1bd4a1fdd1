"""Read a page's form the way a browser would submit it unchanged."""

from __future__ import annotations

from html.parser import HTMLParser


class _FormReader(HTMLParser):
    def __init__(self, form_index: int) -> None:
        super().__init__(convert_charrefs=True)
        self.form_index = form_index
        self.forms_seen = -1
        self.inside = False
        self.values: dict[str, str] = {}
        self._select: str | None = None
        self._select_first: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms_seen += 1
            self.inside = self.forms_seen == self.form_index
        if not self.inside:
            return
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "button"):
            if a.get("type") in ("checkbox", "radio"):
                if "checked" in a:
                    self.values[name] = a.get("value", "y")
            else:
                self.values[name] = a.get("value", "")
        elif tag == "select" and name:
            self._select, self._select_first = name, None
        elif tag == "option" and self._select:
            if self._select_first is None:
                self._select_first = a.get("value", "")
                self.values.setdefault(self._select, self._select_first)
            if "selected" in a:
                self.values[self._select] = a.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.values[name] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea and self.inside:
            self.values[self._textarea] += data


def form_values(html: str, form_index: int = 1) -> dict[str, str]:
    """The values the `form_index`-th form of the page would submit (0 is the first form;
    signed-in pages start with the sign-out form, so the page's own form is usually 1)."""
    reader = _FormReader(form_index)
    reader.feed(html)
    values = reader.values
    for name, value in values.items():
        if value.startswith(("\r\n", "\n")):  # browsers drop a textarea's first newline
            values[name] = value.removeprefix("\r").removeprefix("\n")
    return values

"""Read pages as a browser would: the forms they hold (action, fields, what a browser would
submit unchanged) and every element with its attributes (for injected-markup checks)."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit


@dataclass
class Form:
    """One <form>: where it posts, its fields' names in order, what each offers (options of
    a select or radio group), and the values a browser would send unchanged (repeated
    names, such as ticked checkboxes sharing a name, keep every value; the first submit
    button counts as pressed, as when Enter is pressed)."""

    action: str
    method: str
    names: list[str] = field(default_factory=list)
    options: dict[str, list[str]] = field(default_factory=dict)
    values: list[tuple[str, str]] = field(default_factory=list)
    kinds: dict[str, str] = field(default_factory=dict)  # "select", "radio", "text" ...

    def target(self, page_url: str) -> str:
        """The address (path and query) this form posts to, from the page it is on."""
        parts = urlsplit(urljoin(page_url, self.action))
        return parts.path + (f"?{parts.query}" if parts.query else "")

    def path(self, page_url: str) -> str:
        """The path this form posts to."""
        return urlsplit(self.target(page_url)).path


class _FormsReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: str | None = None
        self._selected: str | None = None
        self._textarea: int | None = None  # index of its value in the form's values
        self._pressed = False

    def _add_name(self, name: str, kind: str) -> None:
        if name not in self._form.names:
            self._form.names.append(name)
            self._form.kinds[name] = kind

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._form = Form(a.get("action", ""), a.get("method", "get").lower())
            self._pressed = False
            self.forms.append(self._form)
            return
        form = self._form
        if form is None:
            return
        if tag == "option" and self._select is not None:
            value = a.get("value", "")
            form.options[self._select].append(value)
            if self._selected is None or "selected" in a:
                self._selected = value
            return
        name, kind = a.get("name"), a.get("type", "").lower()
        if not name:
            return
        if (tag == "button" and kind in ("", "submit")) or (tag == "input" and kind == "submit"):
            if not self._pressed:
                self._pressed = True
                self._add_name(name, "submit")
                form.values.append((name, a.get("value", "")))
        elif tag == "input" and kind not in ("button", "reset", "file", "image"):
            self._add_name(name, kind or "text")
            if kind in ("checkbox", "radio"):
                form.options.setdefault(name, []).append(a.get("value", "on"))
                if "checked" in a:
                    form.values.append((name, a.get("value", "on")))
            else:
                form.values.append((name, a.get("value", "")))
        elif tag == "select":
            self._add_name(name, "select")
            form.options.setdefault(name, [])
            self._select, self._selected = name, None
        elif tag == "textarea":
            self._add_name(name, "textarea")
            form.values.append((name, ""))
            self._textarea = len(form.values) - 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select" and self._select is not None:
            if self._selected is not None:
                self._form.values.append((self._select, self._selected))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            name, value = self._form.values[self._textarea]
            # Browsers drop a textarea's first line break.
            self._form.values[self._textarea] = (name, value.removeprefix("\r").removeprefix("\n"))
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea is not None and self._form is not None:
            name, value = self._form.values[self._textarea]
            self._form.values[self._textarea] = (name, value + data)


def forms_in(html: str) -> list[Form]:
    """Every form of the page, in order."""
    reader = _FormsReader()
    reader.feed(html)
    reader.close()
    return reader.forms


@dataclass(frozen=True)
class Element:
    """A start tag as the browser's parser sees it."""

    tag: str
    attrs: tuple[tuple[str, str], ...]


class _ElementsReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append(Element(tag, tuple((k, v or "") for k, v in attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def elements_and_text(html: str) -> tuple[list[Element], str]:
    """Every element of the page, and its text as a reader sees it (entities decoded)."""
    reader = _ElementsReader()
    reader.feed(html)
    reader.close()
    return reader.elements, "".join(reader.text)

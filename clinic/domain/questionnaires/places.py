"""Where in an instrument file something is, in the words a clinic administrator reads.

A path into the file's data, such as ("items", 2, "options", 0, "value"), becomes
"item 3 ('calm'), option 1: the value". Every problem found in a file, by the schema or by
the checks of meaning, names its place this way, so the same place always reads the same.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

Path = tuple[str | int, ...]

_ITEM_KEY = re.compile(r"[a-z][a-z0-9_]*")
_LANGUAGE = re.compile(r"[a-z]{2,3}(-[A-Z]{2})?")


@dataclass(frozen=True)
class _Place:
    """A place reached so far: its name, what sort of part it is (which decides how the
    next step is named), the part it belongs to, and its number in its list (from 1)."""

    name: str
    part: str
    owner: str = ""
    number: int = 0


def place(document: Any, path: Sequence[str | int]) -> str:
    """The place at `path` in `document`, in words ('the instrument' for the whole file)."""
    here = _Place("the instrument", "instrument")
    node = document
    for step in path:
        node = _child(node, step)
        here = _STEPS.get(here.part, _stay)(here, step, node)
    return here.name


def _child(node: Any, step: str | int) -> Any:
    if isinstance(node, Mapping):
        return node.get(step)
    if isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
        return node[step]
    return None


def named(data: Any, template: str) -> str:
    """`template` filled with the key of `data` when it has a usable one, else ''."""
    key = data.get("key") if isinstance(data, Mapping) else None
    return template.format(key) if isinstance(key, str) and _ITEM_KEY.fullmatch(key) else ""


def _stay(here: _Place, step: str | int, node: Any) -> _Place:
    # Inside a plain value (a range, a list of keys): the place is the value itself.
    return replace(here, part="value")


def _instrument(here: _Place, step: str | int, node: Any) -> _Place:
    parts = {
        "licence": ("the licence", "licence"),
        "key": ("the instrument's key", "value"),
        "items": ("items", "items"),
        "domains": ("domains", "domains"),
        "total": ("the total", "total"),
        "validity": ("validity", "validity"),
        "decimals": ("decimals", "value"),
        "format": ("format", "value"),
        "translations": ("translations", "translations"),
    }
    name, part = parts.get(str(step), (f"the {str(step).replace('_', ' ')}", "value"))
    return _Place(name, part)


def _licence(here: _Place, step: str | int, node: Any) -> _Place:
    return _Place(f"the licence {step}", "value")


def _items(here: _Place, step: str | int, node: Any) -> _Place:
    number = _number(step)
    return _Place(f"item {number}" + named(node, " ({!r})"), "item", number=number)


def _item(here: _Place, step: str | int, node: Any) -> _Place:
    if step == "key":
        return _Place(f"item {here.number}'s key", "value")
    if step == "text":
        return _Place(f"{here.name}'s text", "value")
    if step == "options":
        return _Place(f"{here.name}: options", "options", owner=here.name)
    if step == "shown_if":
        return _Place(f"{here.name}: shown_if", "shown_if", owner=here.name)
    return _Place(f"{here.name}: {step}", "value")


def _options(here: _Place, step: str | int, node: Any) -> _Place:
    return _Place(f"{here.owner}, option {_number(step)}", "option")


def _shown_if(here: _Place, step: str | int, node: Any) -> _Place:
    return _Place(f"{here.owner}: shown_if {step}", "value")


def _domains(here: _Place, step: str | int, node: Any) -> _Place:
    number = _number(step)
    name = named(node, "domain {!r}") or f"domain {number}"
    return _Place(name, "domain", number=number)


def _domain(here: _Place, step: str | int, node: Any) -> _Place:
    if step == "key":
        return _Place(f"domain {here.number}'s key", "value")
    return _scored_part(here, step)


def _total(here: _Place, step: str | int, node: Any) -> _Place:
    return _scored_part(here, step)


def _scored_part(here: _Place, step: str | int) -> _Place:
    """A field of a domain or of the total."""
    if step == "label":
        return _Place(f"{here.name}'s label", "value")
    if step == "bands":
        return _Place(f"{here.name}: bands", "bands", owner=here.name)
    if step == "weight":
        return _Place(f"{here.name}: the weight", "value")
    return _Place(f"{here.name}: {step}", "value")


def _bands(here: _Place, step: str | int, node: Any) -> _Place:
    return _Place(f"{here.owner}, band {_number(step)}", "band")


def _validity(here: _Place, step: str | int, node: Any) -> _Place:
    return _Place(f"validity rule {_number(step)}", "rule")


def _the_field(here: _Place, step: str | int, node: Any) -> _Place:
    """A field of an option, a band or a validity rule: 'option 2: the value'."""
    the = "the " if step in ("value", "label", "interpretation", "reason") else ""
    return _Place(f"{here.name}: {the}{step}", "value")


def _translations(here: _Place, step: str | int, node: Any) -> _Place:
    number = _number(step)
    code = node.get("language") if isinstance(node, Mapping) else None
    named_by = f" ({code!r})" if isinstance(code, str) and _LANGUAGE.fullmatch(code) else ""
    return _Place(f"translation {number}{named_by}", "translation", number=number)


def _translation(here: _Place, step: str | int, node: Any) -> _Place:
    """A field of a translation: 'translation 1 ('es'): the title'."""
    if step == "items":
        return _Place(f"{here.name}: items", "translated items", owner=here.name)
    if step == "licence":
        return _Place(f"{here.name}: the licence", "translated licence", owner=here.name)
    return _Place(f"{here.name}: the {str(step).replace('_', ' ')}", "value")


def _translated_licence(here: _Place, step: str | int, node: Any) -> _Place:
    return _Place(f"{here.owner}: the licence {step}", "value")


def _translated_items(here: _Place, step: str | int, node: Any) -> _Place:
    number = _number(step)
    name = f"{here.owner}, item {number}" + named(node, " ({!r})")
    return _Place(name, "translated item", number=number)


def _translated_item(here: _Place, step: str | int, node: Any) -> _Place:
    if step in ("key", "text"):
        return _Place(f"{here.name}'s {step}", "value")
    if step == "options":
        return _Place(f"{here.name}: options", "options", owner=here.name)
    return _Place(f"{here.name}: {step}", "value")


def _number(step: str | int) -> int:
    return step + 1 if isinstance(step, int) else 0


_STEPS: dict[str, Callable[[_Place, str | int, Any], _Place]] = {
    "instrument": _instrument,
    "licence": _licence,
    "items": _items,
    "item": _item,
    "options": _options,
    "option": _the_field,
    "shown_if": _shown_if,
    "domains": _domains,
    "domain": _domain,
    "total": _total,
    "bands": _bands,
    "band": _the_field,
    "validity": _validity,
    "rule": _the_field,
    "translations": _translations,
    "translation": _translation,
    "translated licence": _translated_licence,
    "translated items": _translated_items,
    "translated item": _translated_item,
}

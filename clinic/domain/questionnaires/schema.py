"""The shape of an instrument file, checked against the JSON Schema that ships beside the
instruments (clinic/data/instruments/instrument.schema.json), with each failure said in
plain words.

The schema is the one a clinic can run itself with standard tools (see the instruments
README); here `jsonschema` reports every place the file departs from it, and `problems`
turns each report into a sentence naming the item, option or field ("item 3 ('calm'),
option 2: the value must be a whole number, not 1.5") rather than the validator's own
message. What a schema cannot say (keys unique, references resolved, ranges consistent
with the items) is checked afterwards, in `semantics`.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cache, cached_property
from importlib import resources
from types import MappingProxyType
from typing import Any

from jsonschema import Draft202012Validator, ValidationError, validators
from jsonschema.protocols import Validator

from clinic.domain.questionnaires.model import FORMAT
from clinic.domain.questionnaires.places import Path, place
from clinic.domain.questionnaires.words import kind, or_list, shown

SCHEMA_FILE = "data/instruments/instrument.schema.json"


@dataclass(frozen=True)
class Problems:
    """What the schema found: each problem in words, and the places that hold one (so
    the later checks can leave a broken part alone instead of complaining again)."""

    messages: tuple[str, ...]
    paths: frozenset[Path]

    def broken(self, path: Path) -> bool:
        """Whether the part at `path`, or anything inside it, failed the schema."""
        return path in self._holding

    @cached_property
    def _holding(self) -> frozenset[Path]:
        # Every place that holds a problem, at any depth: one lookup per question asked.
        return frozenset(path[:n] for path in self.paths for n in range(len(path) + 1))


@cache
def schema() -> Mapping[str, Any]:
    """The instrument schema, as shipped (checked to be a valid draft 2020-12 schema)."""
    text = resources.files("clinic").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    Draft202012Validator.check_schema(loaded)
    return MappingProxyType(loaded)


def problems(document: Any) -> Problems:
    """Every place `document` departs from the instrument schema, in document order."""
    errors = sorted(_validator().iter_errors(document), key=lambda e: _order(document, e))
    messages = dict.fromkeys(m for error in errors for m in _messages(document, error))
    return Problems(tuple(messages), frozenset(tuple(e.absolute_path) for e in errors))


def _whole_number(checker: object, instance: object) -> bool:
    # JSON Schema counts 1.0 as an integer; a scored value must be written as one (1).
    return isinstance(instance, int) and not isinstance(instance, bool)


@cache
def _validator() -> Validator:
    loaded = schema()
    strict: type[Validator] = validators.extend(  # type: ignore[no-untyped-call]
        Draft202012Validator,
        type_checker=Draft202012Validator.TYPE_CHECKER.redefine("integer", _whole_number),
    )
    return strict(_inlined(loaded, loaded["$defs"]))


def _inlined(node: Any, definitions: Mapping[str, Any]) -> Any:
    """The schema with each `{"$ref": "#/$defs/name"}` replaced by the definition it names.

    The file keeps its references, to be read; the validator gets them inlined, because
    resolving a reference at each of the thousands of values a file holds was most of the
    time spent validating it. The schema has no recursive definitions, so this ends.
    """
    if isinstance(node, Mapping):
        reference = node.get("$ref")
        if isinstance(reference, str) and reference.startswith("#/$defs/"):
            return _inlined(definitions[reference.removeprefix("#/$defs/")], definitions)
        return {key: _inlined(value, definitions) for key, value in node.items()}
    if isinstance(node, list):
        return [_inlined(value, definitions) for value in node]
    return node


# The stubs type what a ValidationError holds as "Any, or unset"; each translation below
# reads it through these, for the keyword it translates (which always sets them).


def _found(error: ValidationError) -> Any:
    """The value that failed."""
    return error.instance


def _expected(error: ValidationError) -> Any:
    """What the failing keyword asked for (its value in the schema)."""
    return error.validator_value


def _subschema(schema: object) -> Mapping[str, Any]:
    """A schema object (never `true` or `false` where it is read here)."""
    return schema if isinstance(schema, Mapping) else {}


# Problems at one place come in the order a person fixes them: unknown fields, missing
# ones, then wrong values.
_KEYWORD_ORDER = {"additionalProperties": 0, "required": 1}


def _order(document: object, error: ValidationError) -> tuple[tuple[int, ...], int]:
    positions: list[int] = []
    node: Any = document
    for step in error.absolute_path:
        if isinstance(node, Mapping):
            positions.append(list(node).index(step))
        else:
            positions.append(int(step))
        node = node[step]
    return tuple(positions), _KEYWORD_ORDER.get(str(error.validator), 2)


def _messages(document: Any, error: ValidationError) -> Iterable[str]:
    path: Path = tuple(error.absolute_path)
    where = place(document, path)
    if error.validator is None:  # a `false` schema: the field may not be there at all
        return _only_for_items(document, path)
    translate = _TRANSLATIONS.get(str(error.validator), _unexpected)
    return translate(where, path, error)


def _only_for_items(document: Any, path: Path) -> list[str]:
    total = document
    for step in path:
        total = total[step]
    where = place(document, path)
    return [
        f"{where}: {name} is only for a total that sums items"
        for name in ("items", "min_answered")
        if name in total
    ]


Translation = Callable[[str, Path, ValidationError], list[str]]


def _type(where: str, path: Path, error: ValidationError) -> list[str]:
    value, expected = _found(error), _expected(error)
    if expected == "object":
        return [f"{where} must be an object ({{...}}), not {kind(value)}"]
    if expected == "array":
        return [f"{where} must be a list ([...]), not {kind(value)}"]
    if expected == "boolean":
        return [f"{where} must be true or false"]
    if expected == "integer":
        return [_not_whole(where, value)]
    if expected == "number":
        return [f"{where} must be a number, not {shown(value)}"]
    return _string(where, path, value)


def _not_whole(where: str, value: object) -> str:
    if isinstance(value, Decimal) and value.is_finite() and abs(value) > _HIGHEST:
        # Too long for a whole number, so read as a decimal (see loading): the same words
        # as the "maximum" keyword gives, so the two say it once.
        return f"{where} must be a whole number from {_LOWEST} to {_HIGHEST}, not {shown(value)}"
    return f"{where} must be a whole number, not {shown(value)}"


def _string(where: str, path: Path, value: object) -> list[str]:
    """Text was expected: a key, a reference to an item, or wording."""
    if path == ("key",):
        what = f"the key {shown(value)}" if isinstance(value, str) else f"{where}, as text,"
        return [
            f"{what} must be lower-case letters and digits, words joined by hyphens"
            " (like 'pain-nrs')"
        ]
    if path[-1:] == ("language",):
        return [
            f"{where} must be a language code, two or three lower-case letters with perhaps"
            f" a region (like 'es' or 'pt-BR'), not {shown(value)}"
        ]
    if path[-1:] == ("key",):
        return [
            f"{where} must start with a lower-case letter, then letters, digits or"
            f" underscores (like 'q1'), not {shown(value)}"
        ]
    if len(path) > 1 and path[-2] == "shown_if":
        return [f"{where} must be an item key (text)"]
    if path and isinstance(path[-1], int):  # an entry of a list of item keys
        return [f"{where} must list item keys (text)"]
    return [f"{where} must be text that is not blank"]


def _pattern(where: str, path: Path, error: ValidationError) -> list[str]:
    return _string(where, path, _found(error))


def _required(where: str, path: Path, error: ValidationError) -> list[str]:
    if "then" in error.relative_schema_path:
        return [f"{where} sums items but does not list them"]
    names = [n for n in _expected(error) if n not in _found(error)]
    return [f"{where}: {name!r} is missing" for name in sorted(names)]


def _unknown(where: str, path: Path, error: ValidationError) -> list[str]:
    known = set(_subschema(error.schema)["properties"])
    unknown = sorted(str(k) for k in _found(error) if k not in known)
    plural = "s" if len(unknown) > 1 else ""
    return [
        f"{where}: unknown field{plural} {', '.join(repr(k) for k in unknown)}"
        f" (expected: {', '.join(sorted(known))})"
    ]


def _const(where: str, path: Path, error: ValidationError) -> list[str]:
    return [f"format must be {FORMAT} (the only format this version reads)"]


def _enum(where: str, path: Path, error: ValidationError) -> list[str]:
    choices, value = [repr(c) for c in _expected(error)], shown(_found(error))
    if len(choices) == 2:
        return [f"{where} must be {or_list(choices)}, not {value}"]
    return [f"{where} {value} is not one of {', '.join(choices)}"]


def _too_few(where: str, path: Path, error: ValidationError) -> list[str]:
    owner = _owner(where)
    if path == ("items",):
        return ["an instrument needs at least one item"]
    if path[-1] == "options":
        return [f"{owner} needs at least two answer options"]
    if path[-1] == "range":
        return [f"{where} must be [lowest, highest]"]
    if path[-2:-1] == ("shown_if",):
        return [f"{owner}: shown_if needs at least one answer that shows the item"]
    return [f"{where} must list at least one item"]


def _owner(where: str) -> str:
    """'item 3 ('calm')' from 'item 3 ('calm'): options'."""
    return where.rsplit(": ", 1)[0]


def _too_many(where: str, path: Path, error: ValidationError) -> list[str]:
    return [f"{where} must be [lowest, highest]"]


def _repeated(where: str, path: Path, error: ValidationError) -> list[str]:
    try:
        counts = Counter(_found(error))
    except TypeError:  # lists or objects among the values: their type is refused as well
        return [f"{where} lists a value more than once"]
    return [f"{where}: {shown(v)} is listed {n} times" for v, n in counts.items() if n > 1]


_LOWEST, _HIGHEST = -1000000, 1000000


def _out_of_bounds(where: str, path: Path, error: ValidationError) -> list[str]:
    if path == ("decimals",):
        return ["decimals must be between 0 and 4"]
    if path[-1:] == ("weight",):
        return [f"{where} must be at most 1000, not {shown(_found(error))}"]
    what = "a whole number" if _subschema(error.schema).get("type") == "integer" else "a number"
    return [f"{where} must be {what} from {_LOWEST} to {_HIGHEST}, not {shown(_found(error))}"]


def _not_positive(where: str, path: Path, error: ValidationError) -> list[str]:
    return [f"{where} must be more than 0"]


def _unexpected(where: str, path: Path, error: ValidationError) -> list[str]:
    # Every keyword the schema uses has a translation above; this keeps a new one readable.
    return [f"{where}: {error.message}"]


_TRANSLATIONS: dict[str, Translation] = {
    "type": _type,
    "pattern": _pattern,
    "required": _required,
    "additionalProperties": _unknown,
    "const": _const,
    "enum": _enum,
    "minItems": _too_few,
    "maxItems": _too_many,
    "uniqueItems": _repeated,
    "minimum": _out_of_bounds,
    "maximum": _out_of_bounds,
    "exclusiveMinimum": _not_positive,
}

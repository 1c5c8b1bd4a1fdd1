"""Reading instrument files: the bundled ones, and a clinic's own import.

A file's text goes through three gates, each reporting every problem it finds in words:

1. JSON that Python can hold safely: valid JSON, no field given twice in one object, no
   NaN or Infinity, nesting no deeper than an instrument needs (a file nested thousands of
   levels deep would exhaust the stack), whole numbers of sane length (Python refuses to
   convert one of 5,000 digits), no more values than an instrument could need (checking
   each against the schema takes time), and text with no half of a UTF-16 pair (no
   database can store it).
2. The shape, against the shipped JSON Schema (`schema`).
3. The meaning (`semantics`), which builds the `Instrument`.

The only file access is reading the bundled instruments and their schema.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from decimal import Decimal
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from types import MappingProxyType
from typing import Any

from clinic.domain.questionnaires import schema, semantics
from clinic.domain.questionnaires.model import Instrument, InstrumentError, LicenceStatus
from clinic.domain.questionnaires.places import Path, place

INSTRUMENTS_FOLDER = "data/instruments"
SCORING_ONLY_SUFFIX = ".scoring.json"
SCHEMA_SUFFIX = ".schema.json"

# An instrument nests six levels (items, an item, its options, an option...): far more is
# not an instrument, and would exhaust the stack of whatever walks it.
MAX_DEPTH = 20
# The values (numbers, texts, lists, objects) a file may hold. FSFI with its wording holds
# about 550; 300 questions of 10 answers each about 10,000. Checking a value against the
# schema costs far more than reading it, so a file of 256 kB crammed with tiny values
# would hold a request for many seconds: refused before the schema is asked.
MAX_VALUES = 20_000
# Longer runs of digits are read as decimals, which the schema then refuses as out of
# range, instead of asking Python to convert a number it refuses to hold.
_MAX_INTEGER_DIGITS = 20
_SURROGATE = re.compile("[\ud800-\udfff]")


def parse_instrument(text: str) -> Instrument:
    """An instrument from the text of a JSON file (bundled or imported by a clinic).

    Decimals are read exactly (0.3 stays 0.3), and a field given twice in one object is
    refused rather than silently taking the last one. Raises InstrumentError listing every
    problem, in plain words.
    """
    try:
        data = json.loads(
            text,
            parse_float=Decimal,
            parse_int=_whole_number,
            parse_constant=_refuse_constant,
            object_pairs_hook=_refuse_duplicate_fields,
        )
    except json.JSONDecodeError as error:
        raise InstrumentError(
            [f"not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})"]
        ) from None
    except RecursionError:
        raise InstrumentError([_too_deep()]) from None
    return load_instrument(data)


def load_instrument(data: Mapping[str, Any]) -> Instrument:
    """Check an instrument's data and build it. Raises InstrumentError listing every
    problem found, in plain words."""
    unsafe = list(_unsafe(data))
    if unsafe:
        raise InstrumentError(unsafe)
    shape = schema.problems(data)
    instrument, meaning = semantics.build(data, shape)
    if instrument is None:
        raise InstrumentError([*shape.messages, *meaning] or ["the instrument could not be read"])
    return instrument


def _whole_number(digits: str) -> int | Decimal:
    if len(digits.lstrip("-")) > _MAX_INTEGER_DIGITS:
        return Decimal(digits)
    return int(digits)


def _refuse_constant(name: str) -> Any:
    raise InstrumentError([f"{name} is not a number an instrument can use"])


def _refuse_duplicate_fields(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    twice = sorted(k for k, n in Counter(k for k, _ in pairs).items() if n > 1)
    if twice:
        raise InstrumentError([f"the field {k!r} is given twice in one object" for k in twice])
    return dict(pairs)


def _too_deep() -> str:
    return (
        f"the file nests lists and objects more than {MAX_DEPTH} levels deep; an instrument"
        " needs six at most"
    )


def _unsafe(data: object) -> Iterator[str]:
    """What in `data` no later check could handle safely, walked without recursion: too
    deep a nesting or too many values (then nothing else is looked at), text with half of
    a UTF-16 pair, numbers that are not finite, field names that are not text."""
    stack: list[tuple[Path, object]] = [((), data)]
    found: list[str] = []
    count = 0
    while stack:
        path, node = stack.pop()
        count += 1
        beyond = _beyond_limits(len(path), count)
        if beyond:
            yield beyond
            return
        found.extend(_unsafe_value(data, path, node))
        if isinstance(node, dict):
            stack.extend(((*path, k), v) for k, v in reversed(node.items()) if isinstance(k, str))
        elif isinstance(node, list):
            stack.extend(((*path, n), v) for n, v in reversed(list(enumerate(node))))
    yield from found


def _beyond_limits(depth: int, count: int) -> str | None:
    if depth > MAX_DEPTH:
        return _too_deep()
    if count > MAX_VALUES:
        return (
            f"the file holds more than {MAX_VALUES:,} values (numbers, texts, lists and"
            " objects); an instrument needs far fewer"
        )
    return None


def _unsafe_value(data: object, path: Path, node: object) -> list[str]:
    if isinstance(node, str):
        return [_surrogate(place(data, path), node)] if _SURROGATE.search(node) else []
    if isinstance(node, float | Decimal) and not _finite(node):
        return [f"{place(data, path)} must be a finite number"]
    if isinstance(node, dict) and any(not isinstance(k, str) or _SURROGATE.search(k) for k in node):
        return _unsafe_names(place(data, path), node)[:1]
    return []


def _finite(value: float | Decimal) -> bool:
    return value.is_finite() if isinstance(value, Decimal) else math.isfinite(value)


def _unsafe_names(where: str, node: Mapping[object, object]) -> list[str]:
    """Field names that are not text, or hold half of a UTF-16 pair."""
    problems = [f"{where}: field names must be text" for k in node if not isinstance(k, str)]
    return problems + [
        _surrogate(f"{where}: a field name", k)
        for k in node
        if isinstance(k, str) and _SURROGATE.search(k)
    ]


def _surrogate(where: str, text: str) -> str:
    half = next(c for c in text if _SURROGATE.match(c))
    return (
        f"{where} contains \\u{ord(half):04x}, which is half of a character (an unpaired"
        " surrogate) and cannot be stored: remove it"
    )


# ---------------------------------------------------------------------------------------
# The bundled instruments


def shipping_problems(instrument: Instrument, file_name: str) -> list[str]:
    """Why `instrument` may not ship with the application as `file_name` (empty when it may).

    Only free, public-domain or clinic-owned instruments ship their wording; any other ships
    as scoring rules only, named <key>.scoring.json. A clinic-licensed instrument is the
    clinic's to import, never ours to ship. The same holds for each translation: its
    wording ships only when its own terms allow it.
    """
    problems: list[str] = []
    status = instrument.licence.status
    if status is LicenceStatus.CLINIC_LICENSED:
        problems.append(
            "a clinic-licensed instrument is imported by the clinic that holds the licence,"
            " never shipped"
        )
    elif instrument.administrable and not status.may_ship_wording:
        problems.append(f"its licence status ({status.value}) does not allow shipping its wording")
    for translation in instrument.translations:
        if translation.worded and not translation.licence.status.may_ship_wording:
            problems.append(
                f"its {translation.language!r} translation's licence status"
                f" ({translation.licence.status.value}) does not allow shipping its wording"
            )
    expected = instrument.key + (".json" if instrument.administrable else SCORING_ONLY_SUFFIX)
    if file_name != expected:
        problems.append(f"the file should be named {expected}")
    return problems


@cache
def shipped_instruments() -> Mapping[str, Instrument]:
    """Every instrument bundled in clinic/data/instruments/, by key (see load_folder)."""
    return load_folder(resources.files("clinic").joinpath(INSTRUMENTS_FOLDER))


def load_folder(folder: Traversable) -> Mapping[str, Instrument]:
    """Every *.json instrument in `folder` (not the *.schema.json beside them), by key,
    each one checked and held to the licence rule (shipping_problems). Raises
    InstrumentError naming the file at fault."""
    found: dict[str, Instrument] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".json") or entry.name.endswith(SCHEMA_SUFFIX):
            continue
        try:
            instrument = parse_instrument(entry.read_text(encoding="utf-8"))
        except InstrumentError as error:
            raise InstrumentError(f"{entry.name}: {p}" for p in error.problems) from None
        problems = shipping_problems(instrument, entry.name)
        if instrument.key in found:
            problems.append(f"another file already has the key {instrument.key!r}")
        if problems:
            raise InstrumentError(f"{entry.name}: {p}" for p in problems)
        found[instrument.key] = instrument
    return MappingProxyType(found)

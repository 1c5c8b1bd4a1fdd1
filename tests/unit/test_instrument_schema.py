"""Instrument files against their JSON Schema: the shipped schema is valid draft 2020-12
and every bundled file passes it with the plain `jsonschema` library (as a clinic would
check a file), each kind of schema failure comes back in plain words naming the place, a
hostile file is refused in words, and no text whatever makes the loader raise anything
but InstrumentError."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from clinic.domain.questionnaires import InstrumentError, load_instrument, parse_instrument
from clinic.domain.questionnaires.loading import MAX_DEPTH, MAX_VALUES
from clinic.domain.questionnaires.schema import _TRANSLATIONS, schema

FOLDER = Path(__file__).resolve().parents[2] / "clinic" / "data" / "instruments"
SCHEMA_FILE = FOLDER / "instrument.schema.json"
INSTRUMENT_FILES = sorted(p.name for p in FOLDER.glob("*.json") if p != SCHEMA_FILE)


def pain() -> dict[str, Any]:
    """The shipped pain scale's data, as a new version."""
    data = json.loads((FOLDER / "pain-nrs.json").read_text("utf-8"), parse_float=Decimal)
    return {**data, "version": "2"}


def problems_of(data: Any) -> tuple[str, ...]:
    with pytest.raises(InstrumentError) as raised:
        load_instrument(data)
    return raised.value.problems


def test_the_schema_is_valid_draft_2020_12() -> None:
    """The shipped schema is itself valid, so standard tools accept it."""
    loaded = json.loads(SCHEMA_FILE.read_text("utf-8"))
    assert loaded["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(loaded)
    assert schema() == loaded


@pytest.mark.parametrize("name", INSTRUMENT_FILES)
def test_every_bundled_file_passes_the_schema_with_standard_tools(name: str) -> None:
    """What a clinic runs (`jsonschema` as it comes) accepts every bundled instrument."""
    loaded = json.loads(SCHEMA_FILE.read_text("utf-8"))
    jsonschema.validate(json.loads((FOLDER / name).read_text("utf-8")), loaded)


def test_every_keyword_of_the_schema_has_words() -> None:
    """Each validation keyword the schema uses has a translation into plain words, so no
    raw jsonschema message reaches a clinic."""
    used: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            used.update(node)
            for key, value in node.items():
                if key in ("properties", "$defs"):
                    for sub in value.values():
                        walk(sub)
                elif key != "enum":
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(SCHEMA_FILE.read_text("utf-8")))
    annotations = {"$schema", "$defs", "$ref", "title", "description", "properties"}
    applicators = {"items", "prefixItems", "allOf", "if", "then"}
    assert used - annotations - applicators <= set(_TRANSLATIONS)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["items"][0]["options"][1].update(value=1.0),
            "item 1 ('pain'), option 2: the value must be a whole number, not 1.0",
        ),
        (
            lambda d: d["items"][0]["options"][1].update(value=10**7),
            "item 1 ('pain'), option 2: the value must be a whole number from -1000000 to"
            " 1000000, not 10000000",
        ),
        (
            lambda d: d["total"].update(range=[0, 1, 2]),
            "the total: range must be [lowest, highest]",
        ),
        (
            lambda d: d["total"].update(range=[0]),
            "the total: range must be [lowest, highest]",
        ),
        (lambda d: d["total"].update(items=[]), "the total: items must list at least one item"),
        (lambda d: d["total"].update(items=[3]), "the total: items must list item keys (text)"),
        (lambda d: d["items"][0].update(key="q1\n"), "item 1's key must start with a lower-case"),
        (lambda d: d.update(key="pain-nrs\n"), "the key 'pain-nrs\\n' must be lower-case"),
        (lambda d: d.update(decimals=True), "decimals must be a whole number, not true"),
        (lambda d: d.update(notes=["x"]), "the notes must be text that is not blank"),
        (lambda d: d["licence"].update(status=None), "the licence status null is not one of"),
        (lambda d: d.update(format="1"), "format must be 1 (the only format this version reads)"),
        (
            lambda d: d["items"][0].update(shown_if={"item": 1, "answered": [1]}),
            "item 1 ('pain'): shown_if item must be an item key (text)",
        ),
        (
            lambda d: d["total"].update(sum_of="domains"),
            "the total: items is only for a total that sums items",
        ),
        (
            lambda d: d.update(
                domains=[
                    {"key": "d", "label": "D", "items": ["pain"], "range": [0, 10], "weight": 5000}
                ]
            ),
            "domain 'd': the weight must be at most 1000, not 5000",
        ),
        (lambda d: d.update(total=[]), "the total must be an object ({...}), not a list"),
    ],
)
def test_schema_failures_are_said_in_words(change: Any, message: str) -> None:
    """Failures of keywords the older checks never met (bounds, list lengths, types in
    lists, conditional fields) read as plainly as the rest and name their place."""
    data = pain()
    change(data)
    assert any(message in p for p in problems_of(data)), problems_of(data)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[" * 100_000 + "]" * 100_000, "nests lists and objects more than 20 levels deep"),
        ('{"a": ' * 30 + "1" + "}" * 30, "nests lists and objects more than 20 levels deep"),
        ('{"key": 1' + "0" * 5000 + "}", "the instrument's key, as text, must be lower-case"),
        ('{"title": "\\udfff"}', "the title contains \\udfff, which is half of a character"),
        ('{"\\ud800": 1}', "the instrument: a field name contains \\ud800"),
        ('{"decimals": -Infinity}', "-Infinity is not a number an instrument can use"),
    ],
)
def test_hostile_text_is_refused_in_words(text: str, message: str) -> None:
    """Deep nesting, numbers too long for int(), half a UTF-16 pair (in a value or a field
    name) and infinities come back as problems, never as Python's own exceptions."""
    with pytest.raises(InstrumentError) as raised:
        parse_instrument(text)
    assert any(message in p for p in raised.value.problems), raised.value.problems


def test_a_tiny_number_is_named_with_its_exponent() -> None:
    """1e-999999 in a range is refused for its decimals, and the problem names it as
    written rather than with a million zeros."""
    text = (FOLDER / "pain-nrs.json").read_text("utf-8").replace("[0, 10]", "[0, 1e-999999]", 1)
    with pytest.raises(InstrumentError) as raised:
        parse_instrument(text)
    assert "the total: range: 1E-999999 has more decimals than the instrument's 0" in (
        raised.value.problems
    )
    assert max(len(p) for p in raised.value.problems) < 200


def test_deep_data_from_python_is_refused_without_recursion() -> None:
    """Data built in Python (no parser to stop it) nested far past the stack's depth is
    refused by the walk that looks for it, which does not recurse."""
    deep: Any = 1
    for _ in range(100_000):
        deep = [deep]
    assert problems_of({**pain(), "notes": deep}) == (
        f"the file nests lists and objects more than {MAX_DEPTH} levels deep; an instrument"
        " needs six at most",
    )


def test_a_file_of_countless_tiny_values_is_refused_before_the_schema() -> None:
    """A file crammed with more values than any instrument needs is refused in one problem
    before the (slow) schema check, so an upload cannot hold a request for long."""
    data = pain()
    data["notes"] = [0] * MAX_VALUES
    assert problems_of(data) == (
        f"the file holds more than {MAX_VALUES:,} values (numbers, texts, lists and objects);"
        " an instrument needs far fewer",
    )


@pytest.mark.parametrize("value", [float("nan"), Decimal("NaN"), Decimal("-Infinity")])
def test_numbers_that_are_not_finite_are_refused(value: Any) -> None:
    """NaN and infinity from Python are refused before any comparison could trap on them."""
    data = pain()
    data["total"]["range"] = [0, value]
    assert "the total: range must be a finite number" in problems_of(data)


# ---------------------------------------------------------------------------------------
# Property: any text, JSON or not, is an instrument or a list of problems

HOSTILE_NUMBERS = st.sampled_from(
    ["1e30", "1e999999", "-1e999999", "1e-999999", "9" * 5000, "-" + "9" * 4400, "0.1e1", "1.0"]
)
CHARACTERS = st.characters(codec="utf-8") | st.characters(
    min_codepoint=0xD800, max_codepoint=0xDFFF
)
LEAVES = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.decimals(allow_nan=False, allow_infinity=False)
    | st.text(CHARACTERS, max_size=6)
)
JSON = st.recursive(
    LEAVES,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=12,
)
PATHS_OF_PAIN = [
    ("title",),
    ("decimals",),
    ("licence", "status"),
    ("items", 0, "key"),
    ("items", 0, "options", 1, "value"),
    ("items", 0, "options", 1, "label"),
    ("total", "range", 1),
    ("total", "bands", 0, "range", 0),
    ("total", "bands"),
    ("total", "items"),
    ("items",),
]


def _exact(value: object) -> object:
    if isinstance(value, Decimal):
        return float(value) if value.is_finite() else str(value)
    raise TypeError(type(value).__name__)


@st.composite
def damaged_pain_text(draw: st.DrawFn) -> str:
    """The pain scale's text with one value replaced by junk, a hostile number, or a
    deeply nested list, written as JSON."""
    data = pain()
    path = draw(st.sampled_from(PATHS_OF_PAIN))
    node: Any = data
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = "@@here@@"
    text = json.dumps(data, default=_exact)
    junk = draw(
        HOSTILE_NUMBERS
        | JSON.map(lambda v: json.dumps(v, default=_exact))
        | st.integers(1, 3000).map(lambda n: "[" * n + "]" * n)
    )
    return text.replace('"@@here@@"', junk)


@given(
    st.text(CHARACTERS, max_size=40)
    | JSON.map(lambda v: json.dumps(v, default=_exact))
    | damaged_pain_text()
)
def test_any_text_is_an_instrument_or_problems_in_words(text: str) -> None:
    """Property: whatever the text (not JSON, JSON of any shape, a valid file with any one
    value replaced by junk, a number too large, nesting too deep, half a UTF-16 pair),
    parse_instrument gives an instrument or InstrumentError with its problems, never any
    other exception."""
    try:
        parse_instrument(text)
    except InstrumentError as error:
        assert error.problems
        # Each problem names its value briefly, whatever the value (a 5,000-digit number
        # or 1e-999999 is not spelled out in full).
        assert all(isinstance(p, str) and 0 < len(p) < 600 for p in error.problems)

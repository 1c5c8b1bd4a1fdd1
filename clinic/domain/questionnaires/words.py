"""How numbers, answer values and pieces of a file are said in a sentence.

Shared by the checks (problems in plain words), the scoring (reasons and refusals) and the
comparison of scoring rules, so that a value reads the same wherever it is mentioned.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

# Past this many characters a value in a message is cut short: a problem names the value,
# it does not repeat a pasted novel.
_SHOWN_LENGTH = 40


def describe_values(values: Sequence[int]) -> str:
    """'0 to 5' for a run of whole numbers, otherwise the values listed ('1, 3 or 5')."""
    ordered = sorted(values)
    if ordered == list(range(ordered[0], ordered[-1] + 1)) and len(ordered) > 2:
        return f"{ordered[0]} to {ordered[-1]}"
    return or_list(ordered)


def or_list(values: Sequence[object]) -> str:
    """'1', '1 or 2', '1, 2 or 3'."""
    words = [str(v) for v in values]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def number(value: Decimal | int) -> str:
    """A number as people write it: 0.6, 26.55, 12 (never 1.20 or 1.2E+1); one far from
    1 keeps its exponent (1E-999999, not a million zeros)."""
    normal = Decimal(value).normalize()
    if not -_SHOWN_LENGTH < normal.adjusted() < _SHOWN_LENGTH:
        return str(normal)
    return format(normal, "f")


def span(low: Decimal | int, high: Decimal | int) -> str:
    """'0 to 10'."""
    return f"{number(low)} to {number(high)}"


def kind(data: object) -> str:
    """What sort of JSON value `data` is, in words ('text', 'a list')."""
    return {
        "NoneType": "nothing (null)",
        "str": "text",
        "int": "a number",
        "float": "a number",
        "Decimal": "a number",
        "bool": "true/false",
        "list": "a list",
        "tuple": "a list",
        "dict": "an object",
    }.get(type(data).__name__, type(data).__name__)


def shown(data: Any) -> str:
    """A value quoted in a problem, short enough to read: whole numbers too long to print
    are described by their length (printing one of 5,000 digits is itself refused by
    Python); a decimal read from a file is shown as it was written there (1E+30)."""
    if isinstance(data, int) and not isinstance(data, bool) and data.bit_length() > 128:
        return f"a number {_digits(data)} digits long"
    if isinstance(data, Decimal):
        return _shown_decimal(data)
    if data is None or isinstance(data, bool):
        return json.dumps(data)  # as the file says it: true, false, null (not True, None)
    text = repr(data)
    return text if len(text) <= _SHOWN_LENGTH else text[: _SHOWN_LENGTH - 3] + "..."


def _digits(value: int) -> int:
    # bit_length gives the length without converting the number to text.
    estimate = max(1, math.floor(abs(value).bit_length() * math.log10(2)))
    return estimate + int(abs(value) >= pow(10, estimate))


def _shown_decimal(value: Decimal) -> str:
    written = value.as_tuple()
    if written.exponent == 0 and len(written.digits) > _SHOWN_LENGTH:
        return f"a number {len(written.digits)} digits long"
    return str(value)  # as written in the file: 0.25, 1E+30

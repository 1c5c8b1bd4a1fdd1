"""English numbers are written by the app itself (clinic.core.templating: `number`,
`fixed_places`), the way Babel writes them, since Babel costs ten times more and every
staff page prints many. These compare the two over any finite value, so the shortcut can
never print a figure differently; other languages still go through Babel."""

from __future__ import annotations

from babel.numbers import format_decimal
from flask import Flask
from hypothesis import given
from hypothesis import strategies as st

from clinic.core.templating import fixed_places, number
from clinic.i18n import speaking

values = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e15, max_value=1e15),
    st.integers(min_value=-(10**15), max_value=10**15),
    # Ties at the last place, where rounding rules differ ("0.25", "2.675").
    st.integers(min_value=-10_000, max_value=10_000).map(lambda n: n / 1000 + 0.0005),
    st.sampled_from([0.35, 0.25, 2.675, -0.0, -0.04, 1e-7, 1234.5, 0.05, 12.0]),
)


@given(value=values, places=st.integers(min_value=0, max_value=3))
def test_english_numbers_read_as_babel_writes_them(
    session_app: Flask, value: float, places: int
) -> None:
    """ "27.5", "1,234.56", "25" (never "25.0"): the same text as Babel's pattern."""
    pattern = "#,##0" + ("." + "#" * places if places else "")
    with session_app.test_request_context("/"), speaking("en"):
        assert number(value, places) == format_decimal(value, format=pattern, locale="en")


@given(value=values, places=st.integers(min_value=1, max_value=3))
def test_english_fixed_places_read_as_babel_writes_them(
    session_app: Flask, value: float, places: int
) -> None:
    """ "3.0", "-0.0", "1234.6": exactly `places` decimals, no grouping, as Babel."""
    pattern = "0." + "0" * places
    with session_app.test_request_context("/"), speaking("en"):
        assert fixed_places(value, places) == format_decimal(value, format=pattern, locale="en")


def test_other_languages_still_write_their_own_numbers(app: Flask) -> None:
    """The shortcut is English only: Spanish keeps its decimal comma."""
    with app.test_request_context("/"), speaking("es"):
        assert number(27.5, 2) == "27,5"
        assert fixed_places(3, 1) == "3,0"

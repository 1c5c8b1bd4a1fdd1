"""Shared form fields: numbers that are numbers, text without hidden characters."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict
from wtforms import Form
from wtforms.validators import InputRequired, Optional

from clinic.core.forms import PlainDateField, PlainNumberField, WholeNumberField


class NumberForm(Form):
    value = PlainNumberField("Value")


@pytest.mark.parametrize("raw", ["nan", "NaN", "inf", "-inf", "1e400", "twelve"])
def test_not_a_number_is_refused_with_a_plain_message(raw: str) -> None:
    """Values Python would parse as non-finite floats are not numbers to a clinician."""
    form = NumberForm(MultiDict({"value": raw}))
    assert not form.validate()
    assert form.value.errors == ["Enter a number, for example 12.5."]


@pytest.mark.parametrize(("raw", "expected"), [("12.5", 12.5), ("0", 0.0), ("-3", -3.0)])
def test_real_numbers_pass(raw: str, expected: float) -> None:
    """Ordinary decimals are read as given (ranges are each form's own business)."""
    form = NumberForm(MultiDict({"value": raw}))
    assert form.validate() and form.value.data == expected


class RequiredFieldsForm(Form):
    day = PlainDateField("Date", validators=[InputRequired("Enter the date.")])
    count = WholeNumberField("Count", validators=[InputRequired("Enter the count.")])
    later = PlainDateField("Later", validators=[Optional()])


@pytest.mark.parametrize("blank", ["", " ", "   \t "])
def test_spaces_in_a_required_date_or_number_are_no_answer(blank: str) -> None:
    """Spaces alone are an empty answer: the required message, never a value of None
    slipping through to the code behind the form (a 500 once)."""
    form = RequiredFieldsForm(MultiDict({"day": blank, "count": blank, "later": blank}))
    assert not form.validate()
    assert form.day.errors == ["Enter the date."]
    assert form.count.errors == ["Enter the count."]
    assert form.later.errors == [] and form.later.data is None

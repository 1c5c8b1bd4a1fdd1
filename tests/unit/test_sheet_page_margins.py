"""The instruction sheet's page footer as CSS strings: a translation can neither end the
string nor the <style> element it is written in, whatever characters it holds."""

from __future__ import annotations

from clinic.reporting.instructions import _css_string


def test_quotes_backslashes_and_angle_brackets_are_escaped() -> None:
    """A quote, a backslash or "</style>" in a translation is written as a CSS escape."""
    written = _css_string('Say "hi" \\ </style>')
    assert written == '"Say \\22 hi\\22  \\5C  \\3C /style>"'
    assert "</" not in written and written.count('"') == 2


def test_plain_text_is_only_quoted() -> None:
    """Ordinary words, accents included, are kept as they are."""
    assert _css_string("Página ") == '"Página "'

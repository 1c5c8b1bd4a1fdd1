"""Words the portal composes from values (clinic.core.words, clinic.portal.words): English
exactly as the product has always printed it, and in Spanish and French the language's own
words and numbers ("27,5 mm", "3 veces al día", "de lunes a viernes")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask_babel import force_locale

from clinic.core.words import how_often, millimetres, one_decimal, say, size_name
from clinic.domain.indications import Indication, Indications
from clinic.domain.protocols import Period, Route
from clinic.domain.session_guide import StageFacts, guide_steps
from clinic.portal.words import next_opening, working_days


@dataclass
class Size:
    """A dilator size as the words read it."""

    label: str
    diameter_mm: float


CASES = {
    "en": {
        "mm": "27.5 mm",
        "named": "Size 3 (21 mm)",
        "plain": "27.5 mm",
        "three": "3 times a day",
        "twice": "twice a week",
        "mean": "3.0",
        "weekdays": "Monday to Friday",
        "some": "Monday, Wednesday and Friday",
        "opens": "Monday 8 June at 08:00",
        "depth": "Go to a depth of 12.5 cm: the marks on the dilator show it.",
    },
    "es": {
        "mm": "27,5 mm",
        "named": "Size 3 (21 mm)",
        "plain": "27,5 mm",
        "three": "3 veces al día",
        "twice": "dos veces por semana",
        "mean": "3,0",
        "weekdays": "de lunes a viernes",
        "some": "lunes, miércoles y viernes",
        "opens": "lunes 8 de junio a las 08:00",
        "depth": "Llegue a una profundidad de 12,5 cm: las marcas del dilatador la indican.",
    },
    "fr": {
        "mm": "27,5 mm",
        "named": "Size 3 (21 mm)",
        "plain": "27,5 mm",
        "three": "3 fois par jour",
        "twice": "deux fois par semaine",
        "mean": "3,0",
        "weekdays": "du lundi au vendredi",
        "some": "lundi, mercredi et vendredi",
        "opens": "lundi 8 juin à 08:00",
        "depth": (
            "Allez jusqu'à une profondeur de 12,5 cm : les repères sur le dilatateur l'indiquent."
        ),
    },
}


@pytest.mark.parametrize("code", sorted(CASES))
def test_composed_words_follow_the_language(app: Flask, code: str) -> None:
    """Sizes, schedules, means, opening days and the next opening, and a guided-session
    sentence with a decimal, in each shipped language (the clinic's own label for a size,
    "Size 3", is shown as the clinic wrote it)."""
    expected = CASES[code]
    facts = StageFacts(
        Route.VAGINAL, Indications.of(Indication.VAGINISMUS), "Silicone", 10, target_depth_cm=12.5
    )
    insert = next(step for step in guide_steps(facts) if step.key == "insert")
    with app.test_request_context(), force_locale(code):
        assert millimetres(27.5) == expected["mm"]
        assert size_name(Size("Size 3", 21.0)) == expected["named"]
        assert size_name(Size("27.5 mm", 27.5)) == expected["plain"]
        assert how_often(3, Period.DAY) == expected["three"]
        assert how_often(2, Period.WEEK) == expected["twice"]
        assert one_decimal(3) == expected["mean"]
        assert working_days(frozenset({1, 2, 3, 4, 5})) == expected["weekdays"]
        assert working_days(frozenset({1, 3, 5})) == expected["some"]
        assert (
            next_opening(datetime(2026, 6, 8, 7, 0, tzinfo=UTC), "Europe/London")
            == (expected["opens"])
        )
        assert say(insert.sentences[-1]) == expected["depth"]
    assert insert.text.endswith(CASES["en"]["depth"])  # English without a request too

"""Instruments in the patient's language (issue 20): a translation in the instrument file
words the title, recall period, instructions, items and answers in another language, with
its own licence status; a patient is asked in it only when its terms allow it, and answers
given in any language score exactly alike (the values never change). A translation that
does not match the items, or that would carry wording whose terms are not established, is
refused in plain words naming the place."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from clinic.domain.questionnaires import (
    InstrumentError,
    LicenceStatus,
    load_instrument,
    score,
    shipped_instruments,
    shipping_problems,
)

FOLDER = Path(__file__).resolve().parents[2] / "clinic" / "data" / "instruments"
WORDED = ("pain-nrs", "pgic", "dilator-confidence")
SCORING_ONLY = ("fsfi", "nih-cpsi", "marinoff")


def pgic() -> dict[str, Any]:
    """The shipped PGIC's data (with its translations)."""
    return json.loads((FOLDER / "pgic.json").read_text("utf-8"), parse_float=Decimal)


def spanish(data: dict[str, Any]) -> dict[str, Any]:
    return next(t for t in data["translations"] if t["language"] == "es")


def problems_of(data: Any) -> tuple[str, ...]:
    with pytest.raises(InstrumentError) as raised:
        load_instrument(data)
    return raised.value.problems


@pytest.mark.parametrize("key", WORDED)
@pytest.mark.parametrize("code", ["es", "fr"])
def test_free_instruments_ship_spanish_and_french(key: str, code: str) -> None:
    """pain-nrs, PGIC and dilator confidence (free, public domain, our own) ship a usable
    Spanish and French wording: every item's text and every answer's label differ from the
    English, and the keys, values and skip logic are the English ones."""
    english = shipped_instruments()[key]
    translated = english.in_language(code)
    assert translated.language == code
    assert translated.title != english.title
    assert translated.recall_period and translated.recall_period != english.recall_period
    for mine, theirs in zip(translated.items, english.items, strict=True):
        assert (mine.key, mine.values, mine.shown_if) == (
            theirs.key,
            theirs.values,
            theirs.shown_if,
        )
        assert mine.text != theirs.text
    assert translated.total == english.total and translated.domains == english.domains
    assert english.translation(code).licence.status.may_ship_wording


@pytest.mark.parametrize("key", SCORING_ONLY)
def test_scoring_only_instruments_record_each_language_without_wording(key: str) -> None:
    """An instrument whose terms are not established records, for Spanish and French too,
    that no wording ships: the patient is never asked in a translation nobody may use."""
    instrument = shipped_instruments()[key]
    assert {t.language for t in instrument.translations} == {"es", "fr"}
    for translation in instrument.translations:
        assert translation.licence.status is LicenceStatus.NOT_SHIPPED
        assert not translation.worded and not translation.usable
    assert instrument.in_language("es") is instrument


def test_a_language_without_a_translation_keeps_the_english() -> None:
    """German (no translation) and English itself give the instrument as written."""
    instrument = shipped_instruments()["pgic"]
    assert instrument.in_language("de") is instrument
    assert instrument.in_language("en") is instrument
    assert instrument.in_language("de").language == "en"


def test_a_regional_translation_serves_its_language() -> None:
    """A translation for a region (pt-BR) serves a patient reading Portuguese (pt)."""
    data = pgic()
    spanish(data)["language"] = "pt-BR"
    instrument = load_instrument(data)
    assert instrument.in_language("pt").language == "pt-BR"


@pytest.mark.parametrize("key", WORDED)
def test_answers_score_alike_in_every_language(key: str) -> None:
    """The same answers give the same score, band and status whatever language the
    patient read the questions in (answers are option values)."""
    english = shipped_instruments()[key]
    for item_values in (
        {item.key: item.lowest for item in english.items},
        {item.key: item.highest for item in english.items},
    ):
        expected = score(english, item_values)
        for code in ("es", "fr"):
            assert score(english.in_language(code), item_values) == expected


def test_spanish_pgic_and_nrs_read_as_expected() -> None:
    """Spot check of the shipped Spanish wording: PGIC's answer 4 is "Sin cambios", the
    pain scale's 0 is "Sin dolor"."""
    pgic_es = shipped_instruments()["pgic"].in_language("es")
    assert dict((o.value, o.label) for o in pgic_es.items[0].options)[4] == "Sin cambios"
    nrs_es = shipped_instruments()["pain-nrs"].in_language("es")
    assert nrs_es.items[0].options[0].label == "0 \N{EN DASH} Sin dolor"
    assert nrs_es.items[0].text.startswith("En promedio")


def test_the_translations_add_nothing_to_shipping_problems() -> None:
    """Every shipped translation's terms allow shipping its wording."""
    for key, instrument in shipped_instruments().items():
        name = f"{key}.json" if instrument.administrable else f"{key}.scoring.json"
        assert shipping_problems(instrument, name) == [], key


def test_a_licensed_translation_is_not_shipped() -> None:
    """A translation under a clinic's licence may be imported by that clinic (and used),
    never shipped with the application."""
    data = pgic()
    spanish(data)["licence"]["status"] = "clinic-licensed"
    instrument = load_instrument(data)
    assert instrument.in_language("es").language == "es"
    assert shipping_problems(instrument, "pgic.json") == [
        "its 'es' translation's licence status (clinic-licensed) does not allow shipping"
        " its wording"
    ]


def _broken(change: Any) -> tuple[str, ...]:
    data = pgic()
    change(data)
    return problems_of(data)


def test_wording_under_terms_not_established_is_refused() -> None:
    """A translation whose terms are not established may record the language, not words."""

    def change(data: dict[str, Any]) -> None:
        spanish(data)["licence"]["status"] = "not shipped: terms not established"

    assert _broken(change) == (
        "translation 1 ('es'): its terms are not established, so it must not carry wording"
        " (keep only the language and the licence)",
    )


def test_a_translation_must_word_every_item_and_answer() -> None:
    """A missing answer label, an answer the item does not offer, an unknown item and a
    missing item are each named."""

    def no_label(data: dict[str, Any]) -> None:
        spanish(data)["items"][0]["options"].pop()

    assert _broken(no_label) == ("translation 1 ('es'), item 1 ('change'): no label for 7",)

    def extra_value(data: dict[str, Any]) -> None:
        spanish(data)["items"][0]["options"][0]["value"] = 9

    assert _broken(extra_value) == (
        "translation 1 ('es'), item 1 ('change'): the item does not offer 9 (it offers 1 to 7)",
        "translation 1 ('es'), item 1 ('change'): no label for 1",
    )

    def unknown_item(data: dict[str, Any]) -> None:
        spanish(data)["items"][0]["key"] = "chnage"

    assert _broken(unknown_item) == (
        "translation 1 ('es'), item 1 ('chnage'): 'chnage' is not an item of this instrument",
    )

    def no_items(data: dict[str, Any]) -> None:
        spanish(data).pop("items")

    assert _broken(no_items) == (
        "translation 1 ('es'): 'items' is missing (a translation words them all)",
    )


def test_a_translation_words_what_the_instrument_words() -> None:
    """The recall period is translated when the instrument has one, and not invented when
    it has none; the title is always translated."""

    def no_recall(data: dict[str, Any]) -> None:
        spanish(data).pop("recall_period")

    assert _broken(no_recall) == (
        "translation 1 ('es'): 'recall_period' is missing (the instrument has one)",
    )

    def extra_instructions(data: dict[str, Any]) -> None:
        spanish(data)["instructions"] = "Elija una respuesta."

    assert _broken(extra_instructions) == (
        "translation 1 ('es'): 'instructions' is given, but the instrument has none",
    )


def test_each_language_once_and_never_english() -> None:
    """Two Spanish translations, or an "English translation", are refused."""

    def twice(data: dict[str, Any]) -> None:
        data["translations"].append(copy.deepcopy(spanish(data)))

    assert _broken(twice) == ("the language 'es' is translated twice",)

    def english(data: dict[str, Any]) -> None:
        spanish(data)["language"] = "en-GB"

    assert _broken(english) == (
        "translation 1 ('en-GB'): the instrument itself is in English; a translation is into"
        " another language",
    )


def test_a_language_code_of_the_wrong_shape_is_named() -> None:
    """The schema's refusal of a malformed language code says what a code looks like."""

    def bad_code(data: dict[str, Any]) -> None:
        spanish(data)["language"] = "Spanish"

    assert _broken(bad_code) == (
        "translation 1: the language must be a language code, two or three lower-case letters"
        " with perhaps a region (like 'es' or 'pt-BR'), not 'Spanish'",
    )


def test_a_scoring_only_instrument_cannot_carry_translated_wording() -> None:
    """Scoring rules without English wording carry no translated wording either."""
    data = json.loads((FOLDER / "marinoff.scoring.json").read_text("utf-8"), parse_float=Decimal)
    data["translations"][0] = {
        "language": "es",
        "licence": {"status": "free", "note": "ours"},
        "title": "Escala de Marinoff",
        "items": [
            {
                "key": "grade",
                "text": "Grado",
                "options": [{"value": v, "label": f"Grado {v}"} for v in range(4)],
            }
        ],
    }
    assert problems_of(data) == (
        "translation 1 ('es'): the instrument ships as scoring rules only, so its translation"
        " carries no wording either",
    )

"""Outcome measures (PROMs): questionnaires as data, and how their answers are scored.

A questionnaire is data, not code. Each instrument is a JSON file (the bundled ones are in
clinic/data/instruments/, whose README describes the format and names the JSON Schema that
checks it) holding its items, each answer option with the value it scores, optional skip
logic, its domains and total, the bands that interpret a score, its validity rules, its
citation and its licence status. A clinic imports an instrument it holds a licence for in
the same format, through the same checks.

One module per job:

- `model`: the instrument and the score, as frozen values.
- `loading`: reading a file's text safely, then `schema` (its shape, against the shipped
  JSON Schema, with each failure said in words) and `semantics` (what a schema cannot say:
  keys unique, references resolved, ranges and bands consistent), which builds the
  instrument; also the bundled instruments and the licence rule for shipping them.
- `scoring`: how one response is scored.
- `comparison`: whether two versions score every response alike (a licensed clinic adds
  only the wording).
- `places` and `words`: how a place in a file, a value or a list is said in a sentence.

Licences: only instruments whose terms allow it ship with their wording (free, public domain,
or our own); an instrument whose terms are not established ships as scoring rules only, with
no item wording, so a clinic holding a licence adds the wording and nothing else.

Pure functions over plain values: no Flask, no database.
"""

from clinic.domain.questionnaires.comparison import scoring_differences
from clinic.domain.questionnaires.loading import (
    INSTRUMENTS_FOLDER,
    SCORING_ONLY_SUFFIX,
    load_folder,
    load_instrument,
    parse_instrument,
    shipped_instruments,
    shipping_problems,
)
from clinic.domain.questionnaires.model import (
    FORMAT,
    MAX_DECIMALS,
    AnswerError,
    Band,
    Better,
    Domain,
    DomainScore,
    Instrument,
    InstrumentError,
    Item,
    Licence,
    LicenceStatus,
    Option,
    Score,
    ShownIf,
    Status,
    SumOf,
    Total,
    ValidityRule,
)
from clinic.domain.questionnaires.scoring import score
from clinic.domain.questionnaires.words import describe_values

__all__ = [
    "FORMAT",
    "INSTRUMENTS_FOLDER",
    "MAX_DECIMALS",
    "SCORING_ONLY_SUFFIX",
    "AnswerError",
    "Band",
    "Better",
    "Domain",
    "DomainScore",
    "Instrument",
    "InstrumentError",
    "Item",
    "Licence",
    "LicenceStatus",
    "Option",
    "Score",
    "ShownIf",
    "Status",
    "SumOf",
    "Total",
    "ValidityRule",
    "describe_values",
    "load_folder",
    "load_instrument",
    "parse_instrument",
    "score",
    "scoring_differences",
    "shipped_instruments",
    "shipping_problems",
]

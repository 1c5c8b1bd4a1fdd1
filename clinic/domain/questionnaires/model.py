"""What an outcome measure is, and what scoring a response gives: plain frozen values.

An `Instrument` is one questionnaire (its items and their answer options, skip logic,
domains, total, bands, validity rules, citation and licence), built from a file by
`loading`. A `Score` is what `scoring.score` makes of one response. Nothing here reads
files or checks anything: the classes only hold what the other modules computed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum

FORMAT = 1
MAX_DECIMALS = 4


class InstrumentError(ValueError):
    """An instrument file that cannot be used, with every problem found, in plain words."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = tuple(problems)
        count = len(self.problems)
        heading = "1 problem" if count == 1 else f"{count} problems"
        super().__init__(f"The instrument has {heading}: " + "; ".join(self.problems))


class AnswerError(ValueError):
    """An answer the instrument does not offer (unknown item, or a value out of range)."""


class LicenceStatus(StrEnum):
    """What the instrument's terms allow us to do with it."""

    FREE = "free"
    PUBLIC_DOMAIN = "public domain"
    CLINIC_OWNED = "clinic-owned, editable"
    CLINIC_LICENSED = "clinic-licensed"
    NOT_SHIPPED = "not shipped: terms not established"

    @property
    def may_ship_wording(self) -> bool:
        """Whether the application itself may carry the items' wording."""
        return self in _SHIPPABLE_WORDING

    @property
    def allows_wording(self) -> bool:
        """Whether wording under these terms may be put before patients at all (by us, or
        by the clinic that holds the licence): every status but terms not established."""
        return self is not LicenceStatus.NOT_SHIPPED


_SHIPPABLE_WORDING = frozenset(
    {LicenceStatus.FREE, LicenceStatus.PUBLIC_DOMAIN, LicenceStatus.CLINIC_OWNED}
)


class SumOf(StrEnum):
    """What an instrument's total adds up."""

    DOMAINS = "domains"
    ITEMS = "items"


class Better(StrEnum):
    """Which way a total moves when the patient is doing better (so a change from the
    baseline can be read as an improvement or a worsening)."""

    LOWER = "lower"
    HIGHER = "higher"

    @property
    def is_lower(self) -> bool:
        return self is Better.LOWER


class Status(StrEnum):
    """Whether a response gave a total that can be read."""

    SCORED = "scored"
    INCOMPLETE = "incomplete"
    INVALID = "invalid"

    @property
    def label(self) -> str:
        return {
            "scored": "Scored",
            "incomplete": "Not scored: too few answers",
            "invalid": "Not valid",
        }[self.value]


# ---------------------------------------------------------------------------------------
# The instrument


@dataclass(frozen=True)
class Option:
    """One answer an item offers: the value it scores, and its wording (None when the
    wording is not shipped)."""

    value: int
    label: str | None


@dataclass(frozen=True)
class ShownIf:
    """Skip logic: the item is shown only when `item` was answered with one of `values`."""

    item: str
    values: tuple[int, ...]


@dataclass(frozen=True)
class Item:
    """One question: its wording (None in a scoring-only file) and its answer options."""

    key: str
    text: str | None
    options: tuple[Option, ...]
    shown_if: ShownIf | None = None
    when_hidden: int | None = None

    @property
    def values(self) -> tuple[int, ...]:
        return tuple(o.value for o in self.options)

    @property
    def lowest(self) -> int:
        return min(self.values)

    @property
    def highest(self) -> int:
        return max(self.values)


@dataclass(frozen=True)
class Band:
    """A range of scores (both ends included) and what a score in it means."""

    minimum: Decimal
    maximum: Decimal
    label: str
    interpretation: str

    def contains(self, value: Decimal) -> bool:
        return self.minimum <= value <= self.maximum


@dataclass(frozen=True)
class Domain:
    """A weighted subscale: weight x the sum of its items, pro-rated down to `min_answered`."""

    key: str
    label: str
    items: tuple[str, ...]
    weight: Decimal
    min_answered: int
    minimum: Decimal
    maximum: Decimal
    bands: tuple[Band, ...] = ()


@dataclass(frozen=True)
class Total:
    """The total: the sum of every domain, or of `items` (pro-rated down to `min_answered`).

    `better` says which way the total moves as the patient improves (None: not stated, so
    a change is reported in points only). `rates_change` marks a total that is itself the
    patient's rating of change since the start (PGIC): comparing it with its own first
    answer would mean nothing, so no change from baseline is computed for it.
    """

    label: str
    sum_of: SumOf
    minimum: Decimal
    maximum: Decimal
    items: tuple[str, ...] = ()
    min_answered: int = 0
    bands: tuple[Band, ...] = ()
    better: Better | None = None
    rates_change: bool = False


@dataclass(frozen=True)
class ValidityRule:
    """Invalid when at least `at_least` of `items` are answered with one of `values`, or
    left blank when `or_missing`."""

    reason: str
    at_least: int
    items: tuple[str, ...]
    values: tuple[int, ...]
    or_missing: bool


@dataclass(frozen=True)
class Licence:
    """The instrument's licence status, and in words why we or the clinic may use it."""

    status: LicenceStatus
    note: str


@dataclass(frozen=True)
class ItemWording:
    """One item's wording in another language: its text, and each answer's label by the
    value it scores (the values are the item's own: a translation never changes a score)."""

    key: str
    text: str
    labels: tuple[tuple[int, str], ...]

    def label(self, value: int) -> str:
        """The label of the answer that scores `value`."""
        return dict(self.labels)[value]


@dataclass(frozen=True)
class Translation:
    """The instrument's patient-facing wording in another language (title, recall period,
    instructions, items and answers), with its own licence status: a translation's terms
    are not the original's (a free scale may have a licensed translation, or none whose
    terms are known). A translation whose terms are not established carries no wording: it
    records that the language was looked into. Bands, domains and notes are the
    clinician's and stay in the instrument's own language."""

    language: str
    licence: Licence
    title: str | None = None
    recall_period: str | None = None
    instructions: str | None = None
    items: tuple[ItemWording, ...] = ()

    @property
    def worded(self) -> bool:
        """Whether the translation carries the wording patients can be asked in."""
        return bool(self.items)

    @property
    def usable(self) -> bool:
        """Whether patients may be asked in this language: worded, under terms that allow
        it (checked on loading: wording under terms not established is refused)."""
        return self.worded and self.licence.status.allows_wording


# The language every instrument file is written in (its `title`, `items`...).
SOURCE_LANGUAGE = "en"


@dataclass(frozen=True)
class Instrument:
    """A questionnaire: what it asks, how it is scored, where it comes from."""

    key: str
    version: str
    title: str
    citation: str
    licence: Licence
    items: tuple[Item, ...]
    total: Total
    domains: tuple[Domain, ...] = ()
    validity: tuple[ValidityRule, ...] = ()
    decimals: int = 0
    recall_period: str | None = None
    instructions: str | None = None
    notes: str | None = None
    translations: tuple[Translation, ...] = ()
    # The language the wording is in: the file's own (English), or the one `in_language`
    # put it in.
    language: str = SOURCE_LANGUAGE

    def translation(self, code: str) -> Translation | None:
        """The usable translation into language `code` ("es"; a translation for a region,
        "pt-BR", serves "pt" when there is no plain one), or None."""
        usable = [t for t in self.translations if t.usable]
        for translation in usable:
            if translation.language == code:
                return translation
        for translation in usable:
            if translation.language.split("-")[0] == code.split("-")[0]:
                return translation
        return None

    def in_language(self, code: str) -> Instrument:
        """The instrument worded in language `code` when a usable translation exists, else
        itself (in its own language: check `language`). Only the wording changes: keys,
        answer values, skip logic and everything scored stay the same, so answers given in
        any language score alike."""
        if code.split("-")[0] == self.language.split("-")[0]:
            return self
        found = self.translation(code) if self.administrable else None
        if found is None:
            return self
        wording = {w.key: w for w in found.items}
        items = tuple(
            replace(
                item,
                text=wording[item.key].text,
                options=tuple(
                    replace(o, label=wording[item.key].label(o.value)) for o in item.options
                ),
            )
            for item in self.items
        )
        return replace(
            self,
            title=found.title or self.title,
            recall_period=found.recall_period,
            instructions=found.instructions,
            items=items,
            language=found.language,
        )

    @property
    def administrable(self) -> bool:
        """Whether the items carry their wording, so patients can be asked; False for a
        scoring-only file, whose answers can still be scored (entered from paper)."""
        return all(item.text is not None for item in self.items)

    def item(self, key: str) -> Item:
        """The item with this key; KeyError when there is none."""
        for item in self.items:
            if item.key == key:
                return item
        raise KeyError(key)


# ---------------------------------------------------------------------------------------
# The score


@dataclass(frozen=True)
class DomainScore:
    """One domain's score, or why it has none."""

    key: str
    label: str
    score: Decimal | None
    band: Band | None
    answered: int
    of: int
    prorated: tuple[str, ...]
    reason: str | None


@dataclass(frozen=True)
class Score:
    """A scored response: total and band when it can be read, the domains, and in words
    why there is no total when there is none."""

    instrument: str
    version: str
    status: Status
    total: Decimal | None
    band: Band | None
    domains: tuple[DomainScore, ...]
    reasons: tuple[str, ...]
    prorated: tuple[str, ...]
    ignored: tuple[str, ...]

    @property
    def valid(self) -> bool:
        """False only when a validity rule was met (a response that is merely incomplete
        is not invalid)."""
        return self.status is not Status.INVALID

    def domain(self, key: str) -> DomainScore:
        """The score of the domain with this key; KeyError when there is none."""
        for domain in self.domains:
            if domain.key == key:
                return domain
        raise KeyError(key)

"""What an outcome measure is, and what scoring a response gives: plain frozen values.

An `Instrument` is one questionnaire (its items and their answer options, skip logic,
domains, total, bands, validity rules, citation and licence), built from a file by
`loading`. A `Score` is what `scoring.score` makes of one response. Nothing here reads
files or checks anything: the classes only hold what the other modules computed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
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

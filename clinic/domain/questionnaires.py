"""Outcome measures (PROMs): questionnaires as data, and how their answers are scored.

A questionnaire is data, not code. Each instrument is a JSON file (the bundled ones are in
clinic/data/instruments/, whose README describes the format) holding its items, each answer
option with the value it scores, optional skip logic, its domains and total, the bands that
interpret a score, its validity rules, its citation and its licence status. A clinic imports
an instrument it holds a licence for in the same format, through the same validation.

How a response is scored, in order:

1. Every answer must be one of the values its item offers, or blank. Anything else is
   refused (an error, never a silent zero).
2. Skip logic: an item with `shown_if` is hidden when the item it depends on is hidden, or
   was answered with a value outside the listed ones. Answers to hidden items are ignored.
   A hidden item that counts towards a score scores its `when_hidden` value (the file must
   say what that is). When the item it depends on was left blank the item stays shown: a
   skipped item is never assumed from a missing answer.
3. A domain scores its weight times the sum of its items. With some items blank it is still
   scored when at least `min_answered` are answered: each blank item takes the mean of the
   answered ones (kept within the blank item's own range of values) and is reported as
   pro-rated. With fewer answers the domain is not scored.
4. The total is the sum of all the domain scores (every domain must be scored) or the sum of
   the items it lists (pro-rated by the same rule). Without enough answers there is no total.
5. A validity rule makes a response invalid when at least N of its items are answered with
   the listed values or left blank. FSFI: 8 or more of the 15 items that offer "no sexual
   activity" answered 0 or left blank. An invalid response keeps its domain scores but has no
   total and no band: the reason is given in words instead.
6. Scores are computed exactly and rounded half up to the instrument's decimals only at the
   end; a band is read from the rounded score, so it always agrees with the number shown.
   Bands must cover the score's whole range, without overlaps or gaps at that precision.

Licences: only instruments whose terms allow it ship with their wording (free, public domain,
or our own); an instrument whose terms are not established ships as scoring rules only, with
no item wording, so a clinic holding a licence adds the wording and nothing else.

Pure functions over plain values: no Flask, no database. The only file access is reading the
bundled instrument files.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from itertools import pairwise
from types import MappingProxyType
from typing import Any

FORMAT = 1
MAX_DECIMALS = 4
INSTRUMENTS_FOLDER = "data/instruments"
SCORING_ONLY_SUFFIX = ".scoring.json"

_INSTRUMENT_KEY = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_ITEM_KEY = re.compile(r"[a-z][a-z0-9_]*")


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


@dataclass(frozen=True)
class _Sum:
    exact: Fraction | None
    answered: int
    prorated: tuple[str, ...]


def score(instrument: Instrument, answers: Mapping[str, int | None]) -> Score:
    """Score one response. Raises AnswerError for an unknown item or a value the item does
    not offer; blank answers (None, or no key) are allowed."""
    given = _checked(instrument, answers)
    shown = _shown(instrument, given)
    ignored = tuple(
        item.key
        for item in instrument.items
        if item.key not in shown and given.get(item.key) is not None
    )
    values = {
        item.key: given.get(item.key) if item.key in shown else item.when_hidden
        for item in instrument.items
    }

    domain_scores: list[DomainScore] = []
    domain_sums: list[Fraction | None] = []
    prorated: set[str] = set()
    for domain in instrument.domains:
        summed = _weighted_sum(instrument, domain.items, domain.weight, domain.min_answered, values)
        prorated.update(summed.prorated)
        domain_sums.append(summed.exact)
        shown_score = _round(summed.exact, instrument.decimals)
        domain_scores.append(
            DomainScore(
                key=domain.key,
                label=domain.label,
                score=shown_score,
                band=_band(domain.bands, shown_score),
                answered=summed.answered,
                of=len(domain.items),
                prorated=summed.prorated,
                reason=None
                if summed.exact is not None
                else _too_few(summed.answered, len(domain.items), domain.min_answered),
            )
        )

    total = instrument.total
    invalid = [r for rule in instrument.validity if (r := _invalid_reason(rule, values))]
    incomplete: list[str] = []
    exact_total: Fraction | None
    if total.sum_of is SumOf.DOMAINS:
        scored = [s for s in domain_sums if s is not None]
        exact_total = sum(scored, Fraction(0)) if len(scored) == len(domain_sums) else None
        incomplete.extend(
            f"Not scored: too few answers for {d.label} ({d.reason})"
            for d in domain_scores
            if d.score is None
        )
    else:
        summed = _weighted_sum(instrument, total.items, Decimal(1), total.min_answered, values)
        prorated.update(summed.prorated)
        exact_total = summed.exact
        if exact_total is None:
            incomplete.append(
                "Not scored: " + _too_few(summed.answered, len(total.items), total.min_answered)
            )

    if invalid:
        status = Status.INVALID
    elif exact_total is None:
        status = Status.INCOMPLETE
    else:
        status = Status.SCORED
    shown_total = _round(exact_total, instrument.decimals) if status is Status.SCORED else None
    return Score(
        instrument=instrument.key,
        version=instrument.version,
        status=status,
        total=shown_total,
        band=_band(total.bands, shown_total),
        domains=tuple(domain_scores),
        reasons=(*invalid, *incomplete),
        prorated=tuple(item.key for item in instrument.items if item.key in prorated),
        ignored=ignored,
    )


def _checked(instrument: Instrument, answers: Mapping[str, int | None]) -> dict[str, int | None]:
    items = {item.key: item for item in instrument.items}
    checked: dict[str, int | None] = {}
    for key, value in answers.items():
        item = items.get(key)
        if item is None:
            raise AnswerError(f"{key!r} is not a question of {instrument.title}.")
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, int):
                raise AnswerError(f"{key}: the answer must be a whole number, not {value!r}.")
            if value not in item.values:
                raise AnswerError(
                    f"{key}: {value} is not an answer this question offers"
                    f" ({describe_values(item.values)})."
                )
        checked[key] = value
    return checked


def _shown(instrument: Instrument, given: Mapping[str, int | None]) -> set[str]:
    # Items may only depend on earlier items (the loader checks), so one pass in order works.
    shown: set[str] = set()
    for item in instrument.items:
        rule = item.shown_if
        if rule is None:
            shown.add(item.key)
        elif rule.item in shown:
            answer = given.get(rule.item)
            if answer is None or answer in rule.values:
                shown.add(item.key)
    return shown


def _weighted_sum(
    instrument: Instrument,
    keys: Sequence[str],
    weight: Decimal,
    min_answered: int,
    values: Mapping[str, int | None],
) -> _Sum:
    answered = [value for k in keys if (value := values[k]) is not None]
    if len(answered) < min_answered or not answered:
        return _Sum(None, len(answered), ())
    mean = Fraction(sum(answered), len(answered))
    blank = tuple(k for k in keys if values[k] is None)
    imputed = sum(
        (min(max(mean, instrument.item(k).lowest), instrument.item(k).highest) for k in blank),
        Fraction(0),
    )
    return _Sum(Fraction(weight) * (sum(answered) + imputed), len(answered), blank)


def _invalid_reason(rule: ValidityRule, values: Mapping[str, int | None]) -> str | None:
    counted = sum(
        1
        for key in rule.items
        if (values[key] is None and rule.or_missing) or values[key] in rule.values
    )
    if counted < rule.at_least:
        return None
    how = [f"answered {_or_list(rule.values)}"] if rule.values else []
    if rule.or_missing:
        how.append("left blank")
    return (
        f"Not valid: {rule.reason} ({counted} of the {len(rule.items)} items this rule counts"
        f" were {' or '.join(how)}; {rule.at_least} or more make the response not valid)"
    )


def _too_few(answered: int, of: int, needed: int) -> str:
    if of == 1:
        return "the question was left blank"
    return f"{answered} of {of} questions answered, at least {needed} needed"


def _round(value: Fraction | None, decimals: int) -> Decimal | None:
    """Round half up (towards +infinity on a tie) to `decimals` places, exactly."""
    if value is None:
        return None
    scaled = math.floor(value * 10**decimals + Fraction(1, 2))
    return Decimal(scaled).scaleb(-decimals)


def _band(bands: Sequence[Band], value: Decimal | None) -> Band | None:
    if value is None:
        return None
    return next((band for band in bands if band.contains(value)), None)


def describe_values(values: Sequence[int]) -> str:
    """'0 to 5' for a run of whole numbers, otherwise the values listed ('1, 3 or 5')."""
    ordered = sorted(values)
    if ordered == list(range(ordered[0], ordered[-1] + 1)) and len(ordered) > 2:
        return f"{ordered[0]} to {ordered[-1]}"
    return _or_list(ordered)


def _or_list(values: Sequence[int]) -> str:
    words = [str(v) for v in values]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


# ---------------------------------------------------------------------------------------
# Loading and validating an instrument


def parse_instrument(text: str) -> Instrument:
    """An instrument from the text of a JSON file (bundled or imported by a clinic).

    Decimals are read exactly (0.3 stays 0.3), and a field given twice in one object is
    refused rather than silently taking the last one.
    """
    try:
        data = json.loads(
            text,
            parse_float=Decimal,
            parse_constant=_refuse_constant,
            object_pairs_hook=_refuse_duplicate_fields,
        )
    except json.JSONDecodeError as error:
        raise InstrumentError(
            [f"not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})"]
        ) from None
    return load_instrument(data)


def _refuse_constant(name: str) -> Any:
    raise InstrumentError([f"{name} is not a number an instrument can use"])


def _refuse_duplicate_fields(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    twice = sorted(k for k, n in Counter(k for k, _ in pairs).items() if n > 1)
    if twice:
        raise InstrumentError([f"the field {k!r} is given twice in one object" for k in twice])
    return dict(pairs)


def load_instrument(data: Mapping[str, Any]) -> Instrument:
    """Validate an instrument's data and build it. Raises InstrumentError listing every
    problem found, in plain words."""
    reader = _Reader()
    instrument = reader.instrument(data)
    if reader.problems or instrument is None:
        raise InstrumentError(reader.problems or ["the instrument could not be read"])
    return instrument


_INSTRUMENT_FIELDS = (
    {"format", "key", "version", "title", "citation", "licence", "items", "total"},
    {"recall_period", "instructions", "notes", "decimals", "domains", "validity"},
)
_LICENCE_FIELDS = ({"status", "note"}, set())
_ITEM_FIELDS = ({"key", "options"}, {"text", "shown_if", "when_hidden"})
_OPTION_FIELDS = ({"value"}, {"label"})
_SHOWN_IF_FIELDS = ({"item", "answered"}, set())
_DOMAIN_FIELDS = ({"key", "label", "items", "range"}, {"weight", "min_answered", "bands"})
_TOTAL_FIELDS = (
    {"label", "sum_of", "range"},
    {"items", "min_answered", "bands", "better", "rates_change"},
)
_BAND_FIELDS = ({"range", "label", "interpretation"}, set())
_VALIDITY_FIELDS = (
    {"reason", "invalid_when_at_least", "of_items"},
    {"answered", "or_missing"},
)


# A required field that is absent: reported once as missing, then skipped quietly.
_ABSENT: Any = object()


class _Reader:
    """Reads instrument data field by field, collecting every problem instead of stopping
    at the first, so a clinic importing a file sees all that needs fixing at once."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def problem(self, text: str) -> None:
        self.problems.append(text)

    # -- the instrument -----------------------------------------------------------------

    def instrument(self, data: Any) -> Instrument | None:
        fields = self.fields(data, "the instrument", _INSTRUMENT_FIELDS)
        if fields is None:
            return None
        if "format" in fields and (
            fields["format"] != FORMAT or isinstance(fields["format"], bool)
        ):
            self.problem(f"format must be {FORMAT} (the only format this version reads)")
        key = self.text(fields.get("key", _ABSENT), "the instrument's key")
        if key is not None and not _INSTRUMENT_KEY.fullmatch(key):
            self.problem(
                f"the key {key!r} must be lower-case letters and digits, words joined by"
                " hyphens (like 'pain-nrs')"
            )
        version = self.text(fields.get("version", _ABSENT), "the version")
        title = self.text(fields.get("title", _ABSENT), "the title")
        citation = self.text(fields.get("citation", _ABSENT), "the citation")
        licence = self.licence(fields.get("licence", _ABSENT))
        decimals = 0
        if "decimals" in fields:
            decimals = self.integer(fields["decimals"], "decimals") or 0
            if not 0 <= decimals <= MAX_DECIMALS:
                self.problem(f"decimals must be between 0 and {MAX_DECIMALS}")
                decimals = 0
        optional = {
            name: self.text(fields[name], f"the {name.replace('_', ' ')}")
            for name in ("recall_period", "instructions", "notes")
            if name in fields
        }

        # Checked in stages, so that one mistake is reported once: domains, total and
        # validity are only checked against sound items, the total against sound domains.
        before = len(self.problems)
        items = self.items(fields.get("items", _ABSENT))
        if items is not None and licence is not None:
            self.wording(items, licence)
        if items is None or len(self.problems) > before:
            return None
        by_key = {item.key: item for item in items}
        domains, complete = self.domains(fields.get("domains", []), by_key, decimals)
        total = self.total(
            fields.get("total", _ABSENT), by_key, domains if complete else None, decimals
        )
        validity = self.validity(fields.get("validity", []), by_key)

        if (
            self.problems
            or key is None
            or version is None
            or title is None
            or citation is None
            or licence is None
            or items is None
            or total is None
        ):
            return None
        return Instrument(
            key=key,
            version=version,
            title=title,
            citation=citation,
            licence=licence,
            items=items,
            total=total,
            domains=domains,
            validity=validity,
            decimals=decimals,
            recall_period=optional.get("recall_period"),
            instructions=optional.get("instructions"),
            notes=optional.get("notes"),
        )

    def licence(self, data: Any) -> Licence | None:
        fields = self.fields(data, "the licence", _LICENCE_FIELDS)
        if fields is None:
            return None
        note = self.text(fields.get("note", _ABSENT), "the licence note")
        status = fields.get("status", _ABSENT)
        if status is _ABSENT:
            return None
        try:
            parsed = LicenceStatus(status)
        except ValueError:
            choices = ", ".join(repr(s.value) for s in LicenceStatus)
            self.problem(f"the licence status {status!r} is not one of {choices}")
            return None
        return None if note is None else Licence(parsed, note)

    def wording(self, items: Sequence[Item], licence: Licence) -> None:
        worded = [item.key for item in items if item.text is not None]
        if worded and len(worded) < len(items):
            bare = [item.key for item in items if item.text is None]
            self.problem(
                "either every item has its wording or none does (a scoring-only file):"
                f" {', '.join(bare)} {'has' if len(bare) == 1 else 'have'} none"
            )
        if worded and licence.status is LicenceStatus.NOT_SHIPPED:
            self.problem(
                "an instrument whose terms are not established must not carry item wording:"
                " ship its scoring rules only"
            )

    # -- items --------------------------------------------------------------------------

    def items(self, data: Any) -> tuple[Item, ...] | None:
        entries = self.sequence(data, "items")
        if entries is None:
            return None
        if not entries:
            self.problem("an instrument needs at least one item")
        items: list[Item] = []
        seen: dict[str, int] = {}
        for number, entry in enumerate(entries, start=1):
            item = self.item(entry, number, {i.key: i for i in items})
            if item is None:
                continue
            if item.key in seen:
                self.problem(
                    f"the item key {item.key!r} is used twice (items {seen[item.key]} and {number})"
                )
                continue
            seen[item.key] = number
            items.append(item)
        return tuple(items)

    def item(self, data: Any, number: int, earlier: Mapping[str, Item]) -> Item | None:
        where = f"item {number}" + _named(data, " ({!r})")
        fields = self.fields(data, where, _ITEM_FIELDS)
        if fields is None:
            return None
        key = self.key(fields.get("key", _ABSENT), f"item {number}'s key")
        text = self.text(fields["text"], f"{where}'s text") if "text" in fields else None
        options = self.options(fields.get("options", _ABSENT), where, worded="text" in fields)
        if key is None or options is None:
            return None
        values = [o.value for o in options]
        shown_if = None
        if "shown_if" in fields:
            shown_if = self.shown_if(fields["shown_if"], where, key, earlier)
        when_hidden = None
        if "when_hidden" in fields:
            when_hidden = self.integer(fields["when_hidden"], f"{where}: when_hidden")
            if "shown_if" not in fields:
                self.problem(f"{where}: when_hidden is given but the item is never hidden")
            elif when_hidden is not None and when_hidden not in values:
                self.problem(
                    f"{where}: when_hidden {when_hidden} is not one of the item's values"
                    f" ({describe_values(values)})"
                )
        return Item(key, text, options, shown_if, when_hidden)

    def options(self, data: Any, where: str, worded: bool) -> tuple[Option, ...] | None:
        entries = self.sequence(data, f"{where}: options")
        if entries is None:
            return None
        options: list[Option] = []
        for number, entry in enumerate(entries, start=1):
            at = f"{where}, option {number}"
            fields = self.fields(entry, at, _OPTION_FIELDS)
            if fields is None:
                continue
            if "value" not in fields:
                continue  # already reported as missing
            value = self.integer(fields["value"], f"{at}: the value")
            label = self.text(fields["label"], f"{at}: the label") if "label" in fields else None
            if worded and "label" not in fields:
                self.problem(f"{at} has no label, but the item has wording")
            if value is not None:
                options.append(Option(value, label))
        if not worded and any(o.label is not None for o in options):
            self.problem(f"{where} has answer labels but no text")
        if len(entries) < 2:
            self.problem(f"{where} needs at least two answer options")
        for value, n in Counter(o.value for o in options).items():
            if n > 1:
                self.problem(f"{where}: the value {value} is given to {n} options")
        for label, n in Counter(o.label for o in options if o.label is not None).items():
            if n > 1:
                self.problem(f"{where}: the label {label!r} is given to {n} options")
        return tuple(options) if options else None

    def shown_if(
        self, data: Any, where: str, key: str, earlier: Mapping[str, Item]
    ) -> ShownIf | None:
        fields = self.fields(data, f"{where}: shown_if", _SHOWN_IF_FIELDS)
        if fields is None:
            return None
        controller = fields.get("item", _ABSENT)
        values = self.integers(fields.get("answered", _ABSENT), f"{where}: shown_if answered")
        if controller is _ABSENT:
            return None
        if not isinstance(controller, str):
            self.problem(f"{where}: shown_if item must be an item key (text)")
            return None
        if controller == key:
            self.problem(f"{where}: shown_if cannot depend on the item itself")
            return None
        if controller not in earlier:
            self.problem(
                f"{where}: shown_if refers to {controller!r}, which is not an earlier item"
            )
            return None
        if values is None:
            return None
        if not values:
            self.problem(f"{where}: shown_if needs at least one answer that shows the item")
        offered = earlier[controller].values
        for value in values:
            if value not in offered:
                self.problem(
                    f"{where}: shown_if lists {value}, which {controller!r} does not offer"
                    f" ({describe_values(offered)})"
                )
        return ShownIf(controller, values)

    # -- domains and total --------------------------------------------------------------

    def domains(
        self, data: Any, items: Mapping[str, Item], decimals: int
    ) -> tuple[tuple[Domain, ...], bool]:
        """The domains that could be read, and whether that is all of them (only then can
        a total of domains be checked against them)."""
        entries = self.sequence(data, "domains")
        domains: list[Domain] = []
        owner: dict[str, str] = {}
        complete = entries is not None
        for number, entry in enumerate(entries or (), start=1):
            domain = self.domain(entry, number, items, decimals)
            if domain is None:
                complete = False
                continue
            if any(d.key == domain.key for d in domains):
                self.problem(f"the domain key {domain.key!r} is used twice")
                complete = False
                continue
            for key in domain.items:
                if key in owner:
                    self.problem(
                        f"item {key!r} is in two domains ({owner[key]!r} and {domain.key!r})"
                    )
                    complete = False
                owner.setdefault(key, domain.key)
            domains.append(domain)
        return tuple(domains), complete

    def domain(
        self, data: Any, number: int, items: Mapping[str, Item], decimals: int
    ) -> Domain | None:
        where = _named(data, "domain {!r}") or f"domain {number}"
        fields = self.fields(data, where, _DOMAIN_FIELDS)
        if fields is None:
            return None
        key = self.key(fields.get("key", _ABSENT), f"domain {number}'s key")
        label = self.text(fields.get("label", _ABSENT), f"{where}'s label")
        keys = self.item_keys(fields.get("items", _ABSENT), f"{where}: items", items, scored=True)
        weight: Decimal | None = Decimal(1)
        if "weight" in fields:
            weight = self.number(fields["weight"], f"{where}: the weight")
            if weight is not None and weight <= 0:
                self.problem(f"{where}: the weight must be more than 0")
                weight = None
        declared = self.range(fields.get("range", _ABSENT), f"{where}: range", decimals)
        if key is None or label is None or keys is None or weight is None:
            return None
        min_answered = self.min_answered(fields, where, len(keys))
        minimum, maximum = self.computed_range(keys, items, weight, declared, where)
        bands = self.bands(fields.get("bands", []), where, minimum, maximum, decimals)
        return Domain(key, label, keys, weight, min_answered, minimum, maximum, bands)

    def total(
        self,
        data: Any,
        items: Mapping[str, Item],
        domains: Sequence[Domain] | None,
        decimals: int,
    ) -> Total | None:
        """The total; `domains` is None when some could not be read, and then a total of
        domains is not checked against them."""
        where = "the total"
        fields = self.fields(data, where, _TOTAL_FIELDS)
        if fields is None:
            return None
        label = self.text(fields.get("label", _ABSENT), "the total's label")
        declared = self.range(fields.get("range", _ABSENT), f"{where}: range", decimals)
        if "sum_of" not in fields:
            return None
        try:
            sum_of = SumOf(fields["sum_of"])
        except ValueError:
            self.problem(f"{where}: sum_of must be 'domains' or 'items'")
            return None
        if sum_of is SumOf.DOMAINS:
            for name in ("items", "min_answered"):
                if name in fields:
                    self.problem(f"{where}: {name} is only for a total that sums items")
            if domains is None:
                return None
            if not domains:
                self.problem(f"{where} sums the domains, but there are none")
                return None
            minimum = sum((d.minimum for d in domains), Decimal(0))
            maximum = sum((d.maximum for d in domains), Decimal(0))
            if declared is not None and declared != (minimum, maximum):
                self.problem(
                    f"{where}: range is {_span(*declared)}, but the domains add up to"
                    f" {_span(minimum, maximum)}"
                )
            keys: tuple[str, ...] = ()
            min_answered = 0
        else:
            if "items" not in fields:
                self.problem(f"{where} sums items but does not list them")
                return None
            found = self.item_keys(fields["items"], f"{where}: items", items, scored=True)
            if found is None:
                return None
            keys = found
            min_answered = self.min_answered(fields, where, len(keys))
            minimum, maximum = self.computed_range(keys, items, Decimal(1), declared, where)
        better = None
        if "better" in fields:
            try:
                better = Better(fields["better"])
            except ValueError:
                self.problem(
                    f"{where}: better must be 'lower' or 'higher', not {fields['better']!r}"
                )
        rates_change = fields.get("rates_change", False)
        if not isinstance(rates_change, bool):
            self.problem(f"{where}: rates_change must be true or false")
            rates_change = False
        if label is None:
            return None
        bands = self.bands(fields.get("bands", []), where, minimum, maximum, decimals)
        return Total(
            label, sum_of, minimum, maximum, keys, min_answered, bands, better, rates_change
        )

    def min_answered(self, fields: Mapping[str, Any], where: str, count: int) -> int:
        if "min_answered" not in fields:
            return count
        value = self.integer(fields["min_answered"], f"{where}: min_answered")
        if value is None:
            return count
        if not 1 <= value <= count:
            self.problem(f"{where}: min_answered must be between 1 and {count} (its items)")
            return count
        return value

    def computed_range(
        self,
        keys: Sequence[str],
        items: Mapping[str, Item],
        weight: Decimal,
        declared: tuple[Decimal, Decimal] | None,
        where: str,
    ) -> tuple[Decimal, Decimal]:
        low = sum(items[k].lowest for k in keys)
        high = sum(items[k].highest for k in keys)
        minimum, maximum = weight * low, weight * high
        if declared is not None and declared != (minimum, maximum):
            weighted = (
                "" if weight == 1 else f" (weight {_number(weight)}, items {_span(low, high)})"
            )
            self.problem(
                f"{where}: range is {_span(*declared)}, but its items give"
                f" {_span(minimum, maximum)}{weighted}"
            )
        return minimum, maximum

    def bands(
        self, data: Any, where: str, minimum: Decimal, maximum: Decimal, decimals: int
    ) -> tuple[Band, ...]:
        entries = self.sequence(data, f"{where}: bands")
        bands: list[Band] = []
        for number, entry in enumerate(entries or (), start=1):
            at = f"{where}, band {number}"
            fields = self.fields(entry, at, _BAND_FIELDS)
            if fields is None:
                continue
            span = self.range(fields.get("range", _ABSENT), f"{at}: range", decimals)
            label = self.text(fields.get("label", _ABSENT), f"{at}: the label")
            meaning = self.text(fields.get("interpretation", _ABSENT), f"{at}: the interpretation")
            if span is not None and label is not None and meaning is not None:
                bands.append(Band(span[0], span[1], label, meaning))
        if not bands or len(bands) != len(entries or ()):
            return tuple(bands)
        step = Decimal(1).scaleb(-decimals)
        if bands[0].minimum != minimum:
            self.problem(
                f"{where}: the first band starts at {_number(bands[0].minimum)}, but scores"
                f" start at {_number(minimum)}"
            )
        for before, after in pairwise(bands):
            if after.minimum <= before.maximum:
                self.problem(
                    f"{where}: bands {before.label!r} ({_span(before.minimum, before.maximum)})"
                    f" and {after.label!r} ({_span(after.minimum, after.maximum)}) overlap"
                )
            elif after.minimum > before.maximum + step:
                self.problem(
                    f"{where}: bands {before.label!r} and {after.label!r} leave a gap: a score"
                    f" of {_number(before.maximum + step)} would have no band"
                )
        if bands[-1].maximum != maximum:
            self.problem(
                f"{where}: the last band ends at {_number(bands[-1].maximum)}, but scores"
                f" go up to {_number(maximum)}"
            )
        for label, n in Counter(b.label for b in bands).items():
            if n > 1:
                self.problem(f"{where}: the band label {label!r} is used {n} times")
        return tuple(bands)

    # -- validity -----------------------------------------------------------------------

    def validity(self, data: Any, items: Mapping[str, Item]) -> tuple[ValidityRule, ...]:
        entries = self.sequence(data, "validity")
        rules: list[ValidityRule] = []
        for number, entry in enumerate(entries or (), start=1):
            where = f"validity rule {number}"
            fields = self.fields(entry, where, _VALIDITY_FIELDS)
            if fields is None:
                continue
            reason = self.text(fields.get("reason", _ABSENT), f"{where}: the reason")
            keys = self.item_keys(
                fields.get("of_items", _ABSENT), f"{where}: of_items", items, True
            )
            at_least = self.integer(
                fields.get("invalid_when_at_least", _ABSENT), f"{where}: invalid_when_at_least"
            )
            values = self.integers(fields.get("answered", []), f"{where}: answered")
            or_missing = fields.get("or_missing", False)
            if not isinstance(or_missing, bool):
                self.problem(f"{where}: or_missing must be true or false")
                or_missing = False
            if values is not None and not values and not or_missing:
                self.problem(f"{where} counts nothing: give answered values, or_missing, or both")
            if keys is None or values is None or at_least is None or reason is None:
                continue
            if not 1 <= at_least <= len(keys):
                self.problem(
                    f"{where}: invalid_when_at_least must be between 1 and {len(keys)} (its items)"
                )
            for value in values:
                lacking = [k for k in keys if value not in items[k].values]
                if lacking:
                    self.problem(
                        f"{where}: {', '.join(lacking)} {'does' if len(lacking) == 1 else 'do'}"
                        f" not offer the answer {value}"
                    )
            rules.append(ValidityRule(reason, at_least, keys, values, or_missing))
        return tuple(rules)

    # -- small pieces -------------------------------------------------------------------

    def fields(
        self, data: Any, where: str, allowed: tuple[set[str], set[str]]
    ) -> Mapping[str, Any] | None:
        if data is _ABSENT:
            return None
        required, optional = allowed
        if not isinstance(data, Mapping):
            self.problem(f"{where} must be an object ({{...}}), not {_kind(data)}")
            return None
        unknown = sorted(str(k) for k in data if k not in required | optional)
        if unknown:
            expected = ", ".join(sorted(required | optional))
            self.problem(
                f"{where}: unknown field{'s' if len(unknown) > 1 else ''}"
                f" {', '.join(repr(k) for k in unknown)} (expected: {expected})"
            )
        for name in sorted(required - set(data)):
            self.problem(f"{where}: {name!r} is missing")
        return data

    def sequence(self, data: Any, where: str) -> Sequence[Any] | None:
        if data is _ABSENT:
            return None
        if not isinstance(data, list | tuple):
            self.problem(f"{where} must be a list ([...]), not {_kind(data)}")
            return None
        return data

    def text(self, data: Any, what: str) -> str | None:
        if data is _ABSENT:
            return None
        if not isinstance(data, str) or not data.strip():
            self.problem(f"{what} must be text that is not blank")
            return None
        return data.strip()

    def key(self, data: Any, what: str) -> str | None:
        if data is _ABSENT:
            return None
        if not isinstance(data, str) or not _ITEM_KEY.fullmatch(data):
            self.problem(
                f"{what} must start with a lower-case letter, then letters, digits or"
                f" underscores (like 'q1'), not {data!r}"
            )
            return None
        return data

    def integer(self, data: Any, what: str) -> int | None:
        if data is _ABSENT:
            return None
        if isinstance(data, bool) or not isinstance(data, int):
            self.problem(f"{what} must be a whole number, not {data!r}")
            return None
        return data

    def integers(self, data: Any, what: str) -> tuple[int, ...] | None:
        entries = self.sequence(data, what)
        if entries is None:
            return None
        values = [self.integer(v, what) for v in entries]
        if any(v is None for v in values):
            return None
        if len(set(values)) != len(values):
            self.problem(f"{what} lists a value twice")
        return tuple(v for v in values if v is not None)

    def number(self, data: Any, what: str) -> Decimal | None:
        if isinstance(data, bool) or not isinstance(data, int | float | Decimal):
            self.problem(f"{what} must be a number, not {data!r}")
            return None
        # repr() of a float is its shortest exact spelling: 0.3 -> Decimal('0.3').
        value = Decimal(repr(data)) if isinstance(data, float) else Decimal(data)
        if not value.is_finite():
            self.problem(f"{what} must be a finite number")
            return None
        return value

    def range(self, data: Any, what: str, decimals: int) -> tuple[Decimal, Decimal] | None:
        entries = self.sequence(data, what)
        if entries is None:
            return None
        if len(entries) != 2:
            self.problem(f"{what} must be [lowest, highest]")
            return None
        low, high = (self.number(v, what) for v in entries)
        if low is None or high is None:
            return None
        if low > high:
            self.problem(f"{what}: {_number(low)} is above {_number(high)}")
            return None
        for bound in (low, high):
            if (bound * 10**decimals) % 1:
                self.problem(
                    f"{what}: {_number(bound)} has more decimals than the instrument's {decimals}"
                )
        return low, high

    def item_keys(
        self, data: Any, what: str, items: Mapping[str, Item], scored: bool
    ) -> tuple[str, ...] | None:
        entries = self.sequence(data, what)
        if entries is None:
            return None
        if not entries:
            self.problem(f"{what} must list at least one item")
            return None
        if not all(isinstance(key, str) for key in entries):
            self.problem(f"{what} must list item keys (text)")
            return None
        good = True
        for key in entries:
            if key not in items:
                self.problem(f"{what}: {key!r} is not an item of this instrument")
                good = False
            elif scored and items[key].shown_if is not None and items[key].when_hidden is None:
                self.problem(
                    f"{what}: {key!r} can be hidden, so it needs when_hidden (what it scores"
                    " when it is not asked)"
                )
        for key, n in Counter(entries).items():
            if n > 1:
                self.problem(f"{what}: {key!r} is listed {n} times")
                good = False
        return tuple(entries) if good else None


def _named(data: Any, template: str) -> str:
    """`template` filled with the key of `data` when it has a usable one, else ''."""
    key = data.get("key") if isinstance(data, Mapping) else None
    return template.format(key) if isinstance(key, str) and _ITEM_KEY.fullmatch(key) else ""


def _kind(data: Any) -> str:
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


def _number(value: Decimal | int) -> str:
    return format(Decimal(value).normalize(), "f")


def _span(low: Decimal | int, high: Decimal | int) -> str:
    return f"{_number(low)} to {_number(high)}"


# ---------------------------------------------------------------------------------------
# Comparing scoring rules


def scoring_differences(reference: Instrument, other: Instrument) -> list[str]:
    """Where `other` scores a response differently from `reference`, in plain words (empty
    when the two score every response alike and give it the same meaning).

    Wording may differ: the items' text and answer labels, the title, citation, licence,
    recall period, instructions, notes and version. Everything that decides a score or what
    it means may not: the items (keys, order, answer values, skip logic), the domains, the
    total, the bands, the validity rules and the decimals. This is how a clinic holding a
    licence adds only the wording to rules that ship without it.
    """
    problems: list[str] = []
    if other.decimals != reference.decimals:
        problems.append(
            f"decimals is {other.decimals}, but the shipped rules round to {reference.decimals}"
        )
    theirs = {item.key: item for item in other.items}
    ours = {item.key: item for item in reference.items}
    missing = [key for key in ours if key not in theirs]
    extra = [key for key in theirs if key not in ours]
    if missing:
        problems.append(f"the shipped rules have items the file lacks: {', '.join(missing)}")
    if extra:
        problems.append(f"the file has items the shipped rules do not: {', '.join(extra)}")
    if not missing and not extra and list(theirs) != list(ours):
        problems.append("the items are in a different order from the shipped rules")
    for key, item in ours.items():
        if key not in theirs:
            continue
        mine = theirs[key]
        if mine.values != item.values:
            problems.append(
                f"item {key!r} offers {describe_values(mine.values)}, but the shipped rules"
                f" give it {describe_values(item.values)}"
            )
        if (mine.shown_if, mine.when_hidden) != (item.shown_if, item.when_hidden):
            problems.append(f"item {key!r}: its skip logic differs from the shipped rules")
    problems += _domain_differences(reference.domains, other.domains)
    for what, mine, shipped in (
        ("label", other.total.label, reference.total.label),
        (
            "sum",
            (other.total.sum_of, other.total.items),
            (reference.total.sum_of, reference.total.items),
        ),
        ("min_answered", other.total.min_answered, reference.total.min_answered),
        (
            "range",
            (other.total.minimum, other.total.maximum),
            (reference.total.minimum, reference.total.maximum),
        ),
        ("bands", other.total.bands, reference.total.bands),
        ("better", other.total.better, reference.total.better),
        ("rates_change", other.total.rates_change, reference.total.rates_change),
    ):
        if mine != shipped:
            problems.append(f"the total: its {what} differs from the shipped rules")
    if other.validity != reference.validity:
        problems.append("the validity rules differ from the shipped rules")
    return problems


def _domain_differences(reference: Sequence[Domain], other: Sequence[Domain]) -> list[str]:
    problems: list[str] = []
    theirs = {domain.key: domain for domain in other}
    ours = {domain.key: domain for domain in reference}
    missing = [key for key in ours if key not in theirs]
    extra = [key for key in theirs if key not in ours]
    if missing:
        problems.append(f"the shipped rules have domains the file lacks: {', '.join(missing)}")
    if extra:
        problems.append(f"the file has domains the shipped rules do not: {', '.join(extra)}")
    for key, domain in ours.items():
        mine = theirs.get(key)
        if mine is None:
            continue
        for what, a, b in (
            ("label", mine.label, domain.label),
            ("items", mine.items, domain.items),
            ("weight", mine.weight, domain.weight),
            ("min_answered", mine.min_answered, domain.min_answered),
            ("bands", mine.bands, domain.bands),
        ):
            if a != b:
                problems.append(f"domain {key!r}: its {what} differs from the shipped rules")
    return problems


# ---------------------------------------------------------------------------------------
# The bundled instruments


def shipping_problems(instrument: Instrument, file_name: str) -> list[str]:
    """Why `instrument` may not ship with the application as `file_name` (empty when it may).

    Only free, public-domain or clinic-owned instruments ship their wording; any other ships
    as scoring rules only, named <key>.scoring.json. A clinic-licensed instrument is the
    clinic's to import, never ours to ship.
    """
    problems: list[str] = []
    status = instrument.licence.status
    if status is LicenceStatus.CLINIC_LICENSED:
        problems.append(
            "a clinic-licensed instrument is imported by the clinic that holds the licence,"
            " never shipped"
        )
    elif instrument.administrable and not status.may_ship_wording:
        problems.append(f"its licence status ({status.value}) does not allow shipping its wording")
    expected = instrument.key + (".json" if instrument.administrable else SCORING_ONLY_SUFFIX)
    if file_name != expected:
        problems.append(f"the file should be named {expected}")
    return problems


@cache
def shipped_instruments() -> Mapping[str, Instrument]:
    """Every instrument bundled in clinic/data/instruments/, by key (see load_folder)."""
    return load_folder(resources.files("clinic").joinpath(INSTRUMENTS_FOLDER))


def load_folder(folder: Traversable) -> Mapping[str, Instrument]:
    """Every *.json instrument in `folder`, by key, each one validated and checked against
    the licence rule (shipping_problems). Raises InstrumentError naming the file at fault."""
    found: dict[str, Instrument] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".json"):
            continue
        try:
            instrument = parse_instrument(entry.read_text(encoding="utf-8"))
        except InstrumentError as error:
            raise InstrumentError(f"{entry.name}: {p}" for p in error.problems) from None
        problems = shipping_problems(instrument, entry.name)
        if instrument.key in found:
            problems.append(f"another file already has the key {instrument.key!r}")
        if problems:
            raise InstrumentError(f"{entry.name}: {p}" for p in problems)
        found[instrument.key] = instrument
    return MappingProxyType(found)

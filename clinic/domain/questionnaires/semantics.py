"""The checks of meaning an instrument file must pass once its shape is right, and the
`Instrument` built from it.

The schema (`schema`) has already said whether each part has the right fields and types;
what it cannot say is checked here: item and domain keys used once, every reference to an
item resolved (and, for skip logic, to an earlier one), answer values and labels not
repeated, wording given for every item or none, declared ranges equal to what the items
and weights give, bands that cover a range without gap or overlap, validity rules that
count something the items offer.

A part the schema found broken is left alone, and a later part that depends on a broken
one (the total on the domains, the domains on the items) is not checked against it, so
one mistake is reported once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise
from typing import Any

from clinic.domain.questionnaires.model import (
    SOURCE_LANGUAGE,
    Band,
    Better,
    Domain,
    Instrument,
    Item,
    ItemWording,
    Licence,
    LicenceStatus,
    Option,
    ShownIf,
    SumOf,
    Total,
    Translation,
    ValidityRule,
)
from clinic.domain.questionnaires.places import Path, place
from clinic.domain.questionnaires.schema import Problems
from clinic.domain.questionnaires.words import describe_values, number, span


def build(document: object, shape: Problems) -> tuple[Instrument | None, list[str]]:
    """The instrument `document` describes, and the problems of meaning found in it (the
    instrument is None when there is any problem, of shape or of meaning)."""
    if not isinstance(document, dict):
        return None, []  # the schema said what it should be
    checker = _Checker(document, shape)
    instrument = checker.instrument()
    if shape.messages or checker.problems:
        instrument = None
    return instrument, checker.problems


@dataclass(frozen=True)
class _Header:
    """What the instrument says about itself, when all of it could be read."""

    key: str
    version: str
    title: str
    citation: str
    licence: Licence


class _Checker:
    """Walks a document whose shape was checked, collecting every problem of meaning."""

    def __init__(self, document: Mapping[str, Any], shape: Problems) -> None:
        self.document = document
        self.shape = shape
        self.problems: list[str] = []

    def problem(self, text: str) -> None:
        self.problems.append(text)

    def raw(self, path: Path) -> Any:
        """The value at `path`, whatever its shape (None when it is not there)."""
        node: Any = self.document
        for step in path:
            if isinstance(node, Mapping):
                node = node.get(step)
            elif isinstance(node, list) and isinstance(step, int) and step < len(node):
                node = node[step]
            else:
                return None
        return node

    def readable(self, path: Path) -> Any:
        """The value at `path` when it is there and its shape is right, else None."""
        return None if self.shape.broken(path) else self.raw(path)

    def entries(self, path: Path) -> list[tuple[Path, Any]]:
        """The readable entries of the list at `path`, with their paths."""
        listed = self.raw(path)
        if not isinstance(listed, list):
            return []
        found = [((*path, n), entry) for n, entry in enumerate(listed)]
        return [(p, entry) for p, entry in found if not self.shape.broken(p)]

    # -- the instrument -----------------------------------------------------------------

    def instrument(self) -> Instrument | None:
        header = self.header()
        decimals = self.readable(("decimals",)) or 0
        items = self.sound_items(header)
        if items is None:
            return None
        by_key = {item.key: item for item in items}
        domains, complete = self.domains(by_key, decimals)
        total = self.total(by_key, domains if complete else None, decimals)
        validity = self.validity(by_key)
        translations = self.translations(items)
        if header is None or total is None:
            return None
        return Instrument(
            key=header.key,
            version=header.version,
            title=header.title,
            citation=header.citation,
            licence=header.licence,
            items=items,
            total=total,
            domains=domains,
            validity=validity,
            decimals=decimals,
            recall_period=self.text(("recall_period",)),
            instructions=self.text(("instructions",)),
            notes=self.text(("notes",)),
            translations=translations,
        )

    def sound_items(self, header: _Header | None) -> tuple[Item, ...] | None:
        """The items, when every one of them is sound.

        Checked in stages, so that one mistake is reported once: domains, total and
        validity are only checked against sound items.
        """
        items = self.items()
        if items is not None and header is not None:
            self.wording(items, header.licence)
        if items is None or self.problems or self.shape.broken(("items",)):
            return None
        return items

    def text(self, path: Path) -> str | None:
        value = self.readable(path)
        return value.strip() if isinstance(value, str) else None

    def header(self) -> _Header | None:
        key = self.readable(("key",))
        version, title, citation = (self.text((n,)) for n in ("version", "title", "citation"))
        status, note = self.readable(("licence", "status")), self.text(("licence", "note"))
        if key is None or version is None or title is None or citation is None:
            return None
        if status is None or note is None or self.shape.broken(("licence",)):
            return None
        return _Header(key, version, title, citation, Licence(LicenceStatus(status), note))

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

    def items(self) -> tuple[Item, ...] | None:
        listed = self.document.get("items")
        if not isinstance(listed, list):
            return None
        items: list[Item] = []
        seen: dict[str, int] = {}
        for path, entry in self.entries(("items",)):
            number_ = int(path[-1]) + 1
            item = self.item(entry, path, {i.key: i for i in items}, listed)
            if item.key in seen:
                self.problem(
                    f"the item key {item.key!r} is used twice (items {seen[item.key]} and"
                    f" {number_})"
                )
                continue
            seen[item.key] = number_
            items.append(item)
        return tuple(items)

    def item(
        self, data: Mapping[str, Any], path: Path, earlier: Mapping[str, Item], listed: list[Any]
    ) -> Item:
        where = place(self.document, path)
        worded = "text" in data
        options = self.options(data["options"], where, worded)
        shown_if = None
        if "shown_if" in data:
            unread = {_key_of(e) for e in listed[: int(path[-1])]}
            shown_if = self.shown_if(data["shown_if"], where, data["key"], earlier, unread)
        when_hidden = data.get("when_hidden")
        values = [o.value for o in options]
        if "when_hidden" in data and "shown_if" not in data:
            self.problem(f"{where}: when_hidden is given but the item is never hidden")
        elif when_hidden is not None and when_hidden not in values:
            self.problem(
                f"{where}: when_hidden {when_hidden} is not one of the item's values"
                f" ({describe_values(values)})"
            )
        text = data["text"].strip() if worded else None
        return Item(data["key"], text, options, shown_if, when_hidden)

    def options(
        self, data: Sequence[Mapping[str, Any]], where: str, worded: bool
    ) -> tuple[Option, ...]:
        options: list[Option] = []
        for number_, entry in enumerate(data, start=1):
            label = entry.get("label")
            if worded and label is None:
                self.problem(f"{where}, option {number_} has no label, but the item has wording")
            options.append(Option(entry["value"], label.strip() if label is not None else None))
        if not worded and any(o.label is not None for o in options):
            self.problem(f"{where} has answer labels but no text")
        self.repeated_answers(options, where)
        return tuple(options)

    def repeated_answers(self, options: Sequence[Option], where: str) -> None:
        """Two options of one item may not score alike, nor read alike."""
        for value, n in Counter(o.value for o in options).items():
            if n > 1:
                self.problem(f"{where}: the value {value} is given to {n} options")
        for label, n in Counter(o.label for o in options if o.label is not None).items():
            if n > 1:
                self.problem(f"{where}: the label {label!r} is given to {n} options")

    def shown_if(
        self,
        data: Mapping[str, Any],
        where: str,
        key: str,
        earlier: Mapping[str, Item],
        unread: set[str | None],
    ) -> ShownIf | None:
        controller, values = data["item"], tuple(data["answered"])
        if controller == key:
            self.problem(f"{where}: shown_if cannot depend on the item itself")
            return None
        if controller not in earlier:
            if controller not in unread:  # an earlier broken item was already reported
                self.problem(
                    f"{where}: shown_if refers to {controller!r}, which is not an earlier item"
                )
            return None
        offered = earlier[controller].values
        for value in values:
            if value not in offered:
                self.problem(
                    f"{where}: shown_if lists {value}, which {controller!r} does not offer"
                    f" ({describe_values(offered)})"
                )
        return ShownIf(controller, values)

    # -- domains and total --------------------------------------------------------------

    def domains(self, items: Mapping[str, Item], decimals: int) -> tuple[tuple[Domain, ...], bool]:
        """The domains that could be read, and whether that is all of them (only then can
        a total of domains be checked against them)."""
        domains: list[Domain] = []
        owner: dict[str, str] = {}
        complete = not self.shape.broken(("domains",))
        for path, entry in self.entries(("domains",)):
            domain = self.domain(entry, path, items, decimals)
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
        self, data: Mapping[str, Any], path: Path, items: Mapping[str, Item], decimals: int
    ) -> Domain | None:
        where = place(self.document, path)
        keys = self.item_keys(data["items"], f"{where}: items", items, scored=True)
        weight = _decimal(data.get("weight", 1))
        declared = self.range(data["range"], f"{where}: range", decimals)
        if keys is None:
            return None
        min_answered = self.min_answered(data, where, len(keys))
        minimum, maximum = self.computed_range(keys, items, weight, declared, where)
        bands = self.bands((*path, "bands"), where, (minimum, maximum), decimals)
        label = data["label"].strip()
        return Domain(data["key"], label, keys, weight, min_answered, minimum, maximum, bands)

    def total(
        self, items: Mapping[str, Item], domains: Sequence[Domain] | None, decimals: int
    ) -> Total | None:
        """The total; `domains` is None when some could not be read, and then a total of
        domains is not checked against them."""
        data = self.readable(("total",))
        if data is None:
            return None
        where = "the total"
        declared = self.range(data["range"], f"{where}: range", decimals)
        sum_of = SumOf(data["sum_of"])
        if sum_of is SumOf.DOMAINS:
            summed = self.total_of_domains(domains, declared)
        else:
            summed = self.total_of_items(data, items, declared)
        if summed is None:
            return None
        keys, min_answered, minimum, maximum = summed
        bands = self.bands(("total", "bands"), where, (minimum, maximum), decimals)
        better = Better(data["better"]) if "better" in data else None
        return Total(
            data["label"].strip(),
            sum_of,
            minimum,
            maximum,
            keys,
            min_answered,
            bands,
            better,
            data.get("rates_change", False),
        )

    def total_of_domains(
        self, domains: Sequence[Domain] | None, declared: tuple[Decimal, Decimal] | None
    ) -> tuple[tuple[str, ...], int, Decimal, Decimal] | None:
        if domains is None:
            return None
        if not domains:
            self.problem("the total sums the domains, but there are none")
            return None
        minimum = sum((d.minimum for d in domains), Decimal(0))
        maximum = sum((d.maximum for d in domains), Decimal(0))
        if declared is not None and declared != (minimum, maximum):
            self.problem(
                f"the total: range is {span(*declared)}, but the domains add up to"
                f" {span(minimum, maximum)}"
            )
        return (), 0, minimum, maximum

    def total_of_items(
        self,
        data: Mapping[str, Any],
        items: Mapping[str, Item],
        declared: tuple[Decimal, Decimal] | None,
    ) -> tuple[tuple[str, ...], int, Decimal, Decimal] | None:
        where = "the total"
        keys = self.item_keys(data["items"], f"{where}: items", items, scored=True)
        if keys is None:
            return None
        min_answered = self.min_answered(data, where, len(keys))
        minimum, maximum = self.computed_range(keys, items, Decimal(1), declared, where)
        return keys, min_answered, minimum, maximum

    def min_answered(self, data: Mapping[str, Any], where: str, count: int) -> int:
        value = data.get("min_answered", count)
        if not 1 <= value <= count:
            self.problem(f"{where}: min_answered must be between 1 and {count} (its items)")
            return count
        return int(value)

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
            weighted = "" if weight == 1 else f" (weight {number(weight)}, items {span(low, high)})"
            self.problem(
                f"{where}: range is {span(*declared)}, but its items give"
                f" {span(minimum, maximum)}{weighted}"
            )
        return minimum, maximum

    def bands(
        self, path: Path, where: str, scores: tuple[Decimal, Decimal], decimals: int
    ) -> tuple[Band, ...]:
        bands: list[Band] = []
        for band_path, entry in self.entries(path):
            at = place(self.document, band_path)
            found = self.range(entry["range"], f"{at}: range", decimals)
            if found is not None:
                label, meaning = entry["label"].strip(), entry["interpretation"].strip()
                bands.append(Band(found[0], found[1], label, meaning))
        listed = self.raw(path) or []
        if bands and len(bands) == len(listed):
            self.coverage(bands, where, scores, decimals)
        return tuple(bands)

    def coverage(
        self, bands: Sequence[Band], where: str, scores: tuple[Decimal, Decimal], decimals: int
    ) -> None:
        """Bands in order cover every score from the lowest to the highest exactly once."""
        minimum, maximum = scores
        step = Decimal(1).scaleb(-decimals)
        if bands[0].minimum != minimum:
            self.problem(
                f"{where}: the first band starts at {number(bands[0].minimum)}, but scores"
                f" start at {number(minimum)}"
            )
        for before, after in pairwise(bands):
            if after.minimum <= before.maximum:
                self.problem(
                    f"{where}: bands {before.label!r} ({span(before.minimum, before.maximum)})"
                    f" and {after.label!r} ({span(after.minimum, after.maximum)}) overlap"
                )
            elif after.minimum > before.maximum + step:
                self.problem(
                    f"{where}: bands {before.label!r} and {after.label!r} leave a gap: a score"
                    f" of {number(before.maximum + step)} would have no band"
                )
        if bands[-1].maximum != maximum:
            self.problem(
                f"{where}: the last band ends at {number(bands[-1].maximum)}, but scores"
                f" go up to {number(maximum)}"
            )
        for label, n in Counter(b.label for b in bands).items():
            if n > 1:
                self.problem(f"{where}: the band label {label!r} is used {n} times")

    # -- validity -----------------------------------------------------------------------

    def validity(self, items: Mapping[str, Item]) -> tuple[ValidityRule, ...]:
        rules: list[ValidityRule] = []
        for path, entry in self.entries(("validity",)):
            rule = self.validity_rule(entry, place(self.document, path), items)
            if rule is not None:
                rules.append(rule)
        return tuple(rules)

    def validity_rule(
        self, data: Mapping[str, Any], where: str, items: Mapping[str, Item]
    ) -> ValidityRule | None:
        keys = self.item_keys(data["of_items"], f"{where}: of_items", items, scored=False)
        at_least, values = data["invalid_when_at_least"], tuple(data.get("answered", ()))
        or_missing = data.get("or_missing", False)
        if not values and not or_missing:
            self.problem(f"{where} counts nothing: give answered values, or_missing, or both")
        if keys is None:
            return None
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
        return ValidityRule(data["reason"].strip(), at_least, keys, values, or_missing)

    # -- translations -------------------------------------------------------------------

    def translations(self, items: Sequence[Item]) -> tuple[Translation, ...]:
        """The translations, each checked against the items: a worded one words every item
        and every answer the item offers (by value), and the title, recall period and
        instructions the instrument has; one whose terms are not established carries no
        wording; each language once, and never the instrument's own (English)."""
        found: list[Translation] = []
        for path, entry in self.entries(("translations",)):
            translation = self.translation(entry, path, items)
            if translation is None:
                continue
            if translation.language.split("-")[0] == SOURCE_LANGUAGE:
                self.problem(
                    f"{place(self.document, path)}: the instrument itself is in English;"
                    " a translation is into another language"
                )
            elif any(t.language == translation.language for t in found):
                self.problem(f"the language {translation.language!r} is translated twice")
            found.append(translation)
        return tuple(found)

    def translation(
        self, data: Mapping[str, Any], path: Path, items: Sequence[Item]
    ) -> Translation | None:
        where = place(self.document, path)
        licence = Licence(LicenceStatus(data["licence"]["status"]), data["licence"]["note"].strip())
        fields = {name: _stripped(data.get(name)) for name in ("title", *_OPTIONAL_WORDING)}
        worded = "items" in data or any(fields.values())
        if not worded:
            return Translation(data["language"], licence)
        if licence.status is LicenceStatus.NOT_SHIPPED:
            self.problem(
                f"{where}: its terms are not established, so it must not carry wording"
                " (keep only the language and the licence)"
            )
            return None
        if items and all(item.text is None for item in items):
            self.problem(
                f"{where}: the instrument ships as scoring rules only, so its translation"
                " carries no wording either"
            )
            return None
        for name in ("title", "items"):
            if name not in data:
                self.problem(f"{where}: {name!r} is missing (a translation words them all)")
        for name in _OPTIONAL_WORDING:
            if self.text((name,)) is not None and fields[name] is None:
                self.problem(f"{where}: {name!r} is missing (the instrument has one)")
            elif self.text((name,)) is None and fields[name] is not None:
                self.problem(f"{where}: {name!r} is given, but the instrument has none")
        wording = self.translated_items((*path, "items"), where, items)
        if wording is None or "title" not in data:
            return None
        return Translation(
            data["language"],
            licence,
            fields["title"],
            fields["recall_period"],
            fields["instructions"],
            wording,
        )

    def translated_items(
        self, path: Path, where: str, items: Sequence[Item]
    ) -> tuple[ItemWording, ...] | None:
        """Every item's wording, in the items' order (None when one is missing or wrong)."""
        given: dict[str, ItemWording] = {}
        sound = True
        for item_path, entry in self.entries(path):
            at = place(self.document, item_path)
            key = entry["key"]
            item = next((i for i in items if i.key == key), None)
            if item is None:
                self.problem(f"{at}: {key!r} is not an item of this instrument")
                sound = False
            elif key in given:
                self.problem(f"{where}: the item {key!r} is translated twice")
                sound = False
            else:
                labels = self.translated_labels(entry["options"], at, item)
                if labels is None:
                    sound = False
                else:
                    given[key] = ItemWording(key, entry["text"].strip(), labels)
        missing = [item.key for item in items if item.key not in given]
        if missing and sound and isinstance(self.raw(path), list) and not self.shape.broken(path):
            self.problem(f"{where}: no wording for {', '.join(missing)}")
        if not sound or missing:
            return None
        return tuple(given[item.key] for item in items)

    def translated_labels(
        self, options: Sequence[Mapping[str, Any]], where: str, item: Item
    ) -> tuple[tuple[int, str], ...] | None:
        """Each answer's label by value: exactly the values the item offers, each once,
        no two labels alike."""
        labels = [(o["value"], o["label"].strip()) for o in options]
        values = [value for value, _label in labels]
        problems: list[str] = []
        for value, n in Counter(values).items():
            if n > 1:
                problems.append(f"{where}: the value {value} is given {n} labels")
        unknown = [v for v in dict.fromkeys(values) if v not in item.values]
        lacking = [v for v in item.values if v not in values]
        if unknown:
            problems.append(
                f"{where}: the item does not offer {describe_values(unknown)}"
                f" (it offers {describe_values(item.values)})"
            )
        if lacking:
            problems.append(f"{where}: no label for {describe_values(lacking)}")
        for label, n in Counter(label for _value, label in labels).items():
            if n > 1:
                problems.append(f"{where}: the label {label!r} is given to {n} options")
        for problem in problems:
            self.problem(problem)
        if problems:
            return None
        by_value = dict(labels)
        return tuple((value, by_value[value]) for value in item.values)

    # -- small pieces -------------------------------------------------------------------

    def range(
        self, data: Sequence[Any], what: str, decimals: int
    ) -> tuple[Decimal, Decimal] | None:
        low, high = (_decimal(v) for v in data)
        if low > high:
            self.problem(f"{what}: {number(low)} is above {number(high)}")
            return None
        for bound in (low, high):
            if (bound * 10**decimals) % 1:
                self.problem(
                    f"{what}: {number(bound)} has more decimals than the instrument's {decimals}"
                )
        return low, high

    def item_keys(
        self, keys: Sequence[str], what: str, items: Mapping[str, Item], scored: bool
    ) -> tuple[str, ...] | None:
        unknown = [key for key in keys if key not in items]
        for key in unknown:
            self.problem(f"{what}: {key!r} is not an item of this instrument")
        for key in keys:
            if scored and key in items and items[key].shown_if and items[key].when_hidden is None:
                self.problem(
                    f"{what}: {key!r} can be hidden, so it needs when_hidden (what it scores"
                    " when it is not asked)"
                )
        return None if unknown else tuple(keys)


# Wording a translation gives exactly when the instrument has it.
_OPTIONAL_WORDING = ("recall_period", "instructions")


def _stripped(value: object) -> str | None:
    return value.strip() if isinstance(value, str) else None


def _key_of(data: object) -> str | None:
    key = data.get("key") if isinstance(data, Mapping) else None
    return key if isinstance(key, str) else None


def _decimal(value: int | float | Decimal) -> Decimal:
    # repr() of a float is its shortest exact spelling: 0.3 -> Decimal('0.3').
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)

"""Whether two versions of an instrument score every response alike.

A clinic holding a licence for an instrument that ships as scoring rules only (FSFI,
NIH-CPSI) imports it with the wording added; `scoring_differences` is how the import makes
sure the wording is all that was added, so a score means the same in every clinic.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from clinic.domain.questionnaires.model import Domain, Instrument, Item, Total
from clinic.domain.questionnaires.words import describe_values


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
    problems += _item_differences(reference.items, other.items)
    problems += _domain_differences(reference.domains, other.domains)
    problems += _total_differences(reference.total, other.total)
    if other.validity != reference.validity:
        problems.append("the validity rules differ from the shipped rules")
    return problems


def _missing_and_extra(
    what: str, ours: Mapping[str, object], theirs: Mapping[str, object]
) -> list[str]:
    """What the shipped rules have that the file lacks, and the other way round."""
    problems: list[str] = []
    missing = [key for key in ours if key not in theirs]
    extra = [key for key in theirs if key not in ours]
    if missing:
        problems.append(f"the shipped rules have {what} the file lacks: {', '.join(missing)}")
    if extra:
        problems.append(f"the file has {what} the shipped rules do not: {', '.join(extra)}")
    return problems


def _item_differences(reference: Sequence[Item], other: Sequence[Item]) -> list[str]:
    theirs = {item.key: item for item in other}
    ours = {item.key: item for item in reference}
    problems = _missing_and_extra("items", ours, theirs)
    if not problems and list(theirs) != list(ours):
        problems.append("the items are in a different order from the shipped rules")
    for key, item in ours.items():
        mine = theirs.get(key)
        if mine is None:
            continue
        if mine.values != item.values:
            problems.append(
                f"item {key!r} offers {describe_values(mine.values)}, but the shipped rules"
                f" give it {describe_values(item.values)}"
            )
        if (mine.shown_if, mine.when_hidden) != (item.shown_if, item.when_hidden):
            problems.append(f"item {key!r}: its skip logic differs from the shipped rules")
    return problems


def _domain_differences(reference: Sequence[Domain], other: Sequence[Domain]) -> list[str]:
    theirs = {domain.key: domain for domain in other}
    ours = {domain.key: domain for domain in reference}
    problems = _missing_and_extra("domains", ours, theirs)
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


def _total_differences(reference: Total, other: Total) -> list[str]:
    return [
        f"the total: its {what} differs from the shipped rules"
        for what, mine, shipped in (
            ("label", other.label, reference.label),
            ("sum", (other.sum_of, other.items), (reference.sum_of, reference.items)),
            ("min_answered", other.min_answered, reference.min_answered),
            ("range", (other.minimum, other.maximum), (reference.minimum, reference.maximum)),
            ("bands", other.bands, reference.bands),
            ("better", other.better, reference.better),
            ("rates_change", other.rates_change, reference.rates_change),
        )
        if mine != shipped
    ]

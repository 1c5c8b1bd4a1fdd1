"""How one response to an instrument is scored.

In order:

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
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from clinic.domain.questionnaires.model import (
    AnswerError,
    Band,
    Domain,
    DomainScore,
    Instrument,
    Item,
    Score,
    Status,
    SumOf,
    ValidityRule,
)
from clinic.domain.questionnaires.words import describe_values, or_list


@dataclass(frozen=True)
class _Sum:
    """A weighted sum of items, exact (None when too few were answered)."""

    exact: Fraction | None
    answered: int
    prorated: tuple[str, ...]


@dataclass(frozen=True)
class _Total:
    """The total before validity is applied, and in words why there is none."""

    exact: Fraction | None
    incomplete: tuple[str, ...]
    prorated: tuple[str, ...]


def score(instrument: Instrument, answers: Mapping[str, int | None]) -> Score:
    """Score one response. Raises AnswerError for an unknown item or a value the item does
    not offer; blank answers (None, or no key) are allowed."""
    given = _checked(instrument, answers)
    shown = _shown(instrument, given)
    values = _scored_values(instrument, given, shown)
    sums = [
        _weighted_sum(instrument, domain.items, domain.weight, domain.min_answered, values)
        for domain in instrument.domains
    ]
    domain_scores = [
        _domain_score(domain, summed, instrument.decimals)
        for domain, summed in zip(instrument.domains, sums, strict=True)
    ]
    total = _total(instrument, sums, domain_scores, values)
    invalid = [r for rule in instrument.validity if (r := _invalid_reason(rule, values))]
    status = _status(bool(invalid), total.exact)
    shown_total = _round(total.exact, instrument.decimals) if status is Status.SCORED else None
    prorated = set(total.prorated).union(*(summed.prorated for summed in sums))
    return Score(
        instrument=instrument.key,
        version=instrument.version,
        status=status,
        total=shown_total,
        band=_band(instrument.total.bands, shown_total),
        domains=tuple(domain_scores),
        reasons=(*invalid, *total.incomplete),
        prorated=_in_order(instrument, prorated),
        ignored=_in_order(instrument, {k for k, v in given.items() if v is not None} - shown),
    )


def _scored_values(
    instrument: Instrument, given: Mapping[str, int | None], shown: set[str]
) -> dict[str, int | None]:
    """What each item scores: its answer when shown, its when_hidden value when not."""
    return {
        item.key: given.get(item.key) if item.key in shown else item.when_hidden
        for item in instrument.items
    }


def _in_order(instrument: Instrument, keys: set[str]) -> tuple[str, ...]:
    """`keys` in the order of the instrument's items."""
    return tuple(item.key for item in instrument.items if item.key in keys)


def _status(invalid: bool, total: Fraction | None) -> Status:
    if invalid:
        return Status.INVALID
    return Status.INCOMPLETE if total is None else Status.SCORED


def _domain_score(domain: Domain, summed: _Sum, decimals: int) -> DomainScore:
    shown_score = _round(summed.exact, decimals)
    return DomainScore(
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


def _total(
    instrument: Instrument,
    sums: Sequence[_Sum],
    domain_scores: Sequence[DomainScore],
    values: Mapping[str, int | None],
) -> _Total:
    total = instrument.total
    if total.sum_of is SumOf.DOMAINS:
        scored = [s.exact for s in sums if s.exact is not None]
        return _Total(
            sum(scored, Fraction(0)) if len(scored) == len(sums) else None,
            tuple(
                f"Not scored: too few answers for {d.label} ({d.reason})"
                for d in domain_scores
                if d.score is None
            ),
            (),
        )
    summed = _weighted_sum(instrument, total.items, Decimal(1), total.min_answered, values)
    incomplete: tuple[str, ...] = ()
    if summed.exact is None:
        incomplete = (
            "Not scored: " + _too_few(summed.answered, len(total.items), total.min_answered),
        )
    return _Total(summed.exact, incomplete, summed.prorated)


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
    imputed = sum((_clamped(mean, instrument.item(k)) for k in blank), Fraction(0))
    return _Sum(Fraction(weight) * (sum(answered) + imputed), len(answered), blank)


def _clamped(mean: Fraction, item: Item) -> Fraction:
    """The mean, kept within the item's own range of values."""
    return min(max(mean, Fraction(item.lowest)), Fraction(item.highest))


def _invalid_reason(rule: ValidityRule, values: Mapping[str, int | None]) -> str | None:
    counted = sum(
        1
        for key in rule.items
        if (values[key] is None and rule.or_missing) or values[key] in rule.values
    )
    if counted < rule.at_least:
        return None
    how = [f"answered {or_list(rule.values)}"] if rule.values else []
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

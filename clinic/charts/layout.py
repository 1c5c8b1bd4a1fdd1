"""Where things go on a chart: pure geometry, with no SVG, Flask or database in it.

Scales from values to positions, round values for an axis, how many date labels fit a
width, and where labels and markers go so that none overlaps another. Every function here
works in the chart's own units (its viewBox) and estimates text widths from the metrics of
DejaVu Sans, one of the widest common sans-serif faces and the one the PDFs use: a label
measured here is never narrower than the label drawn, so labels said to fit do fit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise

from babel import Locale
from babel.dates import format_skeleton
from babel.numbers import format_decimal
from flask import has_app_context
from flask_babel import get_locale

# Advance widths of DejaVu Sans, in ems, rounded up; bold is about a tenth wider. A
# character not listed (accents, other scripts) counts as a full em.
_WIDTHS = {
    0.28: "'ijl",
    0.30: "IJ",
    0.32: " ,.·",
    0.34: "/:;\\|",
    0.36: "f",
    0.37: "-",
    0.40: "()[]t",
    0.41: "!",
    0.42: "r",
    0.46: '"',
    0.50: "*_`\u2013",  # en dash
    0.53: "sz",
    0.54: "?",
    0.55: "c",
    0.56: "L",
    0.58: "Fk",
    0.60: "vxy",
    0.61: "P",
    0.62: "TYaeo",
    0.64: "$0123456789ESbdghnpqu{}",
    0.66: "K",
    0.69: "ABVXZ",
    0.70: "CR",
    0.74: "U",
    0.75: "N",
    0.76: "H",
    0.78: "&DG",
    0.79: "OQ",
    0.82: "w",
    0.84: "#+<=>^~\u2212",  # minus sign
    0.87: "M",
    0.96: "%",
    0.98: "m",
    0.99: "W",
}
_EM = {char: width for width, chars in _WIDTHS.items() for char in chars}
BOLD = 1.1
ELLIPSIS = "…"


def text_width(text: str, size: float, *, bold: bool = False) -> float:
    """How wide `text` is at font size `size`, at most (see the module's note)."""
    ems = sum(_EM.get(char, 1.0) for char in text)
    return ems * size * (BOLD if bold else 1.0)


@dataclass(frozen=True)
class Scale:
    """A straight mapping of values from `lo`..`hi` onto positions `start`..`end` (which
    may run backwards, as a y axis does); a domain of one value maps to the middle."""

    lo: float
    hi: float
    start: float
    end: float

    def __call__(self, value: float) -> float:
        if self.hi == self.lo:
            return (self.start + self.end) / 2
        return self.start + (value - self.lo) * (self.end - self.start) / (self.hi - self.lo)


def nice_step(span: float, most: int) -> float:
    """The smallest of 1, 2 and 5 times a power of ten that cuts `span` into at most
    `most` steps."""
    if span <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(span / max(most, 1)))
    for factor in (1, 2, 5, 10, 20, 50):
        step = factor * power
        if span / step <= most + 1e-9:
            return step
    return 100 * power  # pragma: no cover - 50 times the power always fits


def value_ticks(
    lo: float,
    hi: float,
    *,
    length: float,
    min_gap: float,
    most: int = 10,
    first: Sequence[float] = (),
    rounds: bool = True,
) -> list[float]:
    """The values an axis from `lo` to `hi`, `length` units long, labels: `lo` and `hi`,
    then `first` (band starts, say), then (unless not `rounds`) round values, each kept
    only if its label is at least `min_gap` from every label kept before it. Ascending."""
    if hi <= lo:
        return [lo]
    if not rounds:
        return _keep_apart([lo, hi, *first], lo, hi, length / (hi - lo), min_gap)
    per_unit = length / (hi - lo)
    step = nice_step(hi - lo, most)
    while step * per_unit < min_gap and step < hi - lo:
        step = nice_step(hi - lo, max(1, int((hi - lo) / step) - 1))
    start = math.ceil(lo / step - 1e-9) * step
    count = math.floor((hi - start) / step + 1e-9) + 1
    values = [round(start + i * step, 10) for i in range(max(count, 0))]
    return _keep_apart([lo, hi, *first, *values], lo, hi, per_unit, min_gap)


def _keep_apart(
    values: Sequence[float], lo: float, hi: float, per_unit: float, min_gap: float
) -> list[float]:
    """The values within lo..hi, in order of preference, each kept only if it is at least
    `min_gap` from every value kept before it. Ascending."""
    kept: list[float] = []
    for value in values:
        if lo <= value <= hi and all(abs(value - k) * per_unit >= min_gap for k in kept):
            kept.append(value)
    return sorted(kept)


# Date labels


@dataclass(frozen=True)
class DateTick:
    """A labelled day on a date axis: where its tick is (`x`) and where its label's middle
    is (`label_x`, moved inwards when the label would stick out of the chart)."""

    on: date
    label: str
    x: float
    label_x: float
    width: float

    @property
    def left(self) -> float:
        return self.label_x - self.width / 2

    @property
    def right(self) -> float:
        return self.label_x + self.width / 2


def language() -> Locale:
    """The language of the chart being drawn: the page's (a patient's Progress is drawn
    in theirs, and kept per language), English outside an app."""
    if has_app_context():
        chosen = get_locale()
        if chosen is not None:
            return chosen
    return Locale("en")


def short_day(on: date) -> str:
    """A day without its year, "2 Mar" ("2 mar")."""
    locale = language()
    if locale.language == "en":
        return f"{on.day} {on:%b}"
    return format_skeleton("MMMd", on, locale=locale)


def decimal(value: float) -> str:
    """A number as the chart's language writes it: "27.5" ("27,5")."""
    locale = language()
    if locale.language == "en":
        return f"{value:g}"
    return format_decimal(value, format="#,##0.##", locale=locale)


# From the finest to the coarsest: every day, every other day, Mondays, every other Monday,
# every fourth Monday, the first of each month, of every other month, each quarter, each
# half year, then each first of January, every 2, 5, 10 ... years.
_INTERVALS: tuple[tuple[str, int], ...] = (
    ("day", 1),
    ("day", 2),
    ("week", 1),
    ("week", 2),
    ("week", 4),
    ("month", 1),
    ("month", 2),
    ("month", 3),
    ("month", 6),
    ("year", 1),
    ("year", 2),
    ("year", 5),
    ("year", 10),
    ("year", 50),
)


_DAYS_IN = {"day": 1, "week": 7, "month": 31, "year": 366}


def _days(first: date, last: date, unit: str, every: int) -> list[date]:
    """The days from `first` to `last` that start a `unit` (day, week on Monday, month,
    year), every `every` of them."""
    if unit == "day":
        return [first + timedelta(days=i) for i in range(0, (last - first).days + 1, every)]
    if unit == "week":
        monday = first + timedelta(days=-first.weekday() % 7)
        weeks = (last - monday).days // 7 + 1 if monday <= last else 0
        return [monday + timedelta(weeks=i) for i in range(0, weeks, every)]
    if unit == "month":
        months = []
        year, month = first.year, first.month
        if first.day != 1:
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        while date(year, month, 1) <= last:
            if (month - 1) % every == 0:
                months.append(date(year, month, 1))
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return months
    start = first.year if (first.month, first.day) == (1, 1) else first.year + 1
    return [date(y, 1, 1) for y in range(start, last.year + 1) if y % every == 0]


def _label(on: date, unit: str, with_year: bool) -> str:
    if unit in ("day", "week"):
        return short_day(on)
    if unit == "year":
        return str(on.year)
    return f"{on:%b} {on.year}" if with_year else f"{on:%b}"


def place_labels(
    centres: Sequence[float], widths: Sequence[float], lo: float, hi: float
) -> list[float]:
    """Each label's middle, moved inwards just enough that it stays within `lo`..`hi`."""
    return [
        min(max(centre, lo + width / 2), hi - width / 2)
        for centre, width in zip(centres, widths, strict=True)
    ]


def labels_apart(lefts_rights: Sequence[tuple[float, float]], gap: float) -> bool:
    """Whether each label ends at least `gap` before the next one starts (in order)."""
    return all(
        right + gap <= next_left + 1e-6 for (_, right), (next_left, _) in pairwise(lefts_rights)
    )


def date_ticks(
    first: date, last: date, scale: Scale, *, size: float, gap: float, bounds: tuple[float, float]
) -> list[DateTick]:
    """The labelled days of a date axis from `first` to `last`: the finest interval (days,
    Mondays, months, years) whose labels, `size` units high, all fit between `bounds`
    at least `gap` apart, preferring one with two labels or more. Months read "Mar" ("Mar
    2026" where the axis covers more than one year), days "2 Mar"."""
    with_year = first.year != last.year
    fallback: list[DateTick] | None = None
    room = bounds[1] - bounds[0]
    span = (last - first).days
    for unit, every in _INTERVALS:
        # About how many labels this would make: far too many to fit, even were each as
        # short as "Jul", and it is not worth measuring them one by one.
        about = span / (every * _DAYS_IN[unit])
        if about * (text_width("Jul", size) + gap) > room * 1.5:
            continue
        days = _days(first, last, unit, every)
        if not days:
            continue
        labels = [_label(d, unit, with_year) for d in days]
        widths = [text_width(label, size) for label in labels]
        xs = [scale(d.toordinal()) for d in days]
        middles = place_labels(xs, widths, *bounds)
        ticks = [
            DateTick(d, label, x, m, w)
            for d, label, x, m, w in zip(days, labels, xs, middles, widths, strict=True)
        ]
        if not labels_apart([(t.left, t.right) for t in ticks], gap):
            continue
        if len(ticks) >= 2:
            return ticks
        fallback = fallback or ticks
    if fallback is not None:
        return fallback
    width = text_width(short_day(first), size)
    x = scale(first.toordinal())
    return [DateTick(first, short_day(first), x, place_labels([x], [width], *bounds)[0], width)]


def data_ticks(
    days: Sequence[date],
    scale: Scale,
    *,
    size: float,
    gap: float,
    bounds: tuple[float, float],
) -> list[DateTick] | None:
    """Labels at the days given (the answers to a questionnaire, weeks apart), as many as
    fit evenly spread, the first and last always among them; None when not even those two
    fit, or there are none. Days read "2 Mar" ("2 Mar 2026" when they span two years)."""
    ordered = sorted(set(days))
    with_year = bool(ordered) and ordered[0].year != ordered[-1].year
    for most in range(len(ordered), 1 if len(ordered) > 1 else 0, -1):
        chosen = evenly(ordered, most)
        labels = [f"{short_day(d)} {d.year}" if with_year else short_day(d) for d in chosen]
        widths = [text_width(label, size) for label in labels]
        xs = [scale(d.toordinal()) for d in chosen]
        middles = place_labels(xs, widths, *bounds)
        ticks = [
            DateTick(d, label, x, m, w)
            for d, label, x, m, w in zip(chosen, labels, xs, middles, widths, strict=True)
        ]
        if labels_apart([(t.left, t.right) for t in ticks], gap):
            return ticks
    return None


def evenly(ordered: Sequence[date], most: int) -> list[date]:
    """At most `most` of `ordered`, evenly spread, the first and last always in."""
    if len(ordered) <= most:
        return list(ordered)
    if most == 1:
        return [ordered[0]]
    step = (len(ordered) - 1) / (most - 1)
    return [ordered[round(i * step)] for i in range(most)]


def every_nth(count: int, widths: Sequence[float], slot: float, gap: float) -> int:
    """For `count` labels `slot` units apart (week bars), the smallest n such that every
    nth label, the widest included, leaves `gap` to the next."""
    widest = max(widths, default=0.0)
    n = 1
    while n < count and n * slot < widest + gap:
        n += 1
    return n


# Labels and markers that must not overlap


def spread(
    wanted: Sequence[float], sizes: Sequence[float], gap: float, lo: float, hi: float
) -> list[float]:
    """Positions (the middles of items `sizes` long) as close as can be to `wanted`, in
    the same order, each at least `gap` clear of the next and all within `lo`..`hi`.
    Raises ValueError when they cannot all fit."""
    if sum(sizes) + gap * max(len(sizes) - 1, 0) > hi - lo + 1e-9:
        raise ValueError("the items do not fit")
    order = sorted(range(len(wanted)), key=lambda i: wanted[i])
    clusters: list[list[int]] = []
    starts: list[float] = []

    def offsets(items: list[int]) -> list[float]:
        result = [0.0]
        for before, item in pairwise(items):
            result.append(result[-1] + sizes[before] / 2 + gap + sizes[item] / 2)
        return result

    def start_of(items: list[int]) -> float:
        offs = offsets(items)
        ideal = sum(wanted[i] - o for i, o in zip(items, offs, strict=True)) / len(items)
        low = lo + sizes[items[0]] / 2
        high = hi - offs[-1] - sizes[items[-1]] / 2
        return min(max(ideal, low), high)

    for index in order:
        clusters.append([index])
        starts.append(start_of([index]))
        while len(clusters) > 1:
            before, last = clusters[-2], clusters[-1]
            end = starts[-2] + offsets(before)[-1] + sizes[before[-1]] / 2
            if end + gap <= starts[-1] - sizes[last[0]] / 2 + 1e-9:
                break
            merged = before + last
            clusters[-2:] = [merged]
            starts[-2:] = [start_of(merged)]
    placed = [0.0] * len(wanted)
    for items, start in zip(clusters, starts, strict=True):
        for item, offset in zip(items, offsets(items), strict=True):
            placed[item] = start + offset
    return placed


@dataclass(frozen=True)
class Placed:
    """A marker's place: its lane (0 the one nearest the plot) and the middle of it."""

    lane: int
    x: float


def marker_lanes(
    wanted: Sequence[float], size: float, gap: float, lo: float, hi: float
) -> list[Placed]:
    """Places for round markers `size` wide near `wanted`, in as few lanes as let them all
    fit between `lo` and `hi` without touching; neighbours in time alternate lanes when
    there is more than one."""
    if not wanted:
        return []
    per_lane = max(1, int((hi - lo - size) // (size + gap)) + 1)
    lanes = math.ceil(len(wanted) / per_lane)
    order = sorted(range(len(wanted)), key=lambda i: wanted[i])
    placed: list[Placed | None] = [None] * len(wanted)
    for lane in range(lanes):
        members = order[lane::lanes]
        xs = spread([wanted[i] for i in members], [size] * len(members), gap, lo, hi)
        for member, x in zip(members, xs, strict=True):
            placed[member] = Placed(lane, x)
    return [p for p in placed if p is not None]


def wrap(text: str, width: float, size: float, *, most_lines: int = 2) -> list[str]:
    """`text` in lines no wider than `width` at font size `size`, broken between words; a
    word too long for a line, or a last line with more to come, ends in an ellipsis."""
    lines: list[str] = []
    words = text.split()
    current = ""
    while words:
        word = words.pop(0)
        candidate = f"{current} {word}" if current else word
        if text_width(candidate, size) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
            current = ""
            words.insert(0, word)
        else:
            lines.append(_shorten(word, width, size))
        if len(lines) == most_lines:
            if current or words:
                lines[-1] = _shorten(f"{lines[-1]} {' '.join(words)}".strip(), width, size)
            return lines
    if current:
        lines.append(current)
    if len(lines) > most_lines:  # pragma: no cover - returned above
        lines = lines[:most_lines]
    return lines or [""]


def _shorten(text: str, width: float, size: float) -> str:
    """`text` cut to end in an ellipsis within `width` (itself, if it fits)."""
    if text_width(text, size) <= width:
        return text
    while text and text_width(text + ELLIPSIS, size) > width:
        text = text[:-1]
    return text.rstrip() + ELLIPSIS

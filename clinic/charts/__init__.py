"""The one charting module: progress charts as SVG, drawn here, server-side.

Each chart is drawn twice, wide (larger screens and print) and narrow (phones, with fewer
labels), and the page's CSS shows one of them (templates/shared/_chart.html, the charts
section of site.css); print uses the wide one, as a file. Where things go is worked out
in `clinic.charts.layout` (pure geometry: scales, round values, how many dates fit, labels
and markers that never overlap) and written out by `clinic.charts.svg`.

Safety: only numbers, dates and an outcome measure's own title and band names reach the
SVG text (clinic data such as dilator labels stays out), and the XML is serialised by
ElementTree, which escapes what it writes: the result is safe to mark up as HTML, whatever
a clinic's imported instrument calls its bands. There is no script and no style attribute
(the app's Content-Security-Policy forbids both): colours and fonts are presentation
attributes. Each chart has a <title> and a <desc> and is one image to assistive technology
(role="img"); the page gives the same figures as a table.

Changes of stage or size, and answers without a score, are numbered markers above the
plot, explained in a key beside the chart (`Chart.key`, HTML text that wraps and reads).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from xml.etree import ElementTree as ET

from flask_babel import gettext as _
from flask_babel import ngettext
from markupsafe import Markup

from clinic.charts import layout
from clinic.charts.layout import Scale, short_day, text_width
from clinic.charts.svg import (
    AXIS,
    BAND_FILL,
    BLUE,
    GRID,
    MARKER,
    MUTED,
    NARROW,
    PRINTED,
    VERMILION,
    WIDE,
    WIDER,
    Drawing,
    Variant,
    number,
    path_through,
)
from clinic.domain.text import N_

# Marked for translation, and translated where each chart is drawn.
NOT_SCORED = N_("not scored")


@dataclass(frozen=True)
class PainPoint:
    """Pain during and after one session, on its clinic-local day."""

    on: date
    during: int
    after: int


def _day_and_year(on: date) -> str:
    """A day with its year, as the charts' descriptions give it: "2 Mar 2026"."""
    return f"{short_day(on)} {on.year}"


@dataclass(frozen=True)
class SizeStep:
    """The day a stage or dilator diameter came into force (the first one is the start);
    `stage` is given when the chart marks stage changes too."""

    on: date
    diameter_mm: float
    stage: int | None = None

    @property
    def text(self) -> str:
        """How the key reads it: "21 mm", or "stage 3, 21 mm"."""
        size = _("%(size)s mm", size=format(self.diameter_mm, "g"))
        if self.stage is None:
            return size
        return _("stage %(stage)d, %(size)s", stage=self.stage, size=size)


@dataclass(frozen=True)
class WeekBar:
    """One calendar week's adherence: the Monday it starts and its percent (None when
    nothing was prescribed, drawn as no bar)."""

    week_start: date
    percent: float | None


@dataclass(frozen=True)
class ScorePoint:
    """One answer to an outcome measure, on the day it was asked for: its total, or None
    when it has none (not valid, or too few answers), drawn as a gap."""

    on: date
    total: float | None


@dataclass(frozen=True)
class BandStart:
    """Where a band of an outcome measure's scores starts, and its name ("Moderate")."""

    minimum: float
    label: str


@dataclass(frozen=True)
class KeyEntry:
    """What a numbered marker on a chart stands for: "2 · 12 Oct: stage 2, 17 mm"."""

    number: int
    on: date
    text: str

    @property
    def day(self) -> str:
        """The day without its year, "12 Oct" (the chart's axis reads the same)."""
        return short_day(self.on)


@dataclass(frozen=True)
class Chart:
    """A finished chart: its drawings, wide (larger screens and print), narrow (phones)
    and wider (large screens), the last two None when drawn for print only; and the key
    to its numbered markers."""

    chart_id: str
    wide: Markup
    narrow: Markup | None = None
    wider: Markup | None = None
    key: tuple[KeyEntry, ...] = ()

    @property
    def drawings(self) -> tuple[Markup, ...]:
        """Every drawing made, for a page to show the one that fits (see site.css)."""
        return tuple(d for d in (self.wide, self.narrow, self.wider) if d is not None)

    def file(self) -> bytes:
        """The wide drawing as an SVG file, for a PDF's <img>."""
        return str(self.wide).encode()


@dataclass(frozen=True)
class _Look:
    """How one series is drawn, so that it is told apart by more than colour."""

    colour: str
    dasharray: str | None
    hollow: bool


DURING = _Look(BLUE, None, hollow=False)
AFTER = _Look(VERMILION, "7 4", hollow=True)
SCORE = _Look(BLUE, None, hollow=False)


def step_key(size_steps: Sequence[SizeStep]) -> tuple[KeyEntry, ...]:
    """The pain chart's key: each stage or size step, numbered in date order."""
    ordered = sorted(size_steps, key=lambda s: s.on)
    return tuple(KeyEntry(i, s.on, s.text) for i, s in enumerate(ordered, start=1))


def _unscored_key(points: Sequence[ScorePoint]) -> tuple[KeyEntry, ...]:
    ordered = sorted({p.on for p in points if p.total is None})
    return tuple(KeyEntry(i, on, _(NOT_SCORED)) for i, on in enumerate(ordered, start=1))


def _drawn(
    draw: Callable[[Variant, str], Markup],
    chart_id: str,
    key: tuple[KeyEntry, ...],
    *,
    for_print: bool,
) -> Chart:
    """The chart drawn in every variant, or only the wide one when it is `for_print`."""
    if for_print:
        return Chart(chart_id, draw(PRINTED, chart_id), key=key)
    return Chart(
        chart_id,
        draw(WIDE, chart_id),
        narrow=draw(NARROW, f"{chart_id}-narrow"),
        wider=draw(WIDER, f"{chart_id}-wider"),
        key=key,
    )


# The pain chart


def pain_chart(
    points: Sequence[PainPoint],
    size_steps: Sequence[SizeStep],
    chart_id: str = "pain-chart",
    compact: bool = False,
) -> Chart:
    """Pain during (solid line, filled dots) and after (dashed line, hollow dots) each
    session against date on a 0-10 scale; each stage or size step is a vertical line with a
    numbered marker, explained by the chart's key. `compact` is for print: the wide drawing
    only, and no dots (the lines carry the trend; every shape is work for the PDF)."""
    key = step_key(size_steps)
    if points:
        first, last = points[0].on, points[-1].on
        description = _(
            "Pain from 0 to 10 for %(count)d sessions from %(first)s to %(last)s.",
            count=len(points),
            first=_day_and_year(first),
            last=_day_and_year(last),
        )
    else:
        description = _("No sessions with pain scores yet.")
    if key:
        description += " " + _(
            "Changes: %(changes)s.",
            changes=", ".join(
                _("%(change)s from %(day)s", change=entry.text, day=entry.day) for entry in key
            ),
        )

    def draw(variant: Variant, drawing_id: str) -> Markup:
        return _line_chart(
            variant,
            drawing_id,
            title=_("Pain during and after sessions"),
            description=description,
            series=[
                (_("Pain during"), DURING, [(p.on, float(p.during)) for p in points]),
                (_("Pain after"), AFTER, [(p.on, float(p.after)) for p in points]),
            ],
            y_range=(0.0, 10.0),
            y_label=lambda v: f"{v:g}",
            markers=[entry.on for entry in key],
            dots=not compact,
        )

    return _drawn(draw, chart_id, key, for_print=compact)


# The adherence chart


def adherence_chart(
    weeks: Sequence[WeekBar], chart_id: str = "adherence-chart", compact: bool = False
) -> Chart:
    """Bars of each week's adherence on a 0-100% axis, labelled with the week's Monday
    (every other one, or fewer, when they would not fit), the percent above each bar where
    there is room (not when `compact`, for print: the table beside it gives the figures);
    a week with nothing prescribed has no bar, and a week at 0% a sliver on the axis."""
    with_bars = [w for w in weeks if w.percent is not None]
    if with_bars:
        description = _(
            "Weekly sessions done as a percentage of those prescribed, for %(count)d weeks:"
            " %(weeks)s.",
            count=len(weeks),
            weeks=", ".join(
                _(
                    "week of %(day)s %(percent)s",
                    day=short_day(w.week_start),
                    percent=f"{w.percent:.0f}%",
                )
                for w in with_bars
                if w.percent is not None
            ),
        )
        empty = [w for w in weeks if w.percent is None]
        if empty:
            description += " " + _(
                "Nothing prescribed in the week of %(days)s.",
                days=", ".join(short_day(w.week_start) for w in empty),
            )
    else:
        description = _("No weeks with sessions prescribed yet.")

    def draw(variant: Variant, drawing_id: str) -> Markup:
        return _adherence(variant, drawing_id, weeks, description, values=not compact)

    return _drawn(draw, chart_id, (), for_print=compact)


def _adherence(
    v: Variant, chart_id: str, weeks: Sequence[WeekBar], description: str, *, values: bool
) -> Markup:
    fs, pad = v.font, v.pad
    left = pad + text_width("100%", fs) + fs * 0.5
    right = v.width - pad
    top = pad + fs * 1.4  # room for a percent over a full bar
    bottom = top + v.plot_height
    height = bottom + fs * 1.6 + pad
    y = Scale(0, 100, bottom, top)
    d = Drawing(
        v, height, chart_id=chart_id, title=_("Sessions done each week"), description=description
    )
    _y_axis(
        d,
        v,
        y,
        [0, 25, 50, 75, 100] if v.plot_height / 4 >= fs * 1.3 else [0, 50, 100],
        left,
        right,
        lambda value: f"{value:g}%",
    )
    count = max(len(weeks), 1)
    slot = (right - left) / count
    bar = min(slot * 0.7, fs * 3.5)
    bars = d.group("bars")
    percents = d.group("values")
    for i, week in enumerate(weeks):
        if week.percent is None:
            continue
        middle = left + slot * (i + 0.5)
        level = min(max(week.percent, 0.0), 100.0)
        # A week at 0% still shows it was counted: a sliver on the axis.
        top_y = min(y(level), bottom - 2)
        d.add(
            "rect",
            bars,
            x=number(middle - bar / 2),
            y=number(top_y),
            width=number(bar),
            height=number(bottom - top_y),
            fill=BLUE,
            cls="bar",
        )
        if values and slot >= text_width("100%", v.font) + 4:
            d.text(percents, middle, top_y - 5, f"{week.percent:.0f}%", cls="value")
    labels = [short_day(w.week_start) for w in weeks]
    widths = [text_width(label, fs) for label in labels]
    gap = fs * 0.75
    every = layout.every_nth(len(labels), widths, slot, gap)
    while True:
        shown = [i for i in range(len(labels)) if (len(labels) - 1 - i) % every == 0]
        middles = layout.place_labels(
            [left + slot * (i + 0.5) for i in shown],
            [widths[i] for i in shown],
            left - fs * 0.2,
            v.width - pad,
        )
        spans = [
            (m - widths[i] / 2, m + widths[i] / 2) for i, m in zip(shown, middles, strict=True)
        ]
        if layout.labels_apart(spans, gap) or every >= len(labels):
            break
        every += 1
    axis = d.group("x-axis")
    d.line(axis, left, bottom, right, bottom, stroke=AXIS)
    for i, middle in zip(shown, middles, strict=True):
        d.text(axis, middle, bottom + fs * 1.3, labels[i], cls="tick-x")
    if not weeks:
        _no_data(d, v, (left + right) / 2, (top + bottom) / 2)
    return d.markup()


# The outcome-measure chart


def measure_chart(
    points: Sequence[ScorePoint],
    *,
    title: str,
    minimum: float,
    maximum: float,
    bands: Sequence[BandStart] = (),
    decimals: int = 0,
    chart_id: str = "measure-chart",
) -> Chart:
    """An outcome measure's total at each answer against date, on the instrument's whole
    range (`minimum` to `maximum`) so a change is seen at its true size. Bands are shaded
    in turn and named beside the plot; an answer without a score breaks the line and is a
    numbered marker, "not scored" in the key."""

    def fmt(value: float) -> str:
        return f"{value:.{decimals}f}"

    key = _unscored_key(points)
    scored = [(p.on, p.total) for p in points if p.total is not None]
    if scored:
        (first_on, first_total), (last_on, last_total) = scored[0], scored[-1]
        description = ngettext(
            "%(title)s, from %(minimum)s to %(maximum)s: %(num)d scored answer from %(first)s"
            " (%(first_total)s) to %(last)s (%(last_total)s).",
            "%(title)s, from %(minimum)s to %(maximum)s: %(num)d scored answers from %(first)s"
            " (%(first_total)s) to %(last)s (%(last_total)s).",
            len(scored),
            title=title,
            minimum=fmt(minimum),
            maximum=fmt(maximum),
            first=_day_and_year(first_on),
            first_total=fmt(first_total),
            last=_day_and_year(last_on),
            last_total=fmt(last_total),
        )
    else:
        description = _("%(title)s: no answer could be scored yet.", title=title)
    if key:
        description += " " + _(
            "Not scored: %(days)s.", days=", ".join(f"{e.day} {e.on.year}" for e in key)
        )
    if bands:
        description += " " + _(
            "Bands: %(bands)s.",
            bands=", ".join(
                _("%(band)s from %(minimum)s", band=b.label, minimum=fmt(b.minimum)) for b in bands
            ),
        )

    def draw(variant: Variant, drawing_id: str) -> Markup:
        return _line_chart(
            variant,
            drawing_id,
            title=title,
            description=description,
            series=[(title, SCORE, [(p.on, p.total) for p in points])],
            y_range=(minimum, maximum),
            y_label=fmt,
            markers=[entry.on for entry in key],
            dots=True,
            bands=bands,
            legend=False,
            # A few answers weeks apart: their own days label the axis, where they fit.
            dates_at_data=True,
        )

    return _drawn(draw, chart_id, key, for_print=False)


# Shared by the pain and measure charts


def _line_chart(
    v: Variant,
    chart_id: str,
    *,
    title: str,
    description: str,
    series: Sequence[tuple[str, _Look, Sequence[tuple[date, float | None]]]],
    y_range: tuple[float, float],
    y_label: Callable[[float], str],
    markers: Sequence[date],
    dots: bool,
    bands: Sequence[BandStart] = (),
    legend: bool = True,
    dates_at_data: bool = False,
) -> Markup:
    """Lines over dates: y axis and grid, date axis, numbered markers on their own lanes
    above the plot, bands named in a margin on the right, and a legend below."""
    fs, pad = v.font, v.pad
    lo, hi = y_range
    days = [on for _, _, values in series for on, _ in values] + list(markers)
    # Without a day to show, the axis has no dates and the plot says so.
    first, last = (min(days), max(days)) if days else (date.min, date.min)
    band_ranges = _band_ranges(bands, lo, hi)

    # Band names first: they can make the plot taller, which decides the y labels.
    band_lines: list[list[str]] = [
        layout.wrap(name, v.width * 0.28, v.small) for _, _, name in band_ranges
    ]
    line_height = v.small * 1.2
    band_sizes = [len(lines) * line_height for lines in band_lines]
    plot_height = max(v.plot_height, sum(band_sizes) + fs * 0.4 * len(band_sizes))
    ticks = layout.value_ticks(
        lo,
        hi,
        length=plot_height,
        min_gap=fs * 1.4,
        most=10,
        first=[start for start, _, _ in band_ranges],
        # With bands, the labels are where they start: round values between them
        # would only crowd the axis with numbers that mean less.
        rounds=not band_ranges,
    )

    # Across: y labels, the plot, and the band names' margin.
    left = pad + max(text_width(y_label(t), fs) for t in ticks) + fs * 0.5
    band_width = max(
        (text_width(line, v.small) for lines in band_lines for line in lines), default=0.0
    )
    right = v.width - pad - (band_width + fs * 0.9 if band_ranges else fs * 0.5)
    inset = fs * 0.5  # dots at the first and last day stay inside the plot
    x = Scale(first.toordinal(), last.toordinal(), left + inset, right - inset)

    # Down: marker lanes, the plot, date labels, the legend.
    radius = round(fs * 0.62, 1)
    placed = layout.marker_lanes(
        [x(on.toordinal()) for on in markers], radius * 2, fs * 0.3, left, right
    )
    lanes = max((p.lane for p in placed), default=-1) + 1
    lane_height = radius * 2 + fs * 0.3
    top = pad + (lanes * lane_height + fs * 0.4 if lanes else fs * 0.5)
    bottom = top + plot_height
    y = Scale(lo, hi, bottom, top)
    legend_rows = _legend_rows(v, series, left) if legend and days else []
    height = bottom + fs * 1.6 + len(legend_rows) * fs * 1.6 + pad

    d = Drawing(v, height, chart_id=chart_id, title=title, description=description)
    if band_ranges:
        _bands(d, v, band_ranges, band_lines, band_sizes, y, left, right, top, bottom)
    _y_axis(d, v, y, ticks, left, right, y_label)
    if days:
        data_days = [on for _, _, values in series for on, _ in values] if dates_at_data else []
        _date_axis(d, v, x, first, last, left, right, top, bottom, data_days)
    else:
        _no_data(d, v, (left + right) / 2, (top + bottom) / 2)
    if placed:
        _markers(d, v, markers, placed, x, radius, lane_height, top, bottom)
    spacing = (right - left) / max(len({on for _, _, values in series for on, _ in values}), 1)
    show_dots = dots and spacing >= fs * 0.75
    for name, look, values in series:
        _series(d, v, name, look, values, x, y, dots=show_dots)
    if legend_rows:
        _legend(d, v, legend_rows, bottom + fs * 2.9, dots=show_dots)
    return d.markup()


def _no_data(d: Drawing, v: Variant, x: float, y: float) -> None:
    d.text(d.group("no-data"), x, y, _("No data yet"), size=v.font * 1.25, fill=MUTED)


def _band_ranges(
    bands: Sequence[BandStart], lo: float, hi: float
) -> list[tuple[float, float, str]]:
    """Each band as (start, end, name) within lo..hi, lowest first; empty ones left out."""
    ordered = sorted(bands, key=lambda b: b.minimum)
    if not ordered:
        return []
    ends = [b.minimum for b in ordered[1:]] + [hi]
    ranges = []
    for band, end in zip(ordered, ends, strict=True):
        start, stop = max(band.minimum, lo), min(end, hi)
        if stop > start or (stop == start == hi and band is ordered[-1]):
            ranges.append((start, stop, band.label))
    return ranges


def _y_axis(
    d: Drawing,
    v: Variant,
    y: Scale,
    ticks: Sequence[float],
    left: float,
    right: float,
    label: Callable[[float], str],
) -> None:
    axis = d.group("y-axis")
    for value in ticks:
        at = y(value)
        d.line(axis, left, at, right, at, stroke=GRID, stroke_dasharray="3 3")
        d.text(
            axis,
            left - v.font * 0.4,
            at + v.font * 0.35,
            label(value),
            anchor="end",
            cls="tick-y",
        )
    d.line(axis, left, y.start, left, y.end, stroke=AXIS)


def _date_axis(
    d: Drawing,
    v: Variant,
    x: Scale,
    first: date,
    last: date,
    left: float,
    right: float,
    top: float,
    bottom: float,
    data_days: Sequence[date] = (),
) -> None:
    """The date axis: labelled at `data_days` when given and at least two of them fit,
    otherwise at round days (Mondays, months) that fit."""
    axis = d.group("x-axis")
    size, gap, bounds = v.font, v.font * 0.75, (left - v.font * 0.2, v.width - v.pad)
    ticks = (
        layout.data_ticks(data_days, x, size=size, gap=gap, bounds=bounds) if data_days else None
    ) or layout.date_ticks(first, last, x, size=size, gap=gap, bounds=bounds)
    for tick in ticks:
        if left <= tick.x <= right:
            d.line(axis, tick.x, top, tick.x, bottom, stroke=GRID, stroke_dasharray="3 3")
        d.text(axis, tick.label_x, bottom + v.font * 1.3, tick.label, cls="tick-x")
    d.line(axis, left, bottom, right, bottom, stroke=AXIS)


def _markers(
    d: Drawing,
    v: Variant,
    days: Sequence[date],
    placed: Sequence[layout.Placed],
    x: Scale,
    radius: float,
    lane_height: float,
    top: float,
    bottom: float,
) -> None:
    """A solid line down the plot on each marked day, joined to its numbered disc above."""
    group = d.group("markers")
    for number_, (on, place) in enumerate(zip(days, placed, strict=True), start=1):
        at = x(on.toordinal())
        centre_y = top - v.font * 0.4 - radius - place.lane * lane_height
        d.line(group, at, top, at, bottom, stroke=MARKER, stroke_width="1.5")
        d.line(group, place.x, centre_y + radius, at, top, stroke=MARKER, stroke_width="1.5")
        d.add(
            "circle",
            group,
            cx=number(place.x),
            cy=number(centre_y),
            r=number(radius),
            fill=MARKER,
            cls="marker",
        )
        d.text(
            group,
            place.x,
            centre_y + v.small * 0.36,
            str(number_),
            size=v.small,
            fill="#ffffff",
            font_weight="bold",
            cls="marker-number",
        )


def _series(
    d: Drawing,
    v: Variant,
    name: str,
    look: _Look,
    values: Sequence[tuple[date, float | None]],
    x: Scale,
    y: Scale,
    *,
    dots: bool,
) -> None:
    """A line through the values in date order, broken where one is None, with dots."""
    group = d.group("series")
    stroke = number(2 if v is NARROW else 2.5)
    run: list[tuple[float, float]] = []
    runs: list[list[tuple[float, float]]] = [run]
    for on, value in sorted(values, key=lambda pair: pair[0]):
        if value is None:
            run = []
            runs.append(run)
            continue
        run.append((x(on.toordinal()), y(value)))
    for points in runs:
        if len(points) > 1:
            line = d.add(
                "path",
                group,
                d=path_through(points),
                fill="none",
                stroke=look.colour,
                stroke_width=stroke,
                stroke_linejoin="round",
                cls="line",
            )
            if look.dasharray:
                line.set("stroke-dasharray", look.dasharray)
    if dots or any(len(points) == 1 for points in runs):
        for points in runs:
            if not dots and len(points) != 1:
                continue  # a lone value is a dot even when the others are not
            for px, py in points:
                _dot(d, group, look, px, py, v)


def _dot(
    d: Drawing,
    parent: ET.Element,
    look: _Look,
    px: float,
    py: float,
    v: Variant,
    cls: str = "dot",
) -> None:
    d.add(
        "circle",
        parent,
        cx=number(px),
        cy=number(py),
        r=number(v.font * 0.27),
        fill="#ffffff" if look.hollow else look.colour,
        stroke=look.colour,
        stroke_width="2",
        cls=cls,
    )


def _legend_rows(
    v: Variant, series: Sequence[tuple[str, _Look, object]], left: float
) -> list[list[tuple[float, str, _Look]]]:
    """The legend's items as rows of (x, name, look), wrapping when a row is full."""
    rows: list[list[tuple[float, str, _Look]]] = [[]]
    at = left
    sample = v.font * 2
    for name, look, _values in series:
        width = sample + v.font * 0.4 + text_width(name, v.font)
        if rows[-1] and at + width > v.width - v.pad:
            rows.append([])
            at = left
        rows[-1].append((at, name, look))
        at += width + v.font * 1.5
    return rows


def _legend(
    d: Drawing,
    v: Variant,
    rows: Sequence[Sequence[tuple[float, str, _Look]]],
    first_line: float,
    *,
    dots: bool,
) -> None:
    """Each series' name after a sample drawn as the series is: line, dash and dot."""
    group = d.group("legend")
    sample = v.font * 2
    for row, items in enumerate(rows):
        baseline = first_line + row * v.font * 1.6
        middle = baseline - v.font * 0.35
        for at, name, look in items:
            line = d.line(
                group, at, middle, at + sample, middle, stroke=look.colour, stroke_width="2.5"
            )
            if look.dasharray:
                line.set("stroke-dasharray", look.dasharray)
            if dots:
                _dot(d, group, look, at + sample / 2, middle, v, cls="legend-dot")
            d.text(
                group, at + sample + v.font * 0.4, baseline, name, anchor="start", cls="legend-name"
            )


def _bands(
    d: Drawing,
    v: Variant,
    ranges: Sequence[tuple[float, float, str]],
    lines: Sequence[Sequence[str]],
    sizes: Sequence[float],
    y: Scale,
    left: float,
    right: float,
    top: float,
    bottom: float,
) -> None:
    """Every other band shaded, and each named in the margin on the right beside a bracket
    over its range; a name moved to keep clear of its neighbours keeps a short leader."""
    group = d.group("bands")
    for index, (start, end, _label) in enumerate(ranges):
        if index % 2:
            d.add(
                "rect",
                group,
                x=number(left),
                y=number(y(end)),
                width=number(right - left),
                height=number(y(start) - y(end)),
                fill=BAND_FILL,
            )
    wanted = [(y(start) + y(end)) / 2 for start, end, _ in ranges]
    gap = v.font * 0.4
    middles = layout.spread(wanted, sizes, gap, top - v.font * 0.2, bottom + v.font * 0.2)
    bracket = right + v.font * 0.35
    text_x = bracket + v.font * 0.45
    line_height = v.small * 1.2
    for (start, end, _label), name_lines, middle, want, size in zip(
        ranges, lines, middles, wanted, sizes, strict=True
    ):
        upper, lower = y(end) + 1.5, y(start) - 1.5
        if lower > upper:
            d.line(group, bracket, upper, bracket, lower, stroke=AXIS, stroke_width="2")
        if abs(middle - want) > 1:
            d.line(group, bracket, want, text_x - 2, middle, stroke=AXIS)
        label = d.text(
            group,
            text_x,
            middle - size / 2 + line_height * 0.8,
            "",
            anchor="start",
            size=v.small,
            fill=MUTED,
            cls="band-name",
        )
        if len(name_lines) == 1:
            label.text = name_lines[0]
        else:
            for i, text in enumerate(name_lines):
                span = d.add(
                    "tspan", label, x=number(text_x), dy=number(0 if i == 0 else line_height)
                )
                span.text = text

"""The one charting module: progress charts as SVG, drawn server-side with pygal.

The same SVG is embedded inline in web pages and, later, in WeasyPrint PDFs. The app's
Content-Security-Policy forbids inline script and inline style, so the SVG pygal draws is
finished here: its <script>, <style>, comments and tooltip overlay are removed, and every
colour, stroke and font is set as an SVG presentation attribute (which CSP does not govern
and WeasyPrint understands). Each chart gets a <title> and a <desc> and is exposed as one
image to assistive technology; the page gives the same figures as a table.

Only numbers, dates and an outcome measure's own title and band names reach the SVG text
(clinic data such as dilator labels stays out), and the XML is serialised by ElementTree,
which escapes what it writes: the result is safe to mark up as HTML, whatever a clinic's
imported instrument calls its bands.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from xml.etree import ElementTree as ET

import pygal
from markupsafe import Markup
from pygal.style import Style

# pygal appends a legacy import hook for its map plugins (unused here) to sys.meta_path; it
# has no find_spec, so from then on every failed import anywhere in the app raises an
# ImportWarning (an error under the test suite's filterwarnings). Take it back out.
sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, pygal.PluginImportFixer)]

SVG_NS = "http://www.w3.org/2000/svg"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"
INK = "#1f2933"
GRID = "#c5ccd3"
AXIS = "#52606d"
# Colour-blind-safe pair (Okabe-Ito blue and vermilion), told apart by line and dot as well.
PAIN_DURING = "#0072b2"
PAIN_AFTER = "#d55e00"
SIZE_STEP = "#3e4c59"
ADHERENCE = "#0072b2"
MEASURE = "#0072b2"
# The x-axis label of an answer that has no score; the chart marks it like a size step.
NOT_SCORED = "not scored"
FONT_SIZE = 14
# pygal lays labels out from these sizes; the SVG is then given the same sizes as attributes.
LAYOUT = Style(
    font_family=FONT,
    label_font_size=FONT_SIZE,
    major_label_font_size=FONT_SIZE,
    legend_font_size=FONT_SIZE,
    value_font_size=FONT_SIZE,
    no_data_font_size=FONT_SIZE * 2,
)


@dataclass(frozen=True)
class PainPoint:
    """Pain during and after one session, on its clinic-local day."""

    on: date
    during: int
    after: int


@dataclass(frozen=True)
class SizeStep:
    """The day a stage or dilator diameter came into force (the first one is the start);
    `stage` is given when the chart marks stage changes too."""

    on: date
    diameter_mm: float
    stage: int | None = None

    @property
    def text(self) -> str:
        """How the marker reads: "21 mm", or "stage 3, 21 mm"."""
        size = f"{self.diameter_mm:g} mm"
        return f"stage {self.stage}, {size}" if self.stage is not None else size


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
class _SeriesLook:
    colour: str
    dasharray: str | None
    hollow_dots: bool


def _day(d: date) -> str:
    """A short date without the year, "2 Mar"."""
    return f"{d.day} {d:%b}"


def pain_chart(
    points: Sequence[PainPoint],
    size_steps: Sequence[SizeStep],
    chart_id: str = "pain-chart",
    compact: bool = False,
) -> Markup:
    """Pain during (solid line, filled dots) and after (dashed line, hollow dots) each
    session against date on a 0-10 scale; each dilator size step is a labelled vertical
    marker ("21 mm"). `compact` (print, next to a table of the figures) labels every other
    pain level and draws no dots: every label and shape is work for the PDF's layout."""
    steps = {step.on: step for step in size_steps}
    days = sorted({p.on for p in points} | set(steps))
    labels = sorted(set(steps) | ({days[0], days[-1]} if days else set()))

    def label(value: date) -> str:
        step = steps.get(value)
        return f"{_day(value)}: {step.text}" if step is not None else _day(value)

    chart = pygal.DateLine(
        **_common_config(),
        range=(0, 10),
        y_labels=list(range(0, 11, 2 if compact else 1)),
        # In print the lines carry the trend (solid and dashed); a dot per session is
        # clutter on paper and dozens of shapes to lay out.
        show_dots=not compact,
        show_x_guides=True,
        x_labels=labels,
        x_value_formatter=label,
        x_label_rotation=25,
        legend_at_bottom=True,
        legend_at_bottom_columns=2,
    )
    chart.add("Pain during", [(p.on, p.during) for p in points])
    chart.add("Pain after", [(p.on, p.after) for p in points])
    looks = [
        _SeriesLook(PAIN_DURING, None, hollow_dots=False),
        _SeriesLook(PAIN_AFTER, "7,4", hollow_dots=True),
    ]
    if points:
        first, last = points[0].on, points[-1].on
        description = (
            f"Pain from 0 to 10 for {len(points)} sessions from {_day(first)} {first.year} "
            f"to {_day(last)} {last.year}."
        )
    else:
        description = "No sessions with pain scores yet."
    if size_steps:
        description += " Changes: " + ", ".join(f"{s.text} from {_day(s.on)}" for s in size_steps)
        description += "."
    return _finish(
        chart,
        chart_id=chart_id,
        title="Pain during and after sessions",
        description=description,
        looks=looks,
    )


def adherence_chart(
    weeks: Sequence[WeekBar], chart_id: str = "adherence-chart", compact: bool = False
) -> Markup:
    """Bars of each week's adherence, 0-100%, the percent printed above each bar (not when
    `compact`: in print the table next to it gives the figures); a week with nothing
    prescribed has no bar."""
    chart = pygal.Bar(
        **_common_config(),
        range=(0, 100),
        y_labels=[0, 20, 40, 60, 80, 100],
        x_labels=[_day(w.week_start) for w in weeks],
        x_label_rotation=25,
        show_legend=False,
        print_values=not compact,
        print_values_position="top",
        value_formatter=lambda v: f"{v:.0f}%",
    )
    chart.add("Sessions done", [None if w.percent is None else round(w.percent) for w in weeks])
    with_bars = [w for w in weeks if w.percent is not None]
    if with_bars:
        description = (
            f"Weekly sessions done as a percentage of those prescribed, for {len(weeks)} weeks: "
            + ", ".join(f"week of {_day(w.week_start)} {w.percent:.0f}%" for w in with_bars)
        )
        description += "."
    else:
        description = "No weeks with sessions prescribed yet."
    return _finish(
        chart,
        chart_id=chart_id,
        title="Sessions done each week",
        description=description,
        looks=[_SeriesLook(ADHERENCE, None, hollow_dots=False)],
    )


def measure_chart(
    points: Sequence[ScorePoint],
    *,
    title: str,
    minimum: float,
    maximum: float,
    bands: Sequence[BandStart] = (),
    decimals: int = 0,
    chart_id: str = "measure-chart",
) -> Markup:
    """An outcome measure's total at each answer against date, on the instrument's whole
    range (`minimum` to `maximum`) so a change is seen at its true size. Each band starts
    at a labelled guide line ("4 Moderate"); an answer without a score breaks the line and
    is marked on the date axis as "not scored"."""
    days = [p.on for p in points]
    unscored = {p.on for p in points if p.total is None}
    labels = sorted(set(_spread(days, 6)) | unscored)

    def label(value: date) -> str:
        return f"{_day(value)}: {NOT_SCORED}" if value in unscored else _day(value)

    def number(value: float) -> str:
        return f"{value:.{decimals}f}"

    # Bands: a guide line where each starts, its name in the margin on the right.
    levels = sorted({b.minimum for b in bands} | {minimum, maximum}) if bands else None
    # Labelled explicitly, so each reads with the instrument's decimals ("26.6", "2.0").
    y_labels = [
        {"value": value, "label": number(value)} for value in (levels or _ticks(minimum, maximum))
    ]
    config = _common_config()
    if bands:
        # Room on the right for the longest band name (about 7 px a letter at 12 px).
        config["margin_right"] = 16 + 7 * max(len(b.label) for b in bands)
    chart = pygal.DateLine(
        **config,
        range=(minimum, maximum),
        y_labels=y_labels,
        show_legend=False,
        # A gap where an answer has no score, rather than a line drawn across it.
        allow_interruptions=True,
        show_x_guides=True,
        x_labels=labels,
        x_value_formatter=label,
        x_label_rotation=25,
    )
    chart.add(title, [(p.on, p.total) for p in points])
    scored = [(p.on, p.total) for p in points if p.total is not None]
    if scored:
        (first_on, first_total), (last_on, last_total) = scored[0], scored[-1]
        description = (
            f"{title}, from {number(minimum)} to {number(maximum)}: {len(scored)} scored "
            f"answer{'s' if len(scored) != 1 else ''} from {_day(first_on)} {first_on.year} "
            f"({number(first_total)}) to {_day(last_on)} {last_on.year} ({number(last_total)})."
        )
    else:
        description = f"{title}: no answer could be scored yet."
    if unscored:
        description += " Not scored: " + ", ".join(f"{_day(d)} {d.year}" for d in sorted(unscored))
        description += "."
    if bands:
        description += " Bands: " + ", ".join(f"{b.label} from {number(b.minimum)}" for b in bands)
        description += "."
    return _finish(
        chart,
        chart_id=chart_id,
        title=title,
        description=description,
        looks=[_SeriesLook(MEASURE, None, hollow_dots=False)],
        bands=[(number(b.minimum), b.label) for b in bands],
        top=number(maximum),
    )


def _spread(days: Sequence[date], most: int) -> list[date]:
    """At most `most` of `days` (sorted), evenly spread, the first and last always in:
    enough date labels to read the axis without crowding it."""
    ordered = sorted(set(days))
    if len(ordered) <= most:
        return ordered
    step = (len(ordered) - 1) / (most - 1)
    return [ordered[round(i * step)] for i in range(most)]


def _ticks(minimum: float, maximum: float) -> list[float]:
    """Round values from `minimum` to `maximum`, at most about ten of them."""
    span = maximum - minimum
    step = next((s for s in (1, 2, 5, 10, 20, 25, 50, 100) if span / s <= 10), max(span / 10, 1))
    ticks = []
    value = minimum
    # The last round value gives way to the maximum when their labels would touch.
    while value < maximum - step * 0.6:
        ticks.append(value)
        value += step
    return [*ticks, maximum]


def _common_config() -> dict[str, object]:
    """pygal options every chart shares: size, fonts for layout, no script."""
    # js=[] drops pygal's tooltip script; its inline config <script> is removed in _finish.
    return {
        "style": LAYOUT,
        "js": [],
        "disable_xml_declaration": True,
        "no_prefix": True,
        "width": 520,
        "height": 340,
        "margin": 16,
        "explicit_size": False,
        "show_y_guides": True,
        "truncate_label": -1,
        "no_data_text": "No data yet",
    }


def _finish(
    chart: pygal.graph.graph.Graph,
    *,
    chart_id: str,
    title: str,
    description: str,
    looks: Sequence[_SeriesLook],
    bands: Sequence[tuple[str, str]] = (),
    top: str = "",
) -> Markup:
    """pygal's SVG made CSP-safe and accessible, as markup ready to embed. `bands` names
    the band starting at each of these y labels, up to the label `top` (see _name_bands)."""
    root = chart.render_tree()
    _strip(root)
    _style(root, looks)
    if bands:
        _name_bands(root, bands, top)
    root.attrib.pop("class", None)
    root.set("id", chart_id)
    root.set("xmlns", SVG_NS)
    root.set("role", "img")
    root.set("aria-labelledby", f"{chart_id}-title {chart_id}-desc")
    root.set("font-family", FONT)
    root.set("class", "chart")
    desc = ET.Element("desc", id=f"{chart_id}-desc")
    desc.text = description
    heading = ET.Element("title", id=f"{chart_id}-title")
    heading.text = title
    root.insert(0, desc)
    root.insert(0, heading)
    return Markup(ET.tostring(root, encoding="unicode", short_empty_elements=True))  # noqa: S704 - built from numbers and escaped by ElementTree


def _strip(root: ET.Element) -> None:
    """Remove what CSP forbids or assistive technology need not read: scripts, styles,
    the tooltip layer, tooltip data, per-label titles and style attributes."""
    parents = {child: parent for parent in root.iter() for child in parent}
    for element in list(root.iter()):
        classes = set(element.get("class", "").split())
        drop = (
            element.tag is ET.Comment
            or element.tag in ("script", "style", "title", "desc", "defs")
            or "tooltip-overlay" in classes
            or "titles" in classes
        )
        if drop and element in parents:
            parents[element].remove(element)
        element.attrib.pop("style", None)


def _style(root: ET.Element, looks: Sequence[_SeriesLook]) -> None:
    """Give every element the presentation attributes pygal's stylesheet would have."""

    def walk(element: ET.Element, context: frozenset[str]) -> None:
        classes = frozenset(element.get("class", "").split())
        inside = context | classes
        _apply(element, classes, inside, looks)
        for child in element:
            walk(child, inside)

    walk(root, frozenset())
    for group in root.iter("g"):
        classes = set(group.get("class", "").split())
        if {"axis", "x"} <= classes:
            _mark_x_steps(group)
        elif "legend" in classes:
            _legend_sample(group, looks)


def _series_look(classes: frozenset[str], looks: Sequence[_SeriesLook]) -> _SeriesLook | None:
    """How the series named by a "color-N" class is drawn, if any."""
    for name in classes:
        if name.startswith("color-") and name[6:].isdigit() and int(name[6:]) < len(looks):
            return looks[int(name[6:])]
    return None


def _apply(
    element: ET.Element,
    classes: frozenset[str],
    inside: frozenset[str],
    looks: Sequence[_SeriesLook],
) -> None:
    """Set one element's colours, strokes and text alignment from its classes and those of
    its ancestors (`inside`), as pygal's stylesheet would."""
    tag = element.tag
    look = _series_look(inside, looks)
    if tag == "rect" and "background" in classes:
        element.set("fill", "#ffffff")
    elif tag == "path" and "axis" in inside:
        element.set("fill", "none")
        if "guide" in classes:
            element.set("stroke", GRID)
            element.set("stroke-dasharray", "3,3")
        else:
            element.set("stroke", AXIS)
    elif tag == "text":
        element.set("fill", INK)
        element.set("stroke", "none")
        element.set("font-size", str(FONT_SIZE * 2 if "no_data" in classes else FONT_SIZE))
        if "axis" in inside and "y" in inside:
            element.set("text-anchor", "end")
        elif "axis" in inside and "x" in inside:
            element.set("text-anchor", "start" if element.get("transform") else "middle")
        elif "no_data" in classes or "text-overlay" in inside:
            element.set("text-anchor", "middle")
    elif look is not None and tag == "path" and "line" in classes:
        element.set("fill", "none")
        element.set("stroke", look.colour)
        element.set("stroke-width", "2")
        if look.dasharray:
            element.set("stroke-dasharray", look.dasharray)
    elif look is not None and tag == "circle":
        element.set("r", "4")
        element.set("stroke", look.colour)
        element.set("stroke-width", "2")
        element.set("fill", "#ffffff" if look.hollow_dots else look.colour)
    elif look is not None and tag == "rect":
        element.set("fill", look.colour)
        element.set("stroke", look.colour)


def _legend_sample(legend: ET.Element, looks: Sequence[_SeriesLook]) -> None:
    """Turn a legend's colour square into a short line with a dot, drawn as its series is,
    so the legend does not rely on colour alone; the label moves right to make room."""
    rect, text = legend.find("rect"), legend.find("text")
    look = _series_look(
        frozenset((rect.get("class", "") if rect is not None else "").split()), looks
    )
    if rect is None or text is None or look is None:
        return
    x, y = float(rect.get("x", 0)), float(rect.get("y", 0))
    middle = y + float(rect.get("height", 12)) / 2
    rect.tag = "g"
    rect.attrib.clear()
    line = ET.SubElement(
        rect, "line", x1=f"{x:g}", y1=f"{middle:g}", x2=f"{x + 28:g}", y2=f"{middle:g}"
    )
    line.set("stroke", look.colour)
    line.set("stroke-width", "2")
    if look.dasharray:
        line.set("stroke-dasharray", look.dasharray)
    dot = ET.SubElement(rect, "circle", cx=f"{x + 14:g}", cy=f"{middle:g}", r="4")
    dot.set("stroke", look.colour)
    dot.set("stroke-width", "2")
    dot.set("fill", "#ffffff" if look.hollow_dots else look.colour)
    text.set("x", f"{float(text.get('x', 0)) + 18:g}")


def _name_bands(root: ET.Element, bands: Sequence[tuple[str, str]], top: str) -> None:
    """Write each band's name to the right of the plot, level with the middle of its
    range; `bands` are (y label of its start, name), lowest first, and `top` is the y
    label of the highest score."""
    for axis in root.iter("g"):
        if not {"axis", "y"} <= set(axis.get("class", "").split()):
            continue
        # Each guide is drawn as "M0 <y> h<width>", labelled with its value.
        levels: dict[str, float] = {}
        width = 0.0
        for guides in axis:
            text, path = guides.find("text"), guides.find("path")
            if text is None or path is None or "h" not in path.get("d", ""):
                continue
            start, across = path.get("d", "").split("h")
            levels[(text.text or "").strip()] = float(start.split()[1])
            width = float(across)
        ends = [start for start, _ in bands[1:]] + [top]
        for (start, name), end in zip(bands, ends, strict=True):
            if start not in levels or end not in levels:
                continue
            middle = (levels[start] + levels[end]) / 2
            label = ET.SubElement(axis, "text", x=f"{width + 8:g}", y=f"{middle + 4:g}")
            label.text = name
            label.set("fill", AXIS)
            label.set("stroke", "none")
            label.set("font-size", str(FONT_SIZE - 2))
            label.set("text-anchor", "start")
            label.set("class", "band-name")


def _mark_x_steps(axis: ET.Element) -> None:
    """Draw the x guides labelled with a size ("21 mm") or an answer not scored as solid
    marker lines."""
    for guides in axis:
        text = guides.find("text")
        path = guides.find("path")
        if (
            text is not None
            and path is not None
            and (text.text or "").endswith((" mm", f": {NOT_SCORED}"))
        ):
            path.set("stroke", SIZE_STEP)
            path.set("stroke-width", "1.5")
            path.attrib.pop("stroke-dasharray", None)
            text.set("font-weight", "bold")

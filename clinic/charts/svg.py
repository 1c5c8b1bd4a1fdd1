"""SVG output for the charts: a small builder over xml.etree.ElementTree.

ElementTree escapes every text and attribute it writes, so whatever reaches a label (an
imported instrument's band name included) is text, never markup. Every colour, stroke and
font is an SVG presentation attribute: the app's Content-Security-Policy forbids inline
style, and a chart saved as a file for a PDF has no page stylesheet to lean on. Classes
name the parts for the page's CSS and for tests; nothing here depends on them to look right.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.etree import ElementTree as ET

from markupsafe import Markup

SVG_NS = "http://www.w3.org/2000/svg"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif"
INK = "#1f2933"
MUTED = "#3e4c59"
GRID = "#c5ccd3"
AXIS = "#52606d"
BAND_FILL = "#edf1f5"
BACKGROUND = "#ffffff"
# Colour-blind-safe pair (Okabe-Ito blue and vermilion), told apart by line and dot as well.
BLUE = "#0072b2"
VERMILION = "#d55e00"
MARKER = "#3e4c59"


@dataclass(frozen=True)
class Variant:
    """One drawing of a chart: its width in viewBox units, its font sizes (labels, and
    secondary text such as band names and marker numbers) and its plot's height. A page
    shows the drawing that fits the screen at about its natural size (see the charts
    section of site.css); print uses the wide one."""

    name: str
    width: float
    font: float
    small: float
    plot_height: float

    @property
    def pad(self) -> float:
        return round(self.font * 0.5, 1)


# Narrow: 360 units, shown 326-510 px wide on phones; wide: 860 units, shown 664-950 px
# wide on tablets and laptops; wider: 1200 units, shown 1160-1450 px wide on large
# screens. Their sizes keep text at 12 px or more (at 390 px and up) and under about 20.
NARROW = Variant("narrow", 360, 14.5, 13.5, 190)
WIDE = Variant("wide", 860, 17, 15.5, 230)
WIDER = Variant("wider", 1200, 16, 14.5, 260)
# On paper, across the text's width (about 178 mm), the wide drawing's text is 8 to 9 pt,
# and it is shorter: a page of the MDT pack holds a patient's chart with everything else,
# and the table beside it gives the figures.
PRINTED = Variant("wide", 860, 16, 14, 170)


def number(value: float) -> str:
    """A coordinate, short: "12.5", "40"."""
    text = f"{value:.1f}"
    return text[:-2] if text[-1] == "0" else text


class Drawing:
    """One SVG being built: an accessible image (role="img", labelled by its own <title>
    and <desc>), with a white background so it reads on a dark page too."""

    def __init__(
        self, variant: Variant, height: float, *, chart_id: str, title: str, description: str
    ) -> None:
        self.variant = variant
        self.root = ET.Element(
            "svg",
            {
                "xmlns": SVG_NS,
                "id": chart_id,
                "class": f"chart-svg chart-{variant.name}",
                "viewBox": f"0 0 {number(variant.width)} {number(height)}",
                "width": number(variant.width),
                "height": number(height),
                "role": "img",
                "aria-labelledby": f"{chart_id}-title {chart_id}-desc",
                "font-family": FONT,
                "font-size": number(variant.font),
                "fill": INK,
            },
        )
        heading = ET.SubElement(self.root, "title", id=f"{chart_id}-title")
        heading.text = title
        desc = ET.SubElement(self.root, "desc", id=f"{chart_id}-desc")
        desc.text = description
        self.add(
            "rect",
            x="0",
            y="0",
            width=number(variant.width),
            height=number(height),
            fill=BACKGROUND,
        )

    def add(self, tag: str, parent: ET.Element | None = None, **attributes: str) -> ET.Element:
        """A child element; attribute names with "_" are written with "-"
        (stroke_width="2" gives stroke-width), and `cls` is its class."""
        return ET.SubElement(
            self.root if parent is None else parent,
            tag,
            {
                "class" if name == "cls" else name.replace("_", "-"): value
                for name, value in attributes.items()
            },
        )

    def group(self, cls: str) -> ET.Element:
        return self.add("g", cls=cls)

    def line(
        self, parent: ET.Element, x1: float, y1: float, x2: float, y2: float, **attributes: str
    ) -> ET.Element:
        return self.add(
            "line",
            parent,
            x1=number(x1),
            y1=number(y1),
            x2=number(x2),
            y2=number(y2),
            **attributes,
        )

    def text(
        self,
        parent: ET.Element,
        x: float,
        y: float,
        content: str,
        *,
        anchor: str = "middle",
        size: float | None = None,
        **attributes: str,
    ) -> ET.Element:
        """Text whose baseline is at `y`."""
        element = self.add(
            "text", parent, x=number(x), y=number(y), text_anchor=anchor, **attributes
        )
        if size is not None:
            element.set("font-size", number(size))
        element.text = content
        return element

    def markup(self) -> Markup:
        """The finished SVG, safe to embed in HTML (ElementTree escaped every text)."""
        return Markup(ET.tostring(self.root, encoding="unicode", short_empty_elements=True))  # noqa: S704 - built from numbers and escaped by ElementTree


def path_through(points: list[tuple[float, float]]) -> str:
    """A path's "d" through the points in order."""
    return " ".join(
        f"{'M' if i == 0 else 'L'}{number(x)} {number(y)}" for i, (x, y) in enumerate(points)
    )

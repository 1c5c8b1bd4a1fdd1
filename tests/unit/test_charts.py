"""The charting module: accessible, CSP-safe SVG with the right number of marks."""

from __future__ import annotations

import re
from datetime import date, timedelta
from xml.etree import ElementTree as ET

import pytest

from clinic.charts import (
    BandStart,
    PainPoint,
    ScorePoint,
    SizeStep,
    WeekBar,
    adherence_chart,
    measure_chart,
    pain_chart,
)

START = date(2026, 3, 2)


def points(n: int) -> list[PainPoint]:
    """n sessions on consecutive days with falling pain."""
    return [
        PainPoint(START + timedelta(days=i), max(0, 7 - i // 3), max(0, 5 - i // 4))
        for i in range(n)
    ]


def weeks(percents: list[float | None]) -> list[WeekBar]:
    """Consecutive weeks with these percents."""
    return [WeekBar(START + timedelta(weeks=i), p) for i, p in enumerate(percents)]


BANDS = [BandStart(0, "Low"), BandStart(8, "Moderate"), BandStart(15, "High")]


def scores(*totals: float | None) -> list[ScorePoint]:
    """Answers two weeks apart with these totals (None: not scored)."""
    return [ScorePoint(START + timedelta(weeks=2 * i), t) for i, t in enumerate(totals)]


def parse(svg: str) -> ET.Element:
    """The SVG as an XML tree (proves it is well-formed)."""
    return ET.fromstring(str(svg))  # noqa: S314 - our own output


CHARTS = {
    "pain": lambda: pain_chart(
        points(12), [SizeStep(START, 13), SizeStep(START + timedelta(6), 17)]
    ),
    "adherence": lambda: adherence_chart(weeks([None, 40, 85.7, 100])),
    "empty pain": lambda: pain_chart([], []),
    "empty adherence": lambda: adherence_chart([]),
    "measure": lambda: measure_chart(
        scores(7, None, 13, 16), title="Confidence", minimum=0, maximum=20, bands=BANDS
    ),
    "measure without bands": lambda: measure_chart(
        scores(20.1, 27.3), title="Index", minimum=2, maximum=36, decimals=1
    ),
}


@pytest.mark.parametrize("make", CHARTS.values(), ids=CHARTS.keys())
def test_every_chart_has_title_and_desc_first_and_is_one_image(make) -> None:
    """The root is role="img" labelled by its own <title> and <desc>, its first children."""
    root = parse(make())
    title, desc = root[0], root[1]
    assert (title.tag, desc.tag) == (
        "{http://www.w3.org/2000/svg}title",
        "{http://www.w3.org/2000/svg}desc",
    )
    assert title.text and desc.text
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"


@pytest.mark.parametrize("make", CHARTS.values(), ids=CHARTS.keys())
def test_no_script_or_inline_style(make) -> None:
    """Nothing the app's Content-Security-Policy would block: no script, no <style>, no
    style attributes, no event handlers; and no comments."""
    svg = str(make())
    assert "<script" not in svg
    assert "<style" not in svg and "style=" not in svg
    assert not re.search(r"\son[a-z]+=", svg)
    assert "<!--" not in svg


def test_pain_chart_has_two_dots_per_session() -> None:
    """One dot for pain during and one for pain after, per session."""
    svg = str(pain_chart(points(9), [SizeStep(START, 13)]))
    plot_dots = re.findall(r'<circle [^>]*class="dot', svg)
    assert len(plot_dots) == 18


def test_pain_series_differ_by_more_than_colour() -> None:
    """Pain after is dashed with hollow dots; pain during solid with filled dots."""
    root = parse(pain_chart(points(3), []))
    ns = "{http://www.w3.org/2000/svg}"
    lines = [p for p in root.iter(f"{ns}path") if "reactive" in p.get("class", "")]
    assert [line.get("stroke-dasharray") for line in lines] == [None, "7,4"]
    fills = {c.get("fill") for c in root.iter(f"{ns}circle") if "dot" in c.get("class", "")}
    assert "#ffffff" in fills and len(fills) == 2


def test_size_steps_are_labelled_markers() -> None:
    """Each size step is an x-axis marker labelled with its diameter and date."""
    svg = str(pain_chart(points(10), [SizeStep(START, 13), SizeStep(START + timedelta(5), 17.5)]))
    assert "2 Mar: 13 mm" in svg and "7 Mar: 17.5 mm" in svg
    assert "17.5 mm from 7 Mar" in svg  # told in the desc too


def test_adherence_chart_has_one_bar_per_week_with_a_percent() -> None:
    """Weeks with nothing prescribed get no bar; the others one each, with their value."""
    svg = str(adherence_chart(weeks([None, 40, 85.7, 100, 0])))
    assert len(re.findall(r'<rect [^>]*class="rect', svg)) == 4
    assert "86%" in svg and "100%" in svg


def test_chart_ids_are_configurable_for_two_charts_on_a_page() -> None:
    """The title and desc ids follow the chart id, so two charts on one page never clash."""
    svg = str(adherence_chart(weeks([50]), chart_id="weeks-b"))
    assert 'id="weeks-b-title"' in svg and 'id="weeks-b-desc"' in svg


def test_measure_chart_leaves_a_marked_gap_for_an_answer_without_a_score() -> None:
    """A dot per scored answer; the unscored one breaks the line (7 stands alone, 13 and 16
    are joined) and is a labelled marker on the date axis, told in the desc too."""
    svg = str(measure_chart(scores(7, None, 13, 16), title="C", minimum=0, maximum=20))
    assert len(re.findall(r'<circle [^>]*class="dot', svg)) == 3
    lines = re.findall(r'<path d="([^"]*)"[^>]*class="line reactive', svg)
    assert len(lines) == 1 and lines[0].count("L") == 1
    assert "16 Mar: not scored" in svg and "Not scored: 16 Mar 2026." in svg


def test_measure_chart_spans_the_whole_range_with_named_bands() -> None:
    """The y axis runs over the instrument's whole range with a guide where each band
    starts, and each band is named beside its range; the desc lists them."""
    root = parse(measure_chart(scores(7, 16), title="C", minimum=0, maximum=20, bands=BANDS))
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert {"0", "8", "15", "20"} <= set(texts)
    assert {"Low", "Moderate", "High"} <= set(texts)
    desc = root.find("{http://www.w3.org/2000/svg}desc").text
    assert "from 0 to 20" in desc and "Moderate from 8" in desc


def test_measure_chart_escapes_what_an_imported_instrument_says() -> None:
    """A clinic's instrument names its bands and title: markup in them is text, never run."""
    svg = str(
        measure_chart(
            scores(3),
            title="<script>alert(1)</script>",
            minimum=0,
            maximum=10,
            bands=[BandStart(0, "<b>low</b>"), BandStart(5, "high")],
        )
    )
    assert "<script" not in svg and "<b>" not in svg
    assert "&lt;b&gt;low&lt;/b&gt;" in svg

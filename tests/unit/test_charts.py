"""The charting module: accessible, CSP-safe SVG, drawn in a wide, a narrow and a wider
variant, with the right marks, a key to its numbered markers, and labels that never
overlap whatever the data (the geometry itself is proven in test_chart_layout.py)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import clinic
from clinic.charts import (
    BandStart,
    Chart,
    PainPoint,
    ScorePoint,
    SizeStep,
    WeekBar,
    adherence_chart,
    measure_chart,
    pain_chart,
)
from clinic.charts.layout import text_width

START = date(2026, 3, 2)
NS = "{http://www.w3.org/2000/svg}"


def points(n: int, start: date = START) -> list[PainPoint]:
    """n sessions on consecutive days with falling pain."""
    return [
        PainPoint(start + timedelta(days=i), max(0, 7 - i // 3), max(0, 5 - i // 4))
        for i in range(n)
    ]


def weeks(percents: list[float | None]) -> list[WeekBar]:
    """Consecutive weeks with these percents."""
    return [WeekBar(START + timedelta(weeks=i), p) for i, p in enumerate(percents)]


BANDS = [BandStart(0, "Low"), BandStart(8, "Moderate"), BandStart(15, "High")]


def scores(*totals: float | None) -> list[ScorePoint]:
    """Answers two weeks apart with these totals (None: not scored)."""
    return [ScorePoint(START + timedelta(weeks=2 * i), t) for i, t in enumerate(totals)]


def parse(svg: object) -> ET.Element:
    """The SVG as an XML tree (proves it is well-formed)."""
    return ET.fromstring(str(svg))  # noqa: S314 - our own output


def drawings(chart: Chart) -> list[ET.Element]:
    return [parse(d) for d in chart.drawings]


CHARTS = {
    "pain": lambda: pain_chart(
        points(12), [SizeStep(START, 13), SizeStep(START + timedelta(6), 17)]
    ),
    "pain for print": lambda: pain_chart(points(12), [SizeStep(START, 13, 1)], compact=True),
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
def test_every_drawing_has_title_and_desc_first_and_is_one_image(make) -> None:
    """Each drawing's root is role="img" labelled by its own <title> and <desc>, its first
    children, with ids of its own (all drawings are on the page at once)."""
    ids = []
    for root in drawings(make()):
        title, desc = root[0], root[1]
        assert (title.tag, desc.tag) == (f"{NS}title", f"{NS}desc")
        assert title.text and desc.text
        assert root.get("role") == "img"
        assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
        ids += [root.get("id"), title.get("id"), desc.get("id")]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("make", CHARTS.values(), ids=CHARTS.keys())
def test_no_script_or_inline_style(make) -> None:
    """Nothing the app's Content-Security-Policy would block: no script, no <style>, no
    style attributes, no event handlers; and no comments."""
    for svg in map(str, make().drawings):
        assert "<script" not in svg
        assert "<style" not in svg and "style=" not in svg
        assert not re.search(r"\son[a-z]+=", svg)
        assert "<!--" not in svg


@pytest.mark.parametrize("make", CHARTS.values(), ids=CHARTS.keys())
def test_each_drawing_scales_to_its_container(make) -> None:
    """A viewBox to scale by (the page's CSS gives the width), and classes naming the
    variant, which the CSS uses to show the one that fits."""
    for root in drawings(make()):
        assert re.fullmatch(r"0 0 \d+ [\d.]+", root.get("viewBox", ""))
        assert {"chart-svg"} < set(root.get("class", "").split())


def test_pages_get_three_variants_and_print_gets_the_wide_one() -> None:
    """On a page, narrow (360 units, for phones), wide (860) and wider (1200); for print
    only the wide one, which is also the PDF's file."""
    chart = pain_chart(points(5), [SizeStep(START, 13)])
    widths = {
        parse(d).get("class", "").split()[1]: parse(d).get("viewBox", "").split()[2]
        for d in chart.drawings
    }
    assert widths == {"chart-wide": "860", "chart-narrow": "360", "chart-wider": "1200"}
    printed = pain_chart(points(5), [SizeStep(START, 13)], compact=True)
    assert printed.narrow is None and printed.wider is None
    assert printed.drawings == (printed.wide,)
    assert printed.file() == str(printed.wide).encode()
    assert parse(printed.file().decode()).get("id") == "pain-chart"


def test_the_charts_owe_nothing_to_pygal() -> None:
    """No module of the app imports pygal (or another charting library): the SVG is drawn
    here, so nothing depends on another library's private output."""
    imports = re.compile(r"^\s*(?:import|from)\s+(?:pygal|matplotlib|plotly)\b", re.MULTILINE)
    root = Path(clinic.__file__).parent
    importers = [
        str(source.relative_to(root))
        for source in root.rglob("*.py")
        if imports.search(source.read_text(encoding="utf-8"))
    ]
    assert importers == []


def test_pain_chart_has_two_dots_per_session_except_in_print() -> None:
    """One dot for pain during and one for pain after, per session, on every screen
    drawing; none in print (the lines carry the trend)."""
    chart = pain_chart(points(9), [SizeStep(START, 13)])
    for root in drawings(chart):
        assert len([c for c in root.iter(f"{NS}circle") if c.get("class") == "dot"]) == 18
    printed = parse(pain_chart(points(9), [], compact=True).wide)
    assert [c for c in printed.iter(f"{NS}circle") if c.get("class") == "dot"] == []


def test_pain_series_differ_by_more_than_colour() -> None:
    """Pain after is dashed with hollow dots; pain during solid with filled dots, and the
    legend draws each sample the same way."""
    root = parse(pain_chart(points(3), []).wide)
    lines = [p for p in root.iter(f"{NS}path") if p.get("class") == "line"]
    assert [line.get("stroke-dasharray") for line in lines] == [None, "7 4"]
    fills = {c.get("fill") for c in root.iter(f"{NS}circle") if c.get("class") == "dot"}
    assert "#ffffff" in fills and len(fills) == 2
    legend = next(g for g in root.iter(f"{NS}g") if g.get("class") == "legend")
    samples = [line.get("stroke-dasharray") for line in legend.iter(f"{NS}line")]
    assert samples == [None, "7 4"]
    assert [t.text for t in legend.iter(f"{NS}text")] == ["Pain during", "Pain after"]


def test_size_steps_are_numbered_markers_with_a_key() -> None:
    """Each stage or size step is a line with a numbered disc above the plot, in date
    order; the key says what each number marks, and the desc says it too. No long label
    sits on the date axis."""
    chart = pain_chart(
        points(10),
        [SizeStep(START, 13, 1), SizeStep(START + timedelta(5), 17.5, 2)],
    )
    assert [(k.number, k.day, k.text) for k in chart.key] == [
        (1, "2 Mar", "stage 1, 13 mm"),
        (2, "7 Mar", "stage 2, 17.5 mm"),
    ]
    for root in drawings(chart):
        numbers = [t.text for t in root.iter(f"{NS}text") if t.get("class") == "marker-number"]
        assert numbers == ["1", "2"]
        ticks = [t.text or "" for t in root.iter(f"{NS}text") if t.get("class") == "tick-x"]
        assert not any("mm" in tick or "stage" in tick for tick in ticks)
    assert "stage 2, 17.5 mm from 7 Mar" in str(chart.wide)  # in the desc


def test_adherence_chart_has_one_bar_per_week_prescribed() -> None:
    """Weeks with nothing prescribed get no bar (and the desc says so); the others one
    each, a week at 0% a sliver; the percent is printed where there is room, never in
    print."""
    chart = adherence_chart(weeks([None, 40, 85.7, 100, 0]))
    for root in drawings(chart):
        bars = [r for r in root.iter(f"{NS}rect") if r.get("class") == "bar"]
        assert len(bars) == 4
        assert min(float(bar.get("height", 0)) for bar in bars) > 0
    assert "86%" in str(chart.wide) and "100%</text>" in str(chart.wide)
    assert "Nothing prescribed in the week of 2 Mar." in str(chart.wide)
    printed = str(adherence_chart(weeks([None, 40, 85.7]), compact=True).wide)
    assert "86%</text>" not in printed


def test_adherence_week_labels_are_thinned_on_a_phone() -> None:
    """Twelve weeks: every Monday labelled when wide, fewer on the narrow drawing, the
    latest week always among them."""
    chart = adherence_chart(weeks([50.0] * 12))

    def labels(svg: object) -> list[str]:
        return [t.text or "" for t in parse(svg).iter(f"{NS}text") if t.get("class") == "tick-x"]

    assert len(labels(chart.wider)) == 12
    narrow = labels(chart.narrow)
    assert 2 <= len(narrow) < 12 and narrow[-1] == "18 May"


def test_chart_ids_are_configurable_for_two_charts_on_a_page() -> None:
    """The title and desc ids follow the chart id, so two charts on one page never clash."""
    chart = adherence_chart(weeks([50]), chart_id="weeks-b")
    assert 'id="weeks-b-title"' in str(chart.wide) and 'id="weeks-b-desc"' in str(chart.wide)
    assert 'id="weeks-b-narrow-title"' in str(chart.narrow)


def test_measure_chart_leaves_a_marked_gap_for_an_answer_without_a_score() -> None:
    """A dot per scored answer; the unscored one breaks the line (7 stands alone, 13 and 16
    are joined) and is a numbered marker, "not scored" in the key and the desc."""
    chart = measure_chart(scores(7, None, 13, 16), title="C", minimum=0, maximum=20)
    for root in drawings(chart):
        assert len([c for c in root.iter(f"{NS}circle") if c.get("class") == "dot"]) == 3
        lines = [p.get("d", "") for p in root.iter(f"{NS}path") if p.get("class") == "line"]
        assert len(lines) == 1 and lines[0].count("L") == 1
    assert [(k.number, k.day, k.text) for k in chart.key] == [(1, "16 Mar", "not scored")]
    assert "Not scored: 16 Mar 2026." in str(chart.wide)


def test_measure_chart_labels_its_answers_days() -> None:
    """A few answers weeks apart: the date axis names their days."""
    root = parse(measure_chart(scores(7, 13, 16), title="C", minimum=0, maximum=20).wide)
    ticks = [t.text for t in root.iter(f"{NS}text") if t.get("class") == "tick-x"]
    assert ticks == ["2 Mar", "16 Mar", "30 Mar"]


def test_measure_chart_spans_the_whole_range_with_named_bands() -> None:
    """The y axis runs over the instrument's whole range, labelled where each band starts,
    and each band is named beside its range; the desc lists them."""
    chart = measure_chart(scores(7, 16), title="C", minimum=0, maximum=20, bands=BANDS)
    for root in drawings(chart):
        ticks = [t.text for t in root.iter(f"{NS}text") if t.get("class") == "tick-y"]
        assert ticks == ["0", "8", "15", "20"]
        names = [t.text for t in root.iter(f"{NS}text") if t.get("class") == "band-name"]
        assert names == ["Low", "Moderate", "High"]
    desc = parse(chart.wide).find(f"{NS}desc")
    assert desc is not None and desc.text
    assert "from 0 to 20" in desc.text and "Moderate from 8" in desc.text


def test_a_long_band_name_wraps_and_is_never_cut_mid_word_when_it_fits() -> None:
    """A name too long for the margin goes on two lines, broken between words."""
    bands = [BandStart(0, "No difficulty at all"), BandStart(10, "Some")]
    root = parse(measure_chart(scores(3), title="C", minimum=0, maximum=20, bands=bands).narrow)
    name = next(t for t in root.iter(f"{NS}text") if t.get("class") == "band-name")
    lines = [span.text for span in name.iter(f"{NS}tspan")]
    assert len(lines) == 2 and " ".join(lines) == "No difficulty at all"


def test_measure_chart_escapes_what_an_imported_instrument_says() -> None:
    """A clinic's instrument names its bands and title: markup in them is text, never run."""
    chart = measure_chart(
        scores(3),
        title="<script>alert(1)</script>",
        minimum=0,
        maximum=10,
        bands=[BandStart(0, "<b>low</b>"), BandStart(5, "high")],
    )
    for svg in map(str, chart.drawings):
        assert "<script" not in svg and "<b>" not in svg
        assert "&lt;b&gt;low&lt;/b&gt;" in svg


# Whatever the data, nothing overlaps: checked on the drawings themselves.


def _number(value: str | None) -> float:
    return float(value or 0)


def _text_boxes(root: ET.Element) -> list[tuple[float, float, float, float]]:
    """(left, right, top, bottom) of each text but the numbers inside marker discs, from
    its anchor, position, size and estimated width (the layout's estimate, an upper bound
    of the drawn width), lines of a wrapped text included."""
    default = _number(root.get("font-size"))
    boxes = []
    for text in root.iter(f"{NS}text"):
        if text.get("class") == "marker-number":
            continue
        size = _number(text.get("font-size")) or default
        lines = [s.text or "" for s in text.iter(f"{NS}tspan")] or [text.text or ""]
        width = max(text_width(line, size) for line in lines)
        x, y = _number(text.get("x")), _number(text.get("y"))
        anchor = text.get("text-anchor", "start")
        left = x - width / 2 if anchor == "middle" else x - width if anchor == "end" else x
        boxes.append(
            (left, left + width, y - size * 0.76, y + size * 0.24 + (len(lines) - 1) * size * 1.2)
        )
    return boxes


def _disc_boxes(root: ET.Element) -> list[tuple[float, float, float, float]]:
    discs = [
        (_number(c.get("cx")), _number(c.get("cy")), _number(c.get("r")))
        for c in root.iter(f"{NS}circle")
        if c.get("class") == "marker"
    ]
    return [(x - r, x + r, y - r, y + r) for x, y, r in discs]


def _overlaps(boxes: list[tuple[float, float, float, float]]) -> list[tuple[int, int]]:
    """Pairs of boxes that overlap (touching is fine; coordinates are written to 0.1)."""
    slack = 0.06
    return [
        (i, j)
        for i, a in enumerate(boxes)
        for j, b in enumerate(boxes)
        if i < j
        and a[0] < b[1] - slack
        and b[0] < a[1] - slack
        and a[2] < b[3] - slack
        and b[2] < a[3] - slack
    ]


def _assert_legible(chart: Chart) -> None:
    """In every drawing, no text overlaps another or a marker disc, no disc another, and
    all of them are inside the drawing."""
    for root in drawings(chart):
        _, _, width, height = (float(n) for n in root.get("viewBox", "").split())
        boxes = _text_boxes(root) + _disc_boxes(root)
        assert _overlaps(boxes) == [], root.get("class")
        for left, right, top, bottom in boxes:
            assert left >= -0.06 and right <= width + 0.06
            assert top >= -0.06 and bottom <= height + 0.06


days_from_start = st.integers(min_value=0, max_value=800)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    session_days=st.lists(days_from_start, max_size=60),
    step_days=st.lists(days_from_start, max_size=14),
    start=st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)),
)
def test_pain_chart_labels_and_markers_never_overlap(
    session_days: list[int], step_days: list[int], start: date
) -> None:
    """Any sessions and any stage changes, however close together: the date labels, the
    pain levels and the numbered markers never overlap and stay inside the drawing."""
    sessions = [
        PainPoint(start + timedelta(days=d), d % 11, (d * 3) % 11) for d in sorted(session_days)
    ]
    steps = [
        SizeStep(start + timedelta(days=d), 13 + i, i + 1) for i, d in enumerate(sorted(step_days))
    ]
    chart = pain_chart(sessions, steps)
    _assert_legible(chart)
    assert len(chart.key) == len(steps)


@settings(max_examples=30, deadline=None)
@given(
    percents=st.lists(st.one_of(st.none(), st.floats(min_value=0, max_value=100)), max_size=53),
)
def test_adherence_labels_never_overlap(percents: list[float | None]) -> None:
    """Up to a year of weeks: the week labels and percents never overlap."""
    _assert_legible(adherence_chart(weeks(percents)))


band_names = st.text(
    alphabet=st.characters(codec="utf-8", categories=["L", "N", "Zs"]), min_size=1, max_size=40
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    totals=st.lists(
        st.one_of(st.none(), st.integers(min_value=0, max_value=80)), min_size=1, max_size=20
    ),
    cuts=st.lists(st.integers(min_value=0, max_value=80), max_size=8, unique=True),
    names=st.lists(band_names, min_size=8, max_size=8),
    gap_weeks=st.integers(min_value=1, max_value=30),
)
def test_measure_band_names_and_labels_never_overlap(
    totals: list[int | None], cuts: list[int], names: list[str], gap_weeks: int
) -> None:
    """Any scores, any bands (many, narrow, with long names in any script): band names,
    score labels, date labels and markers never overlap and stay inside the drawing."""
    answers = [
        ScorePoint(START + timedelta(weeks=gap_weeks * i), None if t is None else float(t))
        for i, t in enumerate(totals)
    ]
    bands = [BandStart(float(c), names[i]) for i, c in enumerate(sorted(cuts))]
    chart = measure_chart(answers, title="Score", minimum=0, maximum=80, bands=bands)
    _assert_legible(chart)

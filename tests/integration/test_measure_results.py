"""Outcome measures where the care team reads them: a chart and a table per instrument on
the patient timeline, and the table "Outcome measures in this period" in the progress
report and the MDT pack, with figures equal to the domain's scoring of hand-worked answers
and to `series_for` for the same period; never another clinic's answers."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from decimal import Decimal
from html import unescape

import pytest
from flask import Flask
from pypdf import PdfReader

from clinic.core.templating import short_date
from clinic.domain.measure_schedule import Cadence
from clinic.domain.questionnaires import Score, Status, score, shipped_instruments
from clinic.extensions import db
from clinic.measures.results import series_for
from tests.support.auth import act_as
from tests.support.diaries import ZONE, add_entries
from tests.support.mdt import make_pack
from tests.support.measure_scores import answer_measure, assign_measure, days_ago, today
from tests.support.protocols import start_plan
from tests.support.reports import generate, read_pdf, stored_reports
from tests.support.world import World

STARTED_DAYS_AGO = 54

# Dilator confidence: five items scored 0-4, summed (0-20), scored with 4 of 5 answered
# (the blank item takes the mean of the others), rounded half up; Low 0-7, Moderate 8-14,
# High 15-20; higher is better.
BASELINE = {"insert": 1, "on_own": 1, "discomfort": 2, "keep_going": 2, "next_size": 1}
TOO_FEW = {"insert": 1, "on_own": 1, "discomfort": 2}  # 3 of 5: not scored
PRORATED_HALF = {"insert": 2, "on_own": 2, "discomfort": 3, "keep_going": 3}  # 10 + 2.5
PRORATED = {"insert": 3, "on_own": 3, "discomfort": 4, "keep_going": 3, "next_size": None}
# FSFI with no sexual activity in the past 4 weeks: not valid (15 of the 15 items).
FSFI_NO_ACTIVITY = {f"q{i}": 1 if i in (1, 2, 15, 16) else 0 for i in range(1, 20)}


@dataclass(frozen=True)
class Scored:
    """PATIENT's program (started 54 days ago) with dilator confidence asked every two
    weeks and answered at the start (7, Low), at week 2 with too few answers (no score),
    at week 4 (12.5 pro-rated, rounded up to 13, Moderate: answered two days late) and at
    week 6 (16.25 pro-rated, 16, High); and an FSFI asked once 20 days ago, not valid."""

    protocol: int
    confidence: int
    fsfi: int
    baseline: Score
    week_4: Score
    latest: Score
    invalid: Score


@pytest.fixture
def scored(app: Flask, world: World) -> Scored:
    protocol = start_plan(
        app, world.patient.patient_id, world.clinician.id, started_days_ago=STARTED_DAYS_AGO
    )
    add_entries(app, protocol, world.patient, range(0, 50, 3))
    confidence = assign_measure(
        app,
        world.patient.patient_id,
        "dilator-confidence",
        cadence=Cadence.REPEATING,
        every_weeks=2,
        assigned_days_ago=STARTED_DAYS_AGO,
    )
    baseline = answer_measure(app, confidence, "baseline", BASELINE, occasion_days_ago=54)
    answer_measure(app, confidence, "week-2", TOO_FEW, occasion_days_ago=40)
    week_4 = answer_measure(
        app, confidence, "week-4", PRORATED_HALF, occasion_days_ago=26, answered_days_ago=24
    )
    latest = answer_measure(app, confidence, "week-6", PRORATED, occasion_days_ago=12)
    fsfi = assign_measure(app, world.patient.patient_id, "fsfi", on_days_ago=20)
    invalid = answer_measure(app, fsfi, "once", FSFI_NO_ACTIVITY, occasion_days_ago=20)
    return Scored(protocol, confidence, fsfi, baseline, week_4, latest, invalid)


def text_of(html: str) -> str:
    """A page's visible text, tags dropped and white space collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def timeline(client, person, patient_id: int) -> str:
    act_as(client, person.id)
    response = client.get(f"/patients/{patient_id}/timeline")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_hand_worked_scores_are_the_domains(scored: Scored) -> None:
    """The fixture's figures, worked by hand, are what the scorer gives: 7, 13 (12.5 rounded
    half up), 16 (16.25) and an FSFI that is not valid; too few answers give no score."""
    assert (scored.baseline.total, scored.baseline.band.label) == (Decimal(7), "Low")
    assert (scored.week_4.total, scored.week_4.band.label) == (Decimal(13), "Moderate")
    assert scored.week_4.prorated == ("next_size",)
    assert (scored.latest.total, scored.latest.band.label) == (Decimal(16), "High")
    assert scored.invalid.status is Status.INVALID and scored.invalid.total is None
    too_few = score(shipped_instruments()["dilator-confidence"], TOO_FEW)
    assert too_few.status is Status.INCOMPLETE


def test_the_timeline_charts_each_instrument_with_its_figures(
    app: Flask, client, world: World, scored: Scored
) -> None:
    """Dilator confidence has a chart on its 0-20 range with its bands, and a table of every
    answer (day, occasion, total, band); the unscored week 2 is a gap with a numbered
    marker, "not scored" in the chart's key, listed with its reason; baseline 7, latest 16,
    change +9 improved. The FSFI, never scored, has no chart: its reason is given in words
    instead."""
    html = timeline(client, world.clinician, world.patient.patient_id)
    text = text_of(html)
    assert 'id="measures-heading">Outcome measures</h2>' in html
    section = html.split('id="measures-heading"', 1)[1].split("</section>", 1)[0]

    assert section.count('<figure class="chart-figure">') == 1
    drawings = re.findall(r"<svg[^>]*>.*?</svg>", section, re.DOTALL)
    assert len(drawings) == 3 and 'id="measure-chart-dilator-confidence"' in drawings[0]
    for chart in drawings:
        assert "<title" in chart and ">Dilator confidence</title>" in chart
        for band in ("Low", "Moderate", "High"):
            assert f">{band}</text>" in chart
        assert f"Not scored: {short_date(days_ago(40))}" in chart  # said in the desc
        assert len(re.findall(r'<circle [^>]*class="dot"', chart)) == 3
    key = text_of(section.split('<ol class="chart-key">')[1].split("</ol>")[0])
    assert key == f"1 {short_date(days_ago(40))[:-5]}: not scored"

    table = section.split("Dilator confidence: each")[1]
    rows = [text_of(row) for row in re.findall(r"<tr>(.*?)</tr>", table, re.DOTALL)][1:5]
    assert rows == [
        f"{short_date(days_ago(54))} At the start 7 Low",
        f"{short_date(days_ago(40))} Week 2 Not scored: 3 of 5 questions answered, at least 4"
        " needed",
        f"{short_date(days_ago(24))} Week 4 asked for {short_date(days_ago(26))} 13 Moderate",
        f"{short_date(days_ago(12))} Week 6 16 High",
    ]
    assert f"Baseline 7 (Low), {short_date(days_ago(54))} (at the start)" in text
    assert f"Latest 16 (High), {short_date(days_ago(12))} (week 6)" in text
    assert "Change from baseline +9 points: improved" in text
    assert f"{short_date(days_ago(40))} (week 2): Not scored: 3 of 5 questions answered" in text

    assert f'href="/patients/{world.patient.patient_id}/measures"' in section
    assert "Female Sexual Function Index (FSFI)" in text
    assert f"{short_date(days_ago(20))} (once): {scored.invalid.reasons[0]}" in text


def test_the_report_shows_baseline_latest_and_change_as_scored(
    app: Flask, client, world: World, scored: Scored, as_clinician
) -> None:
    """The progress report's table, read back from the PDF, gives for dilator confidence
    the baseline (7, Low) and latest (16, High) with their days and the change (+9:
    improved), exactly the domain's scores and `series_for`'s for the same period; the
    answers without a score are noted with the scorer's reasons."""
    generate(client, world.patient.patient_id)
    (report,) = stored_reports(app, world.patient.patient_id)
    text = read_pdf(report.pdf).text

    with app.app_context():
        (confidence, fsfi) = series_for(
            world.clinic_a,
            [world.patient.patient_id],
            since=report.period_from,
            until=report.period_to,
            zone=ZONE,
        )[world.patient.patient_id]
    assert confidence.baseline.total == float(scored.baseline.total)
    assert confidence.latest.total == float(scored.latest.total)
    assert confidence.change == float(scored.latest.total - scored.baseline.total) == 9
    assert fsfi.baseline is None

    assert "Outcome measures in this period" in text
    assert (
        f"Dilator confidence (0 to 20) {scored.baseline.total} ({scored.baseline.band.label}) "
        f"{short_date(days_ago(54))} {scored.latest.total} ({scored.latest.band.label}) "
        f"{short_date(days_ago(12))} +9 points: improved"
    ) in text
    assert "Female Sexual Function Index (FSFI) (2.0 to 36.0) none scored none scored —" in text
    assert (
        f"Dilator confidence: {short_date(days_ago(40))} (week 2): Not scored: 3 of 5 questions"
        " answered, at least 4 needed."
    ) in text
    assert f"(once): {scored.invalid.reasons[0]}" in text


def test_a_reports_period_has_its_own_baseline(
    app: Flask, client, world: World, scored: Scored, as_clinician
) -> None:
    """A period starting after the first answer takes its own first score as baseline (13
    at week 4, so +3); a period holding one score says there is no change to show yet."""
    generate(client, world.patient.patient_id, period_from=days_ago(30).isoformat())
    generate(
        client,
        world.patient.patient_id,
        period_from=days_ago(16).isoformat(),
        period_to=days_ago(5).isoformat(),
    )
    later, one_score = (read_pdf(r.pdf).text for r in stored_reports(app, world.patient.patient_id))
    assert (
        f"Dilator confidence (0 to 20) 13 (Moderate) {short_date(days_ago(24))} 16 (High) "
        f"{short_date(days_ago(12))} +3 points: improved"
    ) in later
    assert "Female Sexual Function Index (FSFI)" in later  # asked 20 days ago
    assert "Only one scored answer in this period: no change to show yet." in one_score
    assert "Female Sexual Function Index" not in one_score


def test_a_report_without_answers_says_so(app: Flask, client, world: World) -> None:
    """No questionnaire answered in the period: one plain sentence instead of a table."""
    start_plan(app, world.patient.patient_id, world.clinician.id, started_days_ago=20)
    act_as(client, world.clinician.id)
    generate(client, world.patient.patient_id)
    (report,) = stored_reports(app, world.patient.patient_id)
    assert "No outcome measures were answered in this period." in read_pdf(report.pdf).text


def test_a_change_down_reads_with_a_minus_sign(app: Flask, client, world: World) -> None:
    """Pain falling from 6 to 3 (lower is better) prints as "-3 points: improved" with a
    true minus sign (U+2212), which survives in the PDF's text."""
    start_plan(app, world.patient.patient_id, world.clinician.id, started_days_ago=30)
    pain = assign_measure(
        app,
        world.patient.patient_id,
        "pain-nrs",
        cadence=Cadence.REPEATING,
        every_weeks=2,
        assigned_days_ago=30,
    )
    answer_measure(app, pain, "baseline", {"pain": 6}, occasion_days_ago=30)
    answer_measure(app, pain, "week-2", {"pain": 3}, occasion_days_ago=16)
    act_as(client, world.clinician.id)
    generate(client, world.patient.patient_id)
    (report,) = stored_reports(app, world.patient.patient_id)
    text = read_pdf(report.pdf).text
    assert "6 (Moderate)" in text and "3 (Mild)" in text
    assert "\u22123 points: improved" in text


def test_the_mdt_pack_shows_the_measures_since_the_program_started(
    app: Flask, client, world: World, scored: Scored
) -> None:
    """The patient's page in the pack has the same table, from the program's start (so
    with the true baseline, whatever the pack's four-week window), and a patient without
    a program gets the answers on record."""
    offline = assign_measure(app, world.offline_patient_id, "pain-nrs", on_days_ago=3)
    answer_measure(app, offline, "once", {"pain": 5}, occasion_days_ago=3)
    act_as(client, world.clinician.id)
    response = make_pack(client, [world.patient.patient_id, world.offline_patient_id], today())
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    reader = PdfReader(io.BytesIO(response.get_data()))
    pages = [" ".join(page.extract_text().split()) for page in reader.pages]
    assert len(pages) >= 3  # contents, then each patient (flags and decisions may take two)
    # Each patient's measures from their heading on (a section may start a new page).
    body = " ".join(pages[1:])
    own = body[body.index("Outcome measures since the program started") :]
    assert f"Outcome measures since the program started ({short_date(days_ago(54))})" in own
    assert (
        f"Dilator confidence (0 to 20) 7 (Low) {short_date(days_ago(54))} 16 (High) "
        f"{short_date(days_ago(12))} +9 points: improved"
    ) in own
    assert scored.invalid.reasons[0][:60] in own
    other = body[body.index("Outcome measures on record") :]
    assert "Outcome measures on record" in other
    assert "5 (Moderate)" in other and "Only one scored answer so far" in other


def test_the_mdt_pack_keeps_the_baseline_when_a_protocol_is_replaced(
    app: Flask, client, world: World, scored: Scored
) -> None:
    """A new protocol replacing the running one today continues the program: the pack's
    table still starts at the program's start, with the baseline the schedule asked for
    there (7, Low), as the timeline shows it."""
    start_plan(app, world.patient.patient_id, world.clinician.id, started_days_ago=0)
    act_as(client, world.clinician.id)
    response = make_pack(client, [world.patient.patient_id], today())
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    reader = PdfReader(io.BytesIO(response.get_data()))
    own = " ".join(reader.pages[1].extract_text().split())
    assert f"Outcome measures since the program started ({short_date(days_ago(54))})" in own
    assert (
        f"Dilator confidence (0 to 20) 7 (Low) {short_date(days_ago(54))} 16 (High) "
        f"{short_date(days_ago(12))} +9 points: improved"
    ) in own


def test_another_clinics_answers_never_appear(
    app: Flask, client, world: World, scored: Scored
) -> None:
    """Clinic B's patient answered a pain scale: clinic A's timeline, report and scores
    never show it, clinic A's scores are not read under clinic B, and B's clinician cannot
    open A's patient's timeline."""
    other = assign_measure(app, world.other_clinic_patient.patient_id, "pain-nrs", on_days_ago=5)
    answer_measure(app, other, "once", {"pain": 9}, occasion_days_ago=5)
    html = timeline(client, world.clinician, world.patient.patient_id)
    assert "Pain numeric rating scale" not in html
    generate(client, world.patient.patient_id)
    (report,) = stored_reports(app, world.patient.patient_id)
    assert "Pain numeric rating scale" not in read_pdf(report.pdf).text
    with app.app_context():
        assert series_for(world.clinic_b, [world.patient.patient_id]) == {
            world.patient.patient_id: []
        }
        assert series_for(world.clinic_a, [world.other_clinic_patient.patient_id]) == {
            world.other_clinic_patient.patient_id: []
        }
        (pain,) = series_for(world.clinic_b, [world.other_clinic_patient.patient_id])[
            world.other_clinic_patient.patient_id
        ]
        assert pain.latest.total == 9
        db.session.rollback()
    act_as(client, world.other_clinician.id)
    assert client.get(f"/patients/{world.patient.patient_id}/timeline").status_code == 404
    assert "9 (Severe)" in timeline(
        client, world.other_clinician, world.other_clinic_patient.patient_id
    )

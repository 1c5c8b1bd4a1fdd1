"""The patient's Progress page: weekly sessions, pain over time, milestones, and only the
signed-in patient's own entries, at a fixed number of queries."""

from __future__ import annotations

import re
from datetime import timedelta

from flask import Flask

import clinic.portal.progress  # noqa: F401 - registers portal.progress until the app imports it
from clinic.core.clock import clinic_today
from clinic.domain.adherence import week_start
from clinic.domain.protocols import EventKind
from clinic.extensions import db
from clinic.models import Clinic
from tests.support.auth import act_as
from tests.support.diaries import add_entries
from tests.support.protocols import start_plan
from tests.support.queries import count_queries
from tests.support.world import World

URL = "/diary/progress"


def page(client, person) -> str:
    """The Progress page as `person` sees it (asserting it loads)."""
    act_as(client, person.id)
    response = client.get(URL)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_progress_shows_charts_tables_and_milestones(
    app: Flask, client, world: World, on_protocol: int
) -> None:
    """With sessions logged, the page has both charts (each drawn narrow, wide and wider,
    with title and desc) and the pain chart's key, their tables, the recent figures and
    the milestones in plain words, weeks counted from the start."""
    add_entries(app, on_protocol, world.patient, [0, 1, 2, 3, 4, 5, 6, 7])
    html = page(client, world.patient)
    assert html.count('<figure class="chart-figure">') == 2 and html.count("<svg") == 2 * 3
    assert 'id="adherence-chart-title"' in html and 'id="pain-chart-desc"' in html
    assert 'id="pain-chart-narrow-title"' in html and 'id="pain-chart-wider-desc"' in html
    key = html.split('<ol class="chart-key">')[1].split("</ol>")[0]
    assert "stage 1, 13 mm" in key
    assert "Sessions each week" in html and "Pain over time" in html
    assert html.count("<caption>") == 2
    assert "<dt>Last 7 days</dt>" in html and "7 of 7 (100%)" in html
    assert "Started with Size 1 (13 mm)" in html
    assert "Moved to Size 2 (17 mm) in week 3" in html
    assert "<td>3.0</td><td>2.0</td>" in html  # this week's mean pain during / after


def test_title_is_neutral(client, world: World, on_protocol: int) -> None:
    """The browser title says "Progress" and names no therapy or body part."""
    html = page(client, world.patient).lower()
    title = html.split("<title>")[1].split("</title>")[0]
    assert title.startswith("progress")
    for word in ("dilator", "vagin", "pelvic", "anal", "sexual", "pain"):
        assert word not in title


def test_charts_are_safe_under_the_content_security_policy(
    app: Flask, client, world: World, on_protocol: int
) -> None:
    """The inline SVG carries no script, no <style> element and no style attribute, which
    the app's CSP would block."""
    add_entries(app, on_protocol, world.patient, [0, 1, 2])
    html = page(client, world.patient)
    svgs = re.findall(r"<svg.*?</svg>", html, flags=re.S)
    assert len(svgs) == 2 * 3
    for svg in svgs:
        assert "<script" not in svg and "<style" not in svg and "style=" not in svg


def test_skipped_and_withdrawn_entries_do_not_count(
    app: Flask, client, world: World, on_protocol: int
) -> None:
    """Skips and withdrawn sessions count as neither done nor as pain scores."""
    add_entries(app, on_protocol, world.patient, [0, 1], skipped=True)
    add_entries(app, on_protocol, world.patient, [2, 3], withdrawn=True, pain=(9, 9))
    add_entries(app, on_protocol, world.patient, [4])
    html = page(client, world.patient)
    assert "1 of 7 (14%)" in html
    assert "<td>9.0</td>" not in html


def test_short_sessions_are_not_counted_as_done(
    app: Flask, client, world: World, on_protocol: int
) -> None:
    """A 5-minute session on a 10-minute stage (under 80%) shows its pain but is not done."""
    add_entries(app, on_protocol, world.patient, [0, 1], minutes=5)
    html = page(client, world.patient)
    assert "0 of 7 (0%)" in html
    assert html.count('<figure class="chart-figure">') == 2


def test_the_rule_for_a_session_that_counts_names_the_clinics_share(
    app: Flask, client, world: World, on_protocol: int
) -> None:
    """The page says a session counts from the clinic's share of the planned time ("at
    least 80%"; 75% once the clinic sets it), never the vaguer "most of the time", under
    which 6 of 10 minutes would seem to count when it does not."""
    html = " ".join(page(client, world.patient).split())
    assert "lasted at least 80% of the time in your plan" in html
    assert "most of the time" not in html
    with app.app_context():
        db.session.get_one(Clinic, world.clinic_a).completion_pct = 75
        db.session.commit()
    assert "lasted at least 75% of the time in your plan" in " ".join(
        page(client, world.patient).split()
    )


def test_without_a_plan_the_page_is_calm(client, world: World) -> None:
    """A patient with no protocol sees a calm message and no charts."""
    html = page(client, world.patient)
    assert "There is nothing to show here yet" in html
    assert "<svg" not in html


def test_without_entries_there_is_no_pain_chart(client, world: World, on_protocol: int) -> None:
    """No sessions yet: the weekly chart shows 0%, pain says none logged, nothing breaks."""
    html = page(client, world.patient)
    assert html.count('<figure class="chart-figure">') == 1
    assert "No sessions logged in these weeks yet." in html
    assert "0 of 7 (0%)" in html


def test_links_to_all_entries(client, world: World, on_protocol: int) -> None:
    """The page links to the list of past entries."""
    assert "All your entries" in page(client, world.patient)


def test_other_patients_entries_never_appear(
    app: Flask, client, world: World, on_protocol: int
) -> None:
    """Entries of another patient never reach this patient's page, even stored against the
    same protocol id."""
    add_entries(app, on_protocol, world.other_patient, [0, 1, 2, 3], pain=(9, 8))
    html = page(client, world.patient)
    assert "0 of 7 (0%)" in html
    assert "<td>9.0</td>" not in html and "<td>8.0</td>" not in html
    assert "No sessions logged in these weeks yet." in html


def test_only_patients_may_open_it(client, world: World) -> None:
    """Staff are refused and visitors sent to sign in."""
    assert client.get(URL).status_code == 302
    act_as(client, world.clinician.id)
    assert client.get(URL).status_code == 403


def queries_for(app: Flask, client) -> int:
    """How many SQL statements one load of the page sends."""
    with app.app_context():
        engine = db.engine
    with count_queries(engine) as statements:
        assert client.get(URL).status_code == 200
    return len(statements)


def test_query_count_does_not_grow_with_entries(
    app: Flask, client, world: World, on_protocol: int, as_patient
) -> None:
    """10 or 100 entries cost the same number of queries: entries load in one query; and
    the page sends no more than the session check, the patient's record, the protocol,
    its versions with their stages and sizes, its events, the summary's version (the key of
    the kept charts), the entries and the audit row."""
    add_entries(app, on_protocol, world.patient, [i % 20 for i in range(10)])
    at_ten = queries_for(app, client)
    add_entries(app, on_protocol, world.patient, [i % 20 for i in range(90)])
    assert queries_for(app, client) == at_ten
    assert at_ten <= 8, at_ten


def test_weeks_start_from_the_plan_start(client, world: World, on_protocol: int) -> None:
    """The tables list the weeks from the one the plan started in (20 days ago) to this
    week, not twelve weeks of nothing."""
    today = clinic_today("Europe/London")
    expected = (week_start(today) - week_start(today - timedelta(days=20))).days // 7 + 1
    html = page(client, world.patient)
    assert html.count('<tr><th scope="row" class="nowrap">') == 2 * expected


def test_a_week_with_nothing_planned_has_no_percentage(app: Flask, client, world: World) -> None:
    """Paused since the day after the start: this week reads "none planned", not 0%."""
    start_plan(app, world.patient.patient_id, world.clinician.id, [(EventKind.PAUSE, 19)])
    html = page(client, world.patient)
    assert "<td>0</td><td>0</td><td>none planned</td></tr>" in html
    assert "<dt>Last 7 days</dt>\n      <dd>nothing in your plan</dd>" in html


def test_today_counts_once_logged_and_no_fraction_is_shown(
    app: Flask, client, world: World
) -> None:
    """A patient on a once-a-day stage who logged every day: "Last 7 days" reads 7 of 7
    (100%) before today is logged (not 6 of 7, 86%) and after; no session count in the
    weekly table has a decimal point (whole sessions, issue 16)."""
    protocol_id = start_plan(app, world.patient.patient_id, world.clinician.id, started_days_ago=30)
    # Every day logged except today.
    add_entries(app, protocol_id, world.patient, range(30, 0, -1), pain=(1, 1))
    html = page(client, world.patient)
    assert "7 of 7 (100%)" in html and "28 of 28 (100%)" in html
    add_entries(app, protocol_id, world.patient, [0], pain=(1, 1))
    html = page(client, world.patient)
    assert "7 of 7 (100%)" in html and "28 of 28 (100%)" in html
    table = html[html.index("<table") :]
    assert not re.search(r"<td>\d+\.\d+</td><td>\d+</td><td>\d+%", table)

"""Progress reports from the patient's page: generated over a chosen period with the
clinician's assessment and plan, kept as an immutable record (the exact PDF bytes and their
SHA-256), listed newest first, downloaded byte for byte, and only within the clinic."""

from __future__ import annotations

import hashlib
import re
from datetime import date, timedelta
from html import unescape

import pytest
from flask import Flask
from sqlalchemy import func, select

from clinic.core.clock import clinic_today
from clinic.core.templating import short_date
from clinic.domain.adherence import Adherence, adherence_between
from clinic.domain.diary import SkipReason
from clinic.domain.protocols import EventKind
from clinic.extensions import db
from clinic.letters.compose import programme_text
from clinic.models import Clinic, DiaryEntry, Patient, Protocol, Report, User
from clinic.models.care import ReportIsFinal
from clinic.models.users import Role
from clinic.monitoring.evidence import ScoredSession, schedule_of
from clinic.protocols.queries import patient_protocols
from clinic.reporting.forms import TEXT_MAX_LENGTH
from clinic.reporting.progress import build_progress_report, create_progress_report
from tests.support.auth import act_as
from tests.support.diaries import ZONE, add_entries
from tests.support.factories import make_patient, make_user
from tests.support.forms import form_values
from tests.support.protocols import start_plan
from tests.support.queries import count_queries
from tests.support.reports import generate, new_url, read_pdf, stored_reports
from tests.support.world import World

STARTED_DAYS_AGO = 40
# Words that would say what the therapy is, or where on the body.
GIVEAWAYS = ("dilat", "vagin", "pelvic", "anal", "sexual", "rectal")


def reports_url(patient_id: int) -> str:
    return f"/patients/{patient_id}/reports"


def download_url(patient_id: int, report_id: int) -> str:
    return f"/patients/{patient_id}/reports/{report_id}/download"


def today() -> date:
    return clinic_today(ZONE)


def text_of(html: str) -> str:
    """A page's visible text, tags dropped and white space collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


@pytest.fixture
def course(app: Flask, world: World) -> int:
    """PATIENT's program: started 40 days ago, moved up to stage 2 twelve days ago; full
    sessions most days, some skips, a few too short to count. Returns the protocol id."""
    protocol = start_plan(
        app,
        world.patient.patient_id,
        world.clinician.id,
        [(EventKind.ADVANCE, 12)],
        started_days_ago=STARTED_DAYS_AGO,
    )
    add_entries(app, protocol, world.patient, [d for d in range(35) if d % 5], pain=(4, 2))
    add_entries(app, protocol, world.patient, [5, 10, 15], skipped=True)
    add_entries(app, protocol, world.patient, [20, 25], skipped=True, skip_reason=SkipReason.UNWELL)
    add_entries(app, protocol, world.patient, [30], minutes=2)
    return protocol


def engine_adherence(app: Flask, patient_id: int, first: date, last: date) -> Adherence:
    """Adherence over the period as the rules compute it from the stored entries (today
    counting once logged, as on screen)."""
    with app.app_context():
        patient = db.session.get(Patient, patient_id)
        protocol = patient_protocols(patient.id, patient.clinic_id)[0]
        entries = db.session.scalars(
            select(DiaryEntry).where(
                DiaryEntry.patient_id == patient.id, DiaryEntry.protocol_id == protocol.id
            )
        )
        sessions = [ScoredSession.of(e) for e in entries]
        return adherence_between(
            schedule_of(protocol),
            sessions,
            first,
            last,
            patient.clinic.completion_pct,
            today=today(),
        )


def test_the_form_proposes_the_program_so_far(
    client, world: World, course: int, as_clinician
) -> None:
    """Started 40 days ago (under 12 weeks): the period proposed runs from the start to today,
    and both notes are optional."""
    html = client.get(new_url(world.patient.patient_id)).get_data(as_text=True)
    values = form_values(html)
    assert values["period_from"] == (today() - timedelta(days=STARTED_DAYS_AGO)).isoformat()
    assert values["period_to"] == today().isoformat()
    assert values["assessment"] == values["plan"] == ""
    assert 'for="assessment">Assessment <span class="optional">(optional)</span>' in html


def test_a_long_program_proposes_the_last_twelve_weeks(app: Flask, client, world: World) -> None:
    """Started 200 days ago: the period proposed is the last 12 weeks, today included."""
    start_plan(app, world.patient.patient_id, world.clinician.id, started_days_ago=200)
    act_as(client, world.clinician.id)
    values = form_values(client.get(new_url(world.patient.patient_id)).get_data(as_text=True))
    assert values["period_from"] == (today() - timedelta(weeks=12, days=-1)).isoformat()
    assert values["period_to"] == today().isoformat()


def test_generating_keeps_the_exact_pdf_with_its_hash(
    app: Flask, client, world: World, course: int, as_clinician
) -> None:
    """The report is stored with its period, author, typed text, neutral file name, the PDF
    bytes and their SHA-256; the clinician lands on the list, which names it."""
    first = today() - timedelta(days=27)
    response = generate(
        client,
        world.patient.patient_id,
        period_from=first.isoformat(),
        assessment="Tolerating stage 2.",
        plan="Review in four weeks.",
    )
    (report,) = stored_reports(app, world.patient.patient_id)
    assert response.headers["Location"].endswith(
        f"{reports_url(world.patient.patient_id)}#report-{report.id}"
    )
    assert (report.period_from, report.period_to) == (first, today())
    assert report.author_id == world.clinician.id
    assert (report.assessment, report.plan) == ("Tolerating stage 2.", "Review in four weeks.")
    assert report.kind == "progress"
    assert report.pdf.startswith(b"%PDF-")
    assert report.sha256 == hashlib.sha256(report.pdf).hexdigest()
    assert report.size_bytes == len(report.pdf)
    with app.app_context():
        identifier = db.session.get(Patient, world.patient.patient_id).clinic_identifier
    assert report.file_name == f"progress-report-{identifier}-{today().isoformat()}.pdf"
    assert not any(word in report.file_name.lower() for word in GIVEAWAYS)

    listing = client.get(response.headers["Location"])
    text = text_of(listing.get_data(as_text=True))
    assert "Done: The progress report for" in text
    assert f"{short_date(first)} to {short_date(today())}" in text


def test_the_pdf_reads_back_with_the_engines_figures(
    app: Flask, client, world: World, course: int, as_clinician
) -> None:
    """Read back with pypdf: pages, the patient's name and identifier, the title, the
    sessions figure exactly as the adherence rules compute it for the same period, the
    typed assessment and plan, the structure tree, the metadata and the language."""
    first = today() - timedelta(days=27)
    generate(
        client,
        world.patient.patient_id,
        period_from=first.isoformat(),
        assessment="Settling well.",
        plan="Stay at stage 2.",
    )
    (report,) = stored_reports(app, world.patient.patient_id)
    pdf = read_pdf(report.pdf)

    expected = engine_adherence(app, world.patient.patient_id, first, today())
    assert expected.completed > 0 and expected.prescribed > expected.completed
    figure = f"{expected.percent:.0f}% ({expected.completed} of {expected.prescribed} sessions)"
    with app.app_context():
        patient = db.session.get(Patient, world.patient.patient_id)
        name, identifier = patient.full_name, patient.clinic_identifier
        author = db.session.get(User, world.clinician.id).full_name

    assert len(pdf.reader.pages) >= 1
    assert "Progress report" in pdf.text
    assert name in pdf.text and identifier in pdf.text
    assert figure in pdf.text
    assert "Settling well." in pdf.text and "Stay at stage 2." in pdf.text
    catalog = pdf.reader.trailer["/Root"]
    assert "/StructTreeRoot" in catalog
    assert str(catalog["/Lang"]).startswith("en")
    assert pdf.reader.metadata.title == f"Progress report: {name}"
    assert pdf.reader.metadata.author == author


def test_typed_markup_is_printed_as_text(
    app: Flask, client, world: World, course: int, as_clinician
) -> None:
    """HTML typed into the assessment is printed literally, never interpreted."""
    generate(client, world.patient.patient_id, assessment="Better: <b>x</b> & <i>y</i>")
    (report,) = stored_reports(app, world.patient.patient_id)
    assert report.assessment == "Better: <b>x</b> & <i>y</i>"
    assert "Better: <b>x</b> & <i>y</i>" in read_pdf(report.pdf).text


def test_download_gives_the_stored_bytes_every_time(
    app: Flask, client, world: World, course: int, as_clinician
) -> None:
    """Two downloads are byte for byte the stored PDF, whose SHA-256 is the recorded one,
    sent as a private attachment under the neutral file name."""
    generate(client, world.patient.patient_id)
    (report,) = stored_reports(app, world.patient.patient_id)
    url = download_url(world.patient.patient_id, report.id)
    first, second = client.get(url), client.get(url)
    for response in (first, second):
        assert response.status_code == 200
        assert response.mimetype == "application/pdf"
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["Content-Disposition"] == (
            f"attachment; filename={report.file_name}"
        )
    assert first.data == second.data == report.pdf
    assert hashlib.sha256(first.data).hexdigest() == report.sha256


def test_the_list_shows_each_report_newest_first(
    app: Flask, client, world: World, course: int, as_clinician
) -> None:
    """Two reports: the newer is listed first, each with its period, author, size, a short
    SHA-256 with the full value beside it, and a download link."""
    older_from = today() - timedelta(days=30)
    generate(client, world.patient.patient_id, period_from=older_from.isoformat())
    generate(client, world.patient.patient_id, period_from=today().isoformat())
    older, newer = stored_reports(app, world.patient.patient_id)
    html = client.get(reports_url(world.patient.patient_id)).get_data(as_text=True)
    assert html.index(f'id="report-{newer.id}"') < html.index(f'id="report-{older.id}"')
    text = text_of(html)
    assert f"{short_date(older_from)} to {short_date(today())}" in text
    assert f"{short_date(today())} to {short_date(today())}" in text
    for report in (older, newer):
        assert f"<code>{report.sha256[:12]}…</code>" in html
        assert f"<code>{report.sha256}</code>" in html
        assert download_url(world.patient.patient_id, report.id) in html
        assert f"{-(-report.size_bytes // 1024)} KB" in text
    assert text.count(world.clinician.name) >= 2


def test_patient_and_timeline_pages_link_to_the_reports(
    client, world: World, course: int, as_clinician
) -> None:
    """The reports are one click from the patient's record and from the timeline."""
    link = f'href="{reports_url(world.patient.patient_id)}"'
    for page in ("", "/timeline"):
        html = client.get(f"/patients/{world.patient.patient_id}{page}").get_data(as_text=True)
        assert link in html


def test_a_patient_without_reports_says_so(client, world: World, as_clinician) -> None:
    """An empty list says there are none, and offers to generate one."""
    html = client.get(reports_url(world.patient.patient_id)).get_data(as_text=True)
    assert "No progress reports yet." in html
    assert f'href="{new_url(world.patient.patient_id)}"' in html


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"period_from": "today", "period_to": "-1"},
            "period_to",
            "The end of the period must be on or after its start.",
        ),
        ({"period_to": "+1"}, "period_to", "The period cannot end in the future"),
        ({"period_from": "-41"}, "period_from", "start the period on that day or later."),
        ({"period_from": ""}, "period_from", "Enter the first day of the period."),
        ({"period_to": "31/12/2025"}, "period_to", "Enter a real date, for example"),
    ],
)
def test_a_period_that_does_not_fit_is_refused_in_plain_words(
    app: Flask, client, world: World, course: int, changes, field: str, message: str, as_clinician
) -> None:
    """Ends before it starts, ends in the future, starts before the program, missing or
    mistyped: the form comes back (400) with the message linked to the field, nothing
    stored, and the typed assessment and plan kept."""

    def day(value: str) -> str:
        if value == "today":
            return today().isoformat()
        if value[:1] in "+-" and value[1:].isdigit():
            return (today() + timedelta(days=int(value))).isoformat()
        return value

    response = generate(
        client,
        world.patient.patient_id,
        expect=400,
        assessment="Typed <before> the mistake.",
        plan="Keep this plan.",
        **{name: day(value) for name, value in changes.items()},
    )
    html = response.get_data(as_text=True)
    assert message in unescape(html)
    assert f'<a href="#{field}">' in html
    assert f'aria-describedby="{field}-hint {field}-error"' in html
    values = form_values(html)
    assert values["assessment"] == "Typed <before> the mistake."
    assert values["plan"] == "Keep this plan."
    assert stored_reports(app, world.patient.patient_id) == []


@pytest.mark.parametrize(
    ("changes", "wrong", "message"),
    [
        # The end is in the future: not a start that makes the period too long.
        ({"period_from": "-10", "period_to": "+800"}, {"period_to"}, "cannot end in the future"),
        # The start is in the future: not an end that comes before it.
        ({"period_from": "+5", "period_to": "today"}, {"period_from"}, "cannot start in the"),
        # Both before the program: each says so, not that the end comes before the start.
        (
            {"period_from": "-41", "period_to": "-50"},
            {"period_from", "period_to"},
            "end the period on that day or later.",
        ),
    ],
)
def test_the_message_goes_on_the_field_that_is_wrong(
    client, world: World, course: int, changes, wrong: set[str], message: str, as_clinician
) -> None:
    """A mistake in one date puts no error on the other, right, date: a rule between the
    two (the end on or after the start, two years at most) is checked only against a date
    that is right on its own terms."""
    values = {
        name: (today() if value == "today" else today() + timedelta(days=int(value))).isoformat()
        for name, value in changes.items()
    }
    html = generate(client, world.patient.patient_id, expect=400, **values).get_data(as_text=True)
    assert message in unescape(html)
    assert {name for name in ("period_from", "period_to") if f'id="{name}-error"' in html} == wrong


def test_a_period_over_two_years_is_refused(app: Flask, client, world: World) -> None:
    """A program of 800 days: a report over all of it is refused; two years is accepted."""
    protocol_id = start_plan(app, world.patient.patient_id, world.clinician.id)
    with app.app_context():  # back-dated in the database: the app only records recent starts
        db.session.get(Protocol, protocol_id).events[0].effective_on = today() - timedelta(800)
        db.session.commit()
    act_as(client, world.clinician.id)
    too_long = (today() - timedelta(days=731)).isoformat()
    response = generate(client, world.patient.patient_id, expect=400, period_from=too_long)
    assert "Choose a period of at most two years." in response.get_data(as_text=True)
    two_years = (today() - timedelta(days=730)).isoformat()
    generate(client, world.patient.patient_id, period_from=two_years)
    assert len(stored_reports(app, world.patient.patient_id)) == 1


def test_text_over_the_limit_is_refused(
    app: Flask, client, world: World, course: int, as_clinician
) -> None:
    """An assessment over the limit (600 characters, what fits on two pages) is refused,
    saying why and by how much, and kept in the form."""
    long_text = "a" * (TEXT_MAX_LENGTH + 1)
    response = generate(client, world.patient.patient_id, expect=400, assessment=long_text)
    html = response.get_data(as_text=True)
    assert TEXT_MAX_LENGTH == 600
    assert "Use at most 600 characters, so the report fits on two pages; this text has 601." in html
    assert form_values(html)["assessment"] == long_text
    assert stored_reports(app, world.patient.patient_id) == []


def test_a_patient_without_a_protocol_gets_a_clear_message(
    app: Flask, client, world: World, as_clinician
) -> None:
    """No protocol: the page says there is nothing to report and offers to start one,
    instead of a form; a POST stores nothing."""
    response = client.get(new_url(world.patient.patient_id))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "has no program yet, so there is nothing to report." in html
    assert 'name="period_from"' not in html
    assert f'href="/patients/{world.patient.patient_id}/protocol' in html
    today_ = today().isoformat()
    refused = client.post(
        new_url(world.patient.patient_id), data={"period_from": today_, "period_to": today_}
    )
    assert refused.status_code == 400
    assert stored_reports(app, world.patient.patient_id) == []


def test_a_program_starting_later_has_nothing_to_report_yet(
    app: Flask, client, world: World
) -> None:
    """A protocol set to start next week: the page says when reports become possible."""
    start_plan(app, world.patient.patient_id, world.clinician.id, started_days_ago=-7)
    act_as(client, world.clinician.id)
    html = client.get(new_url(world.patient.patient_id)).get_data(as_text=True)
    assert "so there is nothing to report yet" in html
    assert 'name="period_from"' not in html


def make_stored_report(app: Flask, patient_id: int, author_id: int | None) -> int:
    """A report row written directly (stand-in bytes): for lists and scoping, where the
    PDF's content does not matter."""
    with app.app_context():
        patient = db.session.get(Patient, patient_id)
        pdf = b"%PDF-1.7 stand-in " + str(patient_id).encode()
        report = Report(
            clinic_id=patient.clinic_id,
            patient_id=patient.id,
            kind="progress",
            period_from=today() - timedelta(days=7),
            period_to=today(),
            author_id=author_id,
            file_name="progress-report-test.pdf",
            pdf=pdf,
            sha256=hashlib.sha256(pdf).hexdigest(),
            size_bytes=len(pdf),
        )
        db.session.add(report)
        db.session.commit()
        return report.id


def test_another_clinics_clinician_is_told_nothing_exists(
    app: Flask, client, world: World, course: int
) -> None:
    """The list, the form (both ways) and the download answer 404 to a clinician of
    another clinic, and nothing is stored."""
    report_id = make_stored_report(app, world.patient.patient_id, world.clinician.id)
    act_as(client, world.other_clinician.id)
    patient_id = world.patient.patient_id
    assert client.get(reports_url(patient_id)).status_code == 404
    assert client.get(new_url(patient_id)).status_code == 404
    today_ = today().isoformat()
    posted = client.post(new_url(patient_id), data={"period_from": today_, "period_to": today_})
    assert posted.status_code == 404
    assert client.get(download_url(patient_id, report_id)).status_code == 404
    # Nor under a patient of their own clinic.
    own = world.other_clinic_patient.patient_id
    assert client.get(download_url(own, report_id)).status_code == 404
    assert len(stored_reports(app, patient_id)) == 1


def test_another_patients_report_is_not_found_under_this_patient(
    app: Flask, client, world: World
) -> None:
    """A report id of one patient, asked for under another patient of the same clinic,
    is not found; under its own patient it downloads."""
    report_id = make_stored_report(app, world.other_patient.patient_id, world.clinician.id)
    act_as(client, world.clinician.id)
    assert client.get(download_url(world.patient.patient_id, report_id)).status_code == 404
    assert client.get(download_url(world.other_patient.patient_id, report_id)).status_code == 200
    html = client.get(reports_url(world.patient.patient_id)).get_data(as_text=True)
    assert "No progress reports yet." in html


def test_the_list_costs_the_same_queries_for_one_or_many(
    app: Flask, client, world: World, as_clinician
) -> None:
    """One report or six by different authors: the list page sends the same number of
    statements (authors loaded with the reports; the PDFs not loaded at all)."""
    make_stored_report(app, world.patient.patient_id, world.clinician.id)
    with app.app_context():
        engine = db.engine

    def load() -> tuple[int, list[str]]:
        with count_queries(engine) as statements:
            assert client.get(reports_url(world.patient.patient_id)).status_code == 200
        return len(statements), statements

    at_one, _ = load()
    for author in (world.colleague.id, None, world.clinician.id, world.colleague.id, None):
        make_stored_report(app, world.patient.patient_id, author)
    at_six, statements = load()
    assert at_six == at_one
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Report)) == 6
    report_reads = [s for s in statements if "FROM reports" in s]
    assert report_reads and all("reports.pdf" not in s for s in report_reads)


def test_a_stored_report_cannot_be_changed_or_deleted(app: Flask, world: World) -> None:
    """The record is what was sent: the model refuses updates and deletes."""
    start_plan(app, world.patient.patient_id, world.clinician.id)
    with app.app_context(), app.test_request_context():
        report = create_progress_report(
            db.session.get(Patient, world.patient.patient_id),
            today() - timedelta(days=7),
            today(),
            author=db.session.get(User, world.clinician.id),
            assessment="As sent.",
            plan="",
        )
        db.session.commit()
        report.assessment = "Changed afterwards."
        with pytest.raises(ReportIsFinal):
            db.session.flush()
        db.session.rollback()
        db.session.delete(db.session.get(Report, report.id))
        with pytest.raises(ReportIsFinal):
            db.session.flush()
        db.session.rollback()
        assert db.session.get(Report, report.id).assessment == "As sent."


def test_a_period_starting_mid_week_counts_only_its_own_days(app: Flask, world: World) -> None:
    """The first week's row covers the period's days of that week: a session every day
    from a Saturday start reads 2 of 2, not 2 of 7."""
    protocol_id = start_plan(app, world.patient.patient_id, world.clinician.id, started_days_ago=30)
    add_entries(app, protocol_id, world.patient, range(30))
    saturday = today() - timedelta(days=(today().weekday() - 5) % 7 + 7)
    with app.app_context(), app.test_request_context():
        patient = db.session.get(Patient, world.patient.patient_id)
        protocol = patient_protocols(patient.id, patient.clinic_id)[0]
        report = build_progress_report(patient, protocol, saturday, today(), author=None)
        first = report.progress.weeks[0].adherence
        assert (first.completed, first.prescribed) == (2, 2)
        assert (
            sum(w.adherence.completed for w in report.progress.weeks) == report.adherence.completed
        )


def test_the_printed_period_is_the_period_chosen_and_kept(
    app: Flask, client, world: World, course: int, as_clinician
) -> None:
    """A report for a period in the past (not the proposed one) stores exactly that period,
    prints it under the identifiers, and counts only the sessions inside it: its sessions
    figure is the rules' figure for those dates, not for the weeks up to today (hazard log
    HAZ-11, report with the wrong period)."""
    first, last = today() - timedelta(days=27), today() - timedelta(days=14)
    generate(
        client,
        world.patient.patient_id,
        period_from=first.isoformat(),
        period_to=last.isoformat(),
    )
    (report,) = stored_reports(app, world.patient.patient_id)
    assert (report.period_from, report.period_to) == (first, last)
    text = read_pdf(report.pdf).text
    assert f"Period: {short_date(first)} to {short_date(last)}" in text
    inside = engine_adherence(app, world.patient.patient_id, first, last)
    up_to_today = engine_adherence(app, world.patient.patient_id, first, today())
    assert inside.prescribed < up_to_today.prescribed
    assert f"({inside.completed} of {inside.prescribed} sessions)" in text


def test_a_patient_without_a_diary_has_no_adherence_figure(
    app: Flask, client, world: World, as_clinician
) -> None:
    """A patient who does not use the portal has no diary: the report and the letter built
    from it say adherence is not known, week by week too, and draw no chart of 0% bars
    (it read "0% (0 of 28 sessions)", as if every session had been missed)."""
    with app.app_context():
        offline = make_patient(db.session.get_one(Clinic, world.clinic_a)).id
        db.session.commit()
    start_plan(app, offline, world.clinician.id, started_days_ago=STARTED_DAYS_AGO)
    generate(client, offline)
    (report,) = stored_reports(app, offline)
    text = read_pdf(report.pdf).text
    assert "not known: the patient does not use the portal" in text
    assert text.count("no diary") >= 5  # the adherence and pain lines, then each week
    assert "mean): not known: no diary." in text  # not "no sessions", as if none were done
    assert "% (0 of" not in text and "0%" not in text
    assert "Share of prescribed sessions completed each week" not in text  # the chart's caption
    with app.test_request_context():
        patient = db.session.get_one(Patient, offline)
        protocol = patient_protocols(offline, patient.clinic_id)[0]
        built = build_progress_report(
            patient, protocol, today() - timedelta(days=27), today(), author=None
        )
        letter = programme_text(built)
    assert not built.keeps_diary and built.progress.adherence_chart is None
    assert "not known (the patient does not keep the clinic's online diary)" in letter


def test_an_invited_patient_who_has_not_joined_yet_has_no_diary_either(
    app: Flask, world: World
) -> None:
    """Invited but no password chosen yet: no diary, so no figure; once on the portal,
    a patient who logged nothing in the period reads 0% (0 of N), missed sessions."""
    with app.app_context():
        clinic = db.session.get_one(Clinic, world.clinic_a)
        invited = make_patient(clinic, user=make_user(clinic, Role.PATIENT, password=None)).id
        joined = make_patient(clinic, portal=True).id
        db.session.commit()
    figures = {}
    for patient_id in (invited, joined):
        start_plan(app, patient_id, world.clinician.id, started_days_ago=STARTED_DAYS_AGO)
        with app.test_request_context():
            patient = db.session.get_one(Patient, patient_id)
            protocol = patient_protocols(patient_id, patient.clinic_id)[0]
            built = build_progress_report(
                patient, protocol, today() - timedelta(days=13), today(), author=None
            )
            figures[patient_id] = (
                built.keeps_diary,
                built.adherence.completed,
                built.adherence.percent,
            )
    assert figures[invited][0] is False
    assert figures[joined] == (True, 0, 0.0)

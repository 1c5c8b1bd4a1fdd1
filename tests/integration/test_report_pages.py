"""The progress report on paper: twelve weeks of a busy program with the longest assessment
and plan the form accepts still print on two pages, and the signature is always on the page
where the plan ends (never alone on a page of its own); the typed texts' limit is said in
plain words and held by the service too. Every adherence figure names its window."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from clinic.core.clock import clinic_today
from clinic.core.templating import short_date
from clinic.domain.adherence import adherence_between
from clinic.domain.diary import FlagReason, SkipReason
from clinic.domain.measure_schedule import Cadence
from clinic.domain.protocols import EventKind
from clinic.extensions import db
from clinic.models import Clinic, DiaryEntry, Patient, Protocol, RedFlag
from clinic.monitoring.evidence import ScoredSession, schedule_of
from clinic.reporting.forms import TEXT_MAX_LENGTH
from clinic.reporting.progress import ReportError, build_progress_report, progress_report_pdf
from tests.support.diaries import ZONE, add_entries
from tests.support.forms import form_values
from tests.support.measure_scores import answer_measure, assign_measure, weekly_pain_scores
from tests.support.protocols import decide_today, start_plan
from tests.support.reports import (
    UNBROKEN_WORD,
    ReadBack,
    generate,
    read_pdf,
    stored_reports,
    widest_run_fits_the_page,
)
from tests.support.world import World

STARTED_DAYS_AGO = 120
PERIOD_DAYS = 12 * 7

ASSESSMENT_SENTENCES = (
    "Sam has kept to the programme well over these twelve weeks and logs most sessions on the day.",
    "Pain during sessions eased from moderate to mild, and pain after sessions settles within"
    " the hour.",
    "One high pain score was reviewed by phone and settled with rest; no bleeding beyond"
    " spotting was reported.",
    "Insertion is now easy at the current stage, and movement is comfortable after a warm-up on"
    " the previous size.",
    "Breathing and relaxation are used before each session, with less guarding and more"
    " confidence.",
    "Missed sessions were mostly for lack of time or privacy at home; we discussed practical"
    " options.",
)
PLAN_SENTENCES = (
    "Stay at the current stage for two more weeks, then move up when the stage's rule is met.",
    "Keep ten minutes once a day, with plenty of water-based lubricant and a warm-up first.",
    "Phone review in two weeks; face-to-face review in four weeks, with outcome measures.",
    "Contact the clinic about sharp pain, bleeding beyond spotting or a device that will not"
    " come out.",
    "Carry on with the breathing routine, and log skipped sessions with their reasons.",
)
PLAN_ENDING = "Next review on the day agreed."


def today() -> date:
    return clinic_today(ZONE)


def full_text(sentences: tuple[str, ...], paragraphs: int, length: int, ending: str = "") -> str:
    """Plain clinical prose of `paragraphs` paragraphs (blank lines between) and at most
    `length` characters, within a few of it (the last sentence cut short at a word),
    ending with the sentence `ending` when given."""
    pool = [sentences[i % len(sentences)] for i in range(100)]
    chosen: list[str] = []
    reserve = len(ending) + 1 if ending else 0

    def text_of(parts: list[str]) -> str:
        per = max(1, -(-len(parts) // paragraphs))
        groups = [" ".join(parts[i : i + per]) for i in range(0, len(parts), per)]
        return "\n\n".join([*groups[: paragraphs - 1], " ".join(groups[paragraphs - 1 :])])

    for sentence in pool:
        if len(text_of([*chosen, sentence])) + reserve > length:
            words = []
            for word in sentence.rstrip(".").split():
                if len(text_of([*chosen, " ".join([*words, word]) + "."])) + reserve > length:
                    break
                words.append(word)
            if words:
                chosen.append(" ".join(words) + ".")
            break
        chosen.append(sentence)
    if ending:
        chosen.append(ending)
    return text_of(chosen)


@pytest.fixture
def busy_quarter(app: Flask, world: World) -> int:
    """PATIENT's program: started 120 days ago and moved up, held, and moved up twice more
    (each with a reason); sessions on most days of the last twelve weeks with pain scores,
    skips for three reasons, three red flags in the period (two reviewed with a note, one
    open), and two outcome measures answered. Returns the protocol id."""
    protocol = start_plan(
        app,
        world.patient.patient_id,
        world.clinician.id,
        [
            (EventKind.ADVANCE, 75),
            (EventKind.HOLD, 55),
            (EventKind.ADVANCE, 35),
            (EventKind.ADVANCE, 12),
        ],
        started_days_ago=STARTED_DAYS_AGO,
    )
    days = [d for d in range(1, PERIOD_DAYS + 10) if d % 6]
    add_entries(app, protocol, world.patient, days, pain=(3, 2))
    for reason, skipped_days in (
        (SkipReason.NO_TIME, [6, 30, 54]),
        (SkipReason.NO_PRIVACY, [12, 36]),
        (SkipReason.UNWELL, [18]),
    ):
        add_entries(app, protocol, world.patient, skipped_days, skipped=True, skip_reason=reason)
    with app.app_context():
        entries = db.session.scalars(
            select(DiaryEntry)
            .where(DiaryEntry.protocol_id == protocol, DiaryEntry.skipped.is_(False))
            .order_by(DiaryEntry.occurred_on.desc())
        ).all()
        for entry, reason, note in (
            (entries[50], FlagReason.HIGH_PAIN, "Phoned the same day; settled with rest."),
            (entries[20], FlagReason.BLEEDING, "Spotting only on review; no action needed."),
            (entries[3], FlagReason.SHARP_PAIN, ""),
        ):
            db.session.add(
                RedFlag(
                    clinic_id=entry.clinic_id,
                    patient_id=entry.patient_id,
                    entry_id=entry.id,
                    reason=reason,
                    pain=8 if reason is FlagReason.HIGH_PAIN else None,
                    raised_at=datetime.combine(entry.occurred_on, time(13), UTC),
                    acknowledged_at=(
                        datetime.combine(entry.occurred_on, time(16), UTC) if note else None
                    ),
                    acknowledged_by_id=world.clinician.id if note else None,
                    acknowledgement=note,
                    escalated_level=2,
                )
            )
        db.session.commit()
    weekly_pain_scores(app, world.patient.patient_id, 11, STARTED_DAYS_AGO - 30)
    pgic = assign_measure(
        app, world.patient.patient_id, "pgic", cadence=Cadence.ONCE, on_days_ago=8
    )
    answer_measure(app, pgic, "once", {"change": 2}, occasion_days_ago=8)
    return protocol


def page_of(pdf: ReadBack, words: str) -> list[int]:
    """The pages (0-based) whose text holds `words`, white space collapsed."""
    wanted = " ".join(words.split())
    return [
        i
        for i, page in enumerate(pdf.reader.pages)
        if wanted in " ".join(page.extract_text().split())
    ]


@pytest.mark.parametrize(("plan_paragraphs", "paper"), [(3, "a4"), (1, "a4"), (2, "letter")])
def test_twelve_weeks_with_a_full_assessment_and_plan_fit_on_two_pages(
    app: Flask,
    client,
    world: World,
    busy_quarter: int,
    as_clinician,
    plan_paragraphs: int,
    paper: str,
) -> None:
    """The proposed period (the last 12 weeks) of a busy program, with an assessment and a
    plan each as long as the form accepts: read back with pypdf, two pages at most, and
    the signature on the page where the plan ends (in one paragraph or several). US Letter
    is 18 mm shorter a page: there this busiest case takes a third page (the demo's own
    12 weeks keep to two), the signature still with the plan."""
    with app.app_context():
        db.session.get(Clinic, world.clinic_a).paper_size = paper
        db.session.commit()
    assessment = full_text(ASSESSMENT_SENTENCES, 2, TEXT_MAX_LENGTH)
    plan = full_text(PLAN_SENTENCES, plan_paragraphs, TEXT_MAX_LENGTH, PLAN_ENDING)
    assert min(len(assessment), len(plan)) > TEXT_MAX_LENGTH - 20
    assert max(len(assessment), len(plan)) <= TEXT_MAX_LENGTH
    proposed = form_values(
        client.get(f"/patients/{world.patient.patient_id}/reports/new").get_data(as_text=True)
    )
    first = date.fromisoformat(proposed["period_from"])
    assert (today() - first).days + 1 == PERIOD_DAYS

    generate(client, world.patient.patient_id, assessment=assessment, plan=plan)
    (report,) = stored_reports(app, world.patient.patient_id)
    pdf = read_pdf(report.pdf)

    # The data is what a full report holds: every week, flags, stage changes, measures.
    assert "Red flags and how they were handled" in pdf.text
    assert pdf.text.count("Moved up a stage") >= 2 and "Held at stage" in pdf.text
    assert "Outcome measures in this period" in pdf.text and "Not yet reviewed." in pdf.text
    assert len(pdf.reader.pages) <= (2 if paper == "a4" else 3)
    plan_ends = page_of(pdf, PLAN_ENDING)
    assert plan_ends and plan_ends == page_of(pdf, "Signed:") == page_of(pdf, "Generated")
    assert page_of(pdf, assessment[-40:])  # printed whole, nothing cut off


def test_the_signature_follows_the_plan_to_the_next_page(
    app: Flask, world: World, busy_quarter: int
) -> None:
    """When the report runs past two pages (here the whole program, 17 weeks, and a plan
    of one-line paragraphs, more of them each time so the page ends at every point of the
    plan and its signature), the plan's last paragraph goes with the signature: the
    signature is never alone at the top of a page."""
    with app.test_request_context():
        patient = db.session.get(Patient, world.patient.patient_id)
        protocol = db.session.get(Protocol, busy_quarter)
        for steps in range(7, 10):
            plan = "\n\n".join(f"Step {n}: review at the next visit." for n in range(1, steps + 1))
            assert len(plan) <= TEXT_MAX_LENGTH
            report = build_progress_report(
                patient,
                protocol,
                today() - timedelta(days=STARTED_DAYS_AGO),
                today(),
                author=None,
                assessment=full_text(ASSESSMENT_SENTENCES, 3, TEXT_MAX_LENGTH),
                plan=plan,
            )
            pdf = read_pdf(progress_report_pdf(report))
            signed = page_of(pdf, "Signed:")
            last = f"Step {steps}: review at the next visit."
            assert signed == page_of(pdf, last), f"{steps} steps"
            page = " ".join(pdf.reader.pages[signed[0]].extract_text().split())
            assert page.index(last) < page.index("Signed:")


def test_the_limit_is_said_in_plain_words_and_held_by_the_service(
    app: Flask, client, world: World, busy_quarter: int, as_clinician
) -> None:
    """A plan one character over the limit is refused next to the field, saying why and
    by how much, and nothing is kept; the service refuses it too (the command line and any
    other caller get the same rule)."""
    too_long = "a" * (TEXT_MAX_LENGTH + 1)
    response = generate(client, world.patient.patient_id, expect=400, plan=too_long)
    html = response.get_data(as_text=True)
    assert (
        f"Use at most {TEXT_MAX_LENGTH:,} characters, so the report fits on two pages; this "
        f"text has {TEXT_MAX_LENGTH + 1:,}."
    ) in html
    assert f"Up to {TEXT_MAX_LENGTH:,} characters (about 100 words)" in html
    assert stored_reports(app, world.patient.patient_id) == []
    with app.test_request_context():
        patient = db.session.get(Patient, world.patient.patient_id)
        protocol = db.session.get(Protocol, busy_quarter)
        with pytest.raises(ReportError) as refused:
            build_progress_report(
                patient, protocol, today(), today(), author=None, assessment=too_long
            )
    assert refused.value.field == "assessment"


def test_each_adherence_figure_names_its_window(
    app: Flask, client, world: World, busy_quarter: int, as_clinician
) -> None:
    """The summary's adherence says which days of the period it covers (to yesterday,
    saying so, when today is not logged yet) and is the rules' figure for them; each
    week's row is under "Adherence that week"; no figure is a fraction of a session, and
    no other adherence figure stands unnamed beside them."""
    generate(client, world.patient.patient_id)
    (report,) = stored_reports(app, world.patient.patient_id)
    text = read_pdf(report.pdf).text
    first = report.period_from
    with app.app_context():
        protocol = db.session.get(Protocol, busy_quarter)
        entries = db.session.scalars(
            select(DiaryEntry).where(DiaryEntry.protocol_id == busy_quarter)
        ).all()
        expected = adherence_between(
            schedule_of(protocol),
            [ScoredSession.of(e) for e in entries],
            first,
            today(),
            protocol.patient.clinic.completion_pct,
            today=today(),
        )
    uncounted = (
        f"; {short_date(today())} not counted: nothing was logged that day before the report"
        " was made"
        if expected.last < today()
        else ""
    )
    assert (
        f"Adherence over the period ({first.day} {first:%b} to {short_date(expected.last)}"
        f"{uncounted}): {expected.percent:.0f}% ({expected.completed} of"
        f" {expected.prescribed} sessions)."
    ) in text
    assert "Adherence that week" in text
    for figure in re.findall(r"[Aa]dherence[^%]{0,80}%", text):
        assert "over the period" in figure or "that week" in figure, figure
    assert not re.search(r"\d+\.\d+ (sessions|of)", text)


def test_a_long_unbroken_reason_wraps_on_the_page(
    app: Flask, world: World, on_protocol: int, progress_report
) -> None:
    """A decision's reason holding a 200-character word with no break in it is printed
    whole in the report's stage history, wrapped onto lines that fit the page, rather
    than running off its right edge (the same body is the report a letter attaches)."""
    decide_today(
        app, on_protocol, EventKind.HOLD, world.clinician.id, f"See {UNBROKEN_WORD} for why."
    )
    pdf = progress_report(on_protocol).pdf
    assert read_pdf(pdf).text.count("A") >= len(UNBROKEN_WORD)
    longest, fits = widest_run_fits_the_page(pdf)
    assert longest <= fits, f"{longest} characters on one line; the page holds {fits}"

"""Progress reports for tests: made through the page (`generate`), read back from the
database (`stored_reports`) and from their PDF (`read_pdf`), and rendered as the clinic
prints them (`render_progress_report`, offered as the `progress_report` fixture)."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, render_template
from pypdf import PdfReader
from sqlalchemy import select

from clinic.core.clock import clinic_today
from clinic.extensions import db
from clinic.models import Patient, Protocol, Report, User
from clinic.reporting.progress import build_progress_report, default_period, progress_report_pdf
from tests.support.forms import form_values
from tests.support.protocols import ZONE


@dataclass(frozen=True)
class RenderedReport:
    """A progress report as the browser's preview (HTML) and as the printed PDF."""

    html: str
    pdf: bytes


# What the `progress_report` fixture gives: (protocol_id, assessment=..., plan=...) -> report.
ReportRenderer = Callable[..., RenderedReport]


def render_progress_report(
    app: Flask,
    patient_id: int,
    protocol_id: int,
    author_id: int,
    *,
    assessment: str = "Progressing.",
    plan: str = "Continue.",
) -> RenderedReport:
    """The patient's progress report on the protocol for its default period up to today,
    written by `author_id` with this assessment and plan, rendered with the clinic's
    settings (paper size, address ...)."""
    with app.test_request_context():
        protocol = db.session.get(Protocol, protocol_id)
        period_from, period_to = default_period(protocol, clinic_today(ZONE))
        report = build_progress_report(
            db.session.get(Patient, patient_id),
            protocol,
            period_from,
            period_to,
            author=db.session.get(User, author_id),
            assessment=assessment,
            plan=plan,
        )
        return RenderedReport(
            html=render_template("reports/progress.html", report=report),
            pdf=progress_report_pdf(report),
        )


def new_url(patient_id: int) -> str:
    """The page that makes a new report for the patient."""
    return f"/patients/{patient_id}/reports/new"


def generate(client, patient_id: int, expect: int = 302, **changes: str):
    """Open the form, change what is given, send it; returns the response."""
    page = client.get(new_url(patient_id))
    assert page.status_code == 200
    values = form_values(page.get_data(as_text=True))
    values.update(changes)
    response = client.post(new_url(patient_id), data=values)
    assert response.status_code == expect, response.get_data(as_text=True)[:2000]
    return response


def stored_reports(app: Flask, patient_id: int) -> list[Report]:
    """The patient's stored reports, oldest first, PDFs loaded, detached."""
    with app.app_context():
        reports = list(
            db.session.scalars(
                select(Report).where(Report.patient_id == patient_id).order_by(Report.id)
            )
        )
        for report in reports:
            _ = report.pdf, report.author  # load the deferred bytes and the author
        db.session.expunge_all()
        return reports


@dataclass(frozen=True)
class ReadBack:
    """A PDF as pypdf reads it: text with white space collapsed, and its reader."""

    text: str
    reader: PdfReader


def read_pdf(data: bytes) -> ReadBack:
    """The PDF read back by pypdf."""
    reader = PdfReader(io.BytesIO(data))
    text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    return ReadBack(text, reader)


# A 200-character word with no break in it, as a clinician might paste into a reason.
UNBROKEN_WORD = "A" * 200
# The narrowest a DejaVu Sans "A" is printed in these documents (0.684 em at 7 pt, below
# the smallest type they use): any run of it longer than the page's width holds at this
# size ran off the page.
NARROWEST_A_PT = 0.684 * 7


def widest_run_fits_the_page(pdf: bytes, char: str = "A") -> tuple[int, int]:
    """The longest run of `char` on one line of any page, and the most of them the page's
    width could hold: the first is at most the second only if a long word was wrapped."""
    reader = PdfReader(io.BytesIO(pdf))
    longest = max(
        (len(run) for page in reader.pages for run in re.findall(f"{char}+", page.extract_text())),
        default=0,
    )
    return longest, int(float(reader.pages[0].mediabox.width) / NARROWEST_A_PT)

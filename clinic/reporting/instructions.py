"""The patient's instruction sheet: the plan in force in plain words with the safety
guidance, as a PDF to print in clinic or download from the portal.

It shows the same partials as the HTML sheet and the portal's plan page
(`templates/shared/`), so the printed wording is the reviewed wording. Its title and file
name say nothing about the therapy or the body, and it carries no name or identifier: a
sheet left on a printer or a kitchen table tells nobody whose it is.
"""

from __future__ import annotations

from datetime import date

from clinic.models import Clinic
from clinic.protocols.prescriptions import Prescription
from clinic.reporting.pdf import render_pdf

TEMPLATE = "reports/instructions.html"
FILE_NAME = "session-plan.pdf"


def instruction_sheet_pdf(prescription: Prescription, clinic: Clinic, today: date) -> bytes:
    """The sheet for `prescription` as a tagged PDF on the clinic's paper."""
    return render_pdf(
        TEMPLATE, clinic.paper_size, clinic=clinic, prescription=prescription, today=today
    )

"""The safety case in the app: "About this software" for everyone, the hazard log for
administrators as a page and as a PDF for the clinic's Clinical Safety Officer."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user
from werkzeug.wrappers import Response

from clinic.access import public, roles
from clinic.core.clock import clinic_today
from clinic.core.downloads import pdf_attachment
from clinic.domain.risk import RISK_WORDS
from clinic.models import Role
from clinic.reporting.pdf import render_pdf
from clinic.safety import markdown
from clinic.safety.case import hazard_log, intended_use, software_version

bp = Blueprint("safety", __name__)


@bp.get("/about")
@public
def about() -> str:
    """What the software is for, what it is not and its contraindications."""
    # Open to anyone, signed in or not: the statement of intended use is the software's
    # label, read before an account exists too. The title stays neutral (the portal's rule).
    return render_template(
        "safety/about.html",
        statement=markdown.render(intended_use(), top=2),
        version=software_version(),
    )


@bp.get("/admin/safety-case")
@roles(Role.ADMIN)
def hazard_log_page() -> str:
    """The hazard log: each hazard, its risk before and after, its controls and their tests."""
    return render_template(
        "safety/hazard_log.html",
        log=hazard_log(),
        risk_words=RISK_WORDS,
        version=software_version(),
    )


@bp.get("/admin/safety-case.pdf")
@roles(Role.ADMIN)
def hazard_log_pdf() -> Response:
    """The hazard log as a PDF to sign, on the clinic's paper."""
    clinic = current_user.clinic
    pdf = render_pdf(
        "reports/hazard_log.html",
        clinic.paper_size,
        clinic=clinic,
        log=hazard_log(),
        risk_words=RISK_WORDS,
        version=software_version(),
        today=clinic_today(clinic.timezone),
    )
    return pdf_attachment(pdf, "hazard-log.pdf")

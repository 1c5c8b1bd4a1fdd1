"""The patient's instruction sheet: the plan in force in plain words with the safety
guidance, as a PDF to print in clinic or download from the portal.

It shows the same partials as the HTML sheet and the portal's plan page
(`templates/shared/`), so the printed wording is the reviewed wording. Its title and file
name say nothing about the therapy or the body, and it carries no name or identifier: a
sheet left on a printer or a kitchen table tells nobody whose it is.

The sheet is printed in the patient's language (`sheet_language`: the one on their record
once their clinic has turned it on, else English), and the clinician can print an English
copy of the same sheet for the clinic's file. Either way the PDF declares its language
(`<html lang>` becomes the catalog's /Lang), so a screen reader reads it in the right voice.
"""

from __future__ import annotations

import re
from datetime import date

from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from markupsafe import Markup

from clinic.i18n import DEFAULT_LANGUAGE, language, served_language
from clinic.models import Clinic, Patient
from clinic.protocols.prescriptions import Prescription
from clinic.reporting.pdf import render_pdf

TEMPLATE = "reports/instructions.html"
# The English file name (also the clinic's English copy); `file_name` gives it in the
# sheet's own language.
FILE_NAME = "session-plan.pdf"


def sheet_language(patient: Patient) -> str:
    """The language the patient's sheet prints in: their record's, when their clinic has
    turned it on, else English (the same rule as their portal's)."""
    return served_language(patient.clinic_id, patient.language)


def file_name(code: str = DEFAULT_LANGUAGE) -> str:
    """The sheet's neutral file name in language `code` ("session-plan.pdf")."""
    with force_locale(code):
        # TRANSLATORS: a file name: lower-case letters without accents, hyphens, no spaces;
        # it must not say what the therapy is.
        return _("session-plan.pdf")


# The page-number message's placeholders, and the CSS counter each becomes.
_COUNTERS = {"%(page)s": "counter(page)", "%(pages)s": "counter(pages)"}
_PLACEHOLDER = re.compile(r"(%\(pages?\)s)")


def _css_string(text: str) -> str:
    """`text` as a CSS string (quoted; a backslash, quote, newline or "<" escaped, so it
    can neither end the string nor the <style> element)."""
    escaped = text.replace("\\", "\\5C ").replace('"', "\\22 ").replace("\n", " ")
    return '"' + escaped.replace("<", "\\3C ") + '"'


def page_margins_css() -> Markup:
    """The sheet's page footer (the confidentiality line and "Page 1 of 3") in the
    language being rendered: print.css words it in English, and CSS cannot translate."""
    footer = _(
        "Confidential: personal health information. If you received this in error, destroy"
        " it and tell the sender."
    )
    # TRANSLATORS: the page number at the foot of a printed page ("Page 1 of 3").
    pages = _("Page %(page)s of %(pages)s")  # unformatted: each placeholder becomes a counter
    counted = " ".join(
        _COUNTERS.get(part) or _css_string(part) for part in _PLACEHOLDER.split(pages) if part
    )
    css = (
        f"@page {{ @bottom-left {{ content: {_css_string(footer)}; }}"
        f" @bottom-right {{ content: {counted}; }} }}"
    )
    return Markup(css)  # noqa: S704 - our own rules; every text in them is a CSS string


def instruction_sheet_pdf(
    prescription: Prescription, clinic: Clinic, today: date, code: str = DEFAULT_LANGUAGE
) -> bytes:
    """The sheet for `prescription` as a tagged PDF on the clinic's paper, in language
    `code` (rendered in it whatever the request's own language: a clinician's page is
    English, the sheet the patient's)."""
    with force_locale(code):
        return render_pdf(
            TEMPLATE,
            clinic.paper_size,
            clinic=clinic,
            prescription=prescription,
            today=today,
            page_language=language(code),
            page_margins=page_margins_css(),
        )


# The clinician's `?copy=clinic`: the English copy of the sheet for the clinic's file.
CLINIC_COPY = "clinic"


def copy_language(patient: Patient, copy: str | None) -> str:
    """The language of the copy a clinician asked for: English for the clinic's copy
    (`copy=clinic`), else the patient's (`sheet_language`)."""
    return DEFAULT_LANGUAGE if copy == CLINIC_COPY else sheet_language(patient)


def instruction_sheet_html(
    prescription: Prescription, clinic: Clinic, today: date, greeting_name: str | None, code: str
) -> Markup:
    """The sheet as the clinician's page shows it to print, in language `code` (the page
    around it stays English)."""
    with force_locale(code):
        # An autoescaped template's output: everything typed in it was escaped there.
        return Markup(  # noqa: S704
            render_template(
                "protocols/_instruction_sheet.html",
                prescription=prescription,
                clinic=clinic,
                today=today,
                greeting_name=greeting_name,
                sheet_language=language(code),
            )
        )

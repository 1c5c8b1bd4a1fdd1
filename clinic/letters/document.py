"""The letter as a PDF: the reporting module's WeasyPrint setup (PDF/UA, the clinic's
paper, the bundled-assets fetcher, the print stylesheet), one document for the letter and,
when asked, the progress report after it, so the whole stays one tagged PDF."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from clinic.models import Clinic, LetterAddressee, LetterKind, Patient, User
from clinic.reporting.pdf import render_pdf
from clinic.reporting.progress import ProgressReport, paragraphs, report_charts

TEMPLATE = "reports/letter.html"
# The sections after the opening, in the order a letter reads: (field, heading).
SECTIONS = (
    ("reason", "Reason for this letter"),
    ("programme", "The programme and where it stands"),
    ("red_flags", "Red flags and how they were handled"),
    ("measures", "Outcome measures"),
)


@dataclass(frozen=True)
class LetterDocument:
    """Everything the printed letter shows."""

    clinic: Clinic
    patient: Patient
    kind: LetterKind
    author: User
    written_on: date
    addressees: list[LetterAddressee]
    text: dict[str, str]  # opening, reason, programme, red_flags, measures, ask
    report: ProgressReport | None = None
    sections: tuple[tuple[str, str], ...] = SECTIONS

    @property
    def salutation(self) -> str:
        """ "Dear Dr Amira Shah," to one recipient; "Dear colleagues," to several."""
        if len(self.addressees) == 1:
            return f"Dear {self.addressees[0].name},"
        return "Dear colleagues,"

    def paragraphs(self, key: str) -> list[str]:
        """A section's text as typed, split at blank lines."""
        return paragraphs(self.text.get(key, ""))


def letter_pdf(document: LetterDocument) -> bytes:
    """The letter (and the report after it, if any) as one tagged PDF."""
    files = report_charts(document.report) if document.report else None
    return render_pdf(TEMPLATE, document.clinic.paper_size, files=files, letter=document)


def file_name(kind: LetterKind, written_on: date) -> str:
    """A discreet file name: a letter and its date, nothing about whom or what."""
    del kind  # the kind says something about the care: not in the name
    return f"letter-{written_on.isoformat()}.pdf"

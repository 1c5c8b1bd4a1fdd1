"""Instruction sheets as tests download them: the PDF read back (text, title, file name),
the clinician's address of one, and what a sheet must never say or must always say."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

from pypdf import PdfReader

GIVEAWAYS = ("dilat", "vagin", "pelvic", "anal", "sexual", "rectal")
STOP_SIGNAL = "Sharp or sudden pain is a signal to stop."


@dataclass(frozen=True)
class Sheet:
    """A downloaded sheet: its text (whitespace collapsed), title and file name."""

    text: str
    title: str
    file_name: str
    reader: PdfReader


def download(client, url: str) -> Sheet:
    """GET a sheet and check it comes as a private PDF attachment."""
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    reader = PdfReader(io.BytesIO(response.get_data()))
    text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    file_name = re.search(r'filename="?([^";]+)', disposition).group(1)
    return Sheet(text=text, title=reader.metadata.title, file_name=file_name, reader=reader)


def clinician_url(patient_id: int, protocol_id: int) -> str:
    return f"/patients/{patient_id}/protocol/{protocol_id}/instructions.pdf"

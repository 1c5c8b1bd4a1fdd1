"""HTML to PDF with WeasyPrint: tagged for accessibility (PDF/UA), on the clinic's paper,
with the print stylesheet parsed once per process and every fetch through our fetcher.

Title, author and language come from the document itself (`<title>`, `<meta
name="author">`, `<html lang>`), so the HTML preview and the PDF say the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

from flask import render_template
from weasyprint import CSS, HTML

from clinic.bundled import REPORTS
from clinic.reporting.fetcher import BASE_URL, BundledAssetsFetcher

STYLESHEET = REPORTS / "print.css"
PAPER = {"a4": "A4", "letter": "letter"}


@cache
def _fetcher() -> BundledAssetsFetcher:
    return BundledAssetsFetcher()


@cache
def _stylesheets(paper: str) -> tuple[CSS, CSS]:
    # Parsing CSS costs more than laying out a short document: once per process and paper.
    return (
        CSS(filename=str(STYLESHEET), base_url=BASE_URL, url_fetcher=_fetcher()),
        CSS(string=f"@page {{ size: {PAPER[paper]}; }}", url_fetcher=_fetcher()),
    )


def html_to_pdf(html: str, paper: str = "a4", files: Mapping[str, bytes] | None = None) -> bytes:
    """The PDF of an HTML document (PDF/UA-1), on A4 or US Letter. `files` are made for
    this document (charts) and named relative to it, e.g. `<img src="pain.svg">`."""
    fetcher = BundledAssetsFetcher(files) if files else _fetcher()
    document = HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher)
    return document.write_pdf(stylesheets=_stylesheets(paper), pdf_variant="pdf/ua-1")


def render_pdf(
    template: str, paper: str = "a4", files: Mapping[str, bytes] | None = None, **context: object
) -> bytes:
    """Render a print template of `reports/` and return its PDF."""
    return html_to_pdf(render_template(template, **context), paper, files)

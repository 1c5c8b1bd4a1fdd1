"""Documents sent to the browser as files to save, never to keep in a cache."""

from __future__ import annotations

from werkzeug.wrappers import Response


def pdf_attachment(pdf: bytes, file_name: str) -> Response:
    """`pdf` as a download named `file_name` (ASCII, chosen by us: never user input)."""
    response = Response(pdf, mimetype="application/pdf")
    response.headers.set("Content-Disposition", "attachment", filename=file_name)
    # Health data: no browser or proxy may keep a copy (set_security_headers agrees).
    response.headers["Cache-Control"] = "no-store"
    return response

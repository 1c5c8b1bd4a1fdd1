"""Exporting the audit trail as an administrator's browser does: the export button (a POST
with the search's filters in its address), then the run's progress page and its download
(tests.support.jobs)."""

from __future__ import annotations

from werkzeug.test import TestResponse

from tests.support.jobs import download_from_progress

URL = "/admin/audit/export"


def ask_for_export(client, **query: object) -> TestResponse:
    """The answer to the export button for a search with these filters: a redirect to the
    run's progress page, or the search page again."""
    return client.post(URL, query_string=query)


def export_csv(client, **query: object) -> TestResponse:
    """The downloaded CSV file (or the refusal) for a search with these filters."""
    return download_from_progress(client, ask_for_export(client, **query))

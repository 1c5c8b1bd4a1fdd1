"""Making an MDT pack as a clinician's browser does: send the form, follow the redirect
to the run's progress page (the job ran at once in the tests), and download the file."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from werkzeug.test import TestResponse

from tests.support.jobs import download_from_progress

URL = "/mdt/"


def ask_for_pack(
    client, patient_ids: Iterable[int | str], meeting_on: date, **extra: object
) -> TestResponse:
    """The answer to the MDT form: a redirect to the progress page, or the form again."""
    data = {"patient_ids": [str(i) for i in patient_ids], **extra}
    data["meeting_on"] = meeting_on.isoformat()
    return client.post(URL, data=data)


def download_pack(client, answer: TestResponse) -> TestResponse:
    """Follow a redirect to the progress page, which must offer the download, and take it.
    Any other answer (the form refused, a sign-in asked for) is returned as it is."""
    return download_from_progress(client, answer)


def make_pack(
    client, patient_ids: Iterable[int | str], meeting_on: date, **extra: object
) -> TestResponse:
    """The downloaded pack (or the refused form) for these patients and meeting date."""
    return download_pack(client, ask_for_pack(client, patient_ids, meeting_on, **extra))

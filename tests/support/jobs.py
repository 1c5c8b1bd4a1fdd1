"""Following a background run as a browser does: from the redirect after asking, to the
run's progress page (the job ran at once in the tests), to the download it offers."""

from __future__ import annotations

import re

from werkzeug.test import TestResponse

DOWNLOAD = re.compile(r'href="(/jobs/\d+/download)"')
RUN_URL = re.compile(r".*/jobs/(\d+)")


def run_id_in(answer: TestResponse) -> int:
    """The run a redirect after asking leads to."""
    match = RUN_URL.fullmatch(answer.headers.get("Location", ""))
    assert match, answer.headers.get("Location")
    return int(match.group(1))


def download_from_progress(client, answer: TestResponse) -> TestResponse:
    """Follow a redirect to the progress page, which must offer the download, and take it.
    Any other answer (the form refused, a sign-in asked for) is returned as it is."""
    if answer.status_code != 302 or "/jobs/" not in answer.headers["Location"]:
        return answer
    page = client.get(answer.headers["Location"])
    assert page.status_code == 200, page.status_code
    link = DOWNLOAD.search(page.get_data(as_text=True))
    assert link, "the progress page offers no download: " + page.get_data(as_text=True)[:1500]
    return client.get(link.group(1))

"""No state change on GET: opening any page, as anyone allowed to, changes no data.

Every GET route of `app.url_map` (via the access matrix, so new routes join by themselves)
is opened by every actor allowed to use it, on the matrix's world, and the whole database
is compared before and after each request. Left out of the comparison, by design:

- `audit_events`: reading a patient's record is itself recorded (who looked, when);
- `user_sessions`: each request moves its session's "last seen" time (the idle timeout).

The once-a-day recomputation of summaries and flags (days passing move the adherence
windows; the dashboard and the MDT page start it on their first visit of the day) is run
first, as the scheduled `flask refresh-summaries` would, so it is not mistaken for a page
writing.
"""

from __future__ import annotations

from flask import Flask

from clinic.extensions import db
from clinic.models import Clinic
from clinic.monitoring.services import refresh_clinic_if_stale
from tests.support import access_matrix as matrix
from tests.support.routes import client_as, endpoints, url_of
from tests.support.snapshots import changes, database_rows
from tests.support.world import World

REFRESHED_BY_DESIGN = ("audit_events", "user_sessions")


def test_opening_any_page_changes_nothing(app: Flask, world: World, targets: dict) -> None:
    """Each GET, by each actor allowed to make it, leaves every table (but the audit trail
    and the sessions' last-seen times) exactly as it was."""
    with app.app_context():
        for clinic_id in (world.clinic_a, world.clinic_b):
            refresh_clinic_if_stale(db.session.get(Clinic, clinic_id))
        db.session.commit()
    missing = [e for e in endpoints(app, "GET") if (e, "GET") not in matrix.MATRIX]
    assert missing == [], "add these routes to the access matrix"

    written: dict[str, dict] = {}
    before = database_rows(app, exclude=REFRESHED_BY_DESIGN)
    for actor in matrix.ACTORS:
        client = client_as(app, world, actor)
        for (endpoint, method), allowed in sorted(matrix.MATRIX.items()):
            if method != "GET" or actor not in allowed:
                continue
            response = client.get(url_of(app, endpoint, targets))
            response.close()
            after = database_rows(app, exclude=REFRESHED_BY_DESIGN)
            if diff := changes(before, after):
                written[f"{actor} GET {endpoint}"] = diff
            before = after
    assert written == {}

"""Re-authentication for tests: as if the person had just entered their password again
("confirm it is you"), as a sign-in through the form also leaves it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient

from clinic.account.guards import REAUTH_AT


def confirmed_recently(client: FlaskClient, minutes_ago: float = 0) -> None:
    """As if the signed-in person had confirmed their password `minutes_ago` in this
    client's session (call it after `act_as`, which starts a fresh session)."""
    with client.session_transaction() as session:
        session[REAUTH_AT] = (datetime.now(UTC) - timedelta(minutes=minutes_ago)).timestamp()

"""Signing a person in on a test client: through the real form, or directly (for speed)."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from clinic.auth.sessions import SESSION_ID_KEY, open_record
from clinic.extensions import db
from clinic.models import User
from tests.support.factories import PASSWORD


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD) -> Any:
    """Sign in through the real login form; returns the response."""
    return client.post("/login", data={"email": email, "password": password})


def act_as(client: FlaskClient, user_id: int) -> None:
    """Sign a user in on this client without the sign-in form (for speed): a real
    server-side session record, and its token in a fresh cookie session, as a sign-in
    leaves them."""
    app = client.application
    with app.app_context():
        user = db.session.get(User, user_id)
        _, token = open_record(user)
        login_id = user.get_id()
        db.session.commit()
    with client.session_transaction() as session:
        session.clear()
        session["_user_id"] = login_id
        session["_fresh"] = True
        session[SESSION_ID_KEY] = token

"""Every way in ends in the same state: the password (alone, with a code, or choosing one
of several clinics), a reset link, signing in again after a time-out, and accepting an
invitation all go through `clinic.auth.services.complete_sign_in`.

The state checked after each: a brand-new server-side session behind the cookie (and
nothing of the browser's earlier cookie session left), the account signed in, "confirmed
it is you" started, the back-off back at zero, the time of the sign-in, and one
"auth.sign_in" event saying how.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from flask import Flask
from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError

from clinic.account.guards import REAUTH_AT
from clinic.auth.services import issue_invitation
from clinic.auth.sessions import SESSION_ID_KEY
from clinic.auth.timeout import keep_form
from clinic.extensions import db
from clinic.models import AuditEvent, Clinic, User, UserSession
from clinic.models.invitations import RESET, hash_token
from tests.support.factories import PASSWORD, make_user
from tests.support.two_factor import code_for, enrol
from tests.support.world import World

NEW_PASSWORD = "a calm river at dawn 42"
PLANTED = "planted_before_sign_in"


@dataclass(frozen=True)
class Way:
    """How a way in is taken: arranged for an account, then walked by a browser."""

    walk: Callable[[Flask, object, int], None]
    detail: dict[str, str]


def _with_password(app: Flask, client, user_id: int) -> None:
    response = client.post("/login", data={"email": _email(app, user_id), "password": PASSWORD})
    assert response.status_code == 302, response.status_code


def _with_a_code(app: Flask, client, user_id: int) -> None:
    secret, _ = enrol(app, user_id)
    _with_password(app, client, user_id)
    # The confirming code's step is used up: the app's next code.
    response = client.post("/login/code", data={"code": code_for(secret, steps_ahead=1)})
    assert response.status_code == 302, response.status_code


def _choosing_a_clinic(app: Flask, client, user_id: int) -> None:
    with app.app_context():
        user = db.session.get(User, user_id)
        other_clinic = db.session.scalar(select(Clinic).where(Clinic.id != user.clinic_id))
        make_user(other_clinic, user.role, email=user.email)
        db.session.commit()
    _with_password(app, client, user_id)
    response = client.post("/login/clinic", data={"account": str(user_id)})
    assert response.status_code == 302, response.status_code


def _through_a_reset_link(app: Flask, client, user_id: int) -> None:
    with app.app_context():
        token = issue_invitation(db.session.get(User, user_id), None, purpose=RESET)
        db.session.commit()
    response = client.post(
        f"/password/reset/{token}", data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    assert response.status_code == 302, response.status_code


def _again_after_a_time_out(app: Flask, client, user_id: int) -> None:
    with app.test_request_context("/patients/new", method="POST", data={"note": "kept"}):
        kept = keep_form(user_id)
    response = client.post("/session/resume", data={"kept": kept, "password": PASSWORD})
    assert response.status_code == 200, response.status_code
    assert "kept" in response.get_data(as_text=True)


def _accepting_an_invitation(app: Flask, client, user_id: int) -> None:
    with app.app_context():
        user = db.session.get(User, user_id)
        user.password_hash = None  # invited, not yet claimed
        token = issue_invitation(user, None)
        db.session.commit()
    response = client.post(
        f"/invitation/{token}", data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    assert response.status_code == 302, response.status_code


WAYS = {
    "password": Way(_with_password, {"second_factor": "none"}),
    "password and code": Way(_with_a_code, {"second_factor": "totp"}),
    "choosing a clinic": Way(_choosing_a_clinic, {"second_factor": "none"}),
    "reset link": Way(_through_a_reset_link, {"second_factor": "none", "after": "password reset"}),
    "after a time-out": Way(
        _again_after_a_time_out, {"second_factor": "none", "after": "time-out"}
    ),
    "invitation": Way(_accepting_an_invitation, {"second_factor": "none", "after": "invitation"}),
}


def _email(app: Flask, user_id: int) -> str:
    with app.app_context():
        return db.session.get(User, user_id).email


@pytest.mark.parametrize("way", list(WAYS))
def test_every_way_in_ends_in_the_same_state(app: Flask, client, world: World, way: str) -> None:
    """Whatever the way in, the account ends signed in on a brand-new server-side session,
    with nothing of the earlier cookie session, "confirmed it is you" started, its
    back-off at zero, its sign-in time noted and one "auth.sign_in" event saying how."""
    user_id = world.clinician.id
    with app.app_context():
        user = db.session.get(User, user_id)
        user.failed_sign_ins = 2  # earlier mistakes, not enough for a pause
        db.session.commit()
    with client.session_transaction() as cookie:
        cookie[PLANTED] = "from before"

    WAYS[way].walk(app, client, user_id)

    with client.session_transaction() as cookie:
        assert PLANTED not in cookie
        assert isinstance(cookie.get(REAUTH_AT), float)
        assert cookie["_user_id"].startswith(f"{user_id}:")
        token = cookie[SESSION_ID_KEY]
    with app.app_context():
        record = db.session.scalar(
            select(UserSession).where(UserSession.token_hash == hash_token(token))
        )
        assert record is not None and record.user_id == user_id and record.ended_at is None
        user = db.session.get(User, user_id)
        assert (user.failed_sign_ins, user.sign_in_blocked_until) == (0, None)
        assert user.last_login_at is not None
        signed_in = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "auth.sign_in")
        ).all()
    assert [(e.actor_id, e.object_id) for e in signed_in] == [(user_id, user_id)]
    assert json.loads(signed_in[0].detail) == WAYS[way].detail
    assert client.get("/dashboard/").status_code == 200


def test_a_sign_in_whose_commit_fails_leaves_no_session(app: Flask, client, world: World) -> None:
    """The steps of a sign-in are saved together or not at all: when the commit fails,
    the browser's new token opens nothing, and no sign-in is in the audit trail."""
    with app.app_context():
        engine = db.engine

    def drop(_conn: object) -> None:
        raise OperationalError("COMMIT", None, Exception("server closed the connection"))

    event.listen(engine, "commit", drop)
    try:
        response = client.post(
            "/login", data={"email": world.clinician.email, "password": PASSWORD}
        )
    finally:
        event.remove(engine, "commit", drop)
    assert response.status_code == 503
    with app.app_context():
        assert db.session.scalars(select(UserSession)).all() == []
        assert db.session.scalars(select(AuditEvent.action)).all() == []
    assert client.get("/dashboard/").status_code == 302  # to the sign-in page

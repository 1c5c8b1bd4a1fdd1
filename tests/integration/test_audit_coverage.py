"""Every route that shows or changes patient data writes to the audit trail.

`test_route_writes_an_audit_event` walks `app.url_map`: each route and method is requested
once, as someone the access matrix lets in, and must leave at least one new audit event
(about the patient its URL names, or the signed-in patient's own record on portal pages).
A route added without `@audited(...)` (or a `record(...)` of its own) fails here, unless it
is in `NOT_AUDITED` below with the reason it needs none. And every action code the source
writes must have words in `clinic.audit.actions` (the admin page's filter and columns).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from flask import Flask, url_for
from sqlalchemy import func, select

import clinic
from clinic import create_app
from clinic.audit.actions import ACTIONS, NOT_DONE
from clinic.extensions import db
from clinic.models import AuditEvent
from tests.support.access_matrix import (
    ADMIN,
    CLINICIAN,
    MATRIX,
    OTHER_CLINIC_ADMIN,
    OTHER_CLINIC_CLINICIAN,
    OTHER_PATIENT,
    PATIENT,
    actor_user_id,
)
from tests.support.apps import config_for_tests
from tests.support.auth import act_as
from tests.support.reauth import confirmed_recently
from tests.support.world import World

# Routes that need no audit event, and why. Keys: "endpoint", "endpoint METHOD", or
# "blueprint.*" for every route of a blueprint.
NOT_AUDITED: dict[str, str] = {
    "static": "stylesheets, scripts and images",
    "health.*": "the health check reads no record",
    "safety.*": "the intended use and the hazard log: the software's documents, no patient data",
    "auth.*": "sign-in pages: sign-ins, failures and second factors are recorded by the "
    "auth services; an accepted invitation by accept_invitation (test_audit_trail.py)",
    "account.*": "the signed-in person's own account (password, email, two-step "
    "sign-in): clinic.account and clinic.auth.mfa record those changes",
    "catalogue.*": "the clinic's dilator catalogue: no patient data",
    "library.*": "the clinic's protocol templates: no patient data",
    "instruments.index GET": "the clinic's questionnaires: no patient data",
    "portal.questionnaire_sent GET": "a thank-you naming the questionnaire; the shared "
    "targets name an occasion still open, where it redirects to the questionnaire (which is "
    "audited); its own audit is proven in test_portal_measures",
    "admin.staff": "staff accounts only (their changes are audited: staff.*)",
    "admin.reset_two_factor GET": "a page saying what a reset does (the reset itself is "
    "audited: auth.mfa_reset)",
    "admin.invite GET": "an empty form",
    "admin.invitation GET": "a colleague's invitation link, shown once (issuing it is "
    "audited: staff.invite, staff.reinvite)",
    "admin.settings GET": "the clinic's own settings, no patient data",
    "patients.new GET": "an empty form",
    "push.manifest GET": "the installable portal's manifest: the same for everyone",
    "push.service_worker GET": "the service worker script: the same for everyone",
    "fhir.*": "the FHIR API, opened by tokens, not sessions: each call's audit event (naming "
    "the token) is proven in test_fhir_api.py",
    "admin.api_tokens GET": "the clinic's API tokens, no patient data (making and revoking "
    "one are audited: api_token.*)",
}

# Who requests each route: the first of these the access matrix lets in.
PREFERRED_ACTORS = (
    CLINICIAN,
    PATIENT,
    ADMIN,
    OTHER_PATIENT,
    OTHER_CLINIC_CLINICIAN,
    OTHER_CLINIC_ADMIN,
)


def _exempt(endpoint: str, method: str) -> bool:
    blueprint = endpoint.split(".")[0]
    return bool({endpoint, f"{endpoint} {method}", f"{blueprint}.*"} & set(NOT_AUDITED))


def _routes(app: Flask) -> list[tuple[str, str]]:
    return sorted(
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    )


def _audited_routes() -> list[tuple[str, str]]:
    app = create_app(config_for_tests("sqlite://"))
    return [route for route in _routes(app) if not _exempt(*route)]


def _last_event_id(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.coalesce(func.max(AuditEvent.id), 0)))


@pytest.mark.parametrize(("endpoint", "method"), _audited_routes())
def test_route_writes_an_audit_event(
    app: Flask,
    client,
    world: World,
    targets,
    endpoint: str,
    method: str,
) -> None:
    """A request to the route, by someone allowed to use it, adds an audit event about
    the patient the page is about."""
    allowed = MATRIX.get((endpoint, method))
    assert allowed, f"{endpoint} {method} is not in the access matrix: add it there first"
    actor = next(a for a in PREFERRED_ACTORS if a in allowed)
    act_as(client, actor_user_id(world, actor))
    # As a sign-in leaves it: pages that ask for the password again (erasure) show.
    confirmed_recently(client)
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    with app.test_request_context():
        url = url_for(endpoint, **{name: targets[name] for name in rule.arguments})
    token = client.fetch_csrf_token() if method != "GET" else None  # visits the home page

    before = _last_event_id(app)
    if method == "GET":
        response = client.get(url)
    else:
        response = client.open(url, method=method, data={"csrf_token": token})
    response.get_data()  # a streamed answer runs to the end
    response.close()
    assert response.status_code < 500

    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.id > before)).all()
    if method == "GET":
        # A redirect or an error shows nothing, so records nothing: the case proves nothing.
        assert response.status_code == 200, (
            f"{endpoint} GET answered {response.status_code}: make build_targets() in "
            "tests/support/access_matrix.py name objects this page shows"
        )
    assert events, (
        f"{endpoint} {method} (answered {response.status_code}) wrote no audit event: "
        "decorate the view with @audited(...) (clinic.audit.log), or add it to "
        "NOT_AUDITED with the reason"
    )
    if "patient_id" in rule.arguments:
        expected = targets["patient_id"]
    elif endpoint.startswith("portal."):
        expected = (world.patient if actor == PATIENT else world.other_patient).patient_id
    else:
        return
    assert expected in {event.patient_id for event in events}, (
        f"{endpoint} {method} recorded events about other patients than its own"
    )


def test_every_exemption_names_a_route(app: Flask) -> None:
    """Each NOT_AUDITED entry still matches a route (a stale entry would hide a new one
    of the same name later)."""
    routes = _routes(app)
    for key in NOT_AUDITED:
        name, _, method = key.partition(" ")
        if name.endswith(".*"):
            matched = [r for r in routes if r[0].startswith(name[:-1])]
        else:
            matched = [r for r in routes if r[0] == name and method in ("", r[1])]
        assert matched, f"NOT_AUDITED entry {key!r} matches no route"


def _recorded_actions() -> dict[str, str]:
    """Every action code the application's source writes (`record(...)`,
    `record_each(...)`, `@audited(...)`), with the file that writes it."""
    found: dict[str, str] = {}
    package = Path(clinic.__file__).parent
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name not in ("record", "record_each", "audited"):
                continue
            sources = node.args[:1] + [k.value for k in node.keywords if k.arg in ACTION_ARGS]
            for source in sources:
                for part in ast.walk(source):  # also "a" if x else "b"
                    text = part.value if isinstance(part, ast.Constant) else None
                    if isinstance(text, str) and ACTION_CODE.fullmatch(text):
                        found.setdefault(text, str(path.relative_to(package)))
    return found


ACTION_ARGS = ("read", "change")
ACTION_CODE = re.compile(r"[a-z_]+\.[a-z_]+")


def test_every_recorded_action_is_described() -> None:
    """Each action the code records has words (and a place in the admin page's Action
    filter) in clinic.audit.actions."""
    found = _recorded_actions()
    assert len(found) > 40  # the scan really finds the app's actions
    missing = {code: where for code, where in found.items() if code not in ACTIONS}
    assert missing == {}


def test_every_change_says_what_was_not_done() -> None:
    """Each change a view declares (`@audited(change=...)`) has words for an attempt that
    changed nothing in clinic.audit.actions.NOT_DONE ("Skipped session not saved"), so a
    refused form never reads in the trail as if it had been saved."""
    declared: set[str] = set()
    package = Path(clinic.__file__).parent
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "audited":
                for keyword in node.keywords:
                    if keyword.arg == "change" and isinstance(keyword.value, ast.Constant):
                        declared.add(keyword.value.value)
    assert len(declared) > 20  # the scan really finds the views' changes
    assert sorted(declared - set(NOT_DONE)) == []

"""The FHIR API's reads under /fhir/r4/: a token opens its own clinic's records and nothing
else, every answer is FHIR JSON (errors as OperationOutcomes valid by the R4B models, with
the right status), each call is in the audit trail naming the token, calls are counted
per token, and a browser's session opens nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.operationoutcome import OperationOutcome
from flask import Flask
from sqlalchemy import func, select

from clinic.extensions import db
from clinic.fhir import RESOURCE_TYPES, patient_bundle
from clinic.fhirapi.tokens import get_token_or_none, revoke_token, token_of_secret
from clinic.models import AuditEvent, Patient
from tests.support.api_tokens import bearer, make_token
from tests.support.auth import act_as
from tests.support.fhir import resources, round_trips
from tests.support.records import FullRecord, full_record
from tests.support.world import World

FHIR_JSON = "application/fhir+json"


@pytest.fixture
def record(app: Flask, world: World) -> FullRecord:
    return full_record(app, world.patient.patient_id, world.patient.id, world.clinician.id)


@pytest.fixture
def token(app: Flask, world: World) -> str:
    """A read-only token of clinic A."""
    return make_token(app, world.clinic_a)


def outcome(response: Any, status: int) -> dict[str, Any]:
    """The answer's OperationOutcome, checked: the status, FHIR JSON, valid R4B."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == FHIR_JSON
    body = response.get_json(force=True)
    OperationOutcome.model_validate(body)
    assert body["issue"][0]["diagnostics"]
    return body


def api_events(app: Flask) -> list[AuditEvent]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(AuditEvent).where(AuditEvent.actor_role == "api").order_by(AuditEvent.id)
            )
        )


def identifier_of(app: Flask, patient_id: int) -> str:
    with app.app_context():
        return db.session.get_one(Patient, patient_id).clinic_identifier


# The CapabilityStatement ------------------------------------------------------------------


def test_metadata_says_exactly_what_is_served(app: Flask, client) -> None:
    """Without a token: a CapabilityStatement valid by the R4B model, listing a read of each
    type the mapping serves, Patient search by identifier only with $everything, and
    ServiceRequest create and read; every route of the API is one of those."""
    response = client.get("/fhir/r4/metadata")

    assert response.status_code == 200
    assert response.mimetype == FHIR_JSON
    statement = response.get_json(force=True)
    CapabilityStatement.model_validate(statement)
    served = {r["type"]: r for r in statement["rest"][0]["resource"]}
    assert set(served) == {*RESOURCE_TYPES, "ServiceRequest"}
    for kind in RESOURCE_TYPES:
        codes = [i["code"] for i in served[kind]["interaction"]]
        assert codes == (["read", "search-type"] if kind == "Patient" else ["read"])
    assert [p["name"] for p in served["Patient"]["searchParam"]] == ["identifier"]
    assert [o["name"] for o in served["Patient"]["operation"]] == ["everything"]
    assert [i["code"] for i in served["ServiceRequest"]["interaction"]] == ["create", "read"]
    assert not any("searchParam" in r for k, r in served.items() if k != "Patient")
    rules = {r.rule for r in app.url_map.iter_rules() if r.rule.startswith("/fhir/")}
    assert rules == {
        "/fhir/r4/metadata",
        "/fhir/r4/Patient",
        "/fhir/r4/<resource_type>/<resource_id>",
        "/fhir/r4/Patient/<resource_id>/$everything",
        "/fhir/r4/ServiceRequest",
        "/fhir/r4/ServiceRequest/<int:referral_id>",
    }


# Tokens ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Bearer",
        "Bearer fhir_not-a-token",
        "Basic dXNlcjpwYXNz",
        "Bearer " + "x" * 5000,
    ],
    ids=["none", "empty", "unknown", "basic", "huge"],
)
def test_no_valid_token_is_401(
    client, world: World, record: FullRecord, header: str | None
) -> None:
    """Without a valid bearer token: 401, an OperationOutcome and WWW-Authenticate."""
    headers = {"Authorization": header} if header else {}
    response = client.get(f"/fhir/r4/Patient/patient-{record.patient_id}", headers=headers)
    body = outcome(response, 401)
    assert body["issue"][0]["code"] == "login"
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="fhir"'
    assert "Patient 1" not in response.get_data(as_text=True)


def test_a_revoked_token_stops_at_once(
    app: Flask, client, world: World, record: FullRecord, token: str
) -> None:
    """A token works, is revoked, and the very next call is refused (401)."""
    url = f"/fhir/r4/Patient/patient-{record.patient_id}"
    assert client.get(url, headers=bearer(token)).status_code == 200
    with app.app_context():
        [event] = [e for e in api_events(app)]
        found = get_token_or_none(world.clinic_a, json.loads(event.detail)["token_id"])
        assert found is not None
        revoke_token(found)
        db.session.commit()
    outcome(client.get(url, headers=bearer(token)), 401)


def test_a_signed_in_session_opens_nothing(
    app: Flask, client, world: World, record: FullRecord
) -> None:
    """A clinician signed in on this browser (session cookie) reads nothing without a
    token: 401, and no record's data."""
    act_as(client, world.clinician.id)
    identifier = identifier_of(app, record.patient_id)
    for url in (
        f"/fhir/r4/Patient?identifier={identifier}",
        f"/fhir/r4/Patient/patient-{record.patient_id}",
        f"/fhir/r4/Patient/patient-{record.patient_id}/$everything",
    ):
        response = client.get(url)
        outcome(response, 401)
        assert identifier not in response.get_data(as_text=True)
    # Nor is anything put down to the clinician: the API does not know who is signed in.
    with app.app_context():
        latest = db.session.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1))
        assert latest is None or latest.action != "access.refused"


# Reads ----------------------------------------------------------------------------------


def test_every_resource_of_the_record_reads_as_the_bundle_holds_it(
    app: Flask, client, world: World, record: FullRecord, token: str
) -> None:
    """Each resource of the patient's bundle is read by its type and id through the API,
    equal to the bundle's, valid by the R4B models (round trip), as FHIR JSON."""
    with app.app_context():
        base = "http://clinic.test"
        bundle = patient_bundle(db.session.get_one(Patient, record.patient_id), base)
    for resource in resources(bundle):
        response = client.get(
            f"/fhir/r4/{resource['resourceType']}/{resource['id']}", headers=bearer(token)
        )
        assert response.status_code == 200, resource["id"]
        assert response.mimetype == FHIR_JSON
        read = response.get_json(force=True)
        round_trips(read)
        assert read == resource


def test_search_by_identifier_finds_the_clinic_s_patient_only(
    app: Flask, client, world: World, record: FullRecord, token: str
) -> None:
    """Patient?identifier=value (and system|value) gives a searchset Bundle with the
    patient; another clinic's patient's identifier gives an empty one."""
    identifier = identifier_of(app, record.patient_id)
    system = f"http://clinic.test/fhir/identifier/{world.clinic_a}/patient"
    for query in (identifier, f"{system}|{identifier}"):
        response = client.get(
            "/fhir/r4/Patient", query_string={"identifier": query}, headers=bearer(token)
        )
        assert response.status_code == 200
        bundle = response.get_json(force=True)
        round_trips(bundle)
        assert bundle["type"] == "searchset" and bundle["total"] == 1
        [entry] = bundle["entry"]
        assert entry["resource"]["id"] == f"patient-{record.patient_id}"
        assert entry["search"] == {"mode": "match"}

    foreign = identifier_of(app, world.other_clinic_patient.patient_id)
    response = client.get(
        "/fhir/r4/Patient", query_string={"identifier": foreign}, headers=bearer(token)
    )
    assert response.get_json(force=True)["total"] == 0 or foreign == identifier


def test_a_foreign_identifier_system_finds_nobody(
    make_app: Callable[..., Flask], world: World, record: FullRecord
) -> None:
    """The identifier system is compared in full with the address the API answers at
    (CLINIC_BASE_URL when set): the clinic's ending under another host, or the request's
    host when a public address is configured, finds nobody; the exact system finds them."""
    app = make_app(CLINIC_BASE_URL="https://diary.example.org")
    secret = make_token(app, world.clinic_a)
    client = app.test_client()
    identifier = identifier_of(app, record.patient_id)
    ending = f"/fhir/identifier/{world.clinic_a}/patient"

    def total(system: str) -> int:
        response = client.get(
            "/fhir/r4/Patient",
            query_string={"identifier": f"{system}|{identifier}"},
            headers=bearer(secret),
        )
        assert response.status_code == 200
        return int(response.get_json(force=True)["total"])

    assert total("https://diary.example.org" + ending) == 1
    assert total("https://evil.example" + ending) == 0
    assert total("http://localhost" + ending) == 0  # the request's own host: not the public one
    assert total("https://diary.example.org/mirror" + ending) == 0


@pytest.mark.parametrize(
    "query",
    [{}, {"identifier": ""}, {"name": "Sam"}, {"identifier": ["a", "b"]}, {"_count": "5"}],
    ids=["none", "empty", "unknown-parameter", "twice", "count"],
)
def test_a_bad_search_is_400(client, world: World, token: str, query: dict) -> None:
    """A search without exactly one identifier, or with a parameter the server does not
    support, is refused (400) rather than answered with more than was asked."""
    body = outcome(client.get("/fhir/r4/Patient", query_string=query, headers=bearer(token)), 400)
    assert body["issue"][0]["code"] == "invalid"


@pytest.mark.parametrize(
    "query",
    [{"_since": "2026-01-01"}, {"_type": "Observation"}, {"_count": "5"}, {"start": "x"}],
    ids=["since", "type", "count", "start"],
)
def test_everything_refuses_any_parameter(
    client, record: FullRecord, token: str, query: dict
) -> None:
    """$everything takes no parameters: any (FHIR's _since, _type, _count or another) is
    refused with a 400 OperationOutcome naming it, never ignored; _format is allowed."""
    url = f"/fhir/r4/Patient/patient-{record.patient_id}/$everything"
    body = outcome(client.get(url, query_string=query, headers=bearer(token)), 400)
    [name] = query
    assert body["issue"][0]["code"] == "invalid"
    assert name in body["issue"][0]["diagnostics"]
    assert "entry" not in body
    fine = client.get(url, query_string={"_format": "json"}, headers=bearer(token))
    assert fine.status_code == 200


def test_another_clinic_s_records_are_not_found(
    app: Flask, client, world: World, record: FullRecord
) -> None:
    """Clinic B's token asks for clinic A's patient, its resources and its $everything:
    404 every time (never 403), and the audit event is clinic B's."""
    with app.app_context():
        bundle = patient_bundle(db.session.get_one(Patient, record.patient_id), "http://x")
    foreign = make_token(app, world.clinic_b)
    patient_level = [
        r for r in resources(bundle) if r["resourceType"] not in ("Questionnaire", "Device")
    ]
    for resource in patient_level:
        outcome(
            client.get(
                f"/fhir/r4/{resource['resourceType']}/{resource['id']}", headers=bearer(foreign)
            ),
            404,
        )
    outcome(
        client.get(
            f"/fhir/r4/Patient/patient-{record.patient_id}/$everything", headers=bearer(foreign)
        ),
        404,
    )
    assert {e.clinic_id for e in api_events(app)} == {world.clinic_b}
    assert {e.outcome for e in api_events(app)} == {"refused"}


@pytest.mark.parametrize(
    "path",
    [
        "/fhir/r4/Unknown/1",
        "/fhir/r4/Patient/patient-999999",
        "/fhir/r4/Patient/1",
        "/fhir/r4/Patient/patient-99999999999999999999",
        # Ids the pattern takes but no integer column holds (PostgreSQL refuses them).
        "/fhir/r4/Patient/patient-2147483648",
        "/fhir/r4/Observation/session-999999999999999999",
        "/fhir/r4/Practitioner/practitioner-2147483648",
        "/fhir/r4/Device/dilator-2147483648",
        "/fhir/r4/DeviceRequest/stage-2147483648",
        "/fhir/r4/Provenance/provenance-2147483648-patient",
        "/fhir/r4/Observation/%00",
        "/fhir/r4/Patient/nobody/$everything",
        "/fhir/r4/ServiceRequest/2147483648",
        "/fhir/r4/nothing-here",
        "/fhir/r4/Patient/a/b/c",
    ],
)
def test_unknown_types_and_ids_are_404(client, world: World, token: str, path: str) -> None:
    """An unknown type, a malformed or unknown id (one beyond the database's integers
    included), an address that is nothing: 404 with an OperationOutcome (never an HTML
    page, never a 500)."""
    body = outcome(client.get(path, headers=bearer(token)), 404)
    assert body["issue"][0]["code"] == "not-found"


def test_everything_is_the_patient_s_record(
    app: Flask, client, world: World, record: FullRecord, token: str
) -> None:
    """$everything: a searchset Bundle holding the same resources as the record's bundle."""
    response = client.get(
        f"/fhir/r4/Patient/patient-{record.patient_id}/$everything", headers=bearer(token)
    )
    assert response.status_code == 200
    bundle = response.get_json(force=True)
    round_trips(bundle)
    assert bundle["type"] == "searchset"
    with app.app_context():
        whole = patient_bundle(db.session.get_one(Patient, record.patient_id), "http://clinic.test")
    assert [r["id"] for r in resources(bundle)] == [r["id"] for r in resources(whole)]


# Errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/fhir/r4/Patient"),
        ("DELETE", "/fhir/r4/Patient/patient-1"),
        ("PUT", "/fhir/r4/Observation/session-1"),
        ("POST", "/fhir/r4/metadata"),
    ],
)
def test_other_methods_are_405(client, token: str, method: str, path: str) -> None:
    """Writing where the API only reads: 405 with Allow and an OperationOutcome."""
    response = client.open(path, method=method, headers=bearer(token))
    outcome(response, 405)
    assert "GET" in response.headers["Allow"]


@pytest.mark.parametrize(
    ("accept", "status"),
    [
        ("text/html", 406),
        ("application/xml", 406),
        ("application/fhir+xml", 406),
        ("application/fhir+json", 200),
        ("application/json", 200),
        ("text/html,application/xhtml+xml,*/*;q=0.8", 200),
    ],
)
def test_json_only(client, record: FullRecord, token: str, accept: str, status: int) -> None:
    """A client that accepts no JSON is told so (406); one that does gets FHIR JSON."""
    response = client.get(
        f"/fhir/r4/Patient/patient-{record.patient_id}",
        headers={**bearer(token), "Accept": accept},
    )
    assert response.status_code == status
    assert response.mimetype == FHIR_JSON
    if status == 406:
        outcome(response, 406)
    bad_format = client.get("/fhir/r4/metadata?_format=xml")
    outcome(bad_format, 406)


def test_a_server_error_is_an_operation_outcome(make_app: Callable[..., Flask]) -> None:
    """An unexpected error under /fhir/ answers 500 with an OperationOutcome, not the
    site's HTML error page."""
    app = make_app(TESTING=False, PROPAGATE_EXCEPTIONS=False)

    @app.get("/fhir/r4/broken")
    def broken() -> str:
        raise RuntimeError("a bug")

    broken.access_policy = app.view_functions["fhir.metadata"].access_policy  # type: ignore[attr-defined]
    body = outcome(app.test_client().get("/fhir/r4/broken"), 500)
    assert body["issue"][0]["code"] == "exception"
    assert "a bug" not in json.dumps(body)


# Audit ----------------------------------------------------------------------------------


def test_every_call_is_audited_with_its_token_and_patient(
    app: Flask, client, world: World, record: FullRecord, token: str
) -> None:
    """A search, a read, $everything and a refused read each leave one audit event: the
    token's clinic, role "api", no account, the token's id and the patient read."""
    identifier = identifier_of(app, record.patient_id)
    pid = record.patient_id
    client.get(f"/fhir/r4/Patient?identifier={identifier}", headers=bearer(token))
    client.get(f"/fhir/r4/Patient/patient-{pid}", headers=bearer(token))
    client.get(f"/fhir/r4/Patient/patient-{pid}/$everything", headers=bearer(token))
    client.get("/fhir/r4/Flag/flag-999999", headers=bearer(token))

    events = api_events(app)
    assert [(e.action, e.patient_id, e.outcome) for e in events] == [
        ("fhir.search", pid, "ok"),
        ("fhir.read", pid, "ok"),
        ("fhir.everything", pid, "ok"),
        ("fhir.read", None, "refused"),
    ]
    token_ids = {json.loads(e.detail)["token_id"] for e in events}
    assert len(token_ids) == 1
    assert {(e.clinic_id, e.actor_id) for e in events} == {(world.clinic_a, None)}
    assert json.loads(events[1].detail)["resource"] == f"Patient/patient-{pid}"
    assert json.loads(events[0].detail)["matches"] == 1
    with app.app_context():
        [used] = [get_token_or_none(world.clinic_a, t) for t in token_ids]
        assert used is not None and used.last_used_at is not None


def test_a_cookie_does_not_make_the_call_a_person_s(
    app: Flask, client, world: World, record: FullRecord, token: str
) -> None:
    """With both a token and a clinician's session cookie, the audit event names the token,
    never the signed-in clinician."""
    act_as(client, world.clinician.id)
    client.get(f"/fhir/r4/Patient/patient-{record.patient_id}", headers=bearer(token))
    [event] = api_events(app)
    assert event.actor_id is None and event.actor_role == "api"


# Rate limits ----------------------------------------------------------------------------


def test_calls_are_limited_per_token(
    make_app: Callable[..., Flask], world: World, record: FullRecord
) -> None:
    """Over its limit a token gets 429 with Retry-After and an OperationOutcome; another
    token of the same clinic, from the same address, still gets through."""
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_FHIR="3 per minute")
    busy, other = make_token(app, world.clinic_a), make_token(app, world.clinic_a)
    client = app.test_client()
    url = f"/fhir/r4/Patient/patient-{record.patient_id}"
    assert [client.get(url, headers=bearer(busy)).status_code for _ in range(3)] == [200] * 3
    refused = client.get(url, headers=bearer(busy))
    body = outcome(refused, 429)
    assert body["issue"][0]["code"] == "throttled"
    assert int(refused.headers["Retry-After"]) >= 1
    assert client.get(url, headers=bearer(other)).status_code == 200


def test_the_audit_trail_shows_the_token(
    app: Flask, client, world: World, record: FullRecord, token: str
) -> None:
    """On the administrator's audit trail, a call of the API reads as made by its token
    (by number) in the role "Other system (API token)", with what it did in words."""
    client.get(f"/fhir/r4/Patient/patient-{record.patient_id}", headers=bearer(token))
    [event] = api_events(app)
    act_as(client, world.admin.id)
    page = client.get("/admin/audit").get_data(as_text=True)
    assert f"API token {json.loads(event.detail)['token_id']}" in page
    assert "Other system (API token)" in page
    assert "Read a record (FHIR API)" in page


# Refused calls in the audit trail ---------------------------------------------------------


def _revoke(app: Flask, clinic_id: int, secret: str) -> int:
    """Revoke the token with this secret; its id."""
    with app.app_context():
        found = token_of_secret(secret)
        assert found is not None and found.clinic_id == clinic_id
        revoke_token(found)
        db.session.commit()
        return found.id


def test_a_revoked_token_still_in_use_is_audited_under_its_clinic(
    app: Flask, client, world: World, record: FullRecord, token: str
) -> None:
    """A revoked token's calls are refused (401) and each leaves a row under the token's
    clinic: the action tried, "refused", the token and the reason "revoked"; no patient."""
    token_id = _revoke(app, world.clinic_a, token)
    pid = record.patient_id
    outcome(client.get(f"/fhir/r4/Patient/patient-{pid}", headers=bearer(token)), 401)
    outcome(client.get(f"/fhir/r4/Patient/patient-{pid}/$everything", headers=bearer(token)), 401)
    events = api_events(app)
    assert [(e.action, e.outcome, e.clinic_id, e.patient_id) for e in events] == [
        ("fhir.read", "refused", world.clinic_a, None),
        ("fhir.everything", "refused", world.clinic_a, None),
    ]
    for event in events:
        detail = json.loads(event.detail)
        assert detail["token_id"] == token_id
        assert detail["reason"] == "revoked" and detail["status"] == 401


def test_406_and_unserved_addresses_with_a_known_token_are_audited(
    app: Flask, client, world: World, record: FullRecord, token: str
) -> None:
    """A call refused before any view runs (406: no JSON accepted; 404: an address not
    served; 405) still leaves one row under the token's clinic, with its status."""
    pid = record.patient_id
    url = f"/fhir/r4/Patient/patient-{pid}"
    outcome(client.get(url, headers={**bearer(token), "Accept": "application/fhir+xml"}), 406)
    outcome(client.get("/fhir/r4/Patient/a/b/c", headers=bearer(token)), 404)
    outcome(client.delete(url, headers=bearer(token)), 405)
    events = api_events(app)
    assert [(e.action, e.outcome, json.loads(e.detail)["status"]) for e in events] == [
        ("fhir.read", "refused", 406),
        ("fhir.call", "refused", 404),
        ("fhir.call", "refused", 405),
    ]
    assert {e.clinic_id for e in events} == {world.clinic_a}


def test_429_and_500_with_a_known_token_are_audited(
    make_app: Callable[..., Flask], world: World, record: FullRecord
) -> None:
    """A call over the token's limit (429) and one the server fails (500) each leave a
    row under the token's clinic ("refused" and "failed", with the status)."""
    app = make_app(
        RATELIMIT_ENABLED=True, RATELIMIT_FHIR="1 per minute", PROPAGATE_EXCEPTIONS=False
    )

    @app.get("/fhir/r4/broken")
    def broken() -> str:
        raise RuntimeError("a bug")

    broken.access_policy = app.view_functions["fhir.metadata"].access_policy  # type: ignore[attr-defined]
    secret = make_token(app, world.clinic_a)
    client = app.test_client()
    url = f"/fhir/r4/Patient/patient-{record.patient_id}"
    assert client.get(url, headers=bearer(secret)).status_code == 200
    outcome(client.get(url, headers=bearer(secret)), 429)
    outcome(client.get("/fhir/r4/broken", headers=bearer(secret)), 500)
    events = api_events(app)
    assert [(e.action, e.outcome, json.loads(e.detail).get("status")) for e in events] == [
        ("fhir.read", "ok", None),
        ("fhir.read", "refused", 429),
        ("fhir.call", "failed", 500),
    ]
    assert {e.clinic_id for e in events} == {world.clinic_a}


def test_calls_without_a_known_token_leave_nothing_but_are_limited(
    make_app: Callable[..., Flask], world: World, record: FullRecord
) -> None:
    """No token, or one nobody issued: refused (401, 406, 404) and no audit row at all
    (the call belongs to no clinic); past the limit, 429 all the same."""
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_FHIR="3 per minute")
    client = app.test_client()
    url = f"/fhir/r4/Patient/patient-{record.patient_id}"
    unknown = bearer("fhir_" + "x" * 43)
    with app.app_context():
        before = db.session.scalar(select(func.count(AuditEvent.id)))
    outcome(client.get(url), 401)
    outcome(client.get(url, headers=unknown), 401)
    outcome(client.get(url, headers={**unknown, "Accept": "text/xml"}), 406)
    outcome(client.get("/fhir/r4/Nothing/here/at/all", headers=unknown), 404)
    statuses = [client.get(url, headers=unknown).status_code for _ in range(3)]
    assert 429 in statuses
    with app.app_context():
        assert db.session.scalar(select(func.count(AuditEvent.id))) == before

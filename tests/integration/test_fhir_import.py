"""Referrals arriving through the FHIR API: a ServiceRequest with its Patient (contained,
or beside it in a transaction Bundle) posted with an importing token becomes a pending
referral; an administrator accepts it into a new patient record (the usual form and
service) or declines it. Bad FHIR gets a 4xx OperationOutcome naming the problem and
where it is, never a 500, and nothing is kept."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.servicerequest import ServiceRequest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from clinic.domain.indications import Indication
from clinic.extensions import db
from clinic.models import AuditEvent, Patient, PendingReferral, ReferralStatus
from tests.support.api_tokens import bearer, make_referral, make_token, referral_json
from tests.support.auth import act_as
from tests.support.queries import queries_for
from tests.support.world import World

URL = "/fhir/r4/ServiceRequest"
FHIR_JSON = "application/fhir+json"


@pytest.fixture
def importer(app: Flask, world: World) -> str:
    """A token of clinic A that may send referrals."""
    return make_token(app, world.clinic_a, can_import=True)


def post(client, secret: str, body: Any, content_type: str = FHIR_JSON):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(
        URL, data=data, content_type=content_type, headers=bearer(secret), csrf=False
    )


def problem(response, status: int = 400) -> dict[str, Any]:
    """The OperationOutcome of a refused import, checked."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == FHIR_JSON
    body = response.get_json(force=True)
    OperationOutcome.model_validate(body)
    return body


def referrals(app: Flask) -> list[PendingReferral]:
    with app.app_context():
        return list(db.session.scalars(select(PendingReferral).order_by(PendingReferral.id)))


def bundle_of(request: dict[str, Any]) -> dict[str, Any]:
    """The same referral as a transaction Bundle: the Patient beside the ServiceRequest."""
    request = copy.deepcopy(request)
    patient = request.pop("contained")[0]
    del patient["id"]
    request["subject"] = {"reference": "urn:uuid:6a1b9e3c-8c53-4c8e-9f0b-2f1f0e5b1d11"}
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": "urn:uuid:6a1b9e3c-8c53-4c8e-9f0b-2f1f0e5b1d11",
                "resource": patient,
                "request": {"method": "POST", "url": "Patient"},
            },
            {"resource": request, "request": {"method": "POST", "url": "ServiceRequest"}},
        ],
    }


# Taking referrals -----------------------------------------------------------------------


@pytest.mark.parametrize("shape", ["contained", "bundle"])
def test_a_referral_is_kept_pending(
    app: Flask, client, world: World, importer: str, shape: str
) -> None:
    """201 with a Location that reads the ServiceRequest back, and a pending referral of the
    token's clinic holding what was sent: name, birth date, the sender's identifier, the
    referrer, the reason, the indication it names and the note; the call is audited."""
    sent = referral_json(reason="Vaginal stenosis after pelvic radiotherapy")
    response = post(client, importer, sent if shape == "contained" else bundle_of(sent))

    assert response.status_code == 201, response.get_data(as_text=True)
    OperationOutcome.model_validate(response.get_json(force=True))
    [kept] = referrals(app)
    assert response.headers["Location"] == f"http://clinic.test/fhir/r4/ServiceRequest/{kept.id}"
    assert (kept.clinic_id, kept.status) == (world.clinic_a, ReferralStatus.PENDING)
    assert kept.full_name == "Robin Hale"
    assert kept.date_of_birth.isoformat() == "1988-04-12"
    assert kept.identifier == "https://gp.example/nhs|943 476 5919"
    assert kept.referrer == "Dr L. Moore, GP"
    assert kept.indication == Indication.PELVIC_RADIOTHERAPY.value
    assert kept.note == "Please see soon."
    assert (
        json.loads(kept.resource)["resourceType"] == sent["resourceType"]
        if shape == "contained"
        else "Bundle"
    )

    read_back = client.get(response.headers["Location"], headers=bearer(importer))
    assert read_back.status_code == 200
    resource = read_back.get_json(force=True)
    ServiceRequest.model_validate(resource)
    assert resource["id"] == str(kept.id)
    assert resource["reasonCode"] == sent["reasonCode"]
    with app.app_context():
        [event] = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "fhir.import")
        ).all()
        assert (event.object_type, event.object_id, event.outcome) == (
            "pending_referral",
            kept.id,
            "ok",
        )


def test_a_read_only_token_cannot_import(app: Flask, client, world: World) -> None:
    """A token made without the import permission: 403, nothing kept."""
    body = problem(post(client, make_token(app, world.clinic_a), referral_json()), 403)
    assert body["issue"][0]["code"] == "forbidden"
    assert referrals(app) == []


def test_another_clinic_never_sees_the_referral(
    app: Flask, client, world: World, importer: str
) -> None:
    """Clinic B's token reading clinic A's referral back: 404."""
    location = post(client, importer, referral_json()).headers["Location"]
    foreign = make_token(app, world.clinic_b, can_import=True)
    problem(client.get(location, headers=bearer(foreign)), 404)


def _without(path: str) -> dict[str, Any]:
    sent = referral_json()
    node: Any = sent
    *parents, last = path.split(".")
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    del node[last]
    return sent


@pytest.mark.parametrize(
    ("body", "words", "where"),
    [
        (_without("contained.0.birthDate"), "birth date is required", "birthDate"),
        (_without("contained.0.name"), "name is required", "name"),
        (_without("status"), "status is required but missing", "ServiceRequest.status"),
        (
            {
                **referral_json(),
                "contained": [{**referral_json()["contained"][0], "birthDate": "12/04/1988"}],
            },
            "birthDate is not valid",
            "ServiceRequest.contained[0].birthDate",
        ),
        (
            {
                **referral_json(),
                "contained": [{**referral_json()["contained"][0], "birthDate": "1988"}],
            },
            "full date",
            "birthDate",
        ),
        (
            {
                **referral_json(),
                "contained": [{**referral_json()["contained"][0], "birthDate": "2999-01-01"}],
            },
            "in the past",
            "birthDate",
        ),
        ({**referral_json(), "authoredOn": "yesterday"}, "not in the format", "authoredOn"),
        # Codes the library takes as codes but FHIR's required value sets do not have,
        # and a request that is no live referral.
        ({**referral_json(), "status": "nonsense"}, "status codes", "ServiceRequest.status"),
        ({**referral_json(), "status": "revoked"}, "Only an active", "ServiceRequest.status"),
        ({**referral_json(), "intent": "wish"}, "intent codes", "ServiceRequest.intent"),
        (
            {
                **bundle_of(referral_json()),
                "entry": [
                    bundle_of(referral_json())["entry"][0],
                    {
                        **bundle_of(referral_json())["entry"][1],
                        "resource": {
                            **bundle_of(referral_json())["entry"][1]["resource"],
                            "status": "entered-in-error",
                        },
                    },
                ],
            },
            "Only an active",
            "Bundle.entry[1].resource.status",
        ),
        ({**referral_json(), "colour": "blue"}, "not an element", "ServiceRequest.colour"),
        ({**referral_json(), "subject": {"reference": "#nobody"}}, "names no Patient", "subject"),
        ({**referral_json(), "subject": {"reference": "Patient/12"}}, "contained", "subject"),
        ({"resourceType": "Patient"}, "Post a ServiceRequest", "resourceType"),
        ({**bundle_of(referral_json()), "type": "collection"}, "transaction or batch", "type"),
        (
            {**bundle_of(referral_json()), "entry": bundle_of(referral_json())["entry"][:1]},
            "exactly one ServiceRequest",
            "entry",
        ),
        # A NUL no PostgreSQL text can hold (and FHIR allows no control character).
        (
            {**referral_json(), "note": [{"text": "see\u0000soon"}]},
            "control characters",
            "ServiceRequest.note[0].text",
        ),
        (
            {
                **referral_json(),
                "contained": [
                    {**referral_json()["contained"][0], "name": [{"text": "Robin\u0000Hale"}]}
                ],
            },
            "control characters",
            "ServiceRequest.contained[0].name[0].text",
        ),
        # A type the library has no model for (it raises KeyError looking it up).
        (
            {
                **referral_json(),
                "contained": [{**referral_json()["contained"][0], "resourceType": "Nope"}],
            },
            "not a FHIR R4 resource type",
            "ServiceRequest",
        ),
        (
            {
                **bundle_of(referral_json()),
                "entry": [*bundle_of(referral_json())["entry"], {"resource": {"resourceType": ""}}],
            },
            "not a FHIR R4 resource type",
            "Bundle",
        ),
        ([1, 2, 3], "a JSON object", ""),
        (b"{not json", "not JSON", ""),
        (b"\xff\xfe", "UTF-8", ""),
        (b"", "not JSON", ""),
        (b"[" * 100_000, "", ""),
    ],
    ids=lambda value: str(value)[:30] if isinstance(value, str) else None,
)
def test_bad_fhir_is_told_what_and_where(
    app: Flask, client, importer: str, body: Any, words: str, where: str
) -> None:
    """Each problem answers 400 with an OperationOutcome whose words say what is wrong
    and whose expression says where; nothing is kept."""
    outcome = problem(post(client, importer, body))
    text = " ".join(i["diagnostics"] for i in outcome["issue"])
    assert words in text
    if where:
        assert any(where in e for i in outcome["issue"] for e in i.get("expression", []))
    assert referrals(app) == []


def test_the_body_must_be_fhir_json_and_not_too_big(
    make_app: Callable[..., Flask], world: World
) -> None:
    """Another content type: 415; a body over the limit: 413; both OperationOutcomes."""
    app = make_app(FHIR_IMPORT_MAX_BYTES=2000)
    client = app.test_client()
    importer = make_token(app, world.clinic_a, can_import=True)
    problem(post(client, importer, b"status=active", "application/x-www-form-urlencoded"), 415)
    problem(post(client, importer, b"<ServiceRequest/>", "application/fhir+xml"), 415)
    big = referral_json()
    big["note"] = [{"text": "x" * 3000}]
    problem(post(client, importer, big), 413)
    problem(post(client, importer, b"{" + b" " * (2 * 1024 * 1024) + b"}"), 413)
    assert referrals(app) == []


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
KEYS = st.sampled_from(
    [
        "resourceType",
        "status",
        "intent",
        "subject",
        "contained",
        "entry",
        "type",
        "birthDate",
        "name",
    ]
)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    junk=st.one_of(
        JSON,
        st.dictionaries(KEYS, JSON, max_size=6),
        st.builds(
            lambda extra: {**referral_json(), **extra}, st.dictionaries(KEYS, JSON, max_size=3)
        ),
        st.builds(
            lambda extra: {
                **referral_json(),
                "contained": [{**referral_json()["contained"][0], **extra}],
            },
            st.dictionaries(KEYS, JSON, max_size=3),
        ),
    )
)
def test_junk_never_makes_a_500(app: Flask, client, importer: str, junk: Any) -> None:
    """Whatever JSON is posted, the answer is 201 (200 for a repeat) or a 4xx
    OperationOutcome, never a 500."""
    response = post(client, importer, junk)
    assert response.status_code in (200, 201) or 400 <= response.status_code < 500
    assert response.mimetype == FHIR_JSON
    OperationOutcome.model_validate(response.get_json(force=True))


# The administrator's decision ------------------------------------------------------------


def test_accepting_makes_the_patient_record(
    app: Flask, client, world: World, importer: str
) -> None:
    """The administrator sees the referral in the list and on its page, opens the usual
    new-patient form filled in from it, completes it, and the patient exists: the
    referral is accepted into that record; each step is audited."""
    post(client, importer, referral_json(reason="Vaginismus"))
    [kept] = referrals(app)
    act_as(client, world.admin.id)

    listing = client.get("/admin/referrals").get_data(as_text=True)
    assert "Robin Hale" in listing and "Dr L. Moore, GP" in listing
    page = client.get(f"/admin/referrals/{kept.id}").get_data(as_text=True)
    assert "Please see soon." in page and "943 476 5919" in page
    form = client.get(f"/admin/referrals/{kept.id}/accept").get_data(as_text=True)
    assert 'value="Robin Hale"' in form
    assert '<option selected value="vaginismus">' in form
    assert 'value="Dr L. Moore, GP"' in form

    response = client.post(
        f"/admin/referrals/{kept.id}/accept",
        data={
            "full_name": "Robin Hale",
            "date_of_birth": "1988-04-12",
            "clinic_identifier": "NS-REF-1",
            "indication": "vaginismus",
            "referring_clinician": "Dr L. Moore, GP",
            "status": "active",
            "responsible_clinician_id": str(world.clinician.id),
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        patient = db.session.scalar(select(Patient).where(Patient.clinic_identifier == "NS-REF-1"))
        assert patient is not None and patient.clinic_id == world.clinic_a
        assert patient.indication is Indication.VAGINISMUS
        referral = db.session.get_one(PendingReferral, kept.id)
        assert referral.status is ReferralStatus.ACCEPTED
        assert (referral.patient_id, referral.decided_by_id) == (patient.id, world.admin.id)
        actions = db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.actor_id == world.admin.id)
        ).all()
    assert {"referral.list", "referral.view", "referral.accept_form"} <= set(actions)
    assert {"patient.create", "referral.accept"} <= set(actions)
    assert "Robin Hale" not in client.get("/admin/referrals").get_data(as_text=True)


def test_a_form_with_errors_keeps_the_referral_pending(app: Flask, client, world: World) -> None:
    """Accepting without the clinic's identifier shows the form again with the error and
    what was typed; no patient is made and the referral still waits."""
    referral_id = make_referral(app, world.clinic_a)
    act_as(client, world.admin.id)
    response = client.post(
        f"/admin/referrals/{referral_id}/accept",
        data={"full_name": "Robin Q. Hale", "date_of_birth": "1988-04-12", "status": "active"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Enter the clinic identifier." in page and 'value="Robin Q. Hale"' in page
    with app.app_context():
        assert db.session.get_one(PendingReferral, referral_id).status is ReferralStatus.PENDING
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(Patient)
                .where(Patient.full_name == "Robin Q. Hale")
            )
            == 0
        )


def test_declining_needs_a_reason_and_keeps_it(app: Flask, client, world: World) -> None:
    """Declining without a reason asks for one; with one, the referral is declined, the
    reason kept, and it leaves the list; it cannot then be accepted."""
    referral_id = make_referral(app, world.clinic_a)
    act_as(client, world.admin.id)
    empty = client.post(f"/admin/referrals/{referral_id}/decline", data={"reason": " "})
    assert "Say why the referral is declined." in empty.get_data(as_text=True)

    done = client.post(
        f"/admin/referrals/{referral_id}/decline", data={"reason": "Not our service area."}
    )
    assert done.status_code == 302
    with app.app_context():
        referral = db.session.get_one(PendingReferral, referral_id)
        assert referral.status is ReferralStatus.DECLINED
        assert referral.decline_reason == "Not our service area."
    again = client.get(f"/admin/referrals/{referral_id}/accept")
    assert again.status_code == 302


def test_another_clinic_s_administrator_finds_nothing(app: Flask, client, world: World) -> None:
    """Clinic B's administrator: clinic A's referral is not found on any of its pages, and
    their list does not show it."""
    referral_id = make_referral(app, world.clinic_a)
    act_as(client, world.other_admin.id)
    assert "Robin Hale" not in client.get("/admin/referrals").get_data(as_text=True)
    assert client.get(f"/admin/referrals/{referral_id}").status_code == 404
    assert client.get(f"/admin/referrals/{referral_id}/accept").status_code == 404
    declined = client.post(f"/admin/referrals/{referral_id}/decline", data={"reason": "x"})
    assert declined.status_code == 404
    with app.app_context():
        assert db.session.get_one(PendingReferral, referral_id).status is ReferralStatus.PENDING


def test_the_list_costs_the_same_at_5_and_50_referrals(app: Flask, client, world: World) -> None:
    """The referrals list reads a fixed number of queries, however many wait."""
    act_as(client, world.admin.id)
    for _ in range(5):
        make_referral(app, world.clinic_a)
    few = queries_for(app, client, "/admin/referrals")
    for _ in range(45):
        make_referral(app, world.clinic_a)
    many = queries_for(app, client, "/admin/referrals")
    assert few == many


# Retries and people the clinic knows already ---------------------------------------------


@pytest.mark.parametrize("shape", ["contained", "bundle"])
def test_a_retried_referral_is_not_kept_twice(
    app: Flask, client, world: World, importer: str, shape: str
) -> None:
    """The same body posted again (a retry after a timeout; no ServiceRequest identifier):
    200 with the first referral's Location, still one referral, the retry audited as a
    duplicate. A different body is a new referral (201)."""
    sent = referral_json()
    body = sent if shape == "contained" else bundle_of(sent)
    first = post(client, importer, body)
    assert first.status_code == 201
    again = post(client, importer, json.loads(json.dumps(body, sort_keys=True)))
    assert again.status_code == 200, again.get_data(as_text=True)
    OperationOutcome.model_validate(again.get_json(force=True))
    assert again.headers["Location"] == first.headers["Location"]
    assert len(referrals(app)) == 1
    other = post(client, importer, referral_json(reason="Vaginal stenosis"))
    assert other.status_code == 201 and other.headers["Location"] != first.headers["Location"]
    assert len(referrals(app)) == 2
    with app.app_context():
        details = db.session.scalars(
            select(AuditEvent.detail)
            .where(AuditEvent.action == "fhir.import")
            .order_by(AuditEvent.id)
        ).all()
    assert [json.loads(d).get("duplicate") for d in details] == [None, True, None]


def test_the_service_request_identifier_names_the_referral(
    app: Flask, client, world: World, importer: str
) -> None:
    """With a ServiceRequest identifier, a retry is found by it (system|value) even if the
    body changed (a new timestamp, say); the same value under another system is another
    referral; another clinic's token keeps its own (de-duplication is per clinic)."""

    def with_identifier(system: str, note: str) -> dict[str, Any]:
        sent = referral_json()
        sent["identifier"] = [{"system": system, "value": "REF-2026-0042"}]
        sent["note"] = [{"text": note}]
        return sent

    first = post(client, importer, with_identifier("https://gp.example/referrals", "First."))
    assert first.status_code == 201
    retry = post(client, importer, with_identifier("https://gp.example/referrals", "Resent."))
    assert (retry.status_code, retry.headers["Location"]) == (200, first.headers["Location"])
    assert [r.note for r in referrals(app)] == ["First."]
    other_system = post(client, importer, with_identifier("https://other.example/ids", "Other."))
    assert other_system.status_code == 201
    elsewhere = make_token(app, world.clinic_b, can_import=True)
    theirs = post(client, elsewhere, with_identifier("https://gp.example/referrals", "First."))
    assert theirs.status_code == 201
    assert theirs.headers["Location"] != first.headers["Location"]
    with app.app_context():
        counted = db.session.scalars(select(PendingReferral.clinic_id)).all()
    assert sorted(counted) == sorted([world.clinic_a, world.clinic_a, world.clinic_b])


def test_the_accept_page_shows_patients_with_the_same_name_and_birth_date(
    app: Flask, client, world: World
) -> None:
    """Accepting a referral for someone the clinic has already (same name, however
    capitalised, and date of birth): the page says "Possibly already a patient" and names
    them with their clinic identifier. Another clinic's patient of the same name and birth
    date is never shown, and a referral for a stranger shows no such notice."""
    with app.app_context():
        mine = db.session.get_one(Patient, world.patient.patient_id)
        theirs = db.session.get_one(Patient, world.other_clinic_patient.patient_id)
        mine_name, mine_born, mine_id = (
            mine.full_name,
            mine.date_of_birth,
            mine.clinic_identifier,
        )
        theirs.full_name, theirs.date_of_birth = mine_name, mine_born
        theirs_id = theirs.clinic_identifier
        db.session.commit()
    known = make_referral(
        app, world.clinic_a, name=mine_name.upper(), born=mine_born.isoformat(), reason="Known"
    )
    stranger = make_referral(app, world.clinic_a, name="Robin Hale", born="1988-04-12")
    act_as(client, world.admin.id)
    page = client.get(f"/admin/referrals/{known}/accept").get_data(as_text=True)
    assert "Possibly already a patient" in page
    assert mine_id in page and mine_name in page
    assert theirs_id not in page
    clean = client.get(f"/admin/referrals/{stranger}/accept").get_data(as_text=True)
    assert "Possibly already a patient" not in clean and mine_id not in clean

"""API tokens: only a SHA-256 of the secret is kept, the secret is shown once (on the
command line and on the administrator's page), a token belongs to one clinic, and
revoking one stops it at once."""

from __future__ import annotations

import hashlib
import re

from flask import Flask
from sqlalchemy import select

from clinic.extensions import db
from clinic.fhirapi.tokens import PREFIX, issue_token, token_for_secret
from clinic.models import ApiToken, AuditEvent, Clinic, Patient
from tests.support.api_tokens import bearer, make_token
from tests.support.auth import act_as
from tests.support.world import World

SECRET = re.compile(r"fhir_[A-Za-z0-9_-]{43}")


def cli(app: Flask, *args: str):
    return app.test_cli_runner().invoke(args=list(args))


def clinic_name(app: Flask, clinic_id: int) -> str:
    with app.app_context():
        return db.session.get_one(Clinic, clinic_id).name


def test_only_a_hash_of_the_secret_is_kept(app: Flask, world: World) -> None:
    """The stored value is the secret's SHA-256, the secret appears in no column, two
    tokens never share a secret, and the secret finds its token (a near miss does not)."""
    with app.app_context():
        clinic = db.session.get_one(Clinic, world.clinic_a)
        token, secret = issue_token(clinic, "Hospital EPR")
        _, other = issue_token(clinic, "Hub")
        db.session.commit()
        assert SECRET.fullmatch(secret) and secret.startswith(PREFIX) and secret != other
        assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
        row = db.session.execute(select(ApiToken.__table__).where(ApiToken.id == token.id)).one()
        assert all(secret not in str(value) for value in row)
        assert token_for_secret(secret) == token
        assert token_for_secret(secret[:-1] + ("A" if secret[-1] != "A" else "B")) is None
        assert token_for_secret(token.token_hash) is None


def test_the_command_line_makes_lists_and_revokes(app: Flask, client, world: World) -> None:
    """`api-token create` prints the token once; `list` shows the tokens without it;
    `revoke` by id or by label stops each at once; a wrong clinic or token is an error."""
    name = clinic_name(app, world.clinic_a)
    made = cli(app, "api-token", "create", "--clinic", name, "--label", "Hospital EPR")
    assert made.exit_code == 0, made.output
    [secret] = SECRET.findall(made.output)
    assert "not shown again" in made.output
    importer = cli(app, "api-token", "create", "--clinic", name, "--label", "Hub", "--can-import")
    [import_secret] = SECRET.findall(importer.output)
    assert "read and import" in importer.output

    listed = cli(app, "api-token", "list", "--clinic", name)
    assert "Hospital EPR" in listed.output and "Hub" in listed.output
    assert secret not in listed.output and "never used" in listed.output
    assert client.get("/fhir/r4/Patient?identifier=x", headers=bearer(secret)).status_code == 200

    with app.app_context():
        token_id = db.session.scalar(select(ApiToken.id).where(ApiToken.label == "Hospital EPR"))
    revoked = cli(app, "api-token", "revoke", "--clinic", name, "--id", str(token_id))
    assert revoked.exit_code == 0, revoked.output
    assert client.get("/fhir/r4/Patient?identifier=x", headers=bearer(secret)).status_code == 401
    by_label = cli(app, "api-token", "revoke", "--clinic", name, "--label", "Hub")
    assert by_label.exit_code == 0, by_label.output
    assert (
        client.get("/fhir/r4/Patient?identifier=x", headers=bearer(import_secret)).status_code
        == 401
    )
    assert "revoked" in cli(app, "api-token", "list", "--clinic", name).output

    assert cli(app, "api-token", "create", "--clinic", "Nowhere", "--label", "X").exit_code != 0
    other = clinic_name(app, world.clinic_b)
    assert cli(app, "api-token", "revoke", "--clinic", other, "--id", str(token_id)).exit_code != 0
    assert cli(app, "api-token", "revoke", "--clinic", name).exit_code != 0


def test_a_token_reads_its_own_clinic_only(app: Flask, client, world: World) -> None:
    """Clinic B's token searching for clinic A's patient's identifier finds nobody."""
    with app.app_context():
        identifier = db.session.get_one(Patient, world.patient.patient_id).clinic_identifier
    own, foreign = make_token(app, world.clinic_a), make_token(app, world.clinic_b)
    query = {"identifier": identifier}
    found = client.get("/fhir/r4/Patient", query_string=query, headers=bearer(own))
    assert found.get_json(force=True)["total"] == 1
    missed = client.get("/fhir/r4/Patient", query_string=query, headers=bearer(foreign))
    assert missed.get_json(force=True)["total"] == 0


def test_the_administrator_makes_sees_and_revokes_tokens(app: Flask, client, world: World) -> None:
    """The page makes a token and shows its secret once (the list never does), lists it
    with its use, and "Revoke" (a POST with CSRF) stops it; both changes are audited."""
    act_as(client, world.admin.id)
    made = client.post("/admin/api-tokens", data={"label": "Hospital EPR", "can_import": "y"})
    page = made.get_data(as_text=True)
    assert made.status_code == 200 and "not shown again" in page
    [secret] = SECRET.findall(page)
    assert client.get("/fhir/r4/Patient?identifier=x", headers=bearer(secret)).status_code == 200

    listing = client.get("/admin/api-tokens").get_data(as_text=True)
    assert "Hospital EPR" in listing and "Read and send referrals" in listing
    assert secret not in listing
    with app.app_context():
        token = db.session.scalar(select(ApiToken).where(ApiToken.label == "Hospital EPR"))
        assert token is not None and token.created_by_id == world.admin.id
        assert token.last_used_at is not None

    forged = client.post(f"/admin/api-tokens/{token.id}/revoke", csrf=False)
    assert forged.status_code == 400
    assert client.get("/fhir/r4/Patient?identifier=x", headers=bearer(secret)).status_code == 200
    revoked = client.post(f"/admin/api-tokens/{token.id}/revoke")
    assert revoked.status_code == 302
    assert client.get("/fhir/r4/Patient?identifier=x", headers=bearer(secret)).status_code == 401
    assert "Revoked" in client.get("/admin/api-tokens").get_data(as_text=True)
    with app.app_context():
        actions = db.session.scalars(
            select(AuditEvent.action).where(
                AuditEvent.actor_id == world.admin.id, AuditEvent.object_type == "api_token"
            )
        ).all()
    assert sorted(actions) == ["api_token.create", "api_token.revoke"]


def test_the_page_refuses_a_label_in_use_and_keeps_what_was_typed(
    app: Flask, client, world: World
) -> None:
    """A second token with the label of one in use: the form again, with the reason."""
    act_as(client, world.admin.id)
    client.post("/admin/api-tokens", data={"label": "Hub"})
    again = client.post("/admin/api-tokens", data={"label": "Hub"}).get_data(as_text=True)
    assert "still in use" in again and 'value="Hub"' in again
    assert not SECRET.findall(again)
    empty = client.post("/admin/api-tokens", data={"label": "  "}).get_data(as_text=True)
    assert "Name the system that will use the token." in empty


def test_another_clinic_s_token_cannot_be_revoked(app: Flask, client, world: World) -> None:
    """Clinic B's administrator posting "Revoke" for clinic A's token: 404, still working."""
    secret = make_token(app, world.clinic_a)
    with app.app_context():
        token_id = db.session.scalar(select(ApiToken.id))
    act_as(client, world.other_admin.id)
    assert client.post(f"/admin/api-tokens/{token_id}/revoke").status_code == 404
    assert client.get("/fhir/r4/Patient?identifier=x", headers=bearer(secret)).status_code == 200

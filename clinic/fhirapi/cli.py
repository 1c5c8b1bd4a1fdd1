"""`flask api-token create|list|revoke`: the FHIR API's tokens, from the command line.

`create` prints the new token once (only its SHA-256 is kept); `list` shows each token's
id, label, permission and use; `revoke` stops one at once (by --id or --label).
"""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from clinic.core.uow import transactional
from clinic.extensions import db
from clinic.fhirapi.tokens import (
    TokenError,
    clinic_tokens,
    get_token_or_none,
    issue_token,
    revoke_token,
    token_labelled,
)
from clinic.models import ApiToken, Clinic

CLINIC_OPTION = click.option(
    "--clinic", "clinic_name", required=True, help="The clinic's name, as in its settings."
)


@click.group("api-token")
def api_token_group() -> None:
    """Tokens other systems use to call the clinic's FHIR API."""


def _clinic(name: str) -> Clinic:
    clinic = db.session.scalar(select(Clinic).where(Clinic.name == name.strip()))
    if clinic is None:
        raise click.BadParameter(f"no clinic is named {name.strip()!r}.", param_hint="--clinic")
    return clinic


@api_token_group.command("create")
@with_appcontext
@transactional
@CLINIC_OPTION
@click.option("--label", required=True, help="The system that will use it (Hospital EPR).")
@click.option(
    "--can-import",
    is_flag=True,
    help="Also let it send referrals (POST ServiceRequest). Without it: read only.",
)
def create_command(clinic_name: str, label: str, can_import: bool) -> None:
    """Make a token and print it, once."""
    try:
        token, secret = issue_token(_clinic(clinic_name), label, can_import=can_import)
    except TokenError as refusal:
        raise click.UsageError(str(refusal)) from refusal
    click.echo(f"Token {token.id} ({token.label}, {_may(token)}) for {clinic_name.strip()}:")
    click.echo(secret)
    click.echo("It is not shown again: copy it now. Only its SHA-256 is kept.", err=True)


@api_token_group.command("list")
@with_appcontext
@CLINIC_OPTION
def list_command(clinic_name: str) -> None:
    """The clinic's tokens: id, label, what it may do, made, last used, revoked."""
    tokens = clinic_tokens(_clinic(clinic_name).id)
    if not tokens:
        click.echo("No tokens.")
    for token in tokens:
        click.echo(
            "\t".join(
                [
                    str(token.id),
                    token.label,
                    _may(token),
                    f"made {token.created_at:%Y-%m-%d %H:%M}Z",
                    f"last used {token.last_used_at:%Y-%m-%d %H:%M}Z"
                    if token.last_used_at
                    else "never used",
                    f"revoked {token.revoked_at:%Y-%m-%d %H:%M}Z" if token.revoked_at else "in use",
                ]
            )
        )


@api_token_group.command("revoke")
@with_appcontext
@transactional
@CLINIC_OPTION
@click.option("--id", "token_id", type=click.IntRange(1, 2**31 - 1), help="The token's id.")
@click.option("--label", help="Or the label of the token in use.")
def revoke_command(clinic_name: str, token_id: int | None, label: str | None) -> None:
    """Stop a token working, at once."""
    if (token_id is None) == (label is None):
        raise click.UsageError("Name the token by --id or by --label (one of them).")
    clinic = _clinic(clinic_name)
    token: ApiToken | None = (
        get_token_or_none(clinic.id, token_id)
        if token_id is not None
        else token_labelled(clinic.id, " ".join((label or "").split()))
    )
    if token is None:
        raise click.BadParameter("no such token at this clinic.", param_hint="--id/--label")
    try:
        revoke_token(token)
    except TokenError as refusal:
        raise click.UsageError(str(refusal)) from refusal
    click.echo(f"Token {token.id} ({token.label}) revoked: it no longer works.")


def _may(token: ApiToken) -> str:
    return "read and import" if token.can_import else "read only"

"""API tokens: made, found and revoked. Functions flush; the unit of work commits.

A token is `fhir_` followed by 43 characters of a random 256-bit secret (URL-safe
base64). Only its SHA-256 is stored: with that much randomness nothing can be guessed
from the digest, so the slow hashes passwords need add nothing but time to every call.
The digest found is compared again in constant time before it is trusted.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from flask_babel import gettext as _
from sqlalchemy import select

from clinic.audit.log import record
from clinic.core.refusals import Refusal
from clinic.extensions import db
from clinic.models import ApiToken, Clinic, User
from clinic.models.types import utcnow

PREFIX = "fhir_"
LABEL_MAX = 80
# A token's last use is written at most this often: a busy client would otherwise turn
# every read into a write.
LAST_USED_EVERY_SECONDS = 60


class TokenError(Refusal):
    """The token cannot be made or revoked; the message says why in plain words."""


def digest(secret: str) -> str:
    """The stored form of a token: its SHA-256, in hex."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def issue_token(
    clinic: Clinic, label: str, *, can_import: bool = False, by: User | None = None
) -> tuple[ApiToken, str]:
    """Make a token for `clinic`; returns the row and the secret, which is never
    available again."""
    label = " ".join(label.split())
    if not label:
        raise TokenError(_("Give the token a label: the name of the system that will use it."))
    if len(label) > LABEL_MAX:
        raise TokenError(_("Keep the label to %(max)s characters or fewer.", max=LABEL_MAX))
    if token_labelled(clinic.id, label) is not None:
        raise TokenError(_("A token with this label is still in use. Choose another label."))
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        clinic_id=clinic.id,
        label=label,
        token_hash=digest(secret),
        can_import=can_import,
        created_by_id=by.id if by else None,
    )
    db.session.add(token)
    db.session.flush()
    record(
        "api_token.create",
        object_type="api_token",
        object_id=token.id,
        actor=by,
        clinic_id=clinic.id,
        detail={"can_import": can_import},
    )
    return token, secret


def token_of_secret(secret: str) -> ApiToken | None:
    """The token whose secret this is, revoked or not, or None (for the audit trail: a
    revoked token still in use is its clinic's business)."""
    if not secret.startswith(PREFIX) or len(secret) > 200:
        return None
    wanted = digest(secret)
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == wanted))
    if token is None or not hmac.compare_digest(token.token_hash, wanted):
        return None
    return token


def token_for_secret(secret: str) -> ApiToken | None:
    """The unrevoked token whose secret this is, or None."""
    token = token_of_secret(secret)
    return token if token is not None and token.active else None


def note_use(token: ApiToken) -> None:
    """Remember when the token was last used (to the minute)."""
    now = utcnow()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() >= (
        LAST_USED_EVERY_SECONDS
    ):
        token.last_used_at = now


def clinic_tokens(clinic_id: int) -> list[ApiToken]:
    """The clinic's tokens, those in use first, newest first, with who made them."""
    return list(
        db.session.scalars(
            select(ApiToken)
            .where(ApiToken.clinic_id == clinic_id)
            .options(db.joinedload(ApiToken.created_by))
            .order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc(), ApiToken.id)
        )
    )


def token_labelled(clinic_id: int, label: str) -> ApiToken | None:
    """The clinic's unrevoked token with this label, if any."""
    return db.session.scalar(
        select(ApiToken).where(
            ApiToken.clinic_id == clinic_id,
            ApiToken.label == label,
            ApiToken.revoked_at.is_(None),
        )
    )


def get_token_or_none(clinic_id: int, token_id: int) -> ApiToken | None:
    """The clinic's token with this id (None for another clinic's)."""
    return db.session.scalar(
        select(ApiToken).where(ApiToken.id == token_id, ApiToken.clinic_id == clinic_id)
    )


def revoke_token(token: ApiToken, *, by: User | None = None) -> None:
    """Stop the token working, from its next request on."""
    if not token.active:
        raise TokenError(_("This token was revoked already."))
    token.revoked_at = utcnow()
    db.session.flush()
    record(
        "api_token.revoke",
        object_type="api_token",
        object_id=token.id,
        actor=by,
        clinic_id=token.clinic_id,
    )

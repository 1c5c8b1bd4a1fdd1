"""When an invitation can be used: before expiry, once, and only the newest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from clinic.models import Clinic, Invitation, Role, User
from clinic.models.invitations import hash_token

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def fresh(valid_days: int = 7) -> tuple[Invitation, str]:
    user = User(email="a@b.example", full_name="A", role=Role.PATIENT, clinic=Clinic(name="C"))
    return Invitation.issue(user, None, valid_days=valid_days, now=NOW)


def test_token_is_random_and_only_its_hash_is_kept() -> None:
    """Two invitations never share a token; the stored hash is the token's SHA-256."""
    (first, token1), (_, token2) = fresh(), fresh()
    assert token1 != token2 and len(token1) >= 40
    assert first.token_hash == hash_token(token1) != token1


def test_usable_until_just_before_expiry() -> None:
    """Usable at any moment before expires_at, not at or after it."""
    invitation, _ = fresh(valid_days=7)
    assert invitation.is_usable(NOW)
    assert invitation.is_usable(NOW + timedelta(days=7) - timedelta(seconds=1))
    assert not invitation.is_usable(NOW + timedelta(days=7))


def test_used_or_revoked_is_not_usable() -> None:
    """Once used, or replaced by a newer one, an invitation is finished."""
    used, _ = fresh()
    used.used_at = NOW
    revoked, _ = fresh()
    revoked.revoked_at = NOW
    assert not used.is_usable(NOW) and not revoked.is_usable(NOW)

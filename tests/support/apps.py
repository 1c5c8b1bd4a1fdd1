"""Configuration of an app under test, for the `app` fixture and for tests that build an
app of their own (other settings, another database)."""

from __future__ import annotations

from functools import cache
from typing import Any

from py_vapid import Vapid

# argon2's cheapest parameters: the suite tests our use of the hasher, not its strength.
FAST_HASHING = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}


@cache
def vapid_key_for_tests() -> str:
    """A Web Push signing key for this test run (PEM): apps under test never make one in
    the source checkout's instance folder (clinic.core.webpush)."""
    key = Vapid()
    key.generate_keys()
    return key.private_pem().decode()


def config_for_tests(database_url: str, **overrides: Any) -> dict[str, Any]:
    """Configuration for an app under test."""
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "PASSWORD_HASH_PARAMS": FAST_HASHING,
        "SERVER_NAME": "clinic.test",
        # Tests sign in hundreds of times from one address; the rate-limit tests turn
        # limits back on for their own app.
        "RATELIMIT_ENABLED": False,
        "VAPID_PRIVATE_KEY": vapid_key_for_tests(),
        **overrides,
    }

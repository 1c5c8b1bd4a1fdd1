"""Password hashing with argon2id (argon2-cffi)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

_EXTENSION_KEY = "clinic.password_hasher"


def _hasher() -> PasswordHasher:
    # One hasher per app, built from its PASSWORD_HASH_PARAMS (tests use cheaper ones).
    hasher = current_app.extensions.get(_EXTENSION_KEY)
    if hasher is None:
        hasher = PasswordHasher(**current_app.config["PASSWORD_HASH_PARAMS"])
        current_app.extensions[_EXTENSION_KEY] = hasher
    return hasher


def hash_password(password: str) -> str:
    """An argon2id hash of `password`, salt included."""
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches. With no hash, still spends the time of one check so that
    response times do not reveal which emails have accounts."""
    hasher = _hasher()
    if password_hash is None:
        dummy_key = _EXTENSION_KEY + ".dummy"
        if dummy_key not in current_app.extensions:  # hash once, not on every attempt
            current_app.extensions[dummy_key] = hasher.hash("not-a-real-password")
        _check(hasher, current_app.extensions[dummy_key], password)
        return False
    return _check(hasher, password_hash, password)


def needs_rehash(password_hash: str) -> bool:
    """Whether a stored hash was made with weaker parameters than today's."""
    return _hasher().check_needs_rehash(password_hash)


def _check(hasher: PasswordHasher, password_hash: str, password: str) -> bool:
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False

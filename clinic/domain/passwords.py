"""The password rules every account follows.

Length and a check against common passwords, nothing else: composition rules and forced
rotation make passwords weaker in practice (NIST SP 800-63B, OWASP ASVS 2.1).
"""

from __future__ import annotations

import gzip
from collections.abc import Container
from functools import cache
from importlib import resources

MIN_LENGTH = 12
MAX_LENGTH = 256  # argon2 copes with more; this only stops absurd request bodies early


@cache
def common_passwords() -> frozenset[str]:
    """The bundled list of common passwords, lower-cased (see clinic/data/README.md)."""
    raw = resources.files("clinic").joinpath("data/common-passwords.txt.gz").read_bytes()
    return frozenset(
        line.strip().lower() for line in gzip.decompress(raw).decode().splitlines() if line
    )


def password_problems(
    password: str, email: str = "", common: Container[str] | None = None
) -> list[str]:
    """Return what is wrong with `password` in plain words; an empty list means it is fine."""
    if common is None:
        common = common_passwords()
    problems: list[str] = []
    if len(password) < MIN_LENGTH:
        problems.append(f"Use at least {MIN_LENGTH} characters (you have {len(password)}).")
    if len(password) > MAX_LENGTH:
        problems.append(f"Use at most {MAX_LENGTH} characters.")
    folded = password.strip().lower()
    email = email.strip().lower()
    if email and folded in {email, email.split("@", 1)[0]}:
        problems.append("Do not use your email address as your password.")
    if folded in common:
        problems.append("This password is too common. Choose something harder to guess.")
    return problems

"""Redirect safety and policy declarations (pure helpers of clinic.access)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clinic.access import AccessPolicy, is_safe_redirect, roles
from clinic.models import Role


@pytest.mark.parametrize(
    "target", ["/patients/", "/patients/?q=a&status=active", "/diary/", "/a/b#c"]
)
def test_local_paths_are_safe(target: str) -> None:
    """Paths on this site may be followed after sign-in."""
    assert is_safe_redirect(target)


@pytest.mark.parametrize(
    "target",
    [
        None,
        "",
        "patients",
        "http://evil.example/",
        "https://evil.example/x",
        "//evil.example",
        "/\\evil.example",
        "javascript:alert(1)",
        "///evil.example",
    ],
)
def test_other_hosts_and_schemes_are_unsafe(target: str | None) -> None:
    """Anything that could leave the site is refused."""
    assert not is_safe_redirect(target)


@given(st.text())
def test_anything_with_a_host_is_never_safe(text: str) -> None:
    """Property: a URL with a scheme or a network location is never followed."""
    parts = urlsplit(text)
    if parts.scheme or parts.netloc:
        assert not is_safe_redirect(text)


def test_roles_needs_at_least_one_role() -> None:
    """An empty role list would lock a route silently; it is an error instead."""
    with pytest.raises(ValueError):
        roles()


def test_policy_description() -> None:
    """Policies describe themselves for logs and reviews."""
    assert AccessPolicy(public=True).describe() == "public"
    assert AccessPolicy(False, frozenset({Role.ADMIN, Role.CLINICIAN})).describe() == (
        "admin+clinician"
    )

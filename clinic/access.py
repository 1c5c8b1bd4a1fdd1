"""Who may use which route: every view declares a policy, and one hook enforces it.

Views are decorated with `@public` or `@roles(Role.CLINICIAN, ...)`. `enforce_access_policy`
runs before every request and refuses any endpoint that declared nothing, so a route added
without a policy fails closed (and the url_map test in tests/integration fails loudly).

Object-level scoping (which clinic, which patient) is the job of the scoped loaders in each
feature's `queries.py`; this module only answers "may this role use this page at all".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeGuard, TypeVar
from urllib.parse import urlsplit

from flask import abort, current_app, request
from flask.typing import ResponseReturnValue
from flask_login import current_user

from clinic.extensions import login_manager
from clinic.models import Role

F = TypeVar("F", bound=Callable[..., object])

# Flask's own static-file endpoint cannot carry an attribute; its files are public.
PUBLIC_ENDPOINTS = frozenset({"static"})


@dataclass(frozen=True)
class AccessPolicy:
    """Public routes need nobody; others need a signed-in account with one of `roles`."""

    public: bool
    roles: frozenset[Role] = frozenset()
    # Open to no session at all: the view checks an API token it was sent (clinic.fhirapi).
    token: bool = False

    def describe(self) -> str:
        if self.token:
            return "api-token"
        return "public" if self.public else "+".join(sorted(self.roles))


def _declare(policy: AccessPolicy) -> Callable[[F], F]:
    def decorator(view: F) -> F:
        # A function takes attributes; the Callable bound of F does not say so.
        view.access_policy = policy  # type: ignore[attr-defined]
        return view

    return decorator


public = _declare(AccessPolicy(public=True))

api_token = _declare(AccessPolicy(public=True, token=True))
"""For the FHIR API: no signed-in account is asked for (nor used); the view's blueprint
authenticates the bearer token sent with the request, and a session cookie alone opens
nothing there."""


def roles(*allowed: Role) -> Callable[[F], F]:
    """Allow signed-in accounts whose role is one of `allowed`."""
    if not allowed:
        raise ValueError("roles() needs at least one role")
    return _declare(AccessPolicy(public=False, roles=frozenset(allowed)))


any_signed_in = roles(*Role)


def policy_for(endpoint: str) -> AccessPolicy | None:
    """The policy the view behind `endpoint` declared, or None."""
    if endpoint in PUBLIC_ENDPOINTS:
        return AccessPolicy(public=True)
    view = current_app.view_functions.get(endpoint)
    return getattr(view, "access_policy", None)


def enforce_access_policy() -> ResponseReturnValue | None:
    """before_request hook: apply the endpoint's declared policy."""
    if request.endpoint is None:  # unknown URL or method: Flask answers 404/405 itself
        return None
    policy = policy_for(request.endpoint)
    if policy is None:
        current_app.logger.error("endpoint %s declares no access policy", request.endpoint)
        abort(403)
    if policy.public:
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if current_user.role not in policy.roles:
        abort(403)
    return None


def is_safe_redirect(target: str | None) -> TypeGuard[str]:
    """True for a path on this site (never another host, never a scheme-relative URL)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


HOME_ENDPOINTS: dict[Role, str] = {
    Role.ADMIN: "admin.staff",
    Role.CLINICIAN: "dashboard.index",
    Role.PATIENT: "portal.home",
}

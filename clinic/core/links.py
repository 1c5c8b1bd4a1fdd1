"""Links that leave the app (sent to people by email, letter or message)."""

from __future__ import annotations

from typing import Any

from flask import current_app, has_request_context, url_for


def external_url(endpoint: str, **values: Any) -> str:
    """An absolute link to `endpoint`, on the configured public address when there is one.
    Works without a request too (the worker composes messages), given that address."""
    base = current_app.config.get("CLINIC_BASE_URL", "")
    if not base:
        return url_for(endpoint, _external=True, **values)
    if has_request_context():
        return base + url_for(endpoint, **values)
    # Outside a request (a job), Flask builds URLs only within a request-like context.
    with current_app.test_request_context(base_url=base):
        return url_for(endpoint, _external=True, **values)

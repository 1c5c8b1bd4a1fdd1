"""Links that leave the app (sent to people by email, letter or message)."""

from __future__ import annotations

from typing import Any

from flask import current_app, url_for


def external_url(endpoint: str, **values: Any) -> str:
    """An absolute link to `endpoint`, on the configured public address when there is one."""
    base = current_app.config.get("CLINIC_BASE_URL", "")
    if base:
        return base + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)

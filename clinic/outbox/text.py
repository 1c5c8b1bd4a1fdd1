"""Message bodies from the text templates under templates/mail/ (one per kind).

Rendered with the app's Jinja environment (its filters: `clinic_time`, `long_date`) but
not through `flask.render_template`: a message is often composed by the worker, outside
any request, where the page context processors (the signed-in person, the menu) have
nothing to read and a message has nothing to take from them.
"""

from __future__ import annotations

from typing import Any

from flask import current_app


def render_text(template: str, **context: Any) -> str:
    """The body of a message from `templates/mail/<template>`."""
    return current_app.jinja_env.get_template(f"mail/{template}").render(**context)

"""Message bodies from the text templates under templates/mail/.

Rendered straight from the app's Jinja environment rather than with
`flask.render_template`: the worker has no request, and the app's template context
processors (the signed-in person, the navigation) need one. A `.txt` template is not
autoescaped: a message is plain text.
"""

from __future__ import annotations

from typing import Any

from flask import current_app


def render_text(template: str, **context: Any) -> str:
    """The plain-text body `template` (under templates/) gives for `context`."""
    return current_app.jinja_env.get_template(template).render(**context)

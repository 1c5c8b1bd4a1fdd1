"""The portal's questionnaire page as tests use it: its address, and sending its own form
as a browser would."""

from __future__ import annotations

from typing import Any

from tests.support.forms import form_values


def url(assignment_id: int, occasion: str = "once") -> str:
    return f"/diary/questionnaires/{assignment_id}/{occasion}"


def send(client, assignment_id: int, action: str, occasion: str = "once", **chosen: Any) -> Any:
    """Post the questionnaire page's own form as a browser would (its hidden fields and the
    answers already checked), with `chosen` answers changed and the button `action`."""
    values = form_values(client.get(url(assignment_id, occasion)).get_data(as_text=True))
    values.update({f"q-{key}": str(value) for key, value in chosen.items()})
    values["action"] = action
    return client.post(url(assignment_id, occasion), data=values)

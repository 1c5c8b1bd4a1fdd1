"""Search by name or clinic identifier, shared by the patient lists."""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_

from clinic.models import Patient


def name_or_identifier_matches(search: str) -> ColumnElement[bool]:
    """A condition matching patients whose name or clinic identifier contains `search`
    (without case). LIKE wildcards typed by the user match themselves."""
    escaped = search.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_")
    pattern = f"%{escaped}%"
    return or_(
        Patient.full_name.ilike(pattern, escape="\\"),
        Patient.clinic_identifier.ilike(pattern, escape="\\"),
    )

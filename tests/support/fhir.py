"""Checks on FHIR output: each resource validated by the `fhir.resources` R4B models with a
round trip (parsed, then serialised back, equal to what we emitted), and a bundle's
references all resolving inside it."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

LOINC = "http://loinc.org"
PAIN = "72514-3"


def round_trips(resource: dict[str, Any]) -> None:
    """`resource` parses as its R4B model and serialises back unchanged."""
    kind = resource["resourceType"]
    model = getattr(importlib.import_module(f"fhir.resources.R4B.{kind.lower()}"), kind)
    parsed = model.model_validate(resource)
    assert parsed.model_dump(mode="json", exclude_none=True) == resource, kind


def references(node: Any) -> Iterator[str]:
    """Every `reference` string anywhere inside `node`."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "reference" and isinstance(value, str):
                yield value
            else:
                yield from references(value)
    elif isinstance(node, list):
        for value in node:
            yield from references(value)


def unresolved(bundle: dict[str, Any]) -> set[str]:
    """References in the bundle that name no resource of the bundle."""
    present = {f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in bundle["entry"]}
    return {ref for ref in references(bundle["entry"]) if ref not in present}


def resources(bundle: dict[str, Any], kind: str | None = None) -> list[dict[str, Any]]:
    """The bundle's resources (of one type when `kind` is given)."""
    found = [e["resource"] for e in bundle["entry"]]
    return [r for r in found if kind is None or r["resourceType"] == kind]


def component(observation: dict[str, Any], code: str) -> dict[str, Any] | None:
    """The component of `observation` with a coding of this code (ours or LOINC)."""
    for part in observation.get("component", []):
        if any(c["code"] == code for c in part["code"].get("coding", [])):
            return part
    return None

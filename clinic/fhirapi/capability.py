"""The CapabilityStatement at /fhir/r4/metadata: exactly what this server serves.

Every type the record mapping serves (clinic.fhir.RESOURCE_TYPES) is readable by id;
Patient is searchable by identifier and has $everything; ServiceRequest is created by
posting a referral and read back by id. Nothing else (no history, no version reads, no
other search parameters): a test compares this statement with the app's routes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from clinic.fhirapi.outcomes import FHIR_JSON

SOFTWARE = "Dilator-program manager"
# The date the statement last changed (it is the same for every clinic).
PUBLISHED = "2026-12-05"


def capability_statement(base_url: str, resource_types: Iterable[str]) -> dict[str, Any]:
    """The server's CapabilityStatement, for the API at `{base_url}/fhir/r4`."""
    resources: list[dict[str, Any]] = []
    for kind in resource_types:
        resource: dict[str, Any] = {"type": kind, "interaction": [{"code": "read"}]}
        if kind == "Patient":
            resource["interaction"].append({"code": "search-type"})
            resource["searchParam"] = [
                {
                    "name": "identifier",
                    "type": "token",
                    "documentation": (
                        "The clinic's identifier for the patient: system|value, or value. "
                        f"The system is exactly {base_url}/fhir/identifier/<clinic id>/patient"
                        " (another finds nobody). No other search parameter is accepted."
                    ),
                }
            ]
            resource["operation"] = [
                {
                    "name": "everything",
                    "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything",
                    "documentation": (
                        "The patient's whole record, as a searchset Bundle. It takes no "
                        "parameters (_since, _type, _count...): any is refused with a 400 "
                        "OperationOutcome naming it."
                    ),
                }
            ]
        resources.append(resource)
    resources.append(
        {
            "type": "ServiceRequest",
            "interaction": [
                {
                    "code": "create",
                    "documentation": (
                        "A referral: a ServiceRequest with its Patient contained, or a "
                        "transaction/batch Bundle holding both (POST to [base]/ServiceRequest). "
                        "Kept for the clinic to accept; needs a token allowed to import."
                    ),
                },
                {"code": "read", "documentation": "A referral this clinic received."},
            ],
        }
    )
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": PUBLISHED,
        "kind": "instance",
        "software": {"name": SOFTWARE},
        "implementation": {
            "description": "The clinic's records for systems it authorises",
            "url": f"{base_url}/fhir/r4",
        },
        "fhirVersion": "4.0.1",
        "format": [FHIR_JSON, "json"],
        "rest": [
            {
                "mode": "server",
                "security": {
                    "cors": False,
                    "description": (
                        "Send Authorization: Bearer <token>. A token reads its own clinic's "
                        "records only; metadata needs none."
                    ),
                },
                "resource": resources,
            }
        ],
    }

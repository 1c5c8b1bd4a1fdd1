"""The FHIR API's reads (their routes join clinic.fhirapi.views' blueprint): the
CapabilityStatement, Patient search by identifier, a read of each resource type the
record mapping serves, and Patient/<id>/$everything. The resources themselves come from
clinic.fhir, scoped to the token's clinic there; here: who asks, what, and the audit."""

from __future__ import annotations

import re

from flask import g, request
from sqlalchemy import select
from werkzeug.wrappers import Response

from clinic.access import api_token
from clinic.extensions import db
from clinic.fhir import RESOURCE_TYPES, everything, find_patients, read_resource
from clinic.fhir.records import full_url
from clinic.fhir.resources import patient_id
from clinic.fhirapi.capability import capability_statement
from clinic.fhirapi.outcomes import error_response, fhir_response
from clinic.fhirapi.views import (
    api_call,
    api_limit,
    audit_detail,
    audit_patient,
    base_url,
    bp,
)
from clinic.models import ApiToken, Patient

# Parameters any search may carry (FHIR's own); anything else is refused, never ignored:
# a search silently ignoring a parameter answers more than was asked.
GENERAL_PARAMETERS = frozenset({"_format"})
PATIENT_ID = re.compile(r"^patient-([0-9]{1,18})$")
# A reference to the patient a resource is about, as the mapping writes it.
PATIENT_REFERENCE = re.compile(r"^Patient/patient-([0-9]{1,18})$")


@bp.get("/metadata")
@api_token
@api_limit
def metadata() -> Response:
    """The CapabilityStatement: what this server serves (no token needed)."""
    return fhir_response(capability_statement(base_url(), RESOURCE_TYPES))


@bp.get("/Patient")
@api_token
@api_limit
@api_call("fhir.search")
def search_patients(token: ApiToken) -> Response:
    """Patients of the token's clinic with this identifier, as a searchset Bundle."""
    g.api_object_type = "patient"
    unknown = sorted(set(request.args) - GENERAL_PARAMETERS - {"identifier"})
    if unknown:
        return error_response(
            400, f"Unknown search parameter: {', '.join(unknown)[:100]}. Search by identifier."
        )
    values = request.args.getlist("identifier")
    if len(values) != 1 or not values[0].strip():
        return error_response(
            400, "Search patients by one identifier: identifier=system|value (or value)."
        )
    system, bar, value = values[0].rpartition("|")
    base = base_url()
    found = find_patients(token.clinic_id, system if bar else None, value, base)
    entries = []
    for patient in found:
        resource = read_resource(token.clinic_id, "Patient", patient_id(patient.id), base)
        if resource is not None:
            entries.append(
                {
                    "fullUrl": full_url(base, resource),
                    "resource": resource,
                    "search": {"mode": "match"},
                }
            )
    audit_detail(matches=len(entries))
    if len(found) == 1:
        audit_patient(found[0].id)
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(entries),
        "link": [{"relation": "self", "url": request.url}],
        "entry": entries,
    }
    return fhir_response(bundle)


@bp.get("/Patient/<resource_id>/$everything")
@api_token
@api_limit
@api_call("fhir.everything")
def patient_everything(token: ApiToken, resource_id: str) -> Response:
    """The patient's whole record as a searchset Bundle. It takes no parameters: one
    given (_since, _type, _count...) is refused, never ignored (the answer would hold more
    than was asked)."""
    g.api_object_type = "patient"
    unknown = sorted(set(request.args) - GENERAL_PARAMETERS)
    if unknown:
        return error_response(
            400,
            f"Unknown parameter: {', '.join(unknown)[:100]}. $everything takes no parameters.",
        )
    found = PATIENT_ID.match(resource_id)
    patient = (
        db.session.scalar(
            select(Patient).where(
                Patient.id == int(found.group(1)), Patient.clinic_id == token.clinic_id
            )
        )
        if found and int(found.group(1)) < 2**31
        else None
    )
    if patient is None:
        return error_response(404, "There is no such patient here.")
    audit_patient(patient.id)
    g.api_object_id = patient.id
    return fhir_response(everything(patient, base_url()))


@bp.get("/<resource_type>/<resource_id>")
@api_token
@api_limit
@api_call("fhir.read")
def read(token: ApiToken, resource_type: str, resource_id: str) -> Response:
    """One resource of the token's clinic."""
    audit_detail(resource=f"{resource_type[:40]}/{resource_id[:64]}")
    if resource_type not in RESOURCE_TYPES:
        return error_response(404, "This server serves no resources of that type.")
    resource = read_resource(token.clinic_id, resource_type, resource_id, base_url())
    if resource is None:
        return error_response(404, f"There is no {resource_type} with that id here.")
    audit_patient(_patient_of(resource))
    return fhir_response(resource)


def _patient_of(resource: dict) -> int | None:
    """The record the resource is about (for the audit trail), when it is one patient's."""
    if resource.get("resourceType") == "Patient":
        found = PATIENT_ID.match(str(resource.get("id", "")))
        return int(found.group(1)) if found else None
    for key in ("subject", "patient", "target"):
        reference = resource.get(key)
        if isinstance(reference, list):
            reference = reference[0] if reference else None
        if isinstance(reference, dict):
            found = PATIENT_REFERENCE.match(str(reference.get("reference", "")))
            if found:
                return int(found.group(1))
    return None

"""A patient's record as FHIR R4: the resources (clinic.fhir.resources), their codes
(clinic.fhir.codes) and the scoped reads (clinic.fhir.records), whose interface is
re-exported here for the HTTP API, the chart download and the `fhir-export` command."""

from clinic.fhir.records import (
    RESOURCE_TYPES,
    everything,
    find_patients,
    patient_bundle,
    read_resource,
)
from clinic.fhir.resources import document_reference

__all__ = [
    "RESOURCE_TYPES",
    "document_reference",
    "everything",
    "find_patients",
    "patient_bundle",
    "read_resource",
]

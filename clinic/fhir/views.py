"""The chart's FHIR download: a patient's record as a FHIR R4 Bundle (JSON), for the
clinic's staff, recorded in the audit trail. The HTTP API for other systems is separate."""

from __future__ import annotations

import json

from flask import Blueprint, current_app, request
from flask_login import current_user
from werkzeug.wrappers import Response

from clinic.access import roles
from clinic.audit.log import record
from clinic.core.clock import clinic_today
from clinic.fhir.records import patient_bundle
from clinic.models import Role
from clinic.patients.queries import get_patient_or_404

bp = Blueprint("fhir_record", __name__)

staff = roles(Role.CLINICIAN, Role.ADMIN)


def base_url() -> str:
    """The address FHIR URLs start with (the chart's download and the API alike): the
    configured public one (CLINIC_BASE_URL), else the address of this request; no
    trailing slash."""
    return (current_app.config.get("CLINIC_BASE_URL") or request.host_url).rstrip("/")


@bp.get("/patients/<int:patient_id>/fhir-record")
@staff
def download(patient_id: int) -> Response:
    """The patient's record as a FHIR R4 Bundle (collection), as a JSON file."""
    patient = get_patient_or_404(patient_id, current_user.clinic_id)
    bundle = patient_bundle(patient, base_url())
    record(
        "patient.fhir_export",
        patient_id=patient.id,
        object_type="patient",
        object_id=patient.id,
        detail={"via": "chart", "resources": len(bundle["entry"])},
    )
    response = Response(
        json.dumps(bundle, indent=2, ensure_ascii=False), mimetype="application/fhir+json"
    )
    # A neutral name: nothing about the patient or the therapy.
    day = clinic_today(current_user.clinic.timezone)
    response.headers.set("Content-Disposition", "attachment", filename=f"record-{day}.json")
    # Health data: no browser or proxy may keep a copy.
    response.headers["Cache-Control"] = "no-store"
    return response

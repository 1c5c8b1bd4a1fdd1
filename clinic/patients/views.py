"""Clinician pages for patient records.

The caseload list's table is kept rendered, as the dashboard's is (clinic.dashboard.views),
under the clinic's caseload version (which moves with any committed change to its
patients or their summaries: names, identifiers, statuses, invitations, red flags, erasures),
the clinic's staff revision (a responsible clinician's name; clinic.account.upkeep), the
search, the status and the page. A kept table is either current or never asked for again.
"""

from __future__ import annotations

import hashlib
from functools import partial

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from werkzeug.wrappers import Response

from clinic.access import roles
from clinic.audit.log import audited
from clinic.auth.invitations import invitation_email_status, invitation_page, keep_to_show
from clinic.core.forms import show_refusal
from clinic.core.pagination import paginate_counted
from clinic.core.requests import page_number
from clinic.core.uow import after_commit
from clinic.dashboard.queries import caseload_key, caseload_state
from clinic.extensions import cache
from clinic.i18n import current_locale, language, served_language
from clinic.models import Patient, PatientStatus, Role
from clinic.models.types import enum_or_none
from clinic.patients.forms import PatientForm, PortalInvitationForm
from clinic.patients.queries import active_clinicians, caseload_query, get_patient_or_404
from clinic.patients.services import (
    PortalInvitationError,
    create_patient,
    invite_to_portal,
    update_patient,
)

bp = Blueprint("patients", __name__, url_prefix="/patients")

clinicians_only = roles(Role.CLINICIAN)


@bp.get("/")
@clinicians_only
@audited("patient.list")
def index() -> str:
    """The clinic's patients, searchable by name or identifier, filterable by status."""
    search = request.args.get("q", "").strip()[:120]
    status = enum_or_none(PatientStatus, request.args.get("status", ""))
    clinic = current_user.clinic
    page = page_number()
    # Read before the table is rendered, so a table is never older than its key.
    version = caseload_state(clinic.id).version
    key = caseload_key(
        "patients",
        clinic,
        version,
        clinic.staff_revision,
        # Hashed: a key holds no name.
        hashlib.sha256(search.encode()).hexdigest(),
        status.value if status else "",
        page,
        current_locale(),
    )
    table = cache.get(key)
    if table is None:
        table = _caseload_table(clinic.id, search, status, page)
        # Kept only once the request ends well: never from a unit that is rolled back.
        after_commit(partial(cache.set, key, table))
    return render_template(
        "patients/index.html", table=table, search=search, status=status, statuses=PatientStatus
    )


def _caseload_table(clinic_id: int, search: str, status: PatientStatus | None, page: int) -> Markup:
    """The caseload list's table and pager for this search, status and page, rendered."""
    rows = paginate_counted(
        caseload_query(clinic_id, search, status),
        page=page,
        per_page=current_app.config["PATIENTS_PER_PAGE"],
        max_per_page=100,
    )
    html = render_template("patients/_list.html", page=rows, search=search, status=status)
    # Safe: the output of an autoescaped template, marked so the page does not escape it again.
    return Markup(html)  # noqa: S704


@bp.route("/new", methods=["GET", "POST"])
@clinicians_only
@audited(change="patient.create")
def new() -> Response | str:
    """Record a new patient."""
    form = PatientForm(
        clinic_id=current_user.clinic_id,
        clinicians=active_clinicians(current_user.clinic_id),
        data={"responsible_clinician_id": str(current_user.id)},
    )
    if form.validate_on_submit():
        patient = create_patient(current_user.clinic_id, form.details())
        flash(_("The patient was added."), "success")
        return redirect(url_for("patients.show", patient_id=patient.id))
    return render_template("patients/form.html", form=form, patient=None)


@bp.get("/<int:patient_id>")
@clinicians_only
@audited("patient.view", patient="patient_id")
def show(patient_id: int) -> str:
    """The chart's record details: who the patient is, portal access, their data."""
    patient = get_patient_or_404(patient_id, current_user.clinic_id)
    form = PortalInvitationForm(data={"email": patient.user.email if patient.user else ""})
    return _render_show(patient, form)


def _render_show(patient: Patient, invite_form: PortalInvitationForm) -> str:
    invited = patient.user is not None and not patient.user.has_password
    return render_template(
        "patients/show.html",
        patient=patient,
        invite_form=invite_form,
        language=language(patient.language),
        # English is always on; another language only once the clinic has turned it on.
        language_on=served_language(patient.clinic_id, patient.language) == patient.language,
        invitation_email=(
            invitation_email_status([patient.user.id]).get(patient.user.id)
            if invited and patient.user is not None
            else None
        ),
    )


@bp.route("/<int:patient_id>/edit", methods=["GET", "POST"])
@clinicians_only
@audited("patient.edit_form", change="patient.update", patient="patient_id")
def edit(patient_id: int) -> Response | str:
    """Change a patient's details."""
    patient = get_patient_or_404(patient_id, current_user.clinic_id)
    clinicians = active_clinicians(current_user.clinic_id)
    if patient.responsible_clinician and patient.responsible_clinician not in clinicians:
        clinicians.append(patient.responsible_clinician)  # keep a deactivated one selectable
    form = PatientForm(
        clinic_id=current_user.clinic_id,
        clinicians=clinicians,
        patient_id=patient.id,
        obj=patient,
    )
    if form.validate_on_submit():
        update_patient(patient, form.details())
        flash(_("The record was updated."), "success")
        return redirect(url_for("patients.show", patient_id=patient.id))
    return render_template("patients/form.html", form=form, patient=patient)


@bp.post("/<int:patient_id>/invitation")
@clinicians_only
@audited(change="patient.invite", patient="patient_id")
def invite(patient_id: int) -> Response | str | tuple[str, int]:
    """Invite the patient to the portal, or invite them again: a new single-use link is
    emailed to them (the earlier one stops working) and shown once on the invitation page,
    to copy, print or read out."""
    patient = get_patient_or_404(patient_id, current_user.clinic_id)
    if patient.user is not None and patient.user.has_password:
        flash(_("This patient already uses the portal; no invitation is needed."), "error")
        return redirect(url_for("patients.show", patient_id=patient.id))
    form = PortalInvitationForm()
    if form.validate_on_submit():
        try:
            token = invite_to_portal(patient, form.email.data, invited_by=current_user)
        except PortalInvitationError as exc:
            show_refusal(form, exc, "email")
        else:
            # Shown by the page this redirects to, once: reloading it never re-sends this
            # request, which would replace the link just given.
            if patient.user is not None:  # invite_to_portal made or kept the account
                keep_to_show(patient.user, token)
            return redirect(url_for("patients.invitation", patient_id=patient.id))
    return _render_show(patient, form), 400


@bp.get("/<int:patient_id>/invitation")
@clinicians_only
@audited("patient.invitation", patient="patient_id")
def invitation(patient_id: int) -> str:
    """The patient's portal invitation: the new link once, then what became of it."""
    patient = get_patient_or_404(patient_id, current_user.clinic_id)
    return invitation_page(
        patient.user,
        person=patient.full_name,
        back_url=url_for("patients.show", patient_id=patient.id),
        resend_url=url_for("patients.invite", patient_id=patient.id),
        resend_email=patient.user.email if patient.user else None,
    )

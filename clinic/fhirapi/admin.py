"""The administrator's API pages (their routes join the admin blueprint): the clinic's
API tokens (made, listed, revoked) and the referrals other systems sent, each accepted
into a new patient record or declined.

Administrators decide on referrals: like staff accounts and API tokens, taking a new
patient in is the clinic's front door, and the record an accepted referral becomes is made
by the same form and service a clinician uses (clinic.patients); the patient is then
invited to the portal from their chart, the usual way.
"""

from __future__ import annotations

import json

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from clinic.admin.views import admins_only, bp
from clinic.audit.log import audited
from clinic.core.forms import flash_refusal, show_refusal
from clinic.domain.indications import Indication
from clinic.fhirapi.forms import ApiTokenForm, DeclineReferralForm
from clinic.fhirapi.referrals import (
    ReferralDecisionError,
    accept_referral,
    decline_referral,
    get_referral_or_404,
    pending_referrals,
    possibly_known,
)
from clinic.fhirapi.tokens import (
    TokenError,
    clinic_tokens,
    get_token_or_none,
    issue_token,
    revoke_token,
)
from clinic.models import PendingReferral, ReferralStatus
from clinic.patients.forms import PatientForm
from clinic.patients.queries import active_clinicians
from clinic.patients.services import create_patient


@bp.app_template_filter("pretty_json")
def pretty_json(text: str) -> str:
    """A referral's JSON, indented for reading."""
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text


@bp.app_template_global()
def indication_label(value: str) -> str:
    """The words for an indication's stored value ("" for none or an unknown one)."""
    try:
        return Indication(value).label
    except ValueError:
        return ""


@bp.route("/api-tokens", methods=["GET", "POST"])
@admins_only
@audited(change="api_token.create")
def api_tokens() -> str:
    """The clinic's API tokens, and a form to make one (its secret shown once, here)."""
    form = ApiTokenForm()
    if form.validate_on_submit():
        try:
            token, secret = issue_token(
                current_user.clinic,
                form.label.data,
                can_import=form.can_import.data,
                by=current_user,
            )
        except TokenError as refusal:
            show_refusal(form, refusal, "label")
        else:
            # Shown in this answer only: the page a reload would give asks again, and
            # only the secret's hash is stored.
            return render_template("admin/api_token_created.html", token=token, secret=secret)
    return render_template(
        "admin/api_tokens.html", form=form, tokens=clinic_tokens(current_user.clinic_id)
    )


@bp.post("/api-tokens/<int:token_id>/revoke")
@admins_only
@audited(change="api_token.revoke", object_type="api_token", object_id="token_id")
def revoke_api_token(token_id: int) -> Response:
    """Stop a token working at once."""
    token = get_token_or_none(current_user.clinic_id, token_id)
    if token is None:
        abort(404)
    try:
        revoke_token(token, by=current_user)
    except TokenError as refusal:
        flash_refusal(refusal)
    else:
        flash(_("The token “%(label)s” no longer works.", label=token.label), "success")
    return redirect(url_for("admin.api_tokens"))


@bp.get("/referrals")
@admins_only
@audited("referral.list")
def referrals() -> str:
    """Referrals other systems sent, waiting for a decision."""
    return render_template(
        "admin/referrals.html", referrals=pending_referrals(current_user.clinic_id)
    )


@bp.get("/referrals/<int:referral_id>")
@admins_only
@audited("referral.view", object_type="pending_referral", object_id="referral_id")
def referral(referral_id: int) -> str:
    """What arrived: the patient, who refers, why; accept or decline."""
    found = get_referral_or_404(current_user.clinic_id, referral_id)
    return render_template(
        "admin/referral.html",
        referral=found,
        decline_form=DeclineReferralForm(),
        statuses=ReferralStatus,
    )


def _patient_form(found: PendingReferral) -> PatientForm:
    """The new-patient form, filled in from the referral (what the sender said)."""
    indication = found.indication if found.indication in {i.value for i in Indication} else ""
    return PatientForm(
        clinic_id=current_user.clinic_id,
        clinicians=active_clinicians(current_user.clinic_id),
        data={
            "full_name": found.full_name,
            "date_of_birth": found.date_of_birth,
            "indication": indication,
            "referring_clinician": found.referrer,
            "responsible_clinician_id": "",
        },
    )


@bp.route("/referrals/<int:referral_id>/accept", methods=["GET", "POST"])
@admins_only
@audited(
    "referral.accept_form",
    change="referral.accept",
    object_type="pending_referral",
    object_id="referral_id",
)
def accept_referral_form(referral_id: int) -> Response | str:
    """Accept a referral into a new patient record: the clinic's usual new-patient form,
    filled in from the referral, checked and saved by the usual service."""
    found = get_referral_or_404(current_user.clinic_id, referral_id)
    if found.status is not ReferralStatus.PENDING:
        flash_refusal(ReferralDecisionError(_("This referral was decided already.")))
        return redirect(url_for("admin.referral", referral_id=found.id))
    form = _patient_form(found)
    if form.validate_on_submit():
        patient = create_patient(current_user.clinic_id, form.details())
        try:
            accept_referral(found, patient, by=current_user)
        except ReferralDecisionError as refusal:
            flash_refusal(refusal)
            return redirect(url_for("admin.referral", referral_id=found.id))
        flash(
            _(
                "The patient record was made. Their clinician invites them to the portal "
                "from their chart."
            ),
            "success",
        )
        return redirect(url_for("admin.referrals"))
    return render_template(
        "admin/referral_accept.html", referral=found, form=form, known=possibly_known(found)
    )


@bp.post("/referrals/<int:referral_id>/decline")
@admins_only
@audited(change="referral.decline", object_type="pending_referral", object_id="referral_id")
def decline_referral_form(referral_id: int) -> Response | str:
    """Decline a referral, saying why."""
    found = get_referral_or_404(current_user.clinic_id, referral_id)
    form = DeclineReferralForm()
    if form.validate_on_submit():
        try:
            decline_referral(found, form.reason.data, by=current_user)
        except ReferralDecisionError as refusal:
            flash_refusal(refusal)
            return redirect(url_for("admin.referral", referral_id=found.id))
        flash(_("The referral was declined."), "success")
        return redirect(url_for("admin.referrals"))
    return render_template(
        "admin/referral.html", referral=found, decline_form=form, statuses=ReferralStatus
    )

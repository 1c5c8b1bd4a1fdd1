"""The access matrix: who may use each route of the app, and the objects of clinic A its
URLs name (`build_targets`, offered as the `targets` fixture).

The matrix is the specification that tests/integration/test_access_matrix.py checks route by
route and actor by actor; the route-walking tests (tests/support/routes.py and the tests built
on it: security headers, form fuzzing, id swaps, stored XSS, audit coverage) use it to know
who may open a page. A route added to the app without an entry here fails the suite.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from flask import Flask, url_for

from clinic.auth.services import issue_invitation
from clinic.core.clock import clinic_today
from clinic.diary.services import SkipDetails, record
from clinic.domain.diary import FlagReason, SkipReason
from clinic.domain.indications import Indication
from clinic.domain.measure_schedule import Cadence
from clinic.extensions import db
from clinic.library.defaults import seed_clinic_library
from clinic.models import (
    Clinic,
    ClinicInstrument,
    JobRun,
    JobStatus,
    MeasureAssignment,
    MeasureResponse,
    Patient,
    PendingReferral,
    RedFlag,
    Report,
    User,
)
from clinic.models.invitations import EMAIL_CHANGE, RESET
from clinic.models.outbox import MessageStatus, OutboxMessage
from clinic.models.types import utcnow
from clinic.notes.services import write_note
from tests.support.api_tokens import make_referral
from tests.support.letters import stored_letter
from tests.support.protocols import clinic_template, make_protocol
from tests.support.world import World

INSTRUMENTS = Path(__file__).resolve().parents[2] / "clinic" / "data" / "instruments"

ANONYMOUS = "anonymous"
PATIENT = "patient"
OTHER_PATIENT = "other_patient"
CLINICIAN = "clinician"
OTHER_CLINIC_CLINICIAN = "other_clinic_clinician"
ADMIN = "admin"
OTHER_CLINIC_ADMIN = "other_clinic_admin"
ACTORS = [
    ANONYMOUS,
    PATIENT,
    OTHER_PATIENT,
    CLINICIAN,
    OTHER_CLINIC_CLINICIAN,
    ADMIN,
    OTHER_CLINIC_ADMIN,
]
EVERYONE = set(ACTORS)
STAFF_ROLES = {CLINICIAN, OTHER_CLINIC_CLINICIAN, ADMIN, OTHER_CLINIC_ADMIN}

# (endpoint, method) -> actors allowed. URLs name objects of clinic A (see `targets`): the
# patient record and protocol of PATIENT, the account of CLINICIAN's colleague, a dilator
# set, size and template of the clinic's library.
MATRIX: dict[tuple[str, str], set[str]] = {
    ("auth.index", "GET"): EVERYONE,
    ("auth.login", "GET"): EVERYONE,
    ("auth.login", "POST"): EVERYONE,
    ("auth.choose_account", "GET"): EVERYONE,
    ("auth.choose_account", "POST"): EVERYONE,
    ("auth.logout", "POST"): EVERYONE - {ANONYMOUS},
    ("auth.second_factor", "GET"): EVERYONE,
    ("auth.second_factor", "POST"): EVERYONE,
    ("account.index", "GET"): EVERYONE - {ANONYMOUS},
    ("account.reauthenticate", "GET"): EVERYONE - {ANONYMOUS},
    ("account.reauthenticate", "POST"): EVERYONE - {ANONYMOUS},
    ("account.change_password", "GET"): EVERYONE - {ANONYMOUS},
    ("account.change_password", "POST"): EVERYONE - {ANONYMOUS},
    ("account.change_email", "GET"): EVERYONE - {ANONYMOUS},
    ("account.change_email", "POST"): EVERYONE - {ANONYMOUS},
    ("account.two_factor", "GET"): EVERYONE - {ANONYMOUS},
    ("account.two_factor", "POST"): EVERYONE - {ANONYMOUS},
    ("account.start_two_factor", "POST"): EVERYONE - {ANONYMOUS},
    ("account.new_recovery_codes", "POST"): EVERYONE - {ANONYMOUS},
    ("account.disable_two_factor", "POST"): EVERYONE - {ANONYMOUS},
    # The link sent to a new address is the proof: whoever opens it, signed in or not.
    ("account.confirm_email", "GET"): EVERYONE,
    ("account.confirm_email", "POST"): EVERYONE,
    ("account.notifications", "GET"): {PATIENT, OTHER_PATIENT, CLINICIAN, OTHER_CLINIC_CLINICIAN},
    ("account.notifications", "POST"): {PATIENT, OTHER_PATIENT, CLINICIAN, OTHER_CLINIC_CLINICIAN},
    # A patient chooses their own language (the record is the session's, never a form's).
    ("account.choose_language", "POST"): {PATIENT, OTHER_PATIENT},
    ("auth.accept", "GET"): EVERYONE,
    ("auth.accept", "POST"): EVERYONE,
    ("auth.forgot_password", "GET"): EVERYONE,
    ("auth.forgot_password", "POST"): EVERYONE,
    ("auth.reset_sent", "GET"): EVERYONE,
    ("auth.choose_new_password", "GET"): EVERYONE,
    ("auth.choose_new_password", "POST"): EVERYONE,
    ("auth.idle_warning", "GET"): EVERYONE,
    ("auth.stay_signed_in", "POST"): EVERYONE - {ANONYMOUS},
    ("auth.sign_in_again_and_resume", "POST"): EVERYONE,
    ("health.healthz", "GET"): EVERYONE,
    # The intended-use statement is the software's label: read before an account exists too.
    ("safety.about", "GET"): EVERYONE,
    # The hazard log is the software's, the same for every clinic: any clinic's administrator.
    ("safety.hazard_log_page", "GET"): {ADMIN, OTHER_CLINIC_ADMIN},
    ("safety.hazard_log_pdf", "GET"): {ADMIN, OTHER_CLINIC_ADMIN},
    ("static", "GET"): EVERYONE,
    ("portal.home", "GET"): {PATIENT, OTHER_PATIENT},
    ("portal.plan", "GET"): {PATIENT, OTHER_PATIENT},
    ("portal.plan_pdf", "GET"): {PATIENT, OTHER_PATIENT},
    ("portal.safety", "GET"): {PATIENT, OTHER_PATIENT},
    ("portal.progress", "GET"): {PATIENT, OTHER_PATIENT},
    ("portal.session_guide", "GET"): {PATIENT, OTHER_PATIENT},
    ("portal.log_session", "GET"): {PATIENT, OTHER_PATIENT},
    ("portal.log_session", "POST"): {PATIENT, OTHER_PATIENT},
    ("portal.log_skip", "GET"): {PATIENT, OTHER_PATIENT},
    ("portal.log_skip", "POST"): {PATIENT, OTHER_PATIENT},
    ("portal.history", "GET"): {PATIENT, OTHER_PATIENT},
    ("portal.reminders", "GET"): {PATIENT, OTHER_PATIENT},
    ("portal.reminders", "POST"): {PATIENT, OTHER_PATIENT},
    ("portal.entry", "GET"): {PATIENT},
    ("portal.edit_entry", "GET"): {PATIENT},
    ("portal.edit_entry", "POST"): {PATIENT},
    ("portal.withdraw_entry", "GET"): {PATIENT},
    ("portal.withdraw_entry", "POST"): {PATIENT},
    ("portal.questionnaires", "GET"): {PATIENT, OTHER_PATIENT},
    ("portal.questionnaire", "GET"): {PATIENT},
    ("portal.questionnaire", "POST"): {PATIENT},
    ("portal.questionnaire_sent", "GET"): {PATIENT},
    # The installable portal: a manifest and a script, the same for everyone (browsers
    # fetch manifests without cookies); turning notifications on or off: patients only.
    ("push.manifest", "GET"): EVERYONE,
    ("push.service_worker", "GET"): EVERYONE,
    ("push.subscribe", "POST"): {PATIENT, OTHER_PATIENT},
    ("push.unsubscribe", "POST"): {PATIENT, OTHER_PATIENT},
    ("patients.index", "GET"): {CLINICIAN, OTHER_CLINIC_CLINICIAN},
    ("patients.new", "GET"): {CLINICIAN, OTHER_CLINIC_CLINICIAN},
    ("patients.new", "POST"): {CLINICIAN, OTHER_CLINIC_CLINICIAN},
    ("patients.show", "GET"): {CLINICIAN},
    ("patients.edit", "GET"): {CLINICIAN},
    ("patients.edit", "POST"): {CLINICIAN},
    ("patients.invite", "POST"): {CLINICIAN},
    ("patients.invitation", "GET"): {CLINICIAN},
    ("notes.index", "GET"): {CLINICIAN},
    ("notes.add", "POST"): {CLINICIAN},
    ("notes.edit", "GET"): {CLINICIAN},
    ("notes.edit", "POST"): {CLINICIAN},
    ("notes.add_addendum", "POST"): {CLINICIAN},
    ("reporting.index", "GET"): {CLINICIAN},
    ("reporting.new", "GET"): {CLINICIAN},
    ("reporting.new", "POST"): {CLINICIAN},
    ("reporting.download", "GET"): {CLINICIAN},
    ("letters.index", "GET"): {CLINICIAN},
    ("letters.new", "GET"): {CLINICIAN},
    ("letters.new", "POST"): {CLINICIAN},
    ("letters.show", "GET"): {CLINICIAN},
    ("letters.download", "GET"): {CLINICIAN},
    # The address book: the clinic's staff of either role; its wording, administrators.
    ("recipients.index", "GET"): STAFF_ROLES,
    ("recipients.new", "GET"): STAFF_ROLES,
    ("recipients.new", "POST"): STAFF_ROLES,
    ("recipients.edit", "GET"): {CLINICIAN, ADMIN},
    ("recipients.edit", "POST"): {CLINICIAN, ADMIN},
    ("recipients.archive", "POST"): {CLINICIAN, ADMIN},
    ("recipients.restore", "POST"): {CLINICIAN, ADMIN},
    ("recipients.templates", "GET"): {ADMIN, OTHER_CLINIC_ADMIN},
    ("recipients.templates", "POST"): {ADMIN, OTHER_CLINIC_ADMIN},
    ("measures.index", "GET"): {CLINICIAN},
    ("measures.add", "POST"): {CLINICIAN},
    ("measures.end", "GET"): {CLINICIAN},
    ("measures.end", "POST"): {CLINICIAN},
    ("measures.response", "GET"): {CLINICIAN},
    ("instruments.index", "GET"): {CLINICIAN, OTHER_CLINIC_CLINICIAN, ADMIN, OTHER_CLINIC_ADMIN},
    ("instruments.import_file", "POST"): {ADMIN, OTHER_CLINIC_ADMIN},
    ("instruments.retire", "POST"): {ADMIN},
    ("rights.export", "GET"): {CLINICIAN, ADMIN},
    ("fhir_record.download", "GET"): {CLINICIAN, ADMIN},
    ("rights.own_export", "GET"): {PATIENT, OTHER_PATIENT},
    ("rights.own_summary", "GET"): {PATIENT, OTHER_PATIENT},
    ("rights.erase", "GET"): {ADMIN},
    ("rights.erase", "POST"): {ADMIN},
    ("rights.requests", "GET"): {ADMIN, OTHER_CLINIC_ADMIN},
    ("dashboard.index", "GET"): {CLINICIAN, OTHER_CLINIC_CLINICIAN},
    ("mdt.new", "GET"): {CLINICIAN, OTHER_CLINIC_CLINICIAN},
    ("mdt.create", "POST"): {CLINICIAN, OTHER_CLINIC_CLINICIAN},
    # CLINICIAN's own run, an MDT pack: any other member of staff, of either role, is
    # told it does not exist (REQUESTER_ONLY; an administrator's own audit export is in
    # test_audit_export_runs, a colleague's case in test_background_runs).
    ("jobs.progress", "GET"): {CLINICIAN},
    ("jobs.download", "GET"): {CLINICIAN},
    ("timeline.show", "GET"): {CLINICIAN},
    ("timeline.acknowledge_flag", "POST"): {CLINICIAN},
    ("admin.staff", "GET"): {ADMIN, OTHER_CLINIC_ADMIN},
    ("admin.invite", "GET"): {ADMIN, OTHER_CLINIC_ADMIN},
    ("admin.invite", "POST"): {ADMIN, OTHER_CLINIC_ADMIN},
    ("admin.reinvite", "POST"): {ADMIN},
    ("admin.invitation", "GET"): {ADMIN},
    ("admin.deactivate", "POST"): {ADMIN},
    ("admin.reactivate", "POST"): {ADMIN},
    ("admin.reset_two_factor", "GET"): {ADMIN},
    ("admin.reset_two_factor", "POST"): {ADMIN},
    ("admin.settings", "GET"): {ADMIN, OTHER_CLINIC_ADMIN},
    ("admin.settings", "POST"): {ADMIN, OTHER_CLINIC_ADMIN},
    ("admin.outbox", "GET"): {ADMIN, OTHER_CLINIC_ADMIN},
    ("admin.retry_message", "POST"): {ADMIN},
    # The FHIR API's tokens and the referrals it brings: the clinic's administrators.
    ("admin.api_tokens", "GET"): {ADMIN, OTHER_CLINIC_ADMIN},
    ("admin.api_tokens", "POST"): {ADMIN, OTHER_CLINIC_ADMIN},
    ("admin.revoke_api_token", "POST"): {ADMIN},
    # A language is the software's (the same code at every clinic); each administrator
    # turns it on or off for their own clinic only.
    ("languages.index", "GET"): {ADMIN, OTHER_CLINIC_ADMIN},
    ("languages.switch_on", "POST"): {ADMIN, OTHER_CLINIC_ADMIN},
    ("languages.switch_off", "POST"): {ADMIN, OTHER_CLINIC_ADMIN},
    ("admin.referrals", "GET"): {ADMIN, OTHER_CLINIC_ADMIN},
    ("admin.referral", "GET"): {ADMIN},
    ("admin.accept_referral_form", "GET"): {ADMIN},
    ("admin.accept_referral_form", "POST"): {ADMIN},
    ("admin.decline_referral_form", "POST"): {ADMIN},
    ("audit.search", "GET"): {ADMIN, OTHER_CLINIC_ADMIN},
    ("audit.export", "POST"): {ADMIN, OTHER_CLINIC_ADMIN},
    ("audit.patient_history", "GET"): {CLINICIAN},
    ("protocols.current", "GET"): {CLINICIAN},
    ("protocols.detail", "GET"): {CLINICIAN},
    ("protocols.start", "GET"): {CLINICIAN},
    ("protocols.start", "POST"): {CLINICIAN},
    ("protocols.revise", "GET"): {CLINICIAN},
    ("protocols.revise", "POST"): {CLINICIAN},
    ("protocols.change", "GET"): {CLINICIAN},
    ("protocols.change", "POST"): {CLINICIAN},
    ("protocols.instructions", "GET"): {CLINICIAN},
    ("protocols.instructions_pdf", "GET"): {CLINICIAN},
    ("catalogue.index", "GET"): {CLINICIAN, OTHER_CLINIC_CLINICIAN},
    ("catalogue.new_set", "GET"): {CLINICIAN, OTHER_CLINIC_CLINICIAN},
    ("catalogue.new_set", "POST"): {CLINICIAN, OTHER_CLINIC_CLINICIAN},
    ("catalogue.edit_set", "GET"): {CLINICIAN},
    ("catalogue.edit_set", "POST"): {CLINICIAN},
    ("catalogue.new_size", "GET"): {CLINICIAN},
    ("catalogue.new_size", "POST"): {CLINICIAN},
    ("catalogue.edit_size", "GET"): {CLINICIAN},
    ("catalogue.edit_size", "POST"): {CLINICIAN},
    ("catalogue.remove_size", "POST"): {CLINICIAN},
    ("catalogue.restore_size", "POST"): {CLINICIAN},
    ("library.index", "GET"): {CLINICIAN, OTHER_CLINIC_CLINICIAN},
    ("library.new", "GET"): {CLINICIAN, OTHER_CLINIC_CLINICIAN},
    ("library.new", "POST"): {CLINICIAN, OTHER_CLINIC_CLINICIAN},
    ("library.show", "GET"): {CLINICIAN},
    ("library.edit", "GET"): {CLINICIAN},
    ("library.edit", "POST"): {CLINICIAN},
    ("library.copy", "POST"): {CLINICIAN},
    ("library.retire", "POST"): {CLINICIAN},
    ("library.restore", "POST"): {CLINICIAN},
}

# Routes whose URL names an object of clinic A: the other clinic's staff must get 404
# (not 403), so they cannot even learn that the object exists.
# Entry and questionnaire URLs name PATIENT's own diary entry or measure assignment: the
# other patient gets 404, never 403.
OWN_ENTRY = {
    "portal.entry",
    "portal.edit_entry",
    "portal.withdraw_entry",
    "portal.questionnaire",
    "portal.questionnaire_sent",
}

# Background runs (the `run_id` target: CLINICIAN's MDT pack) are for the account that
# asked only; the pages are open to both staff roles (the run's kind decides whose it may
# be), so any other member of staff, of either clinic and either role, gets 404.
REQUESTER_ONLY = {"jobs.progress", "jobs.download"}
STAFF = {CLINICIAN, OTHER_CLINIC_CLINICIAN, ADMIN, OTHER_CLINIC_ADMIN}

SCOPED = {
    "catalogue.edit_set",
    "catalogue.new_size",
    "catalogue.edit_size",
    "catalogue.remove_size",
    "catalogue.restore_size",
    "library.show",
    "library.edit",
    "library.copy",
    "library.retire",
    "library.restore",
    "protocols.current",
    "protocols.detail",
    "protocols.start",
    "protocols.revise",
    "protocols.change",
    "protocols.instructions",
    "protocols.instructions_pdf",
    "patients.show",
    "patients.edit",
    "patients.invite",
    "patients.invitation",
    "timeline.show",
    "timeline.acknowledge_flag",
    "notes.index",
    "notes.add",
    "notes.edit",
    "notes.add_addendum",
    "reporting.index",
    "reporting.new",
    "reporting.download",
    "letters.index",
    "letters.new",
    "letters.show",
    "letters.download",
    "recipients.edit",
    "recipients.archive",
    "recipients.restore",
    "audit.patient_history",
    "jobs.progress",
    "jobs.download",
    "measures.index",
    "measures.add",
    "measures.end",
    "measures.response",
    "instruments.retire",
    "rights.export",
    "fhir_record.download",
    "rights.erase",
    "admin.reinvite",
    "admin.invitation",
    "admin.deactivate",
    "admin.reactivate",
    "admin.reset_two_factor",
    "admin.retry_message",
    "admin.revoke_api_token",
    "admin.referral",
    "admin.accept_referral_form",
    "admin.decline_referral_form",
}

# The FHIR API (clinic.fhirapi): a bearer token opens it, never a session. Every actor
# above, signed in or not, gets 401 there (test_access_matrix); what tokens may do is
# tested in test_fhir_api.py. The route-walking tests leave these routes out.
TOKEN_ROUTES: set[tuple[str, str]] = {
    ("fhir.metadata", "GET"),
    ("fhir.search_patients", "GET"),
    ("fhir.read", "GET"),
    ("fhir.patient_everything", "GET"),
    ("fhir.create_service_request", "POST"),
    ("fhir.read_service_request", "GET"),
}
# Of those, the one open without a token: what the server serves, nothing about anyone.
TOKEN_FREE = {("fhir.metadata", "GET")}


def actor_user_id(world: World, actor: str) -> int | None:
    """The account an actor signs in with (None for the anonymous visitor)."""
    return {
        ANONYMOUS: None,
        PATIENT: world.patient.id,
        OTHER_PATIENT: world.other_patient.id,
        CLINICIAN: world.clinician.id,
        OTHER_CLINIC_CLINICIAN: world.other_clinician.id,
        ADMIN: world.admin.id,
        OTHER_CLINIC_ADMIN: world.other_admin.id,
    }[actor]


def build_targets(app: Flask, world: World) -> dict[str, object]:
    """Objects of clinic A that URLs name: the patient's record and protocol, a colleague's
    account and invitation token, a dilator set and size, a template, a clinical note, a
    progress report, a message that failed, a referral waiting and its API token."""
    referral_id = make_referral(app, world.clinic_a)
    with app.app_context():
        token_id = db.session.get_one(PendingReferral, referral_id).token_id
        for clinic_id in (world.clinic_a, world.clinic_b):
            seed_clinic_library(db.session.get(Clinic, clinic_id))
        # The vaginismus template, named: "the first row" has no order on PostgreSQL, and
        # a surgeon-directed or radiotherapy one would need more to start.
        template = clinic_template(world.clinic_a, Indication.VAGINISMUS)
        # Both portal patients have a protocol, so their plan pages exist.
        protocol, _ = (
            make_protocol(
                db.session.get(Patient, patient_id),
                db.session.get(User, world.clinician.id),
                template=template,
            )
            for patient_id in (world.patient.patient_id, world.other_patient.patient_id)
        )
        note = write_note(  # by CLINICIAN, just now: still editable
            db.session.get(Patient, world.patient.patient_id),
            db.session.get(User, world.clinician.id),
            "Matrix note.",
        )
        entry = record(
            db.session.get(Patient, world.patient.patient_id),
            protocol,
            db.session.get(User, world.patient.id),
            "matrix-entry",
            SkipDetails(occurred_at=utcnow(), skip_reason=SkipReason.FORGOT, skip_other=""),
        )
        red_flag = RedFlag(
            clinic_id=world.clinic_a,
            patient_id=world.patient.patient_id,
            entry=entry,
            reason=FlagReason.SHARP_PAIN,
        )
        db.session.add(red_flag)
        colleague = db.session.get(User, world.colleague.id)
        colleague.password_hash = None  # an invited colleague who has not signed in yet
        token = issue_invitation(colleague, created_by=None)
        # A password-reset link of a claimed account (another patient's, at clinic B).
        reset_token = issue_invitation(
            db.session.get(User, world.other_clinic_patient.id), created_by=None, purpose=RESET
        )
        # An email change asked for by another clinic's clinician, not yet confirmed.
        email_token = issue_invitation(
            db.session.get(User, world.other_clinician.id),
            created_by=None,
            purpose=EMAIL_CHANGE,
            new_email="moved@matrix.example",
        )
        size = template.stages[0].dilator_size
        # A stored report as the record keeps it (rendering one per matrix case would
        # cost minutes; test_reports.py renders real ones).
        report = Report(
            clinic_id=world.clinic_a,
            patient_id=world.patient.patient_id,
            kind="progress",
            period_from=clinic_today("Europe/London"),
            period_to=clinic_today("Europe/London"),
            author_id=world.clinician.id,
            file_name="progress-report-matrix.pdf",
            pdf=b"%PDF-1.7 matrix",
            sha256="0" * 64,
            size_bytes=15,
        )
        db.session.add(report)
        # A recipient of clinic A's address book, and a letter to them kept as the record
        # keeps it (tests/integration/test_letters.py writes and sends real ones).
        recipient, letter = stored_letter(
            world.clinic_a, world.patient.patient_id, world.clinician.id, "Dr Matrix"
        )
        # A questionnaire due today for PATIENT (answering it is in test_portal_measures.py).
        measure = MeasureAssignment(
            clinic_id=world.clinic_a,
            patient_id=world.patient.patient_id,
            instrument_key="pain-nrs",
            cadence=Cadence.ONCE,
            on=clinic_today("Europe/London"),
            assigned_on=clinic_today("Europe/London"),
        )
        db.session.add(measure)
        # A response PATIENT sent, and a version of an instrument clinic A imported.
        answered = MeasureAssignment(
            clinic_id=world.clinic_a,
            patient_id=world.patient.patient_id,
            instrument_key="dilator-confidence",
            cadence=Cadence.ONCE,
            on=clinic_today("Europe/London"),
            assigned_on=clinic_today("Europe/London"),
        )
        db.session.add(answered)
        db.session.flush()
        sent = MeasureResponse(
            clinic_id=world.clinic_a,
            patient_id=world.patient.patient_id,
            assignment_id=answered.id,
            occasion_key="once",
            occasion_on=clinic_today("Europe/London"),
            instrument_key="dilator-confidence",
            instrument_version="1",
            answers='{"insert": 2}',
            submitted_at=utcnow(),
            valid=True,
            invalid_reason="Not scored: 1 of 5 questions answered, at least 4 needed",
        )
        instrument = ClinicInstrument(
            clinic_id=world.clinic_a,
            key="pain-nrs",
            version="2-matrix",
            title="Pain (clinic copy)",
            licence_status="free",
            definition=(INSTRUMENTS / "pain-nrs.json")
            .read_text("utf-8")
            .replace('"version": "1"', '"version": "2-matrix"'),
        )
        # An MDT pack CLINICIAN asked for, made and kept for its download (making a real
        # one per matrix case would cost minutes; test_background_runs.py makes real ones).
        run = JobRun(
            clinic_id=world.clinic_a,
            requested_by_id=world.clinician.id,
            kind="mdt_pack",
            params=json.dumps({"patient_ids": [world.patient.patient_id]}),
            status=JobStatus.DONE,
            total=1,
            done=1,
            result=b"%PDF-1.7 matrix",
            result_name="mdt-pack-matrix.pdf",
            result_type="application/pdf",
            result_size=15,
            expires_at=utcnow() + timedelta(hours=24),
        )
        # A message to PATIENT that could not be sent (the outbox's "Retry" names it).
        failed_message = OutboxMessage(
            clinic_id=world.clinic_a,
            user_id=world.patient.id,
            kind="password_reset",
            key="password_reset:matrix:user:1:email",
            recipient=world.patient.email,
            subject="Your sign-in link",
            body="Open this link.",
            status=MessageStatus.FAILED,
            attempts=6,
            last_error="recipient refused (550)",
        )
        db.session.add_all([sent, instrument, run, failed_message])
        db.session.commit()
        return {
            "patient_id": world.patient.patient_id,
            "protocol_id": protocol.id,
            "change": "advance",
            "user_id": world.colleague.id,
            "token": token,
            "reset_token": reset_token,
            "email_token": email_token,
            "set_id": size.set_id,
            "size_id": size.id,
            "template_id": template.id,
            "entry_id": entry.id,
            "note_id": note.id,
            "report_id": report.id,
            "recipient_id": recipient.id,
            "letter_id": letter.id,
            "source": "red",
            "flag_id": red_flag.id,
            "filename": "site.css",
            "assignment_id": measure.id,
            "response_id": sent.id,
            "instrument_id": instrument.id,
            "occasion_key": "once",
            "run_id": run.id,
            "message_id": failed_message.id,
            "token_id": token_id,
            "referral_id": referral_id,
            "code": "es",
            "resource_type": "Patient",
            "resource_id": f"patient-{world.patient.patient_id}",
        }


def url_of(app: Flask, endpoint: str, targets: dict[str, object]) -> str:
    """The endpoint's URL with its arguments taken from `targets`."""
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    with app.test_request_context():
        return url_for(endpoint, **{name: targets[name] for name in rule.arguments})

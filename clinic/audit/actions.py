"""What the audit trail's codes mean, in words: actions, outcomes, roles and objects.

An event stores a short code ("timeline.view"); pages and exports show the words here. The
admin page offers the actions below as its "Action" filter, in these groups. An action
written by code that is missing here still shows, as its code: add it when you add one.
"""

from __future__ import annotations

# (group, ((code, words), ...)): the order is the order of the filter's choices.
ACTION_GROUPS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    (
        "Patient records",
        (
            ("patient.list", "Listed or searched patients"),
            ("patient.view", "Viewed the patient's record"),
            ("patient.edit_form", "Opened the patient's details to edit"),
            ("patient.create", "Added a patient"),
            ("patient.update", "Changed the patient's details"),
            ("patient.invite", "Issued a portal invitation"),
            ("patient.invitation", "Opened the patient's portal invitation page"),
            ("patient.export", "Exported the patient's data"),
            ("patient.fhir_export", "Exported the patient's record as FHIR (JSON)"),
            ("patient.erase", "Erased the patient"),
            ("patient.erase_form", "Opened the form to erase the patient"),
            ("dashboard.view", "Opened the dashboard (caseload)"),
            ("timeline.view", "Viewed the timeline"),
            ("flag.acknowledge", "Acknowledged a flag"),
            ("audit.patient_history", "Viewed the patient's access history"),
        ),
    ),
    (
        "Clinical notes",
        (
            ("note.list", "Read the clinical notes"),
            ("note.edit_form", "Opened a note to change it"),
            ("note.write", "Wrote a clinical note"),
            ("note.edit", "Changed a clinical note"),
            ("note.addendum", "Added an addendum"),
        ),
    ),
    (
        "Protocols",
        (
            ("protocol.view", "Viewed a protocol"),
            ("protocol.start_form", "Opened the form to start a protocol"),
            ("protocol.revise_form", "Opened the form to change a plan"),
            ("protocol.change_form", "Opened the form for a protocol decision"),
            ("protocol.start", "Started a protocol"),
            ("protocol.revise", "Changed a protocol's plan"),
            ("protocol.change", "Recorded a protocol decision"),
            ("protocol.instructions", "Viewed the instruction sheet"),
            ("protocol.instructions_pdf", "Downloaded the instruction sheet (PDF)"),
        ),
    ),
    (
        "Outcome measures",
        (
            ("measure.list", "Viewed the outcome measures"),
            ("measure.view", "Viewed a questionnaire's answers"),
            ("measure.assign", "Assigned an outcome measure"),
            ("measure.end_form", "Opened the form to end an outcome measure"),
            ("measure.end", "Ended an outcome measure"),
            ("measure.save", "Saved questionnaire answers for later"),
            ("measure.submit", "Sent a questionnaire"),
            ("measure.answer", "Answered a questionnaire"),
            ("instrument.import", "Added a questionnaire to the clinic"),
            ("instrument.retire", "Retired a questionnaire"),
        ),
    ),
    (
        "Reports and exports",
        (
            ("report.list", "Listed progress reports"),
            ("report.form", "Opened the progress report form"),
            ("report.create", "Generated a progress report"),
            ("report.download", "Downloaded a progress report"),
            ("letter.list", "Listed the patient's letters"),
            ("letter.form", "Opened the form to write a letter"),
            ("letter.create", "Wrote and sent a letter"),
            ("letter.view", "Viewed a letter and its delivery"),
            ("letter.download", "Downloaded a letter (PDF)"),
            ("mdt.form", "Opened the MDT pack form (patient list)"),
            ("mdt.request", "Asked for an MDT pack (made in the background)"),
            ("mdt.export", "Included in a downloaded MDT pack (PDF)"),
            ("job.progress", "Viewed the progress of a file being made"),
            ("job.download", "Downloaded a file made in the background"),
        ),
    ),
    (
        "Diary (by the patient)",
        (
            ("portal.home", "Opened the diary"),
            ("portal.plan", "Viewed their plan"),
            ("portal.plan_pdf", "Downloaded their plan (PDF)"),
            ("portal.safety", "Viewed the safety guidance"),
            ("portal.progress", "Viewed their progress"),
            ("portal.history", "Listed their diary entries"),
            ("portal.entry", "Viewed a diary entry"),
            ("portal.log_form", "Opened the form to log a session"),
            ("portal.session_guide", "Opened the guided session"),
            ("portal.skip_form", "Opened the form to note a skipped session"),
            ("portal.edit_form", "Opened a diary entry to correct it"),
            ("portal.withdraw_form", "Was asked to confirm withdrawing a diary entry"),
            ("portal.questionnaires", "Listed their questionnaires"),
            ("portal.questionnaire", "Opened a questionnaire"),
            ("portal.questionnaire_sent", "Saw a questionnaire's confirmation"),
            ("diary.log", "Logged a session"),
            ("diary.skip", "Noted a skipped session"),
            ("diary.correct", "Corrected a diary entry"),
            ("diary.withdraw", "Withdrew a diary entry"),
            ("portal.reminders", "Opened their reminder settings"),
            ("reminders.change", "Changed their reminders"),
        ),
    ),
    (
        "Sign-in and accounts",
        (
            ("auth.sign_in", "Signed in"),
            ("auth.sign_in_failed", "Failed to sign in"),
            ("access.refused", "Was refused a page, or asked for a record not theirs"),
            ("auth.sign_out", "Signed out"),
            ("auth.session_expired", "Was signed out (time limit)"),
            ("auth.password_reset_requested", "Asked for a password reset link"),
            ("auth.password_reset", "Chose a new password through a reset link"),
            ("auth.recovery_code_used", "Used a recovery code"),
            ("auth.mfa_enabled", "Turned on two-step sign-in"),
            ("auth.mfa_disabled", "Turned off two-step sign-in"),
            ("auth.recovery_codes_replaced", "Replaced their recovery codes"),
            ("auth.password_changed", "Changed their password"),
            ("auth.email_change_requested", "Asked to change their email address"),
            ("auth.email_changed", "Changed their email address"),
            ("account.language", "Chose the language of their pages and emails"),
            ("invitation.accept", "Accepted an invitation"),
            ("push.subscribe", "Turned on notifications on a device"),
            ("push.unsubscribe", "Turned off notifications on a device"),
        ),
    ),
    (
        "Administration",
        (
            ("staff.invite", "Invited a colleague"),
            ("staff.reinvite", "Issued a new invitation link to a colleague"),
            ("staff.invitation", "Opened a colleague's invitation page"),
            ("staff.deactivate", "Deactivated a colleague"),
            ("staff.reactivate", "Reactivated a colleague"),
            ("auth.mfa_reset", "Reset a colleague's two-step sign-in"),
            ("clinic.settings", "Changed the clinic's settings"),
            ("audit.search", "Searched the audit trail"),
            ("audit.export", "Exported the audit trail (CSV, made in the background)"),
            ("outbox.view", "Viewed the outbox (who messages went to)"),
            ("recipient.list", "Listed the address book of letter recipients"),
            ("recipient.form", "Opened a letter recipient's details"),
            ("recipient.create", "Added a letter recipient"),
            ("recipient.update", "Changed a letter recipient's details"),
            ("recipient.archive", "Archived a letter recipient"),
            ("recipient.restore", "Restored an archived letter recipient"),
            ("letter_templates.view", "Opened the clinic's letter templates"),
            ("letter_templates.update", "Changed the clinic's letter templates"),
            ("outbox.retry", "Asked for a failed message to be sent again"),
        ),
    ),
    (
        "FHIR API and referrals",
        (
            ("fhir.search", "Searched patients (FHIR API)"),
            ("fhir.read", "Read a record (FHIR API)"),
            ("fhir.everything", "Read a patient's whole record (FHIR API)"),
            ("fhir.import", "Sent a referral (FHIR API)"),
            ("fhir.metadata", "Read what the server serves (FHIR API)"),
            ("fhir.call", "Called an address the API does not serve (FHIR API)"),
            ("api_token.create", "Made an API token"),
            ("api_token.revoke", "Revoked an API token"),
            ("referral.list", "Listed the referrals waiting"),
            ("referral.view", "Viewed a referral"),
            ("referral.accept_form", "Opened a referral to accept it"),
            ("referral.accept", "Accepted a referral into a new patient record"),
            ("referral.decline", "Declined a referral"),
        ),
    ),
)

ACTIONS: dict[str, str] = {code: words for _, group in ACTION_GROUPS for code, words in group}

# What an attempted change that was not made reads as (its outcome is not "ok": the form
# had errors, the rules refused it, or there was nothing to change). Its words above say
# it was done: "Noted a skipped session" beside "Nothing changed" read as if it had been.
NOT_DONE: dict[str, str] = {
    "patient.create": "Patient not added",
    "patient.update": "Patient's details not changed",
    "patient.invite": "Portal invitation not issued",
    "patient.erase": "Patient not erased",
    "flag.acknowledge": "Flag not acknowledged",
    "note.write": "Clinical note not saved",
    "note.edit": "Clinical note not changed",
    "note.addendum": "Addendum not saved",
    "protocol.start": "Protocol not started",
    "protocol.revise": "Plan change not saved",
    "protocol.change": "Protocol decision not recorded",
    "measure.assign": "Outcome measure not assigned",
    "measure.end": "Outcome measure not ended",
    "measure.answer": "Questionnaire answers not saved",
    "instrument.import": "Questionnaire not added",
    "instrument.retire": "Questionnaire not retired",
    "report.create": "Progress report not generated",
    "letter.create": "Letter not written",
    "recipient.create": "Letter recipient not added",
    "recipient.update": "Letter recipient's details not changed",
    "recipient.archive": "Letter recipient not archived",
    "recipient.restore": "Letter recipient not restored",
    "letter_templates.update": "Letter templates not saved",
    "mdt.request": "MDT pack not requested",
    "diary.log": "Session not saved",
    "diary.skip": "Skipped session not saved",
    "diary.correct": "Correction not saved",
    "diary.withdraw": "Diary entry not withdrawn",
    "reminders.change": "Reminder settings not saved",
    "staff.invite": "Colleague not invited",
    "staff.reinvite": "New invitation link not issued",
    "staff.deactivate": "Colleague not deactivated",
    "staff.reactivate": "Colleague not reactivated",
    "auth.mfa_reset": "Two-step sign-in not reset",
    "clinic.settings": "Clinic settings not saved",
    "audit.export": "Audit trail export not started",
    "outbox.retry": "Message not queued again",
    "fhir.import": "Referral not taken",
    "api_token.create": "API token not made",
    "api_token.revoke": "API token not revoked",
    "referral.accept": "Referral not accepted",
    "referral.decline": "Referral not declined",
    "push.subscribe": "Notifications not turned on",
    "push.unsubscribe": "Notifications not turned off",
}

OUTCOMES: dict[str, str] = {
    "ok": "Done",
    "unchanged": "Nothing changed",
    "invalid": "Not done: the form had errors",
    "refused": "Refused",
    "failed": "Failed",
}

ROLES: dict[str, str] = {
    "admin": "Administrator",
    "clinician": "Clinician",
    "patient": "Patient",
    # A call another system made with an API token (clinic.fhirapi): `detail.token_id`.
    "api": "Other system (API token)",
}

OBJECTS: dict[str, str] = {
    "reminder_plan": "reminder settings",
    "patient": "patient record",
    "note": "clinical note",
    "protocol": "protocol",
    "push_subscription": "device with notifications",
    "red_flag": "red flag",
    "care_flag": "flag",
    "flag": "flag",
    "report": "progress report",
    "diary_entry": "diary entry",
    "user": "account",
    "session": "sign-in session",
    "invitation": "invitation",
    "clinic": "clinic",
    "mdt_pack": "MDT pack",
    "job_run": "file made in the background",
    "patient_erasure": "erasure record",
    "measure_assignment": "outcome measure",
    "measure_response": "questionnaire answers",
    "clinic_instrument": "questionnaire",
    "outbox_message": "message",
    "api_token": "API token",
    "pending_referral": "referral",
}


def action_words(code: str, outcome: str = "ok") -> str:
    """What `code` means ("Viewed the timeline"), or for a change not made what was not
    done ("Skipped session not saved"); the code itself when it is not known."""
    if outcome != "ok" and code in NOT_DONE:
        return NOT_DONE[code]
    return ACTIONS.get(code, code)


def outcome_words(code: str) -> str:
    return OUTCOMES.get(code, code)


def role_words(code: str) -> str:
    return ROLES.get(code, code)


def object_words(object_type: str, object_id: int | None) -> str:
    """ "clinical note 12", or "" for an event about no particular object."""
    if not object_type:
        return ""
    words = OBJECTS.get(object_type, object_type.replace("_", " "))
    return f"{words} {object_id}" if object_id is not None else words

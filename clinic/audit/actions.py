"""What the audit trail's codes mean, in words: actions, outcomes, roles and objects.

An event stores a short code ("timeline.view"); pages and exports show the words here. The
admin page offers the actions below as its "Action" filter, in these groups. An action
written by code that is missing here still shows, as its code: add it when you add one.
The words are English, marked with `N_`; the functions below give them in the reader's
language (staff pages are in English; the catalogue is ready for more).
"""

from __future__ import annotations

from flask_babel import gettext

from clinic.domain.text import N_

# (group, ((code, words), ...)): the order is the order of the filter's choices.
ACTION_GROUPS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    (
        N_("Patient records"),
        (
            ("patient.list", N_("Listed or searched patients")),
            ("patient.view", N_("Viewed the patient's record")),
            ("patient.edit_form", N_("Opened the patient's details to edit")),
            ("patient.create", N_("Added a patient")),
            ("patient.update", N_("Changed the patient's details")),
            ("patient.invite", N_("Issued a portal invitation")),
            ("patient.invitation", N_("Opened the patient's portal invitation page")),
            ("patient.export", N_("Exported the patient's data")),
            ("patient.fhir_export", N_("Exported the patient's record as FHIR (JSON)")),
            ("patient.erase", N_("Erased the patient")),
            ("patient.erase_form", N_("Opened the form to erase the patient")),
            ("dashboard.view", N_("Opened the dashboard (caseload)")),
            ("timeline.view", N_("Viewed the timeline")),
            ("flag.acknowledge", N_("Acknowledged a flag")),
            ("audit.patient_history", N_("Viewed the patient's access history")),
        ),
    ),
    (
        N_("Clinical notes"),
        (
            ("note.list", N_("Read the clinical notes")),
            ("note.edit_form", N_("Opened a note to change it")),
            ("note.write", N_("Wrote a clinical note")),
            ("note.edit", N_("Changed a clinical note")),
            ("note.addendum", N_("Added an addendum")),
        ),
    ),
    (
        N_("Protocols"),
        (
            ("protocol.view", N_("Viewed a protocol")),
            ("protocol.start_form", N_("Opened the form to start a protocol")),
            ("protocol.revise_form", N_("Opened the form to change a plan")),
            ("protocol.change_form", N_("Opened the form for a protocol decision")),
            ("protocol.start", N_("Started a protocol")),
            ("protocol.revise", N_("Changed a protocol's plan")),
            ("protocol.change", N_("Recorded a protocol decision")),
            ("protocol.instructions", N_("Viewed the instruction sheet")),
            ("protocol.instructions_pdf", N_("Downloaded the instruction sheet (PDF)")),
        ),
    ),
    (
        N_("Outcome measures"),
        (
            ("measure.list", N_("Viewed the outcome measures")),
            ("measure.view", N_("Viewed a questionnaire's answers")),
            ("measure.assign", N_("Assigned an outcome measure")),
            ("measure.end_form", N_("Opened the form to end an outcome measure")),
            ("measure.end", N_("Ended an outcome measure")),
            ("measure.save", N_("Saved questionnaire answers for later")),
            ("measure.submit", N_("Sent a questionnaire")),
            ("measure.answer", N_("Answered a questionnaire")),
            ("instrument.import", N_("Added a questionnaire to the clinic")),
            ("instrument.retire", N_("Retired a questionnaire")),
        ),
    ),
    (
        N_("Reports and exports"),
        (
            ("report.list", N_("Listed progress reports")),
            ("report.form", N_("Opened the progress report form")),
            ("report.create", N_("Generated a progress report")),
            ("report.download", N_("Downloaded a progress report")),
            ("letter.list", N_("Listed the patient's letters")),
            ("letter.form", N_("Opened the form to write a letter")),
            ("letter.create", N_("Wrote and sent a letter")),
            ("letter.view", N_("Viewed a letter and its delivery")),
            ("letter.download", N_("Downloaded a letter (PDF)")),
            ("mdt.form", N_("Opened the MDT pack form (patient list)")),
            ("mdt.request", N_("Asked for an MDT pack (made in the background)")),
            ("mdt.export", N_("Included in a downloaded MDT pack (PDF)")),
            ("job.progress", N_("Viewed the progress of a file being made")),
            ("job.download", N_("Downloaded a file made in the background")),
        ),
    ),
    (
        N_("Diary (by the patient)"),
        (
            ("portal.home", N_("Opened the diary")),
            ("portal.plan", N_("Viewed their plan")),
            ("portal.plan_pdf", N_("Downloaded their plan (PDF)")),
            ("portal.safety", N_("Viewed the safety guidance")),
            ("portal.progress", N_("Viewed their progress")),
            ("portal.history", N_("Listed their diary entries")),
            ("portal.entry", N_("Viewed a diary entry")),
            ("portal.log_form", N_("Opened the form to log a session")),
            ("portal.session_guide", N_("Opened the guided session")),
            ("portal.skip_form", N_("Opened the form to note a skipped session")),
            ("portal.edit_form", N_("Opened a diary entry to correct it")),
            ("portal.withdraw_form", N_("Was asked to confirm withdrawing a diary entry")),
            ("portal.questionnaires", N_("Listed their questionnaires")),
            ("portal.questionnaire", N_("Opened a questionnaire")),
            ("portal.questionnaire_sent", N_("Saw a questionnaire's confirmation")),
            ("diary.log", N_("Logged a session")),
            ("diary.skip", N_("Noted a skipped session")),
            ("diary.correct", N_("Corrected a diary entry")),
            ("diary.withdraw", N_("Withdrew a diary entry")),
            ("portal.reminders", N_("Opened their reminder settings")),
            ("reminders.change", N_("Changed their reminders")),
        ),
    ),
    (
        N_("Sign-in and accounts"),
        (
            ("auth.sign_in", N_("Signed in")),
            ("auth.sign_in_failed", N_("Failed to sign in")),
            ("access.refused", N_("Was refused a page, or asked for a record not theirs")),
            ("auth.sign_out", N_("Signed out")),
            ("auth.session_expired", N_("Was signed out (time limit)")),
            ("auth.password_reset_requested", N_("Asked for a password reset link")),
            ("auth.password_reset", N_("Chose a new password through a reset link")),
            ("auth.recovery_code_used", N_("Used a recovery code")),
            ("auth.mfa_enabled", N_("Turned on two-step sign-in")),
            ("auth.mfa_disabled", N_("Turned off two-step sign-in")),
            ("auth.recovery_codes_replaced", N_("Replaced their recovery codes")),
            ("auth.password_changed", N_("Changed their password")),
            ("auth.email_change_requested", N_("Asked to change their email address")),
            ("auth.email_changed", N_("Changed their email address")),
            ("account.language", N_("Chose the language of their pages and emails")),
            ("invitation.accept", N_("Accepted an invitation")),
            ("push.subscribe", N_("Turned on notifications on a device")),
            ("push.unsubscribe", N_("Turned off notifications on a device")),
        ),
    ),
    (
        N_("Administration"),
        (
            ("staff.invite", N_("Invited a colleague")),
            ("staff.reinvite", N_("Issued a new invitation link to a colleague")),
            ("staff.invitation", N_("Opened a colleague's invitation page")),
            ("staff.deactivate", N_("Deactivated a colleague")),
            ("staff.reactivate", N_("Reactivated a colleague")),
            ("auth.mfa_reset", N_("Reset a colleague's two-step sign-in")),
            ("clinic.settings", N_("Changed the clinic's settings")),
            ("clinic.languages_view", N_("Viewed the languages offered to patients")),
            ("clinic.language_on", N_("Turned a language on for patients, after its review")),
            ("clinic.language_off", N_("Turned a language off for patients")),
            ("audit.search", N_("Searched the audit trail")),
            ("audit.export", N_("Exported the audit trail (CSV, made in the background)")),
            ("outbox.view", N_("Viewed the outbox (who messages went to)")),
            ("recipient.list", N_("Listed the address book of letter recipients")),
            ("recipient.form", N_("Opened a letter recipient's details")),
            ("recipient.create", N_("Added a letter recipient")),
            ("recipient.update", N_("Changed a letter recipient's details")),
            ("recipient.archive", N_("Archived a letter recipient")),
            ("recipient.restore", N_("Restored an archived letter recipient")),
            ("letter_templates.view", N_("Opened the clinic's letter templates")),
            ("letter_templates.update", N_("Changed the clinic's letter templates")),
            ("outbox.retry", N_("Asked for a failed message to be sent again")),
        ),
    ),
    (
        N_("FHIR API and referrals"),
        (
            ("fhir.search", N_("Searched patients (FHIR API)")),
            ("fhir.read", N_("Read a record (FHIR API)")),
            ("fhir.everything", N_("Read a patient's whole record (FHIR API)")),
            ("fhir.import", N_("Sent a referral (FHIR API)")),
            ("fhir.metadata", N_("Read what the server serves (FHIR API)")),
            ("fhir.call", N_("Called an address the API does not serve (FHIR API)")),
            ("api_token.create", N_("Made an API token")),
            ("api_token.revoke", N_("Revoked an API token")),
            ("referral.list", N_("Listed the referrals waiting")),
            ("referral.view", N_("Viewed a referral")),
            ("referral.accept_form", N_("Opened a referral to accept it")),
            ("referral.accept", N_("Accepted a referral into a new patient record")),
            ("referral.decline", N_("Declined a referral")),
        ),
    ),
)

ACTIONS: dict[str, str] = {code: words for _, group in ACTION_GROUPS for code, words in group}

# What an attempted change that was not made reads as (its outcome is not "ok": the form
# had errors, the rules refused it, or there was nothing to change). Its words above say
# it was done: "Noted a skipped session" beside "Nothing changed" read as if it had been.
NOT_DONE: dict[str, str] = {
    "patient.create": N_("Patient not added"),
    "patient.update": N_("Patient's details not changed"),
    "patient.invite": N_("Portal invitation not issued"),
    "patient.erase": N_("Patient not erased"),
    "flag.acknowledge": N_("Flag not acknowledged"),
    "note.write": N_("Clinical note not saved"),
    "note.edit": N_("Clinical note not changed"),
    "note.addendum": N_("Addendum not saved"),
    "protocol.start": N_("Protocol not started"),
    "protocol.revise": N_("Plan change not saved"),
    "protocol.change": N_("Protocol decision not recorded"),
    "measure.assign": N_("Outcome measure not assigned"),
    "measure.end": N_("Outcome measure not ended"),
    "measure.answer": N_("Questionnaire answers not saved"),
    "instrument.import": N_("Questionnaire not added"),
    "instrument.retire": N_("Questionnaire not retired"),
    "report.create": N_("Progress report not generated"),
    "letter.create": N_("Letter not written"),
    "recipient.create": N_("Letter recipient not added"),
    "recipient.update": N_("Letter recipient's details not changed"),
    "recipient.archive": N_("Letter recipient not archived"),
    "recipient.restore": N_("Letter recipient not restored"),
    "letter_templates.update": N_("Letter templates not saved"),
    "mdt.request": N_("MDT pack not requested"),
    "diary.log": N_("Session not saved"),
    "diary.skip": N_("Skipped session not saved"),
    "diary.correct": N_("Correction not saved"),
    "diary.withdraw": N_("Diary entry not withdrawn"),
    "reminders.change": N_("Reminder settings not saved"),
    "staff.invite": N_("Colleague not invited"),
    "staff.reinvite": N_("New invitation link not issued"),
    "staff.deactivate": N_("Colleague not deactivated"),
    "staff.reactivate": N_("Colleague not reactivated"),
    "auth.mfa_reset": N_("Two-step sign-in not reset"),
    "clinic.settings": N_("Clinic settings not saved"),
    "clinic.language_on": N_("Language not turned on"),
    "clinic.language_off": N_("Language not turned off"),
    "audit.export": N_("Audit trail export not started"),
    "outbox.retry": N_("Message not queued again"),
    "fhir.import": N_("Referral not taken"),
    "api_token.create": N_("API token not made"),
    "api_token.revoke": N_("API token not revoked"),
    "referral.accept": N_("Referral not accepted"),
    "referral.decline": N_("Referral not declined"),
    "push.subscribe": N_("Notifications not turned on"),
    "push.unsubscribe": N_("Notifications not turned off"),
}

OUTCOMES: dict[str, str] = {
    "ok": N_("Done"),
    "unchanged": N_("Nothing changed"),
    "invalid": N_("Not done: the form had errors"),
    "refused": N_("Refused"),
    "failed": N_("Failed"),
}

ROLES: dict[str, str] = {
    "admin": N_("Administrator"),
    "clinician": N_("Clinician"),
    "patient": N_("Patient"),
    # A call another system made with an API token (clinic.fhirapi): `detail.token_id`.
    "api": N_("Other system (API token)"),
}

OBJECTS: dict[str, str] = {
    "reminder_plan": N_("reminder settings"),
    "patient": N_("patient record"),
    "note": N_("clinical note"),
    "protocol": N_("protocol"),
    "push_subscription": N_("device with notifications"),
    "red_flag": N_("red flag"),
    "care_flag": N_("flag"),
    "flag": N_("flag"),
    "report": N_("progress report"),
    "diary_entry": N_("diary entry"),
    "user": N_("account"),
    "session": N_("sign-in session"),
    "invitation": N_("invitation"),
    "clinic": N_("clinic"),
    "mdt_pack": N_("MDT pack"),
    "job_run": N_("file made in the background"),
    "patient_erasure": N_("erasure record"),
    "measure_assignment": N_("outcome measure"),
    "measure_response": N_("questionnaire answers"),
    "clinic_instrument": N_("questionnaire"),
    "outbox_message": N_("message"),
    "api_token": N_("API token"),
    "pending_referral": N_("referral"),
}


def action_words(code: str, outcome: str = "ok") -> str:
    """What `code` means ("Viewed the timeline"), or for a change not made what was not
    done ("Skipped session not saved"); the code itself when it is not known."""
    if outcome != "ok" and code in NOT_DONE:
        return gettext(NOT_DONE[code])
    return gettext(ACTIONS[code]) if code in ACTIONS else code


def outcome_words(code: str) -> str:
    return gettext(OUTCOMES[code]) if code in OUTCOMES else code


def role_words(code: str) -> str:
    return gettext(ROLES[code]) if code in ROLES else code


def object_words(object_type: str, object_id: int | None) -> str:
    """ "clinical note 12", or "" for an event about no particular object."""
    if not object_type:
        return ""
    words = (
        gettext(OBJECTS[object_type]) if object_type in OBJECTS else object_type.replace("_", " ")
    )
    return f"{words} {object_id}" if object_id is not None else words

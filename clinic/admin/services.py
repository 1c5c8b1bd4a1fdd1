"""Staff account and clinic settings changes. Functions flush; the unit of work commits once."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from flask_babel import gettext as _

from clinic.audit.log import record
from clinic.auth.invitations import email_invitation
from clinic.auth.services import issue_invitation
from clinic.core import clock
from clinic.domain.depth import DEFAULT_DEPTH_DROP_CM
from clinic.domain.reminders import NUDGE_DAYS_DEFAULT
from clinic.domain.starting import DEFAULT_RADIOTHERAPY_WEEKS
from clinic.extensions import db
from clinic.models import Clinic, Role, User
from clinic.reminders.services import reschedule_clinic


@dataclass(frozen=True)
class ClinicSettings:
    """The clinic's contact details and settings, validated."""

    name: str
    address: str
    phone: str
    email: str
    timezone: str
    invitation_valid_days: int
    max_step_mm: float
    completion_pct: int
    not_logging_days: int
    paper_size: str  # "a4" or "letter": the paper printed documents are made for
    staff_idle_minutes: int  # sessions end after this long without activity (5 to 60)
    patient_idle_minutes: int  # the same for patients (5 to 120)
    staff_mfa_required: bool  # administrators and clinicians must use two-factor sign-in
    # Alerts (clinic.alerts): see the columns of Clinic.
    response_hours: int
    working_days: str  # ISO weekday digits, "12345"
    opens_at_minute: int
    closes_at_minute: int
    escalate_after_working_hours: int
    escalate_again_after_hours: int
    duty_email: str
    sender_name: str  # "" for none; the clinic's name to follow the name
    out_of_hours_text: str
    # Weeks after pelvic radiotherapy ends before dilation may start (2 to 8).
    radiotherapy_weeks: int = DEFAULT_RADIOTHERAPY_WEEKS
    # After vaginoplasty, how much less deep than recent sessions raises a red flag (cm).
    depth_drop_cm: float = DEFAULT_DEPTH_DROP_CM
    # Days with nothing noted before a patient with reminders gets one nudge (2 to 14).
    reminder_nudge_days: int = NUDGE_DAYS_DEFAULT


class StaffChangeError(ValueError):
    """The change is not allowed; the message says why in plain words."""


def invite_staff(
    clinic: Clinic, full_name: str, email: str, role: Role, by: User
) -> tuple[User, str]:
    """Create a staff account awaiting its password and email it the invitation; return
    the account and its invitation token."""
    user = User(clinic_id=clinic.id, clinic=clinic, full_name=full_name, email=email, role=role)
    db.session.add(user)
    db.session.flush()
    record(
        "staff.invite", object_type="user", object_id=user.id, actor=by, detail={"role": role.value}
    )
    token = issue_invitation(user, created_by=by)
    email_invitation(user, token)
    return user, token


def reissue_staff_invitation(user: User, by: User) -> str:
    """A fresh invitation, emailed, for a colleague who has not yet chosen a password (the
    earlier link stops working)."""
    if user.has_password:
        raise StaffChangeError(_("%(name)s has already set a password.", name=user.full_name))
    if not user.active:
        raise StaffChangeError(
            _("Reactivate %(name)s before inviting them again.", name=user.full_name)
        )
    record("staff.reinvite", object_type="user", object_id=user.id, actor=by)
    token = issue_invitation(user, created_by=by)
    email_invitation(user, token)
    return token


def set_staff_active(user: User, active: bool, by: User) -> None:
    """Deactivate (signing them out everywhere) or reactivate a colleague."""
    if user.id == by.id:
        raise StaffChangeError(_("You cannot deactivate your own account."))
    user.active = active
    record(
        "staff.reactivate" if active else "staff.deactivate",
        object_type="user",
        object_id=user.id,
        actor=by,
    )
    if not active:
        user.end_all_sessions()
    db.session.flush()


def update_clinic_settings(clinic: Clinic, settings: ClinicSettings) -> None:
    """Save the clinic's details and settings. A change to the thresholds the rules apply,
    or to the zone that says which day it is, recomputes every patient's summary and flags
    before the commit (see clinic.monitoring.upkeep)."""
    values = asdict(settings)
    # The sender name is stored as NULL while it is the clinic's name, so that it follows a
    # new name; "" shows none.
    sender = values.pop("sender_name")
    values["mail_sender_name"] = None if sender == settings.name else sender
    changed = sorted(name for name, value in values.items() if getattr(clinic, name) != value)
    record("clinic.settings", object_type="clinic", object_id=clinic.id, detail={"fields": changed})
    for name, value in values.items():
        setattr(clinic, name, value)
    db.session.flush()
    if "timezone" in changed:
        # Reminders that follow the clinic's zone fall due at other moments now.
        reschedule_clinic(clinic, clock.now())

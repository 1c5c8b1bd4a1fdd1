"""A clinic: the tenant every account and patient record belongs to."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from clinic.extensions import Model
from clinic.models.types import UTCDateTime, utcnow

# What patients are told to do outside opening hours until the clinic words its own.
DEFAULT_OUT_OF_HOURS_TEXT = (
    "Outside opening hours, the clinic reads messages on its next working day. If you "
    "are worried and it cannot wait, contact your out-of-hours medical service or urgent care."
)


class Clinic(Model):
    """A pelvic-health clinic with its contact details and settings."""

    __tablename__ = "clinics"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(120), unique=True)
    address: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    phone: so.Mapped[str] = so.mapped_column(sa.String(40), default="")
    email: so.Mapped[str] = so.mapped_column(sa.String(254), default="")
    # IANA zone: "today" for a patient's diary and "due" dates are the clinic's local dates.
    timezone: so.Mapped[str] = so.mapped_column(sa.String(64), default="Europe/London")
    invitation_valid_days: so.Mapped[int] = so.mapped_column(default=7)
    # Largest diameter step between consecutive stages before the clinician must confirm it.
    max_step_mm: so.Mapped[float] = so.mapped_column(
        sa.Numeric(3, 1, asdecimal=False), default=5.0, server_default="5.0"
    )
    # A session counts as done when it lasted at least this share of the prescribed minutes.
    # Weeks after pelvic radiotherapy ends before a dilation program may start (the
    # guideline range is 2-8; see clinic.domain.starting for the default's reason).
    radiotherapy_weeks: so.Mapped[int] = so.mapped_column(default=4, server_default="4")
    # After vaginoplasty: a session this many cm less deep than the best of the recent
    # ones raises a red flag (see clinic.domain.depth for the default's reason).
    depth_drop_cm: so.Mapped[float] = so.mapped_column(
        sa.Numeric(3, 1, asdecimal=False), default=1.0, server_default="1.0"
    )
    completion_pct: so.Mapped[int] = so.mapped_column(default=80, server_default="80")
    # Days without a diary entry before a patient is flagged as not logging.
    not_logging_days: so.Mapped[int] = so.mapped_column(default=5, server_default="5")
    # Reminders (clinic.reminders): after this many days with nothing noted, a patient with
    # reminders on gets one gentle nudge, then nothing until they note something again.
    reminder_nudge_days: so.Mapped[int] = so.mapped_column(default=4, server_default="4")
    # The clinic-local day every patient summary was last recomputed (see clinic.monitoring).
    summaries_on: so.Mapped[date | None]
    # The clinic-local day the scheduled daily work last ran (clinic.schedule.daily): the
    # refresh, questionnaires made ready. Apart from `summaries_on`, which a first page
    # view or a whole-clinic change also sets.
    daily_run_on: so.Mapped[date | None]
    # Moves by 1 whenever a staff member's name changes (clinic.account.upkeep): pages that
    # name staff and are kept under the patients' versions (the caseload list) key on it
    # too. Read with the signed-in account's clinic, so it costs no query.
    staff_revision: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    # Paper for printed documents: "a4" or "letter".
    paper_size: so.Mapped[str] = so.mapped_column(sa.String(10), default="a4", server_default="a4")
    # Security settings: two-factor mandatory for admins and clinicians; idle minutes
    # before a session ends, for staff and for patients.
    staff_mfa_required: so.Mapped[bool] = so.mapped_column(default=False, server_default=sa.false())
    staff_idle_minutes: so.Mapped[int] = so.mapped_column(default=15, server_default="15")
    patient_idle_minutes: so.Mapped[int] = so.mapped_column(default=30, server_default="30")
    # Alerts (clinic.alerts). How soon the clinic usually answers a patient's report that
    # needs review, in working hours; its working days (ISO weekday digits, Monday "1" to
    # Sunday "7", e.g. "12345") and opening hours (minutes after local midnight, in the
    # clinic's zone): the patient is told these, and escalation counts working hours.
    response_hours: so.Mapped[int] = so.mapped_column(default=4, server_default="4")
    working_days: so.Mapped[str] = so.mapped_column(
        sa.String(7), default="12345", server_default="12345"
    )
    opens_at_minute: so.Mapped[int] = so.mapped_column(default=480, server_default="480")
    closes_at_minute: so.Mapped[int] = so.mapped_column(default=1080, server_default="1080")
    # A report not acknowledged after this many working hours goes to every clinician and
    # administrator; again after this many calendar hours.
    escalate_after_working_hours: so.Mapped[int] = so.mapped_column(default=4, server_default="4")
    escalate_again_after_hours: so.Mapped[int] = so.mapped_column(default=24, server_default="24")
    # An address (a shared duty inbox) that receives every alert too; empty for none.
    duty_email: so.Mapped[str] = so.mapped_column(sa.String(254), default="", server_default="")
    # The display name on the clinic's emails: NULL follows the clinic's name, "" shows
    # none (some patients prefer no clinic name in their mailbox).
    mail_sender_name: so.Mapped[str | None] = so.mapped_column(sa.String(120))
    # What a patient should do outside opening hours (shown with the guidance after a
    # report that needs review).
    out_of_hours_text: so.Mapped[str] = so.mapped_column(
        sa.Text, default=DEFAULT_OUT_OF_HOURS_TEXT, server_default=DEFAULT_OUT_OF_HOURS_TEXT
    )
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        sa.CheckConstraint(
            "invitation_valid_days BETWEEN 1 AND 30", name="invitation_valid_days_range"
        ),
        sa.CheckConstraint("max_step_mm > 0 AND max_step_mm <= 20", name="max_step_range"),
        sa.CheckConstraint("completion_pct BETWEEN 50 AND 100", name="completion_pct_range"),
        sa.CheckConstraint("radiotherapy_weeks BETWEEN 2 AND 8", name="radiotherapy_weeks_range"),
        sa.CheckConstraint("depth_drop_cm BETWEEN 0.5 AND 5", name="depth_drop_range"),
        sa.CheckConstraint("paper_size IN ('a4', 'letter')", name="paper_size_known"),
        sa.CheckConstraint("not_logging_days BETWEEN 2 AND 60", name="not_logging_days_range"),
        sa.CheckConstraint(
            "reminder_nudge_days BETWEEN 2 AND 14", name="reminder_nudge_days_range"
        ),
        sa.CheckConstraint("staff_idle_minutes BETWEEN 5 AND 60", name="staff_idle_range"),
        sa.CheckConstraint("patient_idle_minutes BETWEEN 5 AND 120", name="patient_idle_range"),
        sa.CheckConstraint("response_hours BETWEEN 1 AND 72", name="response_hours_range"),
        sa.CheckConstraint("length(working_days) BETWEEN 1 AND 7", name="working_days_given"),
        sa.CheckConstraint(
            "opens_at_minute >= 0 AND closes_at_minute <= 1440"
            " AND opens_at_minute < closes_at_minute",
            name="opening_hours_order",
        ),
        sa.CheckConstraint(
            "escalate_after_working_hours BETWEEN 1 AND 72", name="escalate_after_range"
        ),
        sa.CheckConstraint(
            "escalate_again_after_hours BETWEEN 1 AND 336", name="escalate_again_range"
        ),
        sa.CheckConstraint(
            "length(out_of_hours_text) BETWEEN 1 AND 1000", name="out_of_hours_text_given"
        ),
    )

    @property
    def sender_name(self) -> str:
        """The display name on the clinic's emails: the one set, possibly none, or else
        the clinic's name."""
        return self.name if self.mail_sender_name is None else self.mail_sender_name

    def __repr__(self) -> str:
        return f"<Clinic {self.id}>"


class ClinicLanguage(Model):
    """A language the clinic has turned on for its patients, after its own review of the
    patient guidance in it (safety wording is clinical content). English needs no row: it
    is always on. Turning a language off deletes the row (the audit trail keeps both)."""

    __tablename__ = "clinic_languages"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    clinic_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("clinics.id"))
    code: so.Mapped[str] = so.mapped_column(sa.String(12))
    # Who reviewed the translation for the clinic (name and role), and when.
    reviewed_by: so.Mapped[str] = so.mapped_column(sa.String(200))
    reviewed_on: so.Mapped[date]
    turned_on_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    turned_on_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (sa.UniqueConstraint("clinic_id", "code", name="uq_clinic_languages_code"),)

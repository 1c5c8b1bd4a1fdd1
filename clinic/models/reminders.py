"""A patient's reminders: when they come (slots in the patient's own zone), how (email,
and the channels added later), and when the minute's job should next look at them.

The rules live in `clinic.domain.reminders`; the sending in `clinic.reminders`.
"""

from __future__ import annotations

from datetime import datetime, time

import sqlalchemy as sa
import sqlalchemy.orm as so

from clinic.domain.reminders import QuietHours, Slot, parse_slots, slots_text
from clinic.domain.text import N_
from clinic.extensions import Model
from clinic.models.types import UTCDateTime, utcnow

# The subjects a patient chooses from: neutral, so a lock screen or a shared inbox shows
# nothing about their care. The key is stored; the words may be reworded.
SUBJECTS = {
    "reminder": N_("Your reminder"),
    "asked": N_("A reminder you asked for"),
    "routine": N_("Time for your routine"),
    "note": N_("A quick note"),
}
DEFAULT_SUBJECT = "reminder"


class ReminderPlan(Model):
    """One patient's reminder settings (one row per patient, kept when turned off so that
    turning them on again restores the choices)."""

    __tablename__ = "reminder_plans"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    clinic_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("clinics.id"), index=True)
    patient_id: so.Mapped[int] = so.mapped_column(unique=True)
    enabled: so.Mapped[bool] = so.mapped_column(default=False)
    # When reminders were last turned on (shown to clinicians: "on since 3 Nov 2026").
    since: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    # "1@07:30 3@19:00": ISO weekday @ local time (see clinic.domain.reminders.slots_text).
    slots_text: so.Mapped[str] = so.mapped_column(sa.String(400), default="")
    # Quiet hours as minutes after local midnight; both NULL for none.
    quiet_from_minute: so.Mapped[int | None]
    quiet_to_minute: so.Mapped[int | None]
    # The patient's IANA zone; NULL follows the clinic's.
    timezone: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    subject: so.Mapped[str] = so.mapped_column(sa.String(20), default=DEFAULT_SUBJECT)
    # Whether the clinic's sender name shows in From (False: the address only).
    show_clinic_name: so.Mapped[bool] = so.mapped_column(default=True)
    # Channels: email now; `by_push` is kept for Web Push (clinic.reminders.sending).
    by_email: so.Mapped[bool] = so.mapped_column(default=True)
    by_push: so.Mapped[bool] = so.mapped_column(default=False, server_default=sa.false())
    # When the minute's job should next look at this patient (UTC); NULL while off.
    next_due_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime, index=True)
    # Grows by one in the database at every change: the dashboard's cached tables use it.
    revision: so.Mapped[int] = so.mapped_column(default=1, server_default="1")
    # When the patient last saved their choices.
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        # The plan's clinic is its patient's clinic: the database refuses a mismatch.
        sa.ForeignKeyConstraint(
            ["patient_id", "clinic_id"],
            ["patients.id", "patients.clinic_id"],
            name="fk_reminder_plans_patient_clinic",
        ),
        sa.CheckConstraint(
            "(quiet_from_minute IS NULL) = (quiet_to_minute IS NULL)", name="quiet_hours_pair"
        ),
        sa.CheckConstraint(
            "quiet_from_minute IS NULL OR (quiet_from_minute BETWEEN 0 AND 1439"
            " AND quiet_to_minute BETWEEN 0 AND 1439)",
            name="quiet_hours_range",
        ),
        sa.CheckConstraint("NOT enabled OR since IS NOT NULL", name="enabled_has_since"),
    )

    @property
    def slots(self) -> tuple[Slot, ...]:
        return parse_slots(self.slots_text)

    @slots.setter
    def slots(self, value: tuple[Slot, ...]) -> None:
        self.slots_text = slots_text(value)

    @property
    def quiet(self) -> QuietHours | None:
        if self.quiet_from_minute is None or self.quiet_to_minute is None:
            return None
        return QuietHours(_time(self.quiet_from_minute), _time(self.quiet_to_minute))

    @property
    def subject_text(self) -> str:
        return SUBJECTS.get(self.subject, SUBJECTS[DEFAULT_SUBJECT])

    def __repr__(self) -> str:
        return f"<ReminderPlan {self.id} patient {self.patient_id}>"


def _time(minute: int) -> time:
    return time(minute // 60, minute % 60)

"""Reading and saving a patient's reminder settings. Functions flush; the unit of work
commits once.

`next_due_at` on the plan says when the minute's job should next look at the patient. It
is computed here on every save, and again by the job each time it looks; it only ever
needs recomputing elsewhere when the zone it was computed in changes (the clinic's zone,
for a patient who follows it: `reschedule_clinic`). Pauses, completions and entries need
nothing: the job applies those rules at each occurrence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

import sqlalchemy as sa

from clinic.audit.log import record
from clinic.core.clock import clinic_today
from clinic.core.templating import short_date
from clinic.domain.reminders import QuietHours, Settings, Slot, next_due_at, slots_text
from clinic.extensions import db
from clinic.models import Clinic, Patient, ReminderPlan, User


@dataclass(frozen=True)
class ReminderChoice:
    """What the patient chose on the Reminders page, validated."""

    enabled: bool
    slots: tuple[Slot, ...]
    quiet: QuietHours | None
    timezone: str | None  # None: the clinic's
    subject: str
    show_clinic_name: bool
    by_email: bool = True
    by_push: bool = False


@dataclass(frozen=True)
class ReminderStatus:
    """What clinicians see: on or off, and since when (never the days or times)."""

    on: bool
    since: date | None

    @property
    def text(self) -> str:
        return f"on since {short_date(self.since)}" if self.on and self.since else "off"

    @property
    def label(self) -> str:
        """The same, as a value on its own: "On since 3 Nov 2026", "Off"."""
        return self.text[:1].upper() + self.text[1:]


def plan_of(patient: Patient) -> ReminderPlan | None:
    """The patient's reminder settings, if they ever saved any."""
    return db.session.scalar(_PLAN, {"patient_id": patient.id, "clinic_id": patient.clinic_id})


# Read on every timeline view (built once).
_PLAN = sa.select(ReminderPlan).where(
    ReminderPlan.patient_id == sa.bindparam("patient_id"),
    ReminderPlan.clinic_id == sa.bindparam("clinic_id"),
)


def zone_for(plan: ReminderPlan | None, clinic: Clinic) -> str:
    """The zone reminders follow: the patient's own, or the clinic's."""
    return (plan.timezone if plan is not None else None) or clinic.timezone


def rules_for(plan: ReminderPlan, clinic: Clinic) -> Settings | None:
    """The plan as the rules read it (None while off)."""
    if not plan.enabled or plan.since is None:
        return None
    return Settings(
        slots=plan.slots,
        zone=zone_for(plan, clinic),
        since=plan.since,
        quiet=plan.quiet,
        nudge_after_days=clinic.reminder_nudge_days,
    )


def schedule(plan: ReminderPlan, clinic: Clinic, now: datetime) -> None:
    """Set when the job should next look at the plan (never, while off)."""
    rules = rules_for(plan, clinic)
    plan.next_due_at = next_due_at(rules, now) if rules is not None else None


def save_reminders(patient: Patient, choice: ReminderChoice, by: User, now: datetime) -> bool:
    """Keep the patient's choices (audited as "reminders.change", with the names of the
    fields changed, never their values); returns whether anything changed."""
    plan = plan_of(patient)
    if plan is None:
        plan = ReminderPlan(patient_id=patient.id, clinic_id=patient.clinic_id, revision=0)
        db.session.add(plan)
    values = {
        "enabled": choice.enabled,
        "slots_text": slots_text(choice.slots),
        "quiet_from_minute": _minute(choice.quiet.start) if choice.quiet else None,
        "quiet_to_minute": _minute(choice.quiet.end) if choice.quiet else None,
        "timezone": choice.timezone,
        "subject": choice.subject,
        "show_clinic_name": choice.show_clinic_name,
        "by_email": choice.by_email,
        "by_push": choice.by_push,
    }
    changed = sorted(name for name, value in values.items() if getattr(plan, name) != value)
    if not changed and plan.id is not None:
        return False
    if choice.enabled and not plan.enabled:
        plan.since = now  # "on since": when they were last turned on
    for name, value in values.items():
        setattr(plan, name, value)
    plan.updated_at = now
    schedule(plan, patient.clinic, now)
    # Added to in the database, never from a value read earlier (see dashboard.queries).
    plan.revision = ReminderPlan.revision + 1 if plan.id is not None else 1
    db.session.flush()
    record(
        "reminders.change",
        patient_id=patient.id,
        object_type="reminder_plan",
        object_id=plan.id,
        actor=by,
        detail={"fields": changed, "on": choice.enabled},
    )
    return True


def reschedule_clinic(clinic: Clinic, now: datetime) -> None:
    """Recompute when the job next looks at the clinic's plans that follow its zone
    (after the clinic's zone changed)."""
    for plan in db.session.scalars(
        sa.select(ReminderPlan).where(
            ReminderPlan.clinic_id == clinic.id,
            ReminderPlan.enabled.is_(True),
            ReminderPlan.timezone.is_(None),
        )
    ):
        schedule(plan, clinic, now)
    db.session.flush()


def reminder_status(patient: Patient) -> ReminderStatus:
    """On since when, or off, in the clinic's calendar."""
    plan = plan_of(patient)
    if plan is None or not plan.enabled or plan.since is None:
        return ReminderStatus(on=False, since=None)
    return ReminderStatus(on=True, since=clinic_today(patient.clinic.timezone, plan.since))


def _minute(at: time) -> int:
    return at.hour * 60 + at.minute

"""Who is told about a report that needs review, what they are sent, and when it escalates.

Called by the session listeners (clinic.alerts.upkeep) and the periodic job
(clinic.alerts.jobs), inside their unit of work; everything here only writes into the
outbox or flushes.

Occasions (the outbox's unique keys): the flags one entry raises together are one report,
named after its first flag, "flag-12"; its escalations are "flag-12:level-1" and
"flag-12:level-2". So a message goes once per report, level and recipient, however often
the job runs or the entry is corrected; a correction that raises a new kind of flag later
is a new report and is sent again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select, update

from clinic.core.links import external_url
from clinic.domain.diary import URGENT_REASONS
from clinic.domain.working_hours import (
    OpeningHours,
    add_working_hours,
    describe,
    is_open,
    minute_of_day,
    next_opening,
    parse_days,
)
from clinic.extensions import db
from clinic.i18n import DEFAULT_LANGUAGE, speaking
from clinic.models import Clinic, Patient, RedFlag, Role, User
from clinic.outbox import Content, cancel, post, sender_name_for
from clinic.outbox.kinds import MessageKind
from clinic.outbox.text import render_text

# Neutral on purpose: subjects show on lock screens and in notification previews.
ALERT_SUBJECT = "A patient needs review"
ESCALATION_SUBJECT = "A patient still needs review"
FIRST, SECOND = 1, 2


def opening_hours(clinic: Clinic) -> OpeningHours:
    """The clinic's opening hours as the working-hours rules take them."""
    return OpeningHours(
        zone=clinic.timezone,
        days=parse_days(clinic.working_days),
        opens=minute_of_day(clinic.opens_at_minute),
        closes=minute_of_day(clinic.closes_at_minute),
    )


@dataclass(frozen=True)
class PatientGuidance:
    """What a patient is told about when the clinic will answer."""

    open_now: bool
    hours: str  # "Monday to Friday, 08:00 to 18:00"
    zone: str
    response_hours: int
    out_of_hours_text: str
    opens_next: datetime  # the next opening (for "it opens again on ...")

    @property
    def opens_next_text(self) -> str:
        """The next opening in the clinic's time: "Monday 8 June at 08:00"."""
        local = self.opens_next.astimezone(ZoneInfo(self.zone))
        return f"{local:%A} {local.day} {local:%B} at {local:%H:%M}"


def patient_guidance(clinic: Clinic, now: datetime) -> PatientGuidance:
    """When the clinic reads reports and what to do outside those hours, as of `now`."""
    hours = opening_hours(clinic)
    return PatientGuidance(
        open_now=is_open(now, hours),
        hours=describe(hours),
        zone=clinic.timezone,
        response_hours=clinic.response_hours,
        out_of_hours_text=clinic.out_of_hours_text,
        opens_next=next_opening(now, hours),
    )


def report_to_discuss(patient: Patient, now: datetime) -> date | None:
    """The clinic-local day of the patient's latest red flag that their Today page asks
    them to speak to the clinic about before the next session: one raised today,
    acknowledged or not, or else an urgent one the clinic has not acknowledged yet,
    however old (a report sent late in the evening must not drop out of sight at midnight
    while nobody has read it). None when there is neither."""
    zone = ZoneInfo(patient.clinic.timezone)
    local = now.astimezone(zone)
    midnight = datetime(local.year, local.month, local.day, tzinfo=zone)
    latest = db.session.scalar(
        select(func.max(RedFlag.raised_at)).where(
            RedFlag.patient_id == patient.id,
            RedFlag.clinic_id == patient.clinic_id,
            or_(
                RedFlag.raised_at >= midnight,
                # Urgent ones: a distress check-in asks no one to stop (clinical reference:
                # lower severity), so it does not hold the next session back for days.
                RedFlag.acknowledged_at.is_(None) & RedFlag.reason.in_(URGENT_REASONS),
            ),
        )
    )
    return latest.astimezone(zone).date() if latest is not None else None


def _can_sign_in(user: User) -> bool:
    return user.active and user.has_password


def staff(clinic_id: int, roles: Sequence[Role]) -> list[User]:
    """The clinic's active staff in these roles who can sign in, in a stable order."""
    return list(
        db.session.scalars(
            select(User)
            .where(
                User.clinic_id == clinic_id,
                User.role.in_(roles),
                User.active.is_(True),
                User.password_hash.is_not(None),
            )
            .order_by(User.id)
        )
    )


def alert_recipients(patient: Patient) -> list[User]:
    """The patient's responsible clinician, or every clinician of the clinic when there is
    none (or they can no longer sign in)."""
    clinician = patient.responsible_clinician
    if (
        clinician is not None
        and clinician.clinic_id == patient.clinic_id
        and clinician.role is Role.CLINICIAN
        and _can_sign_in(clinician)
    ):
        return [clinician]
    return staff(patient.clinic_id, [Role.CLINICIAN])


def _dashboard_link() -> str:
    # The whole clinic, any status, narrowed to what needs attention; the words in the
    # address say nothing about health (it shows in browser histories and mail logs).
    return external_url("dashboard.index", who="all", status="any", show="attention")


def alert_content(*, for_clinician: bool = True) -> Content:
    """The message a new report sends: that a patient needs review, and where to look (an
    administrator, who cannot open the dashboard, is given the sign-in page)."""
    link = _dashboard_link() if for_clinician else external_url("auth.index")
    # Staff read English, though the report is written inside the patient's request.
    with speaking(DEFAULT_LANGUAGE):
        body = render_text("red_flag_alert.txt", link=link, for_clinician=for_clinician)
    return Content(subject=ALERT_SUBJECT, body=body)


def escalation_content(clinic: Clinic, level: int, *, for_clinician: bool) -> Content:
    """The message of an escalation level, for a clinician or an administrator (who cannot
    open the dashboard, so is given the sign-in page)."""
    hours = (
        clinic.escalate_after_working_hours if level == FIRST else clinic.escalate_again_after_hours
    )
    link = _dashboard_link() if for_clinician else external_url("auth.index")
    with speaking(DEFAULT_LANGUAGE):  # staff read English, whoever's request this is
        body = render_text(
            "red_flag_escalation.txt",
            level=level,
            hours=hours,
            for_clinician=for_clinician,
            link=link,
        )
    return Content(subject=ESCALATION_SUBJECT, body=body)


def _post_to_all(
    kind: MessageKind,
    occasion: str,
    clinic: Clinic,
    users: Iterable[User],
    content_for: dict[bool, Content],
) -> int:
    """Post to each user (the content for clinicians or for others) and to the clinic's
    duty address, unless one of the users already has that address. How many were new."""
    sender = sender_name_for(clinic)
    sent, addresses = 0, set()
    for user in users:
        addresses.add(user.email)
        content = content_for[user.role is Role.CLINICIAN]
        sent += post(
            kind, occasion, to=user, clinic_id=clinic.id, content=content, sender_name=sender
        )
    duty = clinic.duty_email.strip().lower()
    if duty and duty not in addresses:
        content = content_for[True]
        sent += post(
            kind, occasion, to=duty, clinic_id=clinic.id, content=content, sender_name=sender
        )
    return sent


def announce(flags: Iterable[RedFlag]) -> int:
    """Tell the clinic about new open flags at once: one message per entry's report and
    recipient. Returns how many messages were written."""
    by_entry: defaultdict[int, list[RedFlag]] = defaultdict(list)
    for flag in flags:
        if flag.acknowledged_at is None:
            by_entry[flag.entry_id].append(flag)
    written = 0
    for group in by_entry.values():
        anchor = min(group, key=lambda flag: flag.id)
        patient = db.session.get(Patient, anchor.patient_id)
        if patient is None or patient.clinic_id != anchor.clinic_id:
            continue
        clinic = patient.clinic
        recipients = alert_recipients(patient)
        if not recipients and not clinic.duty_email.strip():
            # Nobody to tell (no clinician who can sign in, no duty address), while the
            # patient is told the clinic was sent a message: the administrators are told,
            # to make sure a clinician looks at it.
            recipients = staff(clinic.id, [Role.ADMIN])
        written += _post_to_all(
            MessageKind.RED_FLAG_ALERT,
            f"flag-{anchor.id}",
            clinic,
            recipients,
            {True: alert_content(), False: alert_content(for_clinician=False)},
        )
    return written


def escalation_level_due(flag: RedFlag, clinic: Clinic, now: datetime) -> int:
    """The highest escalation level due for a flag raised at `flag.raised_at` (0: none)."""
    if now >= flag.raised_at + timedelta(hours=clinic.escalate_again_after_hours):
        return SECOND
    first = add_working_hours(
        flag.raised_at, timedelta(hours=clinic.escalate_after_working_hours), opening_hours(clinic)
    )
    return FIRST if now >= first else 0


def escalate_due(now: datetime) -> int:
    """Escalate every report whose flags are still open past a level's time, to every
    clinician and administrator of its clinic (and the duty address). Only the highest
    level due is sent (a report already past the second time over a weekend does not
    also send the first). Returns how many messages were written."""
    # Every level takes at least an hour (the settings' minimum), so younger flags wait.
    open_flags = db.session.scalars(
        select(RedFlag)
        .where(
            RedFlag.acknowledged_at.is_(None),
            RedFlag.escalated_level < SECOND,
            RedFlag.raised_at <= now - timedelta(hours=1),
        )
        .order_by(RedFlag.clinic_id, RedFlag.entry_id, RedFlag.id)
    ).all()
    by_entry: defaultdict[tuple[int, int], list[RedFlag]] = defaultdict(list)
    for flag in open_flags:
        by_entry[(flag.clinic_id, flag.entry_id)].append(flag)
    written = 0
    clinics: dict[int, Clinic] = {}
    recipients: dict[int, list[User]] = {}
    for (clinic_id, _entry_id), group in by_entry.items():
        clinic = clinics.get(clinic_id) or clinics.setdefault(
            clinic_id, db.session.get_one(Clinic, clinic_id)
        )
        occasion = f"flag-{group[0].id}"
        reached = min(flag.escalated_level for flag in group)
        level = escalation_level_due(min(group, key=lambda flag: flag.raised_at), clinic, now)
        if level <= reached:
            continue
        if not _claim_level(group, level):
            continue  # acknowledged (or escalated by another run) since they were read
        if clinic_id not in recipients:
            recipients[clinic_id] = staff(clinic_id, [Role.CLINICIAN, Role.ADMIN])
        written += _post_to_all(
            MessageKind.RED_FLAG_ESCALATION,
            f"{occasion}:level-{level}",
            clinic,
            recipients[clinic_id],
            {
                True: escalation_content(clinic, level, for_clinician=True),
                False: escalation_content(clinic, level, for_clinician=False),
            },
        )
    return written


def _claim_level(flags: list[RedFlag], level: int) -> list[int]:
    """Record `level` on those of these flags still open and below it, in one statement
    that reads the flags as they are now (not as the job read them): an acknowledgement
    committed meanwhile leaves nothing to escalate. On PostgreSQL the UPDATE re-checks its
    condition on the newest row and waits for an acknowledgement being written; SQLite
    writes one at a time. Returns the ids updated."""
    claimed = list(
        db.session.scalars(
            update(RedFlag)
            .where(
                RedFlag.id.in_([flag.id for flag in flags]),
                RedFlag.acknowledged_at.is_(None),
                RedFlag.escalated_level < level,
            )
            .values(escalated_level=level)
            .returning(RedFlag.id)
            .execution_options(synchronize_session=False)
        )
    )
    # The flags this session holds no longer show what the database has.
    for flag in flags:
        db.session.expire(flag)
    return claimed


def withdraw_for_acknowledged(flag_ids: Iterable[int]) -> int:
    """Withdraw the alerts and escalations not yet sent about the entries of these flags,
    once every flag of the entry is acknowledged. Returns how many were withdrawn."""
    ids = sorted(set(flag_ids))
    if not ids:
        return 0
    entry_ids = set(db.session.scalars(select(RedFlag.entry_id).where(RedFlag.id.in_(ids))))
    withdrawn = 0
    for entry_id in sorted(entry_ids):
        flags = db.session.execute(
            select(RedFlag.id, RedFlag.acknowledged_at).where(RedFlag.entry_id == entry_id)
        ).all()
        if any(acknowledged_at is None for _id, acknowledged_at in flags):
            continue  # part of the report still waits for someone: its messages stand
        for flag_id, _acknowledged_at in flags:
            for kind in (MessageKind.RED_FLAG_ALERT, MessageKind.RED_FLAG_ESCALATION):
                withdrawn += cancel(kind, f"flag-{flag_id}:")
    return withdrawn

"""The Reminders page's form: on or off, days and times, quiet hours, time zone, and how
the email looks. Every rule is checked here, in plain words; what was typed stays on the
page when something is refused."""

from __future__ import annotations

from datetime import time
from typing import Any

from flask_babel import gettext
from wtforms import BooleanField, Field, RadioField, SelectChoice, SelectField
from wtforms.validators import AnyOf, InputRequired, ValidationError

from clinic.core.forms import ClinicForm, PlainTimeField
from clinic.core.timezones import known_zones, zone_choices
from clinic.domain.reminders import DAY_NAMES, MAX_TIMES_A_DAY, QuietHours, Slot
from clinic.i18n import lazy_text as _l
from clinic.models.reminders import DEFAULT_SUBJECT, SUBJECTS, ReminderPlan
from clinic.reminders.services import ReminderChoice

ON, OFF = "on", "off"
CLINIC, NONE = "clinic", "none"
ONOFF_MESSAGE = _l("Choose whether to receive reminders.")
ZONE_MESSAGE = _l("Choose your time zone from the list.")
SUBJECT_MESSAGE = _l("Choose one of the subjects.")
SENDER_MESSAGE = _l("Choose how the sender shows.")
TIMES = range(1, MAX_TIMES_A_DAY + 1)


def _day_fields(cls: type[ClinicForm]) -> type[ClinicForm]:
    """A tick box and up to three times for each day of the week."""
    for day, name in enumerate(DAY_NAMES):
        setattr(cls, f"on_{day}", BooleanField(_l(name)))
        for n in TIMES:
            label = (
                _l("%(day)s, time", day=_l(name))
                if n == 1
                else _l("%(day)s, time %(num)s (optional)", day=_l(name), num=n)
            )
            setattr(cls, f"at_{day}_{n}", PlainTimeField(label, format="%H:%M"))
    return cls


@_day_fields
class RemindersForm(ClinicForm):
    """A patient's reminder choices."""

    reminders = RadioField(
        _l("Reminders"),
        choices=[
            SelectChoice(ON, _l("Yes, send me reminders")),
            SelectChoice(OFF, _l("No reminders")),
        ],
        validate_choice=False,
        validators=[InputRequired(ONOFF_MESSAGE), AnyOf([ON, OFF], ONOFF_MESSAGE)],
    )
    quiet_from = PlainTimeField(_l("Quiet from"), format="%H:%M")
    quiet_to = PlainTimeField(_l("Quiet until"), format="%H:%M")
    timezone = SelectField(
        _l("Your time zone"),
        validate_choice=False,
        validators=[InputRequired(ZONE_MESSAGE)],
        description=_l("Times are on this clock. Change it if you move or travel for a while."),
    )
    subject = RadioField(
        _l("Email subject"),
        choices=[SelectChoice(key, _l(words)) for key, words in SUBJECTS.items()],
        validate_choice=False,
        validators=[InputRequired(SUBJECT_MESSAGE), AnyOf(list(SUBJECTS), SUBJECT_MESSAGE)],
    )
    sender = RadioField(
        _l("Sender"),
        description=_l("For reminders and every other email sent to you, such as a sign-in link."),
        validate_choice=False,
        validators=[InputRequired(SENDER_MESSAGE), AnyOf([CLINIC, NONE], SENDER_MESSAGE)],
    )
    by_email = BooleanField(_l("By email"))
    by_push = BooleanField(_l("Notification on your phone or computer"))

    def __init__(self, *args: Any, clinic_sender: str, devices_on: int = 0, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.timezone.choices = zone_choices(self.timezone.data)
        # A clinic that sends with no name offers nothing else.
        self.sender.choices = [
            *(
                [SelectChoice(CLINIC, gettext("Show “%(name)s”", name=clinic_sender))]
                if clinic_sender
                else []
            ),
            SelectChoice(NONE, gettext("Show no name, only the email address")),
        ]
        self.clinic_sender = clinic_sender
        self.devices_on = devices_on  # devices with notifications on (clinic.push)

    # -- reading ---------------------------------------------------------------------

    @property
    def on(self) -> bool:
        return self.reminders.data == ON

    def day_rows(self) -> list[tuple[int, Field, list[Field]]]:
        """Each day's tick box and time fields, for the template."""
        return [
            (day, getattr(self, f"on_{day}"), [getattr(self, f"at_{day}_{n}") for n in TIMES])
            for day in range(7)
        ]

    def slots(self) -> tuple[Slot, ...]:
        """The slots of the days ticked, with the times given."""
        return tuple(
            sorted(
                {
                    Slot(day, at.data.replace(second=0, microsecond=0))
                    for day, tick, times in self.day_rows()
                    if tick.data
                    for at in times
                    if at.data is not None
                }
            )
        )

    def quiet(self) -> QuietHours | None:
        if self.quiet_from.data is None or self.quiet_to.data is None:
            return None
        return QuietHours(self.quiet_from.data, self.quiet_to.data)

    def choice(self, clinic_zone: str) -> ReminderChoice:
        """The validated input as plain values for the service."""
        zone = self.timezone.data
        return ReminderChoice(
            enabled=self.on,
            slots=self.slots(),
            quiet=self.quiet(),
            timezone=None if zone == clinic_zone else zone,
            subject=self.subject.data,
            show_clinic_name=self.sender.data == CLINIC,
            by_email=bool(self.by_email.data),
            by_push=bool(self.by_push.data),
        )

    # -- filling -----------------------------------------------------------------------

    def fill(self, plan: ReminderPlan | None, proposed: tuple[Slot, ...], zone: str) -> None:
        """Show the saved choices, or a proposal from the prescription."""
        slots = plan.slots if plan is not None and plan.slots else proposed
        self.reminders.data = ON if plan is not None and plan.enabled else OFF
        for day, tick, times in self.day_rows():
            at = [s.at for s in slots if s.weekday == day]
            tick.data = bool(at)
            for field, value in zip(times, at, strict=False):
                field.data = value
        quiet = plan.quiet if plan is not None else QuietHours(time(22, 0), time(7, 0))
        self.quiet_from.data = quiet.start if quiet else None
        self.quiet_to.data = quiet.end if quiet else None
        self.timezone.data = zone
        self.timezone.choices = zone_choices(zone)
        self.subject.data = plan.subject if plan is not None else DEFAULT_SUBJECT
        # First proposed without the clinic's name: a name such as "... Pelvic Health"
        # says what the reminder is about to anyone who sees the inbox or lock screen.
        shown = plan is not None and plan.show_clinic_name
        self.sender.data = CLINIC if shown and self.clinic_sender else NONE
        self.by_email.data = plan.by_email if plan is not None else True
        self.by_push.data = plan.by_push if plan is not None else False

    # -- checking ----------------------------------------------------------------------

    def validate_timezone(self, field: SelectField) -> None:
        if field.data not in known_zones():
            raise ValidationError(ZONE_MESSAGE)

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        quiet_given = [self.quiet_from.data is not None, self.quiet_to.data is not None]
        if any(quiet_given) and not all(quiet_given) and not self.quiet_to.errors:
            missing = self.quiet_to if quiet_given[0] else self.quiet_from
            missing.errors.append(
                gettext("Give both times for quiet hours, or leave both empty for none.")
            )
            valid = False
        if all(quiet_given) and self.quiet_from.data == self.quiet_to.data:
            self.quiet_to.errors.append(
                gettext(
                    "Quiet hours need an end that differs from their start, or leave both empty."
                )
            )
            valid = False
        if not self.on:
            return valid
        if not any(tick.data for _, tick, _ in self.day_rows()):
            self.on_0.errors.append(gettext("Tick at least one day, or choose “No reminders”."))
            valid = False
        quiet = self.quiet()
        for day, tick, times in self.day_rows():
            if not tick.data:
                continue
            given = [t for t in times if t.data is not None]
            name = gettext(DAY_NAMES[day])
            if not given and not any(t.errors for t in times):
                times[0].errors.append(gettext("Give a time for %(day)s, or untick it.", day=name))
                valid = False
            seen: set[time] = set()
            for t in given:
                at = t.data.replace(second=0, microsecond=0)
                if at in seen:
                    t.errors.append(
                        gettext(
                            "%(day)s already has %(time)s. Choose another time.",
                            day=name,
                            time=at.strftime("%H:%M"),
                        )
                    )
                    valid = False
                elif quiet is not None and quiet.covers(at):
                    t.errors.append(
                        gettext(
                            "%(time)s is in your quiet hours (%(start)s to %(end)s). Choose "
                            "another time, or change the quiet hours.",
                            time=at.strftime("%H:%M"),
                            start=quiet.start.strftime("%H:%M"),
                            end=quiet.end.strftime("%H:%M"),
                        )
                    )
                    valid = False
                seen.add(at)
        if not self.by_email.data and not self.by_push.data:
            self.by_email.errors.append(gettext("Choose at least one way to receive reminders."))
            valid = False
        elif self.on and not self.by_email.data and not self.devices_on:
            # Notifications alone, with no device to show them: nothing would arrive.
            self.by_email.errors.append(
                gettext(
                    "No device has notifications on yet. Choose email too, or turn "
                    "notifications on for this device below first."
                )
            )
            valid = False
        return valid

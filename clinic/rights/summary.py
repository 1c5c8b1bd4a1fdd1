"""The patient's data in plain words: a readable page beside patient.json (issue 17).

"Download my data" gave a ZIP of JSON, which nobody reads on a phone. This page says the
same things a person would look for (their details, their program and its stages, their
diary, the alerts their sessions raised and how the team handled them, their
questionnaires with the answers and scores) in calm words, on any screen from 390 px up.

It is made from the export's own bundle (`clinic.rights.export.build_export`), so it never
says more, less or other than patient.json: one more query reads the questionnaires'
wording. The page is self-contained (its style inside it, no script, no image, nothing
fetched), so it opens from the ZIP on a phone and can be served by the portal under a
policy that allows exactly its own style (`content_security_policy`). Its title and file
name are neutral: "My data" and my-data-<day>.html.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from typing import Any

from flask import render_template
from flask_babel import gettext as _
from markupsafe import Markup

from clinic.bundled import TEMPLATES
from clinic.core.clock import zone_of
from clinic.core.templating import long_date
from clinic.core.words import how_often
from clinic.domain.diary import Bleeding, Concern, FlagReason, SkipReason
from clinic.domain.flags import FlagKind
from clinic.domain.indications import Indication
from clinic.domain.protocols import EventKind, Period, ProtocolStatus
from clinic.domain.questionnaires import Instrument
from clinic.domain.reminders import DAY_NAMES, parse_slots
from clinic.domain.text import N_
from clinic.measures.answers import page_language
from clinic.measures.instruments import versions
from clinic.measures.results import format_score
from clinic.measures.schedule import occasion_label
from clinic.models import PatientStatus
from clinic.rights.export import PatientExport

STYLESHEET = TEMPLATES / "rights" / "my_data.css"
TITLE = N_("My data")

Row = Mapping[str, Any]


@dataclass(frozen=True)
class Detail:
    """One line of "About you": what it is, and what the record says."""

    label: str
    value: str


@dataclass(frozen=True)
class Stage:
    """One stage of a plan, as prescribed."""

    number: int
    size: str
    minutes: int
    how_often: str
    min_days: int | None
    target_depth_cm: float | None


@dataclass(frozen=True)
class Change:
    """Something the team recorded about a program: what, from which day, who, why."""

    on: date
    what: str
    stage: int
    by: str
    reason: str


@dataclass(frozen=True)
class Program:
    """A program, with the stages of its latest plan and everything recorded about it."""

    name: str
    status: str
    open: bool
    started_on: date | None
    stages: list[Stage]
    changes: list[Change]
    earlier_plans: int  # plans this one replaced within the program (they are in the JSON)


@dataclass(frozen=True)
class Session:
    """One diary entry: a session (what was used, for how long, pain during and after,
    anything else reported) or a skipped session and why."""

    on: date
    skipped: bool
    minutes: int | None
    size: str
    pain_during: int | None
    pain_after: int | None
    skip_reason: str
    other: list[str] = field(default_factory=list)  # bleeding, sharp pain, depth, notes ...
    withdrawn_on: date | None = None
    corrected: bool = False


@dataclass(frozen=True)
class Alert:
    """Something the system told the care team about, and how it was handled."""

    on: date  # the session's day, or the day it was raised
    what: str
    detail: str
    handled_by: str  # "" when no one signed it (closed by the system, or still open)
    handled_at: datetime | None
    note: str

    @property
    def open(self) -> bool:
        return self.handled_at is None


@dataclass(frozen=True)
class Answer:
    """One question and the answer given (blank when left blank)."""

    question: str
    answer: str


@dataclass(frozen=True)
class Questionnaire:
    """One questionnaire sent: which, when, its score and every answer."""

    title: str
    occasion: str
    sent_at: datetime | None
    score: str
    answers: list[Answer]


@dataclass(frozen=True)
class DataSummary:
    """Everything the readable page shows."""

    clinic_name: str
    zone: str
    copied_at: datetime
    copied_on: date
    about: list[Detail]
    programs: list[Program]
    sessions: list[Session]  # newest first
    skips: list[tuple[str, int]]  # reasons for skipped sessions, most frequent first
    alerts: list[Alert]  # newest first
    questionnaires: list[Questionnaire]  # newest first
    reports: list[str]  # the reports' files in the ZIP
    notes: int  # notes by the care team (in the JSON)

    @property
    def done(self) -> int:
        """Sessions done and not withdrawn."""
        return sum(1 for s in self.sessions if not s.skipped and s.withdrawn_on is None)

    @property
    def skipped(self) -> int:
        return sum(1 for s in self.sessions if s.skipped and s.withdrawn_on is None)

    @property
    def file_name(self) -> str:
        """Neutral: nothing about anyone, nor about the therapy."""
        return readable_file_name(self.copied_on)

    @property
    def title(self) -> str:
        return _(TITLE)


def readable_file_name(day: date) -> str:
    return f"my-data-{day.isoformat()}.html"


def build_summary(export: PatientExport, zone: str, clinic_id: int, today: date) -> DataSummary:
    """The readable summary of `export` (times shown in `zone`, the clinic's)."""
    bundle = export.bundle
    people = {p["id"]: p["name"] for p in bundle["people"]}
    # "25 mm" is never split across lines on a narrow screen.
    sizes = {
        s["id"]: s["display"].replace(" mm", "\N{NO-BREAK SPACE}mm")
        for s in bundle["dilator_sizes"]
    }
    measures = bundle["outcome_measures"]
    has_answers = any(r["submitted_at"] for a in measures for r in a["responses"])
    # The questionnaires in the reader's language where they have a usable translation,
    # as the portal asked them (the answers' values and scores are the same in any).
    code = page_language()
    instruments = (
        {key: found.in_language(code) for key, found in versions(clinic_id).items()}
        if has_answers
        else {}
    )
    return DataSummary(
        clinic_name=bundle["clinic"]["name"],
        zone=zone,
        copied_at=_moment(bundle["exported_at"]) or datetime.min,
        copied_on=today,
        about=[*_about(bundle, people), *_reminders(bundle, zone)],
        programs=[_program(p, people, sizes) for p in reversed(bundle["protocols"])],
        sessions=[_session(e, sizes, zone) for e in reversed(bundle["diary_entries"])],
        skips=_skips(bundle["diary_entries"]),
        alerts=_alerts(bundle, people, zone),
        questionnaires=_questionnaires(measures, instruments),
        reports=[r["file"] for r in bundle["reports"]],
        notes=len(bundle["clinical_notes"]),
    )


def summary_html(summary: DataSummary, *, back_url: str | None = None) -> str:
    """The page, self-contained; `back_url` adds a link back to the portal (when served)."""
    return render_template(
        "rights/my_data.html",
        summary=summary,
        stylesheet=Markup(_stylesheet()),  # noqa: S704 - our own file, not typed text
        back_url=back_url,
    )


def content_security_policy() -> str:
    """The policy to serve the page under: nothing but its own style element."""
    digest = base64.b64encode(hashlib.sha256(_stylesheet().encode()).digest()).decode()
    return (
        f"default-src 'none'; style-src 'sha256-{digest}'; object-src 'none'; "
        "base-uri 'none'; frame-ancestors 'none'; form-action 'none'"
    )


@cache
def _stylesheet() -> str:
    return STYLESHEET.read_text(encoding="utf-8")


# Shaping the bundle's rows into plain words.


def _about(bundle: Mapping[str, Any], people: Mapping[int, str]) -> list[Detail]:
    patient = bundle["patient"]
    indication = Indication(patient["indication"])
    reason = (
        _("Other: %(what)s", what=patient["indication_other"])
        if indication is Indication.OTHER
        else _(indication.label)
    )
    not_recorded = _("not recorded")
    details = [
        Detail(_("Name"), patient["full_name"]),
        Detail(_("Name you use"), patient["name_to_use"] or not_recorded),
        Detail(_("Pronouns"), patient["pronouns"] or not_recorded),
        Detail(_("Date of birth"), long_date(_day(patient["date_of_birth"]))),
        Detail(_("Clinic reference"), patient["clinic_identifier"]),
        Detail(_("What you are seen for"), reason),
        Detail(_("Referred by"), patient["referring_clinician"] or not_recorded),
        Detail(
            _("Your clinician"),
            people.get(patient["responsible_clinician_id"], _("not assigned")),
        ),
        Detail(_("Status"), _(PatientStatus(patient["status"]).label)),
    ]
    account = bundle["portal_account"]
    if account is not None:
        details.append(Detail(_("Sign-in email"), account["email"]))
    return details


def _reminders(bundle: Mapping[str, Any], zone: str) -> list[Detail]:
    """The reminders the patient set (days and times: this is their own copy) and the
    devices with notifications on (by push service and day)."""
    settings = bundle["reminder_settings"]
    if settings is None or not settings["enabled"]:
        reminders = _("Off")
    else:
        by_email, by_push = settings["by_email"], settings["by_push"]
        ways = (
            _("by email and notification")
            if by_email and by_push
            else _("by email")
            if by_email
            else _("by notification")
            if by_push
            else ""
        )
        since = _local_day(settings["since"], zone)
        when = ", ".join(
            _("%(day)s %(time)s", day=_(DAY_NAMES[slot.weekday]), time=f"{slot.at:%H:%M}")
            for slot in parse_slots(settings["slots_text"])
        )
        reminders = (
            _("On since %(day)s: %(when)s (%(ways)s)", day=long_date(since), when=when, ways=ways)
            if since
            else _("On: %(when)s (%(ways)s)", when=when, ways=ways)
        )
    account = bundle["portal_account"]
    devices = account["notification_devices"] if account is not None else []
    listed = "; ".join(
        _("%(service)s, since %(day)s", service=device["push_service"], day=long_date(day))
        if (day := _local_day(device["created_at"], zone))
        else device["push_service"]
        for device in devices
    )
    return [
        Detail(_("Reminders"), reminders),
        Detail(_("Devices with notifications on"), listed or _("None")),
    ]


def _program(row: Row, people: Mapping[int, str], sizes: Mapping[int, str]) -> Program:
    plans = row["versions"]
    latest = plans[-1]["stages"] if plans else []
    events = [e for e in row["events"] if e["kind"] != EventKind.REPLACED.value]
    status = ProtocolStatus(row["status"])
    return Program(
        name=row["name"],
        status=_(status.label),
        open=status.is_open,
        started_on=_day(row["events"][0]["effective_on"]) if row["events"] else None,
        stages=[
            Stage(
                number=s["position"],
                size=sizes.get(s["dilator_size_id"], _("not recorded")),
                minutes=s["minutes"],
                how_often=how_often(s["sessions"], Period(s["period"])),
                min_days=s["min_days"] or None,
                target_depth_cm=s.get("target_depth_cm"),
            )
            for s in latest
        ],
        changes=[
            Change(
                on=_day(e["effective_on"]),
                what=_(EventKind(e["kind"]).label),
                stage=e["stage"],
                by=people.get(e["created_by_id"], _("the clinic")),
                reason=_reason(e["kind"], e["reason"]),
            )
            for e in reversed(events)
        ],
        earlier_plans=max(0, len(plans) - 1),
    )


# The reason the app itself writes when a protocol starts (clinic/protocols/services.py),
# stored in English with the event: said in the reader's language here.
_FROM_TEMPLATE = re.compile(r"Started from the template “(?P<name>.*)”\.", re.DOTALL)


def _reason(kind: str, reason: str) -> str:
    """A decision's reason as the clinician wrote it, or, for the words the app wrote when
    the protocol started, the same words in the reader's language."""
    if kind != EventKind.START.value or not reason:
        return reason
    if reason == "Started.":
        return _("Started.")
    if found := _FROM_TEMPLATE.fullmatch(reason):
        return _("Started from the template “%(name)s”.", name=found["name"])
    return reason


def _session(row: Row, sizes: Mapping[int, str], zone: str) -> Session:
    other = []
    if row["bleeding"] and Bleeding(row["bleeding"]) is not Bleeding.NONE:
        other.append(_("Bleeding: %(amount)s", amount=_(Bleeding(row["bleeding"]).label).lower()))
    if row["sharp_pain"]:
        other.append(_("Sharp pain"))
    if row["depth_cm"] is not None:
        depth = f"{row['depth_cm']:g}"
        other.append(_("Depth %(depth)s cm", depth=depth))
    other += [_(Concern(c).label_for(surgical=False)) for c in row["concerns"]]
    if row["skip_other"]:
        other.append(row["skip_other"])
    if row["note"]:
        other.append(_("Your note: %(note)s", note=row["note"]))
    return Session(
        on=_day(row["occurred_on"]),
        skipped=row["skipped"],
        minutes=row["minutes"],
        size=sizes.get(row["dilator_size_id"], "") if row["dilator_size_id"] else "",
        pain_during=row["pain_during"],
        pain_after=row["pain_after"],
        skip_reason=_(SkipReason(row["skip_reason"]).label) if row["skip_reason"] else "",
        other=other,
        withdrawn_on=_local_day(row["withdrawn_at"], zone),
        corrected=bool(row["revisions"]),
    )


def _skips(entries: Sequence[Row]) -> list[tuple[str, int]]:
    counts = Counter(
        _(SkipReason(e["skip_reason"]).label)
        for e in entries
        if e["skipped"] and e["skip_reason"] and not e["withdrawn_at"]
    )
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def _alerts(bundle: Mapping[str, Any], people: Mapping[int, str], zone: str) -> list[Alert]:
    days = {e["id"]: _day(e["occurred_on"]) for e in bundle["diary_entries"]}
    alerts = [
        Alert(
            on=days.get(f["entry_id"]) or _local_day(f["raised_at"], zone) or date.min,
            what=_(FlagReason(f["reason"]).label)
            + (f" ({f['pain']}/10)" if f["reason"] == FlagReason.HIGH_PAIN.value else ""),
            detail=_("From a session you logged"),
            handled_by=people.get(f["acknowledged_by_id"], ""),
            handled_at=_moment(f["acknowledged_at"]),
            note=f["acknowledgement"],
        )
        for f in bundle["red_flags"]
    ]
    alerts += [
        Alert(
            on=_local_day(f["raised_at"], zone) or date.min,
            what=_(FlagKind(f["kind"]).label),
            detail=f["detail"],
            handled_by=people.get(f["acknowledged_by_id"], ""),
            handled_at=_moment(f["acknowledged_at"]),
            note=f["acknowledgement"],
        )
        for f in bundle["care_flags"]
    ]
    return sorted(alerts, key=lambda a: a.on, reverse=True)


def _questionnaires(
    assignments: Sequence[Row], instruments: Mapping[tuple[str, str], Instrument]
) -> list[Questionnaire]:
    found = []
    for assignment in assignments:
        for response in assignment["responses"]:
            if not response["submitted_at"]:
                continue  # a draft the patient has not sent (it is in the JSON)
            instrument = instruments.get(
                (response["instrument_key"], response["instrument_version"])
            )
            found.append(
                Questionnaire(
                    title=instrument.title if instrument else response["instrument_key"],
                    occasion=occasion_label(response["occasion_key"]),
                    sent_at=_moment(response["submitted_at"]),
                    score=_score(response, instrument),
                    answers=_answers(response["answers"] or {}, instrument),
                )
            )
    return sorted(found, key=lambda q: q.sent_at or datetime.min, reverse=True)


def _score(response: Row, instrument: Instrument | None) -> str:
    if response["total"] is None:
        reason = response["invalid_reason"]
        return _("No score: %(reason)s", reason=reason) if reason else _("No total score")
    band = f" ({response['band_label']})" if response["band_label"] else ""
    return f"{format_score(response['total'], instrument)}{band}"


def _answers(given: Mapping[str, Any], instrument: Instrument | None) -> list[Answer]:
    if instrument is None:
        return [Answer(key, "" if value is None else str(value)) for key, value in given.items()]
    answers = []
    for item in instrument.items:
        if item.key not in given:
            continue  # not asked (the questionnaire's skip logic)
        value = given[item.key]
        option = next((o for o in item.options if o.value == value), None)
        if value is None:
            shown = _("left blank")
        elif option is not None and option.label and option.label != str(value):
            shown = f"{option.label} ({value})"
        else:
            shown = str(value)
        answers.append(Answer(item.text or item.key, shown))
    return answers


def _day(text: str) -> date:
    return date.fromisoformat(text)


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def _local_day(text: str | None, zone: str) -> date | None:
    """The clinic's day of a UTC timestamp."""
    moment = _moment(text)
    return moment.astimezone(zone_of(zone)).date() if moment else None

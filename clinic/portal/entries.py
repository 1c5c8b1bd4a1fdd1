"""Patient diary pages: log a session or a skip, see it saved (with guidance when something
is wrong), list past entries, and correct or withdraw one within 24 hours.

Routes live on the portal blueprint; entries are always looked up within the signed-in
patient's own record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from clinic.alerts.services import patient_guidance
from clinic.audit.log import audited, own_patient
from clinic.catalogue.choices import clinic_size, clinic_sizes, size_groups
from clinic.core.clock import clinic_today
from clinic.core.forms import flash_refusal, show_refusal
from clinic.core.uow import discard
from clinic.core.words import millimetres, say
from clinic.diary.forms import SessionForm, SkipForm, new_submission_key
from clinic.diary.services import (
    DiaryError,
    SavedEntry,
    SessionDetails,
    SkipDetails,
    can_change,
    correct,
    find_by_key,
    find_repeat,
    last_saved,
    record,
    withdraw,
)
from clinic.domain.diary import (
    SURGICAL_INDICATIONS,
    Bleeding,
    FlagReason,
    SkipReason,
    concerns_offered,
    red_flags,
)
from clinic.domain.session_guide import prefill_minutes, prefill_stopped
from clinic.extensions import db
from clinic.models import (
    DiaryEntry,
    DilatorSize,
    Patient,
    ProtocolStage,
    ProtocolVersion,
    RedFlag,
)
from clinic.models.types import utcnow
from clinic.monitoring.services import note_current
from clinic.portal.views import (
    bp,
    current_prescription,
    own_record_or_404,
    own_record_version_and_plan_or_404,
    patients_only,
    prescription_of,
)
from clinic.protocols.prescriptions import Prescription
from clinic.protocols.queries import History, load_history


def _open_plan(patient: Patient) -> Prescription:
    prescription = current_prescription(patient)
    if prescription is None:
        abort(404)  # nothing to log against until the clinician sets up a plan
    return prescription


def _patient_and_plan() -> tuple[Patient, Prescription]:
    """The signed-in patient and their plan. A new entry sent: both read as committed now,
    after the summary's version, and vouched for to the summary's refresh before the
    commit, which then reads neither again unless something about the patient was
    committed meanwhile (clinic.monitoring.services.note_current)."""
    if request.method != "POST":
        patient = own_record_or_404()
        return patient, _open_plan(patient)
    patient, version, protocol = own_record_version_and_plan_or_404()
    if protocol is None:
        abort(404)  # nothing to log against until the clinician sets up a plan
    load_history(protocol, History.RULES, afresh=True)
    note_current(patient, protocol, version)
    return patient, prescription_of(patient, protocol)


def _local(moment: datetime, zone: str) -> datetime:
    return moment.astimezone(ZoneInfo(zone)).replace(tzinfo=None, second=0, microsecond=0)


def _offer(form: SessionForm, patient: Patient, prescription: Prescription) -> None:
    """Set the sizes and concerns the form offers. A form sent is checked against the size
    it names alone: each size is offered or not on its own (`size_groups`), so the answer
    is the whole list's, without reading and naming every size of the clinic for each
    session saved. The form shown (again, after a refusal) offers them all (`_offer_all`)."""
    chosen = form.dilator_size_id.data if form.is_submitted() else None
    form.dilator_size_id.choices = _size_choices(patient, prescription, chosen)
    form.concerns.choices = _concern_choices(prescription)


def _offer_all(form: SessionForm, patient: Patient, prescription: Prescription) -> None:
    """Before the form is shown again after it was sent: every size to choose from."""
    if form.is_submitted():
        form.dilator_size_id.choices = _size_choices(patient, prescription)


def _size_choices(
    patient: Patient, prescription: Prescription, chosen: str | None = None
) -> list[SelectChoice]:
    """The sizes a patient can say they used, each named with its set: the prescribed one
    first (and chosen by default), then the rest of its set, then the clinic's other sets
    for this plan's route, smaller or larger (issue 16: a larger one raises a flag for
    review, so it must be choosable; never a device for the other route, nor for anal use
    one from a set without a flared base). One query, sizes with their sets; with `chosen`
    (a size's id as sent), only that one, if it is among them."""
    route = prescription.protocol.route
    prescribed = prescription.stage.dilator_size_id
    choices: list[SelectChoice] = []
    groups = size_groups(
        clinic_sizes(patient.clinic_id)
        if chosen is None
        else _named(patient, prescription, chosen),
        route,
        first=[prescribed],
        keep=[prescribed],
        chosen=[prescribed],
    )
    for dilator_set, group in groups:
        group.sort(key=lambda size: size.id != prescribed)  # stable: then by diameter
        choices += [
            SelectChoice(
                str(size.id),
                _size_label(size, prescribed=size.id == prescribed),
                optgroup=dilator_set.name,
            )
            for size in group
        ]
    return choices


def _named(patient: Patient, prescription: Prescription, chosen: str) -> list[DilatorSize]:
    """The size a sent form names: one of the plan's (loaded with it, its set too), or
    else looked up among the clinic's (none if it is not one of them)."""
    planned = {
        str(stage.dilator_size_id): stage.dilator_size
        for version in prescription.protocol.versions
        for stage in version.stages
    }
    size = planned.get(chosen)
    if size is None:
        return clinic_size(patient.clinic_id, chosen)
    return [size] if size.dilator_set.clinic_id == patient.clinic_id else []


def _size_label(size: DilatorSize, *, prescribed: bool) -> str:
    """A size as the list names it, in the page's language: "25 mm · Size 4 — Vaginal
    dilator set (your prescribed size)" (the label and the set's name are the clinic's)."""
    diameter = millimetres(size.diameter_mm)
    named = diameter
    if size.label.replace(" ", "") != f"{size.diameter_mm:g}mm":
        named = f"{diameter} · {size.label}"
    label = f"{named} — {size.dilator_set.name}"
    return gettext("%(size)s (your prescribed size)", size=label) if prescribed else label


def _concern_choices(prescription: Prescription) -> list[SelectChoice]:
    # What this plan asks about (by route), worded for the indication.
    protocol = prescription.protocol
    rules = protocol.safety_indications
    surgical = any(i in SURGICAL_INDICATIONS for i in rules)
    return [
        SelectChoice(c.value, say(c.label_for(surgical)))
        for c in concerns_offered(protocol.route, rules)
    ]


def _when(form: SessionForm | SkipForm, zone: str) -> datetime:
    return form.when.data.replace(tzinfo=ZoneInfo(zone))


def _session_details(form: SessionForm, zone: str) -> SessionDetails:
    return SessionDetails(
        occurred_at=_when(form, zone),
        dilator_size_id=int(form.dilator_size_id.data),
        minutes=form.minutes.data,
        pain_during=int(form.pain_during.data),
        pain_after=int(form.pain_after.data),
        bleeding=Bleeding(form.bleeding.data),
        sharp_pain=form.sharp_pain.data == "yes",
        depth_cm=round(form.depth_cm.data, 1) if form.depth_cm.data is not None else None,
        note=form.note.data or "",
        concerns=frozenset(form.concerns.data or ()),
    )


def _skip_details(form: SkipForm, zone: str) -> SkipDetails:
    return SkipDetails(
        occurred_at=_when(form, zone),
        skip_reason=SkipReason(form.skip_reason.data),
        skip_other=form.skip_other.data or "",
    )


@dataclass(frozen=True)
class Held:
    """A new entry not saved: its answers repeat an entry saved a moment ago (the form
    sent again after Back), so the form comes back asking whether it was another one."""

    earlier: SavedEntry
    # The earlier entry raised an urgent flag: the clinic was told then, and its page
    # says what to do now (stop for today, when to get emergency care).
    urgent: bool


def _save_new(
    form: SessionForm | SkipForm,
    patient: Patient,
    prescription: Prescription,
    details: SessionDetails | SkipDetails,
) -> Response | Held | None:
    """Record the entry once; a repeated submission of the same form shows the first, and
    the same answers sent from a new form soon after (Back, then Save) are held.

    Unless the patient ticked that it was another session, one indexed statement looks
    for an entry saved a moment ago with the same answers (`find_repeat`): the one this
    very form saved (its key, sent again) is shown; another one holds the new entry
    (`Held`). The form's key is unique besides: a form sent twice at the same moment, or
    ticked and sent again, fails its INSERT, and nothing of this request is kept. So the
    key itself is looked up only then (or when the entry is refused: the first one may
    have been saved before the plan changed)."""
    key = form.key.data
    if not form.another.data:
        earlier = find_repeat(patient, prescription.protocol, key, details)
        if earlier is not None and earlier.submission_key == key:
            return redirect(url_for("portal.entry", entry_id=earlier.id, saved=1))
        raised = _raised(earlier) if earlier is not None else []
        # A repeat whose red flags the clinic has looked at already is saved, not held: it
        # may be a second session with the same trouble, and a doubled entry is the safer
        # mistake than a report never made.
        if earlier is not None and not any(acknowledged for _, acknowledged in raised):
            return Held(earlier, urgent=any(reason.urgent for reason, _ in raised))
    try:
        entry = record(patient, prescription.protocol, current_user, key, details)
    except DiaryError as exc:
        existing = find_by_key(patient, key)
        if existing is not None:
            return redirect(url_for("portal.entry", entry_id=existing.id, saved=1))
        show_refusal(form, exc, "when")
        return None
    except IntegrityError:  # the same form sent again, or twice at the same moment
        discard()  # nothing of this request is saved: show the entry the first one saved
        existing = find_by_key(patient, key)
        if existing is None:
            raise
        entry = existing
    return redirect(url_for("portal.entry", entry_id=entry.id, saved=1))


def _raised(entry: SavedEntry) -> list[tuple[FlagReason, bool]]:
    """The red flags an entry raised, each with whether the clinic has acknowledged it (the
    patient's own: the entry was found in their record)."""
    rows = db.session.execute(
        select(RedFlag.reason, RedFlag.acknowledged_at.is_not(None)).where(
            RedFlag.entry_id == entry.id
        )
    )
    return [(reason, bool(acknowledged)) for reason, acknowledged in rows]


@bp.route("/log", methods=["GET", "POST"])
@patients_only
@audited("portal.log_form", change="diary.log", patient=own_patient)
def log_session() -> Response | str:
    """Log a session: prefilled with what the plan prescribes, done in a few taps. A guided
    session's link may prefill the minutes it timed (`minutes`) and say it was stopped for
    sharp pain (`stopped=1`: sharp pain ticked, the stop guidance shown); other values are
    ignored, and nothing is saved until the patient submits."""
    patient, prescription = _patient_and_plan()
    zone = patient.clinic.timezone
    stage = prescription.stage
    stopped = prefill_stopped(request.args.get("stopped"))
    data: dict[str, object] | None = None
    if request.method == "GET":
        data = {
            "when": _local(datetime.now(ZoneInfo(zone)), zone),
            "dilator_size_id": str(stage.dilator_size_id),
            "minutes": prefill_minutes(request.args.get("minutes")) or stage.minutes,
            "key": new_submission_key(),
        }
        if stopped:
            data["sharp_pain"] = "yes"
    form = SessionForm(data=data)
    _offer(form, patient, prescription)
    held = None
    if form.validate_on_submit():
        done = _save_new(form, patient, prescription, _session_details(form, zone))
        if isinstance(done, Response):
            return done
        held = done
    _offer_all(form, patient, prescription)
    return render_template(
        "portal/log.html",
        form=form,
        prescription=prescription,
        stopped=stopped,
        zone=zone,
        held=held,
        clinic=patient.clinic,
        recent=last_saved(patient, skipped=False) if request.method == "GET" else None,
    )


@bp.route("/skip", methods=["GET", "POST"])
@patients_only
@audited("portal.skip_form", change="diary.skip", patient=own_patient)
def log_skip() -> Response | str:
    """Note a skipped session and why (no judgement: it helps plan what comes next)."""
    patient, prescription = _patient_and_plan()
    zone = patient.clinic.timezone
    form = SkipForm(
        data=None
        if request.method == "POST"
        else {"when": _local(datetime.now(ZoneInfo(zone)), zone), "key": new_submission_key()}
    )
    held = None
    if form.validate_on_submit():
        done = _save_new(form, patient, prescription, _skip_details(form, zone))
        if isinstance(done, Response):
            return done
        held = done
    return render_template(
        "portal/skip.html",
        form=form,
        zone=zone,
        held=held,
        clinic=patient.clinic,
        recent=last_saved(patient, skipped=True) if request.method == "GET" else None,
    )


@dataclass(frozen=True)
class EntryReport:
    """How the entry page speaks of an entry and its red flags."""

    just_saved: bool  # reached straight after saving or correcting it
    today: bool  # saved just now, or a session of today: "stop for today" still applies
    before_correction: bool  # every urgent flag came before the entry's last correction
    unread: bool  # a flag the clinic has not acknowledged yet


def entry_report(entry: DiaryEntry, today: date, *, just_saved: bool) -> EntryReport:
    """What the entry page says about `entry` on the clinic's `today`. Flags once raised
    stay for the clinic, a correction's included: a correction whose answers no longer
    show any of the urgent reasons reported is told apart from one that kept them."""
    urgent = {flag.reason for flag in entry.flags if flag.reason.urgent}
    return EntryReport(
        just_saved=just_saved,
        today=just_saved or entry.occurred_on == today,
        before_correction=bool(urgent)
        and entry.updated_at is not None
        and not entry.skipped
        and not urgent & set(_shown_now(entry)),
        unread=any(flag.acknowledged_at is None for flag in entry.flags),
    )


def _shown_now(entry: DiaryEntry) -> list[FlagReason]:
    """The red flags the entry's answers show as they stand (after any correction), under
    its stage's threshold. Those found by comparing sessions (bleeding back after
    radiotherapy, loss of depth) cannot be told from one entry: counted as still shown."""
    threshold = db.session.scalar(
        select(ProtocolStage.red_flag_pain)
        .join(ProtocolVersion, ProtocolVersion.id == ProtocolStage.version_id)
        .where(
            ProtocolVersion.protocol_id == entry.protocol_id,
            ProtocolVersion.number == entry.version_number,
            ProtocolStage.position == entry.stage,
        )
    )
    found = red_flags(entry.report, threshold if threshold is not None else 0)
    return [*found, FlagReason.BLEEDING_RETURNED, FlagReason.DEPTH_LOSS]


def _own_entry(patient: Patient, entry_id: int) -> DiaryEntry:
    """One of the patient's own entries; 404 for anyone else's."""
    return db.first_or_404(
        select(DiaryEntry)
        .where(DiaryEntry.id == entry_id, DiaryEntry.patient_id == patient.id)
        .options(selectinload(DiaryEntry.flags), selectinload(DiaryEntry.dilator_size))
    )


@bp.get("/entries/<int:entry_id>")
@patients_only
@audited("portal.entry", patient=own_patient, object_type="diary_entry", object_id="entry_id")
def entry(entry_id: int) -> str:
    """An entry: straight after saving it (`?saved=1`, where saving leads), with calm,
    immediate guidance when it raised a red flag; opened again later, what was entered
    and what became of any report, in the past tense for a day gone by (never "Saved" or
    "stop for today" about a session days ago)."""
    patient = own_record_or_404()
    saved = _own_entry(patient, entry_id)
    zone = patient.clinic.timezone
    return render_template(
        "portal/entry.html",
        entry=saved,
        clinic=patient.clinic,
        changeable=can_change(saved),
        zone=zone,
        guidance=patient_guidance(patient.clinic, utcnow()) if saved.flags else None,
        report=entry_report(saved, clinic_today(zone), just_saved=request.args.get("saved") == "1"),
    )


@bp.get("/entries")
@patients_only
@audited("portal.history", patient=own_patient)
def history() -> str:
    """All the patient's entries, newest first."""
    patient = own_record_or_404()
    entries = db.session.scalars(
        select(DiaryEntry)
        .where(DiaryEntry.patient_id == patient.id)
        .options(selectinload(DiaryEntry.flags), selectinload(DiaryEntry.dilator_size))
        .order_by(DiaryEntry.occurred_at.desc(), DiaryEntry.id.desc())
    ).all()
    return render_template(
        "portal/history.html",
        entries=entries,
        changeable={e.id for e in entries if can_change(e)},
        zone=patient.clinic.timezone,
    )


@bp.route("/entries/<int:entry_id>/edit", methods=["GET", "POST"])
@patients_only
@audited(
    "portal.edit_form",
    change="diary.correct",
    patient=own_patient,
    object_type="diary_entry",
    object_id="entry_id",
)
def edit_entry(entry_id: int) -> Response | str:
    """Correct an entry within 24 hours; the earlier values stay in the record."""
    patient = own_record_or_404()
    saved = _own_entry(patient, entry_id)
    if not can_change(saved):
        flash(
            gettext("This entry can no longer be changed; tell your clinic if something is wrong."),
            "error",
        )
        return redirect(url_for("portal.entry", entry_id=saved.id))
    prescription = _open_plan(patient)
    zone = patient.clinic.timezone
    form_class = SkipForm if saved.skipped else SessionForm
    data = None
    if request.method == "GET":
        data = {"when": _local(saved.occurred_at, zone), "key": saved.submission_key}
        if saved.skipped:
            data |= {"skip_reason": saved.reason_skipped.value, "skip_other": saved.skip_other}
        else:
            report = saved.report
            data |= {
                "dilator_size_id": str(saved.dilator_size_id),
                "minutes": saved.minutes,
                "pain_during": str(report.pain_during),
                "pain_after": str(report.pain_after),
                "bleeding": report.bleeding.value,
                "sharp_pain": "yes" if report.sharp_pain else "no",
                "depth_cm": saved.depth_cm,
                "note": saved.note,
                "concerns": sorted(saved.concerns or ()),
            }
    form = form_class(data=data)
    if isinstance(form, SessionForm):
        _offer(form, patient, prescription)
    if form.validate_on_submit():
        details = _skip_details(form, zone) if saved.skipped else _session_details(form, zone)
        try:
            correct(saved, prescription.protocol, current_user, details)
        except DiaryError as exc:
            show_refusal(form, exc, "when")
        else:
            flash(gettext("Your entry was corrected."), "success")
            return redirect(url_for("portal.entry", entry_id=saved.id, saved=1))
    if isinstance(form, SessionForm):
        _offer_all(form, patient, prescription)
    template = "portal/skip.html" if saved.skipped else "portal/log.html"
    return render_template(template, form=form, prescription=prescription, editing=saved)


@bp.route("/entries/<int:entry_id>/withdraw", methods=["GET", "POST"])
@patients_only
@audited(
    "portal.withdraw_form",
    change="diary.withdraw",
    patient=own_patient,
    object_type="diary_entry",
    object_id="entry_id",
)
def withdraw_entry(entry_id: int) -> Response | str:
    """Withdraw an entry within 24 hours (it stays in the record, marked withdrawn): the
    page asks first, and only its button withdraws, so a slip of the finger never does."""
    patient = own_record_or_404()
    saved = _own_entry(patient, entry_id)
    if request.method == "GET":
        if not can_change(saved):
            flash(
                gettext(
                    "This entry can no longer be changed; tell your clinic if something is wrong."
                ),
                "error",
            )
            return redirect(url_for("portal.entry", entry_id=saved.id))
        return render_template("portal/withdraw.html", entry=saved, zone=patient.clinic.timezone)
    try:
        withdraw(saved, current_user)
        flash(gettext("The entry was withdrawn."), "success")
    except DiaryError as exc:
        flash_refusal(exc)
    return redirect(url_for("portal.history"))

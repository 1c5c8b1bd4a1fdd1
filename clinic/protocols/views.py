"""Clinician pages for a patient's protocol: view, start, revise, stage decisions, pauses."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.wrappers import Response

from clinic.access import roles
from clinic.audit.log import audited
from clinic.core.clock import clinic_today, whole_years
from clinic.core.downloads import pdf_attachment
from clinic.core.forms import show_refusal
from clinic.core.templating import short_date
from clinic.domain.protocols import (
    CHANGE_PAGES,
    STAGE_DECISIONS,
    EventKind,
    Route,
    in_force_on,
    proposed_review_on,
)
from clinic.extensions import db
from clinic.i18n import DEFAULT_LANGUAGE, language
from clinic.models import Patient, Protocol, ProtocolTemplate, Role
from clinic.monitoring.kept import found, keep, part_key
from clinic.monitoring.services import assess_patient
from clinic.patients.queries import (
    chart_and_version_with,
    get_chart_row_or_404,
    get_patient_or_404,
)
from clinic.patients.returns import ReturnPage, return_to
from clinic.protocols import integrity
from clinic.protocols.forms import (
    ACTION_ADD_STAGE,
    ACTION_SHOW_ROUTE,
    PlanForm,
    ProtocolEventForm,
    ReviseProtocolForm,
    StartProtocolForm,
    chosen_going_back,
)
from clinic.protocols.plans import (
    add_stage,
    check_plan,
    mark_required_depth,
    offer_sizes,
    plan_route,
)
from clinic.protocols.prescriptions import prescription_on
from clinic.protocols.queries import (
    get_protocol_or_404,
    get_usable_template,
    open_protocol,
    patient_protocols,
    timeline,
    usable_templates,
    version,
)
from clinic.protocols.services import (
    ConcurrentChangeError,
    ProtocolChangeError,
    allowed_on,
    check_start_date,
    needs_radiotherapy_date,
    needs_specialist_direction,
    needs_surgeon_direction,
    record_event,
    revise_protocol,
    start_indications,
    start_protocol,
    start_refusals,
)
from clinic.reporting.instructions import (
    CLINIC_COPY,
    copy_language,
    file_name,
    instruction_sheet_html,
    instruction_sheet_pdf,
    sheet_language,
)

bp = Blueprint("protocols", __name__, url_prefix="/patients/<int:patient_id>/protocol")

clinicians_only = roles(Role.CLINICIAN)

# The page's first read: the patient's record and summary version with the open
# protocol's rows (clinic.protocols.integrity.OPEN_ROWS), in one round trip.
_HEAD = chart_and_version_with(integrity.OPEN_ROWS)

# The URL words of the change pages, quoted for the route's `any` converter.
CHANGE_SLUGS = ", ".join(f"'{kind.slug}'" for kind in CHANGE_PAGES)


def _today() -> date:
    return clinic_today(current_user.clinic.timezone)


def _patient(patient_id: int) -> Patient:
    return get_patient_or_404(patient_id, current_user.clinic_id)


@bp.get("/")
@clinicians_only
@audited("protocol.view", patient="patient_id")
def current(patient_id: int) -> str:
    """The patient's open protocol, or the choice of how to start one."""
    # The open protocol's rows, read with the record, as a fingerprint: when its page is
    # kept under them, they verified when it was drawn and still do, and nothing else need
    # be loaded.
    patient, summary, rows = get_chart_row_or_404(_HEAD, patient_id, current_user.clinic_id)
    fingerprint = integrity.fingerprint(rows)
    key = _detail_key(patient, summary, fingerprint) if fingerprint is not None else None
    existing = found(key)
    if existing is not None:
        return _show_detail(patient, existing.value)
    protocols = patient_protocols(patient.id, patient.clinic_id)
    open_protocol = next((p for p in protocols if p.status.is_open), None)
    if open_protocol is None:
        return render_template(
            "protocols/choose.html",
            patient=patient,
            templates=_templates_for(patient),
            past=protocols,
        )
    return _render_detail(patient, open_protocol, protocols, key)


@bp.get("/<int:protocol_id>")
@clinicians_only
@audited("protocol.view", patient="patient_id", object_type="protocol", object_id="protocol_id")
def detail(patient_id: int, protocol_id: int) -> str:
    """Any of the patient's protocols, current or past, with its full history (drawn
    afresh: the open one's page is kept at its own address)."""
    patient = _patient(patient_id)
    protocols = patient_protocols(patient.id, patient.clinic_id)
    protocol = next((p for p in protocols if p.id == protocol_id), None)
    if protocol is None:
        abort(404)
    return _render_detail(patient, protocol, protocols, None)


def _detail_key(patient: Patient, summary: int | None, fingerprint: str) -> str | None:
    """The key the open protocol's page is kept under: the patient's summary version,
    which every change committed through the app to the patient's record, protocols and
    the sizes of their open plan moves; the fingerprint of the open protocol's rows,
    which any change to them moves, through the app or not; and what else the page shows:
    the day, the day asked about, the page's address, the clinic's zone (times in the
    history) and the staff's names (who recorded each change: `staff_revision`)."""
    clinic = current_user.clinic
    return part_key(
        "protocol-page",
        patient,
        summary,
        (
            request.path,
            _asked_day(),
            _today(),
            clinic.timezone,
            clinic.staff_revision,
            fingerprint,
        ),
    )


def _render_detail(
    patient: Patient, protocol: Protocol, protocols: list[Protocol], key: str | None
) -> str:
    """The protocol page, drawn from the rows loaded, and kept under `key` (if any) when
    `protocol` is open and its history checks out: a history that fails the check is
    drawn from the rows as they are on every view, with its warning."""
    today = _today()
    asked_day = _asked_day()
    verified = integrity.verify(protocol)
    prescription = prescription_on(protocol, today)
    now, shown = prescription.state, prescription.version
    asked = in_force_on(timeline(protocol), asked_day) if asked_day else None
    body = Markup(  # noqa: S704 (rendered by Jinja with autoescaping on)
        render_template(
            "protocols/_detail.html",
            patient=patient,
            protocol=protocol,
            shown=shown,
            now=now,
            today=today,
            asked_day=asked_day,
            asked=asked,
            asked_version=version(protocol, asked.version) if asked else None,
            verified=verified,
            others=[p for p in protocols if p.id != protocol.id],
            # What the clinician may record now (nothing once the protocol is closed).
            allowed=allowed_on(protocol, today),
            # Where a decision started here comes back to: this page, at its decisions.
            here=url_for(request.endpoint or "protocols.current", **(request.view_args or {}))
            + "#actions-heading",
        )
    )
    if verified and protocol.status.is_open:
        keep(key, body)
    return _show_detail(patient, body)


def _show_detail(patient: Patient, body: Markup) -> str:
    return render_template("protocols/show.html", patient=patient, detail=body)


def _asked_day() -> date | None:
    # "What was prescribed on ...?" from the ?on=YYYY-MM-DD query; junk input is ignored.
    try:
        return date.fromisoformat(request.args.get("on", ""))
    except ValueError:
        return None


def _templates_for(patient: Patient) -> list[ProtocolTemplate]:
    # Templates for the patient's indication first.
    templates = usable_templates(patient.clinic_id)
    return sorted(templates, key=lambda t: (t.indication != patient.indication, t.name))


@bp.route("/new", methods=["GET", "POST"])
@clinicians_only
@audited("protocol.start_form", change="protocol.start", patient="patient_id")
def start(patient_id: int) -> Response | str:
    """Start a protocol from a copy of a template or from scratch (replacing an open one)."""
    patient = _patient(patient_id)
    clinic = current_user.clinic
    choice = request.values.get("template", "")
    if request.method == "GET" and not choice:
        return render_template(
            "protocols/choose.html",
            patient=patient,
            templates=_templates_for(patient),
            past=patient_protocols(patient.id, patient.clinic_id),
        )
    template = _chosen_template(choice, clinic.id)
    current = open_protocol(patient.id, patient.clinic_id, with_history=False)
    replaces = f"{current.id}:{current.lock_version}" if current else "none"
    form = StartProtocolForm(data=_start_defaults(patient, template, replaces))
    offer_sizes(form, clinic.id, plan_route(form.route))
    needs_surgeon = needs_surgeon_direction(patient, template)
    needs_radiotherapy = needs_radiotherapy_date(patient, template)
    # Under 18 on the start date the form shows (today's until one is sent; a date that
    # could not be read counts as today's, and the form is refused for it anyway).
    start_day = form.start_on.data or _today()
    needs_specialist = needs_specialist_direction(patient, start_day)
    # Shown as required (not "optional") where the indication (or the age) needs them.
    for needed, fields in (
        (needs_surgeon, (form.surgeon_direction, form.procedure_on)),
        (needs_radiotherapy, (form.radiotherapy_ended_on,)),
        (needs_specialist, (form.specialist_direction,)),
    ):
        for needed_field in fields:
            needed_field.flags.required = needed
    if not _redrawn(form) and _start_is_valid(
        form,
        patient,
        template,
        replaces,
        replacing=current is not None,
        needs_surgeon=needs_surgeon,
        needs_specialist=needs_specialist,
    ):
        saved = _save(
            form,
            lambda: start_protocol(
                patient,
                current_user,
                name=form.name.data,
                route=Route(form.route.data),
                stages=[s.stage_values() for s in form.kept_stages()],
                start_stage=form.start_stage.data,
                start_on=form.start_on.data,
                today=_today(),
                template=template,
                going_back=chosen_going_back(form.going_back),
                surgeon_direction=form.surgeon_direction.data if needs_surgeon else "",
                procedure_on=form.procedure_on.data if needs_surgeon else None,
                radiotherapy_ended_on=form.radiotherapy_ended_on.data
                if needs_radiotherapy
                else None,
                specialist_direction=form.specialist_direction.data if needs_specialist else "",
            ),
        )
        if saved:
            flash(_("The protocol “%(name)s” was started.", name=form.name.data), "success")
            return redirect(url_for("protocols.current", patient_id=patient.id))
    mark_required_depth(form, start_indications(patient, template))
    return render_template(
        "protocols/start.html",
        patient=patient,
        form=form,
        template=template,
        needs_surgeon=needs_surgeon,
        needs_radiotherapy=needs_radiotherapy,
        needs_specialist=needs_specialist,
        start_day=start_day,
        age_on_start=whole_years(patient.date_of_birth, start_day),
        radiotherapy_weeks=clinic.radiotherapy_weeks,
        choice=choice,
    )


def _chosen_template(choice: str, clinic_id: int) -> ProtocolTemplate | None:
    """The template named by ?template= ("none" or nothing: from scratch); 404 for
    anything else, including another clinic's or a retired template."""
    if choice in ("", "none"):
        return None
    if not re.fullmatch(r"[0-9]{1,9}", choice):
        abort(404)
    template = get_usable_template(int(choice), clinic_id)
    if template is None:
        abort(404)
    return template


def _start_defaults(
    patient: Patient, template: ProtocolTemplate | None, replaces: str
) -> dict | None:
    if request.method == "POST":
        return None
    defaults: dict = {
        "start_on": _today(),
        "start_stage": 1,
        "replaces": replaces,
        "radiotherapy_ended_on": patient.radiotherapy_ended_on,
        # From a template, its setting; from scratch, the usual for the indication. After
        # vaginoplasty (the patient's or the template's), the usual: review, never smaller.
        "going_back": template.going_back.value
        if template and not start_indications(patient, template).is_neovagina
        else "",
    }
    if template is not None:
        defaults |= {
            "name": template.name,
            "route": template.route.value,
            "stages": [stage.stage_values() for stage in template.stages],
        }
    return defaults


def _start_is_valid(
    form: StartProtocolForm,
    patient: Patient,
    template: ProtocolTemplate | None,
    replaces: str,
    *,
    replacing: bool,
    needs_surgeon: bool,
    needs_specialist: bool,
) -> bool:
    """Field rules, plan rules, that the protocols the form was opened against have not
    changed since (a double submit, a colleague's start), a start date that can be
    recorded, then the start conditions (every one shown at once, next to its field) and
    the surgeon's and the specialist service's confirmations."""
    clinic = current_user.clinic
    if not (
        form.validate_on_submit()
        and check_plan(
            form,
            clinic.id,
            Route(form.route.data),
            clinic.max_step_mm,
            start_indications(patient, template),
        )
    ):
        return False
    if form.replaces.data != replaces:
        form.form_errors.append(str(ConcurrentChangeError()))
        return False
    try:
        check_start_date(patient, form.start_on.data, today=_today(), replacing=replacing)
    except ProtocolChangeError as refused:
        show_refusal(form, refused)
        return False
    problems = start_refusals(
        patient,
        template,
        start_on=form.start_on.data,
        surgeon_direction=form.surgeon_direction.data or "" if needs_surgeon else "",
        procedure_on=form.procedure_on.data if needs_surgeon else None,
        radiotherapy_ended_on=form.radiotherapy_ended_on.data,
        specialist_direction=form.specialist_direction.data or "" if needs_specialist else "",
    )
    for problem in problems:
        form[problem.field].errors.append(_(problem.message))
    confirmed = True
    if needs_surgeon and not form.surgeon_confirmed.data:
        form.surgeon_confirmed.errors.append(
            _("Tick to confirm the treating surgeon directs this program.")
        )
        confirmed = False
    if needs_specialist and not form.specialist_confirmed.data:
        form.specialist_confirmed.errors.append(
            _(
                "Tick to confirm a specialist service for children and young people leads "
                "this program."
            )
        )
        confirmed = False
    return confirmed and not problems


@bp.route("/<int:protocol_id>/revise", methods=["GET", "POST"])
@clinicians_only
@audited(
    "protocol.revise_form",
    change="protocol.revise",
    patient="patient_id",
    object_type="protocol",
    object_id="protocol_id",
)
def revise(patient_id: int, protocol_id: int) -> Response | str:
    """Change an open protocol's plan: a new version, with who, when and why."""
    patient = _patient(patient_id)
    clinic = current_user.clinic
    protocol = get_protocol_or_404(protocol_id, patient.id, clinic.id)
    if not protocol.status.is_open:
        flash(_("Only an active or paused protocol can be changed."), "error")
        return redirect(url_for("protocols.detail", patient_id=patient.id, protocol_id=protocol.id))
    latest = protocol.versions[-1]
    data = None
    if request.method == "GET":
        data = {
            "stages": [stage.stage_values() for stage in latest.stages],
            "current_stage": protocol.events[-1].stage,
            "effective_on": _today(),
            "lock_version": str(protocol.lock_version),
        }
    form = ReviseProtocolForm(data=data)
    offer_sizes(
        form, clinic.id, protocol.route, keep_ids={s.dilator_size_id for s in latest.stages}
    )
    if not _redrawn(form) and (
        form.validate_on_submit()
        and check_plan(
            form, clinic.id, protocol.route, clinic.max_step_mm, protocol.safety_indications
        )
        and _save(
            form,
            lambda: revise_protocol(
                protocol,
                current_user,
                expected_lock=form.lock_version.data,
                stages=[s.stage_values() for s in form.kept_stages()],
                current_stage=form.current_stage.data,
                effective_on=form.effective_on.data,
                today=_today(),
                reason=form.reason.data,
                confirm_device_change=form.confirm_device_change.data,
            ),
        )
    ):
        flash(_("The plan was changed; the earlier version stays in the history."), "success")
        return redirect(url_for("protocols.current", patient_id=patient.id))
    mark_required_depth(form, protocol.safety_indications)
    return render_template("protocols/revise.html", patient=patient, protocol=protocol, form=form)


@bp.route(
    f"/<int:protocol_id>/<any({CHANGE_SLUGS}):change>",
    methods=["GET", "POST"],
)
@clinicians_only
@audited(
    "protocol.change_form",
    change="protocol.change",
    patient="patient_id",
    object_type="protocol",
    object_id="protocol_id",
)
def change(patient_id: int, protocol_id: int, change: str) -> Response | str:
    """Record a stage decision, a pause, a resumption or the end of the protocol."""
    patient = _patient(patient_id)
    protocol = get_protocol_or_404(protocol_id, patient.id, current_user.clinic_id)
    kind = EventKind.from_slug(change)
    today = _today()
    # For a stage decision: what the rules say now, shown as context next to the form and
    # kept with the decision (computed here, never taken from the request). Following it
    # or not, the form is the same.
    assessment = assess_patient(patient, protocol, today) if kind in STAGE_DECISIONS else None
    advice = assessment.advice if assessment else None
    suggestion = advice.suggestion if advice else None
    data = None
    if request.method == "GET":
        data = {
            "effective_on": today,
            "lock_version": str(protocol.lock_version),
            "next": request.args.get("next", ""),
        }
        if kind is EventKind.HOLD:
            # A proposal, to change or clear.
            data["review_on"] = proposed_review_on(today, patient.review_on)
    form = ProtocolEventForm(data=data, kind=kind, suggestion=suggestion, today=today)
    back = return_to(
        form.next.data,
        patient,
        ReturnPage(url_for("protocols.current", patient_id=patient.id), _("the protocol")),
    )
    review_on = form.review_on.data if form.review_on else None
    if form.validate_on_submit() and _save(
        form,
        lambda: record_event(
            protocol,
            kind,
            current_user,
            expected_lock=form.lock_version.data,
            effective_on=form.effective_on.data,
            today=today,
            reason=form.reason.data or "",
            resume_on=form.resume_on.data if form.resume_on else None,
            suggested=suggestion,
            evidence=advice.summary if advice else "",
            review_on=review_on,
        ),
    ):
        flash(_recorded_message(kind, review_on), "success")
        return redirect(back.url)
    last = protocol.events[-1]
    return render_template(
        "protocols/change.html",
        patient=patient,
        protocol=protocol,
        form=form,
        kind=kind,
        stage_now=last.stage,
        stages=version(protocol, last.version_number).stages,
        advice=advice,
        follows=kind.follows(suggestion),
        open_red_flags=assessment.open_red_flags if assessment else 0,
        back=back,
        proposed_review_on=proposed_review_on(today),
    )


def _recorded_message(kind: EventKind, review_on: date | None) -> str:
    """What the page says once a decision is saved (the same whether it followed the
    suggestion or not)."""
    if review_on is not None:
        return _(
            "Recorded: %(decision)s. Next review: %(date)s.",
            decision=_(kind.label).lower(),
            date=short_date(review_on),
        )
    return _("Recorded: %(decision)s.", decision=_(kind.label).lower())


@bp.get("/<int:protocol_id>/instructions")
@clinicians_only
@audited(
    "protocol.instructions",
    patient="patient_id",
    object_type="protocol",
    object_id="protocol_id",
)
def instructions(patient_id: int, protocol_id: int) -> str:
    """The plan in plain language with the safety guidance, to print for the patient: in
    the patient's language, or in English for the clinic's file (`?copy=clinic`)."""
    patient = _patient(patient_id)
    protocol = get_protocol_or_404(protocol_id, patient.id, current_user.clinic_id)
    today = _today()
    prescription = prescription_on(protocol, today)
    copy = request.args.get("copy") == CLINIC_COPY
    patient_code = sheet_language(patient)
    code = DEFAULT_LANGUAGE if copy else patient_code
    sheet = instruction_sheet_html(
        prescription, current_user.clinic, today, patient.greeting_name, code
    )
    return render_template(
        "protocols/instructions.html",
        patient=patient,
        prescription=prescription,
        sheet=sheet,
        copy=CLINIC_COPY if copy else None,
        patient_language=language(patient_code),
    )


@bp.get("/<int:protocol_id>/instructions.pdf")
@clinicians_only
@audited(
    "protocol.instructions_pdf",
    patient="patient_id",
    object_type="protocol",
    object_id="protocol_id",
)
def instructions_pdf(patient_id: int, protocol_id: int) -> Response:
    """The same sheet as a PDF to print or hand over, in the patient's language or, with
    `?copy=clinic`, in English for the clinic (neutral file name, never cached)."""
    patient = _patient(patient_id)
    protocol = get_protocol_or_404(protocol_id, patient.id, current_user.clinic_id)
    today = _today()
    code = copy_language(patient, request.args.get("copy"))
    pdf = instruction_sheet_pdf(prescription_on(protocol, today), current_user.clinic, today, code)
    return pdf_attachment(pdf, file_name(code))


def _redrawn(form: PlanForm) -> bool:
    """Handle "Add a stage" and "Show the dilators for this route": True when the
    clinician asked for one (then nothing is validated or saved, and the form comes back
    with the stage or a message, or with the dilator lists of the route now chosen)."""
    if request.method != "POST":
        return False
    action = request.form.get("action")
    if action == ACTION_ADD_STAGE:
        add_stage(form)
    return action in (ACTION_ADD_STAGE, ACTION_SHOW_ROUTE)


def _save(form: PlanForm | ProtocolEventForm, change: Callable[[], object]) -> bool:
    """Run a service (the request's unit of work commits it); turn a refusal, or a change
    saved meanwhile by someone else, into form errors (then nothing is saved)."""
    try:
        change()
        db.session.flush()  # a change saved meanwhile shows here (StaleDataError)
    except ProtocolChangeError as exc:
        show_refusal(form, exc)
        return False
    except StaleDataError:
        show_refusal(form, ConcurrentChangeError())
        return False
    return True

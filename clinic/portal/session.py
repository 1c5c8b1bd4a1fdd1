"""The guided session: the steps for the stage the patient is on, and (with JavaScript) a
timer for the prescribed minutes that opens the log form prefilled with the minutes timed.

The page stores nothing: the patient still reviews and saves the log form. Its address
and title say nothing about the therapy.
"""

from __future__ import annotations

from flask import render_template
from flask_babel import gettext

from clinic.alerts.services import report_to_discuss
from clinic.audit.log import audited, own_patient
from clinic.core.clock import clinic_today
from clinic.core.words import size_name
from clinic.domain.diary import LOGGED_MINUTES
from clinic.domain.session_guide import StageFacts, guide_steps
from clinic.models.types import utcnow
from clinic.portal.views import (
    bp,
    current_prescription,
    no_plan_page,
    own_record_or_404,
    patients_only,
)
from clinic.protocols.prescriptions import Prescription
from clinic.protocols.queries import timeline


def _first_time_on_this_size(prescription: Prescription) -> bool:
    """Whether the stage in force put the patient on a size larger than any they used
    before in this plan: after a step back, the size is one they already know."""
    state = prescription.state
    if state is None:
        return True
    earlier = [
        event.device_mm
        for event in timeline(prescription.protocol)
        if event.effective_on < state.stage_since and event.device_mm is not None
    ]
    return not earlier or prescription.stage.dilator_size.diameter_mm > max(earlier)


def stage_facts(prescription: Prescription) -> StageFacts:
    """What the steps of the prescribed stage depend on, read from the plan."""
    stage = prescription.stage
    number = prescription.stage_number
    previous = (
        prescription.version.stages[number - 2]
        if number > 1 and _first_time_on_this_size(prescription)
        else None
    )
    protocol = prescription.protocol
    state = prescription.state
    return StageFacts(
        route=protocol.route,
        indications=protocol.safety_indications,
        material=stage.dilator_size.dilator_set.material,
        minutes=stage.minutes,
        target_depth_cm=stage.target_depth_cm,
        previous_size=size_name(previous.dilator_size)
        if previous is not None and previous.dilator_size_id != stage.dilator_size_id
        else None,
        days_on_stage=(prescription.day - state.stage_since).days if state else None,
    )


def timer_words() -> dict[str, str]:
    """What the timer's script says and shows (static/session.js), in the page's language;
    {name} marks where the script puts a value."""
    return {
        "resume": gettext("Resume"),
        "pause": gettext("Pause"),
        "idle": gettext("not started"),
        "running": gettext("running"),
        "paused": gettext("paused"),
        "ended": gettext("stopped"),
        "started": gettext("Timer started: %(minutes)s.", minutes="{minutes}"),
        "pausedAt": gettext("Paused at %(time)s.", time="{time}"),
        "runningAgain": gettext("Timer running again."),
        "timeUpHeading": gettext("Time is up"),
        "stoppedHeading": gettext("Timer stopped"),
        "noTime": gettext("No time was timed."),
        "youTimed": gettext("You timed %(minutes)s.", minutes="{minutes}"),
        "timeUp": gettext("Time is up."),
        "minute": gettext("%(num)s minute", num="{n}"),
        "minutes": gettext("%(num)s minutes", num="{n}"),
        "breatheIn": gettext("Breathe in… 4 seconds"),
        "breatheOut": gettext("Breathe out… 6 seconds"),
    }


@bp.get("/session")
@patients_only
@audited("portal.session_guide", patient=own_patient)
def session_guide() -> str | tuple[str, int]:
    """A session, step by step, for the stage the plan prescribes today, with a timer;
    while the plan is paused or before it starts, says so calmly and offers no session."""
    patient = own_record_or_404()
    prescription = current_prescription(patient)
    if prescription is None:
        return no_plan_page()
    ready = prescription.state is not None and not prescription.paused
    return render_template(
        "portal/session.html",
        prescription=prescription,
        ready=ready,
        steps=guide_steps(stage_facts(prescription)),
        clinic=patient.clinic,
        today=clinic_today(patient.clinic.timezone),
        reported_on=report_to_discuss(patient, utcnow()),
        max_minutes=LOGGED_MINUTES.high,
        timer_words=timer_words(),
    )

"""Issue 16, the evidence behind a suggestion: a stage beyond the usual safety limits
needs the clinician's reason (the one the oversized step already needed), kept with the
stage and shown where it is shown; after vaginoplasty every stage has a target depth,
pain that says go back suggests a review with the surgical team (not a smaller size), a
loss of depth or a size that would not go in raises a red flag with calm guidance, and
the timeline, the progress report and the MDT pack show depth by week."""

from __future__ import annotations

import html
import re
from dataclasses import replace
from datetime import timedelta

from flask import Flask
from sqlalchemy import select

from clinic.core.clock import clinic_today
from clinic.domain.diary import FlagReason
from clinic.domain.indications import Indication
from clinic.domain.progression import GoingBack
from clinic.domain.protocols import EventKind
from clinic.extensions import db
from clinic.mdt.services import build_pack, pack_pdf
from clinic.models import Clinic, Patient, Protocol, ProtocolTemplate, RedFlag, User
from tests.support.diaries import add_entries, correct_session, log_session
from tests.support.forms import form_values
from tests.support.protocols import ZONE, clinic_template, make_protocol
from tests.support.reports import ReportRenderer, read_pdf
from tests.support.world import World


def text(response) -> str:
    """A page's HTML with entities decoded."""
    return html.unescape(response.get_data(as_text=True))


def error_next_to(page: str, field_id: str) -> str:
    """The error shown under a field (empty when none)."""
    found = re.search(rf'<small id="{re.escape(field_id)}-error"[^>]*>(.*?)</small>', page, re.S)
    return found.group(1) if found else ""


def on_vaginoplasty_plan(app: Flask, world: World, changes=()) -> int:
    """The world's portal patient on the clinic's vaginoplasty template since 20 days ago
    (surgery 30 days ago, directed by the surgeon); returns the protocol id."""
    with app.app_context():
        today = clinic_today(ZONE)
        protocol = make_protocol(
            db.session.get(Patient, world.patient.patient_id),
            db.session.get(User, world.clinician.id),
            template=clinic_template(world.clinic_a, Indication.VAGINOPLASTY),
            started_on=today - timedelta(days=20),
            changes=[(kind, today - timedelta(days=ago)) for kind, ago in changes],
            surgeon_direction="Ms R. Adeyemi",
            procedure_on=today - timedelta(days=30),
        )
        db.session.commit()
        return protocol.id


def log(client, depth: str, concerns: tuple[str, ...] = ()):
    """A calm session logged through the portal with this depth (cm); the response. Each
    is another session: said so ("another"), as the patient would when the same answers
    come again within half an hour (clinic.diary.services.find_repeat)."""
    values: dict = form_values(client.get("/diary/log").get_data(as_text=True))
    values.pop("concerns", None)
    values.update(
        {
            "pain_during": "2",
            "pain_after": "1",
            "bleeding": "none",
            "sharp_pain": "no",
            "depth_cm": depth,
            "another": "y",
        }
    )
    if concerns:
        values["concerns"] = list(concerns)
    return client.post("/diary/log", data=values)


def flag_reasons(app: Flask) -> list[FlagReason]:
    with app.app_context():
        return [f.reason for f in db.session.scalars(select(RedFlag).order_by(RedFlag.id))]


# --- Stage limits: one reason, kept and shown ------------------------------------------


def template_form(client, app: Flask, world: World, **changes: str) -> dict:
    """The new-template form as the page gives it, with one stage on the vaginoplasty
    set's first size, a target depth, and `changes`."""
    with app.app_context():
        size_id = clinic_template(world.clinic_a, Indication.VAGINOPLASTY).stages[0].dilator_size_id
        db.session.commit()
    values = form_values(client.get("/templates/new").get_data(as_text=True))
    values.update(
        {
            "name": "Limits test",
            "indication": "vaginoplasty",
            "route": "vaginal",
            "stages-0-dilator_size_id": str(size_id),
            "stages-0-target_depth_cm": "13",
            "action": "save",
            **changes,
        }
    )
    return values


def test_a_pain_ceiling_above_4_needs_a_reason_kept_and_shown(
    app: Flask, client, world: World, as_clinician
) -> None:
    """A stage with pain ceiling 5 is refused next to the reason field, the input kept;
    with a reason it saves, and the template page shows the reason with the stage."""
    data = template_form(client, app, world, **{"stages-0-pain_ceiling": "5"})
    refused = client.post("/templates/new", data=data)
    page = text(refused)
    assert refused.status_code == 200
    assert (
        "Stage 1 goes beyond the usual limits: a pain ceiling above 4/10. Confirm it by "
        "giving the reason." in error_next_to(page, "stages-0-limits_reason")
    )
    assert form_values(refused.get_data(as_text=True))["stages-0-pain_ceiling"] == "5"

    data["stages-0-limits_reason"] = "Agreed with the surgeon: discomfort up to 5 is expected."
    saved = client.post("/templates/new", data=data)
    assert saved.status_code == 302
    shown = text(client.get(saved.headers["Location"]))
    assert (
        "Beyond the usual limits, confirmed: Agreed with the surgeon: discomfort up to 5 is "
        "expected." in shown
    )
    with app.app_context():
        template = db.session.scalars(
            select(ProtocolTemplate).where(ProtocolTemplate.name == "Limits test")
        ).one()
        assert template.stages[0].limits_reason.startswith("Agreed with the surgeon")


def test_every_limit_is_checked_by_the_stage_editor(
    app: Flask, client, world: World, as_clinician
) -> None:
    """A red flag only at 9, zero minimum days, and one session of evidence: each refused
    with its words under the same reason field."""
    for field, value, words in (
        ("red_flag_pain", "9", "a red flag only above 8/10"),
        ("min_days", "0", "no minimum days at the stage"),
        ("last_n_sessions", "1", "a single session of evidence"),
    ):
        data = template_form(client, app, world, **{f"stages-0-{field}": value})
        page = text(client.post("/templates/new", data=data))
        assert words in error_next_to(page, "stages-0-limits_reason"), field


def test_a_vaginoplasty_stage_needs_a_target_depth(
    app: Flask, client, world: World, as_clinician
) -> None:
    """Without a target depth a vaginoplasty template is refused next to the depth field,
    in plain words; the same stage in a vaginismus template saves."""
    data = template_form(client, app, world, **{"stages-0-target_depth_cm": ""})
    page = text(client.post("/templates/new", data=data))
    assert "after vaginoplasty each stage needs a target depth" in error_next_to(
        page, "stages-0-target_depth_cm"
    )
    data["indication"] = "vaginismus"
    assert client.post("/templates/new", data=data).status_code == 302


def test_a_new_vaginoplasty_template_reviews_with_the_surgical_team_by_default(
    app: Flask, client, world: World, as_clinician
) -> None:
    """Left at "the usual for the indication", a vaginoplasty template is saved to review
    with the surgical team, and its page says so; a vaginismus one steps back."""
    saved = client.post("/templates/new", data=template_form(client, app, world))
    assert saved.status_code == 302
    assert "Review with the surgical team (never a smaller size)" in text(
        client.get(saved.headers["Location"])
    )
    data = template_form(client, app, world, name="Other", indication="vaginismus")
    assert client.post("/templates/new", data=data).status_code == 302
    with app.app_context():
        chosen = dict(
            db.session.execute(
                select(ProtocolTemplate.name, ProtocolTemplate.going_back).where(
                    ProtocolTemplate.name.in_(["Limits test", "Other"])
                )
            ).all()
        )
    assert chosen == {"Limits test": GoingBack.SURGICAL_REVIEW, "Other": GoingBack.STEP_BACK}


def test_the_reason_shows_on_the_protocol_page_and_the_timeline(
    app: Flask, client, world: World, as_clinician
) -> None:
    """A patient's stage with a confirmed reason: the protocol page's plan and the
    timeline's "Now" line both show it, with the stage's target depth."""
    with app.app_context():
        template = clinic_template(world.clinic_a, Indication.VAGINOPLASTY)
        stages = [s.stage_values() for s in template.stages]
        stages[0] = replace(stages[0], pain_ceiling=5, limits_reason="Surgeon's instruction.")
        today = clinic_today(ZONE)
        protocol = make_protocol(
            db.session.get(Patient, world.patient.patient_id),
            db.session.get(User, world.clinician.id),
            template=template,
            stages=stages,
            started_on=today - timedelta(days=3),
            surgeon_direction="Ms R. Adeyemi",
            procedure_on=today - timedelta(days=10),
        )
        db.session.commit()
        protocol_id = protocol.id
    patient_id = world.patient.patient_id
    plan = text(client.get(f"/patients/{patient_id}/protocol/{protocol_id}"))
    assert "Beyond the usual limits, confirmed: Surgeon's instruction." in plan
    timeline = text(client.get(f"/patients/{patient_id}/timeline"))
    assert "Beyond the usual limits, confirmed: Surgeon's instruction." in timeline
    assert "Target depth 12 cm." in timeline


# --- Going back after vaginoplasty -------------------------------------------------------


def test_pain_that_says_go_back_suggests_a_review_with_the_surgical_team(
    app: Flask, client, world: World, as_clinician
) -> None:
    """Stage 2 of a vaginoplasty plan with most recent sessions above the ceiling: the
    timeline suggests a review with the surgical team, never stepping back; the protocol
    page names the setting."""
    protocol_id = on_vaginoplasty_plan(app, world, [(EventKind.ADVANCE, 10)])
    add_entries(app, protocol_id, world.patient, [6, 5, 4, 3, 2, 1], pain=(6, 5))
    timeline = text(client.get(f"/patients/{world.patient.patient_id}/timeline"))
    assert "Suggested next step: Review" in timeline
    assert "going down a size risks narrowing: review with the surgical team" in timeline
    assert "Suggested next step: Step back" not in timeline
    page = text(client.get(f"/patients/{world.patient.patient_id}/protocol/{protocol_id}"))
    assert "Review with the surgical team (never a smaller size)" in page


# --- Red flags after vaginoplasty ------------------------------------------------------


def test_a_loss_of_depth_raises_a_red_flag_with_calm_guidance(
    app: Flask, client, world: World, as_patient
) -> None:
    """Three sessions to 15 cm, then one to 14.2 (within 1 cm): no flag; then 13.5 cm: a
    loss-of-depth red flag, and the saved entry tells the patient to contact the surgical
    team or clinic and not to change to a smaller size."""
    on_vaginoplasty_plan(app, world)
    for depth in ("15", "15", "14.8", "14.2"):
        assert log(client, depth).status_code == 302
    assert flag_reasons(app) == []
    response = log(client, "13.5")
    page = text(client.get(response.headers["Location"]))
    assert flag_reasons(app) == [FlagReason.DEPTH_LOSS]
    assert "The dilator went less deep than before" in page
    assert "Contact your surgical team or the clinic" in page
    assert "do not change to a smaller size on your own" in page


def test_a_backdated_entry_does_not_hide_a_loss_of_depth(app: Flask, world: World) -> None:
    """Patients may add entries for the last days: today's 10 cm is logged, then
    yesterday's forgotten session (12 cm, same size) is added. In time order today is 2 cm
    below yesterday (more than the 1 cm set), so the later session (today's) is checked
    again and raises the loss-of-depth red flag."""
    protocol_id = on_vaginoplasty_plan(app, world)
    log_session(app, world.patient, protocol_id, 0, depth=10.0)
    log_session(app, world.patient, protocol_id, 1, depth=12.0)
    assert flag_reasons(app) == [FlagReason.DEPTH_LOSS]


def test_a_correction_does_not_hide_a_loss_of_depth(app: Flask, world: World) -> None:
    """Yesterday's 10 cm and today's 10 cm raise nothing; yesterday's is then corrected to
    12 cm (within the correction window): today's session now follows a deeper one and
    raises the loss-of-depth red flag."""
    protocol_id = on_vaginoplasty_plan(app, world)
    key = log_session(app, world.patient, protocol_id, 1, depth=10.0)
    log_session(app, world.patient, protocol_id, 0, depth=10.0)
    assert flag_reasons(app) == []
    correct_session(app, world.patient, protocol_id, key, 1, depth=12.0)
    assert flag_reasons(app) == [FlagReason.DEPTH_LOSS]


def test_a_vaginoplasty_patient_keeps_the_neovagina_rules_on_another_templates_plan(
    app: Flask, world: World
) -> None:
    """A patient recorded as after vaginoplasty, started from another indication's
    template (every template is offered on the start page): the plan follows the
    neovagina rules all the same, from the patient's indication as the start gates do
    (pain that says go back suggests a review with the surgical team, never a smaller
    size; a loss of depth is a red flag)."""
    with app.app_context():
        today = clinic_today(ZONE)
        patient = db.session.get(Patient, world.patient.patient_id)
        patient.indication = Indication.VAGINOPLASTY
        protocol = make_protocol(
            patient,
            db.session.get(User, world.clinician.id),
            template=clinic_template(world.clinic_a, Indication.VAGINISMUS),
            started_on=today - timedelta(days=20),
            surgeon_direction="Ms R. Adeyemi",
            procedure_on=today - timedelta(days=30),
        )
        db.session.commit()
        protocol_id = protocol.id
        assert protocol.going_back is GoingBack.SURGICAL_REVIEW
    log_session(app, world.patient, protocol_id, 2, depth=12.0)
    log_session(app, world.patient, protocol_id, 1, depth=10.0)
    assert flag_reasons(app) == [FlagReason.DEPTH_LOSS]


def test_the_clinic_sets_how_much_depth_is_a_loss(
    app: Flask, client, world: World, as_patient
) -> None:
    """A clinic that flags from 2 cm: 15 then 13.5 raises nothing."""
    with app.app_context():
        db.session.get(Clinic, world.clinic_a).depth_drop_cm = 2.0
        db.session.commit()
    on_vaginoplasty_plan(app, world)
    log(client, "15")
    log(client, "13.5")
    assert flag_reasons(app) == []


def test_a_size_that_would_not_go_in_is_asked_after_vaginoplasty_and_flagged(
    app: Flask, client, world: World, as_patient
) -> None:
    """The vaginoplasty log form offers "I could not insert the size I used before";
    ticking it raises its red flag and the guidance to contact the surgical team."""
    on_vaginoplasty_plan(app, world)
    form = text(client.get("/diary/log"))
    assert "I could not insert the size I used before" in form
    response = log(client, "14", concerns=("not_inserted",))
    page = text(client.get(response.headers["Location"]))
    assert flag_reasons(app) == [FlagReason.NOT_INSERTED]
    assert "If the size you used before would not go in" in page
    assert "Contact your surgical team or the clinic today" in page


def test_other_plans_do_not_ask_and_refuse_the_box(
    app: Flask, client, world: World, as_patient
) -> None:
    """A vaginismus plan neither offers the box nor accepts it when tampered in, and a
    drop in depth there raises no flag."""
    with app.app_context():
        make_protocol(
            db.session.get(Patient, world.patient.patient_id),
            db.session.get(User, world.clinician.id),
            started_on=clinic_today(ZONE) - timedelta(days=5),
        )
        db.session.commit()
    assert "I could not insert" not in text(client.get("/diary/log"))
    assert log(client, "14", concerns=("not_inserted",)).status_code == 200
    log(client, "10")
    log(client, "7")
    assert flag_reasons(app) == []


# --- The depth trend ---------------------------------------------------------------------


def with_depths(app: Flask, world: World) -> int:
    """A vaginoplasty plan with sessions over three weeks: 12.0 and 12.4 cm two weeks
    ago, 13.1 last week, 13.6 and 14.0 this week or so."""
    protocol_id = on_vaginoplasty_plan(app, world)
    add_entries(
        app,
        protocol_id,
        world.patient,
        [15, 14, 8, 2, 1],
        pain=(1, 1),
        depths=[12.0, 12.4, 13.1, 13.6, 14.0],
    )
    return protocol_id


def test_the_timeline_shows_depth_by_week(app: Flask, client, world: World, as_clinician) -> None:
    """The timeline's progress has a table of depth by week: whole sessions, deepest and
    shallowest in cm."""
    with_depths(app, world)
    page = text(client.get(f"/patients/{world.patient.patient_id}/timeline"))
    assert "Depth by week" in page
    table = page[page.index('id="depth-caption"') :]
    table = table[: table.index("</table>")]
    assert "14.0" in table and "12.0" in table and "12.4" in table
    assert re.search(r"<td>2</td><td>12\.4</td><td>12\.0</td>", table)


def test_the_progress_report_shows_depth_week_by_week(
    app: Flask, world: World, progress_report: ReportRenderer
) -> None:
    """The PDF read back has the depth table with its figures, and no fraction of a
    session anywhere in it."""
    protocol_id = with_depths(app, world)
    pdf = read_pdf(progress_report(protocol_id).pdf).text
    assert "Depth week by week" in pdf
    assert "Sessions with a depth Deepest (cm) Shallowest (cm)" in pdf
    assert re.search(r"2 12\.4 12\.0", pdf)
    assert "Target depth 12 cm." in pdf
    assert not re.search(r"\d+\.\d+ (of|sessions)", pdf)


def test_the_mdt_pack_shows_depth_by_week(app: Flask, world: World) -> None:
    """The patient's page in the MDT pack has the depth table for the last four weeks."""
    with_depths(app, world)
    with app.test_request_context():
        clinic = db.session.get(Clinic, world.clinic_a)
        today = clinic_today(ZONE)
        pack = build_pack(
            clinic,
            [world.patient.patient_id],
            today + timedelta(days=1),
            author=db.session.get(User, world.clinician.id),
            today=today,
        )
        pdf = read_pdf(pack_pdf(pack)).text
    assert "Depth by week, last four weeks" in pdf
    assert re.search(r"2 12\.4 12\.0", pdf)


def test_a_program_without_depths_shows_no_depth_table(
    app: Flask, client, world: World, as_clinician
) -> None:
    """A vaginismus plan whose patient logs no depth: no depth section on the timeline."""
    with app.app_context():
        protocol = make_protocol(
            db.session.get(Patient, world.patient.patient_id),
            db.session.get(User, world.clinician.id),
            started_on=clinic_today(ZONE) - timedelta(days=5),
        )
        db.session.commit()
        protocol_id = protocol.id
    add_entries(app, protocol_id, world.patient, [3, 2, 1])
    assert "Depth by week" not in text(client.get(f"/patients/{world.patient.patient_id}/timeline"))
    with app.app_context():
        assert db.session.get(Protocol, protocol_id).going_back is GoingBack.STEP_BACK

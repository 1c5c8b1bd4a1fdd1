"""A patient's protocol: started from a template copy, revised into versions, moved through
stages, paused and resumed, with a complete, tamper-evident record of what was prescribed
on any day."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from html import unescape

import pytest
from flask import Flask
from sqlalchemy import delete, func, select, update

from clinic.core.clock import clinic_today
from clinic.domain.flags import FlagKind
from clinic.domain.indications import Indication
from clinic.domain.protocols import IntendedUse, ProtocolStatus, Route
from clinic.extensions import db
from clinic.models import (
    CareFlag,
    Clinic,
    DilatorSet,
    DilatorSize,
    Patient,
    Protocol,
    ProtocolEvent,
    ProtocolStage,
    ProtocolTemplate,
    TemplateStage,
    User,
)
from clinic.models.types import utcnow
from clinic.protocols.services import ProtocolChangeError, revise_protocol, start_protocol
from tests.support.auth import act_as
from tests.support.factories import make_patient
from tests.support.forms import form_values
from tests.support.protocols import seed_both_libraries
from tests.support.world import World


@pytest.fixture
def library(app: Flask, world: World) -> dict[str, int]:
    """The default catalogue and templates in both clinics; template ids of clinic A."""
    return seed_both_libraries(app, world)


def base(world: World) -> str:
    return f"/patients/{world.patient.patient_id}/protocol"


def today(app: Flask) -> date:
    with app.app_context():
        return clinic_today("Europe/London")


def start_from_template(client, world: World, template_id: int, **changes: str):
    """Open the start form for a template and submit it with `changes`."""
    page = client.get(f"{base(world)}/new?template={template_id}")
    assert page.status_code == 200
    data = {**form_values(page.get_data(as_text=True)), "action": "save", **changes}
    return client.post(f"{base(world)}/new?template={template_id}", data=data)


def the_protocol(app: Flask, world: World) -> Protocol:
    return db.session.scalars(
        select(Protocol)
        .where(Protocol.patient_id == world.patient.patient_id)
        .order_by(Protocol.id.desc())
    ).first()


def record(client, world: World, protocol_id: int, change: str, **data: str):
    """Submit a stage decision / pause / resume / completion with today's defaults."""
    url = f"{base(world)}/{protocol_id}/{change}"
    values = {**form_values(client.get(url).get_data(as_text=True)), "reason": "Reviewed.", **data}
    return client.post(url, data=values)


def test_start_from_template_copies_the_plan(
    app: Flask, client, world: World, library, as_clinician
) -> None:
    """Starting from a template gives the patient their own copy: editing the template
    afterwards never changes what the patient was prescribed."""
    response = start_from_template(client, world, library["vaginismus"])
    assert response.status_code == 302
    with app.app_context():
        protocol = the_protocol(app, world)
        assert protocol.status is ProtocolStatus.ACTIVE
        assert protocol.source_template_id == library["vaginismus"]
        stages = protocol.versions[0].stages
        assert [s.minutes for s in stages] == [10] * 7
        db.session.execute(
            update(TemplateStage)
            .where(TemplateStage.template_id == library["vaginismus"])
            .values(minutes=42)
        )
        db.session.commit()
        db.session.expire_all()
        assert {s.minutes for s in the_protocol(app, world).versions[0].stages} == {10}
    page = client.get(base(world) + "/").get_data(as_text=True)
    assert "Vaginismus: graded exposure" in page and "Current" in page


def test_start_from_scratch(app: Flask, client, world: World, library, as_clinician) -> None:
    """A protocol can be written from nothing, one stage at a time."""
    url = f"{base(world)}/new?template=none"
    values = form_values(client.get(url).get_data(as_text=True))
    with app.app_context():
        size_id = db.session.scalar(
            select(TemplateStage.dilator_size_id).where(
                TemplateStage.template_id == library["vaginismus"]
            )
        )
    values.update(
        {
            "name": "Custom plan",
            "route": "vaginal",
            "stages-0-dilator_size_id": str(size_id),
            "stages-0-minutes": "5",
            "stages-0-sessions": "2",
            "stages-0-period": "week",
            "stages-0-min_days": "10",
            "stages-0-pain_ceiling": "3",
            "stages-0-last_n_sessions": "4",
            "stages-0-min_adherence_pct": "75",
            "stages-0-red_flag_pain": "7",
            "action": "save",
        }
    )
    response = client.post(url, data=values)
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        protocol = the_protocol(app, world)
        assert protocol.name == "Custom plan" and protocol.source_template_id is None
        assert protocol.versions[0].stages[0].frequency == "twice a week"


def test_add_a_stage_saves_nothing(app: Flask, client, world: World, library, as_clinician) -> None:
    """ "Add a stage" shows the form with one more stage (a copy of the last) and saves
    nothing."""
    url = f"{base(world)}/new?template={library['vaginismus']}"
    values = {**form_values(client.get(url).get_data(as_text=True)), "action": "add_stage"}
    html = client.post(url, data=values).get_data(as_text=True)
    assert "Stage 8" in html and "stages-7-minutes" in html
    with app.app_context():
        assert the_protocol(app, world) is None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"start_stage": "9"}, "Choose a stage from 1 to 7 (the plan has 7)."),
        ({"start_on": "2000-01-01"}, "A program can be put on record up to a year back"),
        ({"start_on": "2999-01-01"}, "A start can be planned up to 90 days ahead"),
        ({"name": ""}, "Give the protocol a name."),
        ({"stages-1-dilator_size_id": "stage-1"}, "Choose a dilator"),
        ({"stages-2-minutes": "0"}, "Enter a whole number from 1 to 60."),
        ({"stages-2-red_flag_pain": "2"}, "the red-flag pain level must be above the pain ceiling"),
        ({"route": "anal"}, "cannot be used in an anal protocol"),
    ],
)
def test_start_form_explains_problems(
    app: Flask, client, world: World, library, changes: dict, message: str, as_clinician
) -> None:
    """Each problem is explained in plain words; nothing is saved; input is kept."""
    if changes.get("stages-1-dilator_size_id") == "stage-1":
        changes = {"stages-1-dilator_size_id": "999999"}
    response = start_from_template(client, world, library["vaginismus"], **changes)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in html.replace("&#39;", "'")
    with app.app_context():
        assert the_protocol(app, world) is None


def test_a_first_protocol_too_far_back_is_told_the_limit_not_an_order_of_changes(
    app: Flask, client, world: World, library, as_clinician
) -> None:
    """A first protocol has no earlier change to follow: a start more than a year back is
    refused with the year's limit and its first allowed day, on the start date field,
    never with "changes are recorded in order"."""
    too_early = today(app) - timedelta(days=400)
    response = start_from_template(
        client, world, library["vaginismus"], start_on=too_early.isoformat()
    )
    html = unescape(response.get_data(as_text=True))
    first_allowed = (today(app) - timedelta(days=365)).strftime("%d %b %Y")
    assert (
        f"A program can be put on record up to a year back: start it on {first_allowed} or later."
        in html
    )
    assert "recorded in order" not in html
    assert 'id="start_on-error"' in html
    with app.app_context():
        assert the_protocol(app, world) is None


def test_decreasing_sizes_are_refused(
    app: Flask, client, world: World, library, as_clinician
) -> None:
    """A stage smaller than the one before is refused with both diameters named."""
    page = client.get(f"{base(world)}/new?template={library['vaginismus']}").get_data(as_text=True)
    values = form_values(page)
    first, second = values["stages-0-dilator_size_id"], values["stages-1-dilator_size_id"]
    response = start_from_template(
        client,
        world,
        library["vaginismus"],
        **{"stages-0-dilator_size_id": second, "stages-1-dilator_size_id": first},
    )
    html = response.get_data(as_text=True).replace("&#39;", "'")
    assert "the dilator (13 mm) is smaller than stage 1's (17 mm)" in html


@pytest.mark.parametrize(
    ("patient_indication", "template_key"),
    [
        (Indication.ANAL_FISSURE, "anal_stenosis"),
        (Indication.ANAL_STENOSIS, "anal_stenosis"),
        (Indication.VAGINISMUS, "vaginoplasty"),  # the template's indication counts too
    ],
)
def test_surgeon_directed_programs_need_the_surgeon_and_the_procedure_date(
    app: Flask, client, world: World, library, patient_indication, template_key
) -> None:
    """Anal fissure, after haemorrhoidectomy / anal stenosis and after vaginoplasty (the
    patient's indication or the template's): the surgeon is named, the procedure date
    recorded and the direction confirmed, each refused in plain words next to its field,
    with everything typed kept; the protocol then records both. (Was: anal fissure only,
    without a procedure date.)"""
    with app.app_context():
        db.session.get(Patient, world.patient.patient_id).indication = patient_indication
        db.session.commit()
    act_as(client, world.clinician.id)
    template = library[template_key]
    empty = start_from_template(client, world, template).get_data(as_text=True)
    assert "This program must be directed by the treating surgeon" in empty
    assert "Enter the date of the procedure this program follows." in empty
    assert "Tick to confirm the treating surgeon directs this program." in empty
    today = clinic_today("Europe/London")
    later = (today + timedelta(days=3)).isoformat()
    too_early = start_from_template(
        client,
        world,
        template,
        surgeon_direction="Ms F. Doyle, colorectal surgery",
        procedure_on=later,
        name="Kept name",
    ).get_data(as_text=True)
    assert "cannot start before the procedure" in too_early
    assert 'value="Ms F. Doyle, colorectal surgery"' in too_early  # nothing typed is lost
    assert f'value="{later}"' in too_early and 'value="Kept name"' in too_early
    procedure = (today - timedelta(days=21)).isoformat()
    ok = start_from_template(
        client,
        world,
        template,
        surgeon_confirmed="y",
        surgeon_direction="Ms F. Doyle, colorectal surgery",
        procedure_on=procedure,
    )
    assert ok.status_code == 302
    with app.app_context():
        protocol = the_protocol(app, world)
        assert protocol.surgeon_direction == "Ms F. Doyle, colorectal surgery"
        assert protocol.procedure_on == date.fromisoformat(procedure)
    shown = client.get(f"{base(world)}/").get_data(as_text=True)
    assert "Ms F. Doyle, colorectal surgery" in shown


def test_other_programs_keep_no_surgeon_or_procedure(
    app: Flask, client, world: World, library, as_clinician
) -> None:
    """A program that is not surgeon-directed neither asks for nor keeps a surgeon or a
    procedure date, even when a forged form sends them."""
    page = client.get(f"{base(world)}/new?template={library['vaginismus']}").get_data(as_text=True)
    assert "Surgeon-directed program" not in page
    response = start_from_template(
        client, world, library["vaginismus"], surgeon_direction="X", procedure_on="2026-01-01"
    )
    assert response.status_code == 302
    with app.app_context():
        protocol = the_protocol(app, world)
        assert protocol.surgeon_direction == "" and protocol.procedure_on is None


def test_after_radiotherapy_the_clinics_interval_is_kept(
    app: Flask, client, world: World, library, as_clinician
) -> None:
    """A program after pelvic radiotherapy asks when radiotherapy ended, refuses a start
    before the clinic's interval (4 weeks unless changed) with the earliest date, keeps
    what was typed, and saves the end date on the patient's record once it starts."""
    with app.app_context():
        db.session.get(
            Patient, world.patient.patient_id
        ).indication = Indication.PELVIC_RADIOTHERAPY
        db.session.commit()
    template = library["pelvic_radiotherapy"]
    form_page = client.get(f"{base(world)}/new?template={template}").get_data(as_text=True)
    assert "starts dilation 4 weeks after radiotherapy ends, with the smallest size" in form_page
    missing = start_from_template(client, world, template).get_data(as_text=True)
    assert "Enter the date radiotherapy ended" in missing
    today = clinic_today("Europe/London")
    recent = (today - timedelta(days=10)).isoformat()
    early = start_from_template(client, world, template, radiotherapy_ended_on=recent).get_data(
        as_text=True
    )
    earliest = today - timedelta(days=10) + timedelta(weeks=4)
    assert f"the earliest start date is {earliest:%d %b %Y}" in early
    assert f'value="{recent}"' in early
    with app.app_context():
        assert the_protocol(app, world) is None
        assert db.session.get(Patient, world.patient.patient_id).radiotherapy_ended_on is None
    ended = (today - timedelta(weeks=6)).isoformat()
    assert (
        start_from_template(client, world, template, radiotherapy_ended_on=ended).status_code == 302
    )
    with app.app_context():
        patient = db.session.get(Patient, world.patient.patient_id)
        assert patient.radiotherapy_ended_on == date.fromisoformat(ended)
        first = the_protocol(app, world).versions[0].stages[0].dilator_size
        assert first.label == "Size 1"  # the smallest size of the set


def test_the_radiotherapy_interval_is_the_clinics_setting(
    app: Flask, client, world: World, library, as_clinician
) -> None:
    """A clinic that starts at 8 weeks refuses a start 6 weeks after radiotherapy."""
    today = clinic_today("Europe/London")
    with app.app_context():
        patient = db.session.get(Patient, world.patient.patient_id)
        patient.indication = Indication.PELVIC_RADIOTHERAPY
        patient.radiotherapy_ended_on = today - timedelta(weeks=6)
        db.session.get(Clinic, world.clinic_a).radiotherapy_weeks = 8
        db.session.commit()
    page = start_from_template(client, world, library["pelvic_radiotherapy"])
    assert "This clinic starts dilation 8 weeks after it ends" in page.get_data(as_text=True)


def test_stage_decisions_and_history(
    app: Flask, client, world: World, library, as_clinician
) -> None:
    """Advance, hold and step back move the current stage and are recorded with who,
    when and why; advancing past the last stage or stepping back before the first is
    refused."""
    start_from_template(client, world, library["vaginismus"])
    with app.app_context():
        pid = the_protocol(app, world).id
    assert record(client, world, pid, "step-back").status_code == 200  # already at stage 1
    assert "already at the first stage" in record(client, world, pid, "step-back").get_data(
        as_text=True
    )
    assert (
        record(client, world, pid, "advance", reason="Pain 2/10 for two weeks").status_code == 302
    )
    assert record(client, world, pid, "hold").status_code == 302
    assert record(client, world, pid, "step-back", reason="Flare after step").status_code == 302
    with app.app_context():
        protocol = the_protocol(app, world)
        assert [e.kind.value for e in protocol.events] == ["start", "advance", "hold", "step_back"]
        assert [e.stage for e in protocol.events] == [1, 2, 2, 1]
        assert protocol.events[1].reason == "Pain 2/10 for two weeks"
        assert protocol.events[1].created_by_id == world.clinician.id
    page = client.get(base(world) + "/").get_data(as_text=True)
    assert "Pain 2/10 for two weeks" in page and "Flare after step" in page


def test_pause_and_resume(app: Flask, client, world: World, library, as_clinician) -> None:
    """A pause records its reason and planned end; while paused no stage decision can be
    made; resuming reopens it."""
    start_from_template(client, world, library["vaginismus"])
    with app.app_context():
        pid = the_protocol(app, world).id
    day = today(app)
    bad = record(client, world, pid, "pause", resume_on=day.isoformat())
    assert "The resume date must be after the pause starts." in bad.get_data(as_text=True)
    paused = record(
        client,
        world,
        pid,
        "pause",
        reason="Surgery",
        resume_on=(day + timedelta(days=14)).isoformat(),
    )
    assert paused.status_code == 302
    refused = record(client, world, pid, "advance")
    assert "cannot be changed this way" in refused.get_data(as_text=True)
    assert record(client, world, pid, "resume").status_code == 302
    with app.app_context():
        assert the_protocol(app, world).status is ProtocolStatus.ACTIVE


def test_changes_cannot_be_backdated_before_the_last_one(
    app: Flask, client, world: World, library, as_clinician
) -> None:
    """History is recorded in order: a decision dated before the previous one is refused."""
    start_from_template(client, world, library["vaginismus"])
    with app.app_context():
        pid = the_protocol(app, world).id
    early = (today(app) - timedelta(days=3)).isoformat()
    response = record(client, world, pid, "advance", effective_on=early)
    assert "The date cannot be before" in response.get_data(as_text=True)


def test_revision_makes_a_version_and_the_past_stays_answerable(
    app: Flask, client, world: World, library, as_clinician
) -> None:
    """Changing the plan creates version 2 from a date; asking what was prescribed on an
    earlier day still answers with version 1."""
    past = (today(app) - timedelta(days=20)).isoformat()
    start_from_template(client, world, library["vaginismus"], start_on=past)
    with app.app_context():
        pid = the_protocol(app, world).id
    url = f"{base(world)}/{pid}/revise"
    values = form_values(client.get(url).get_data(as_text=True))
    values.update(
        {"stages-0-minutes": "15", "reason": "Longer sessions tolerated", "action": "save"}
    )
    assert client.post(url, data=values).status_code == 302
    with app.app_context():
        protocol = the_protocol(app, world)
        assert [v.number for v in protocol.versions] == [1, 2]
        assert protocol.versions[0].stages[0].minutes == 10
        assert protocol.versions[1].stages[0].minutes == 15
    earlier = client.get(f"{base(world)}/?on={(today(app) - timedelta(days=10)).isoformat()}")
    assert "plan version 1, stage 1" in earlier.get_data(as_text=True)
    now = client.get(f"{base(world)}/?on={today(app).isoformat()}")
    assert "plan version 2, stage 1" in now.get_data(as_text=True)
    before = client.get(f"{base(world)}/?on={(today(app) - timedelta(days=30)).isoformat()}")
    assert "had not started" in before.get_data(as_text=True)
    assert client.get(f"{base(world)}/?on=not-a-date").status_code == 200


def test_second_save_from_a_stale_page_is_refused(app: Flask, world: World, library) -> None:
    """Two clinicians open the same plan; the first save wins, the second is refused
    with a clear message and keeps what they typed — never a silent overwrite."""
    first, second = app.test_client(), app.test_client()
    act_as(first, world.clinician.id)
    act_as(second, world.colleague.id)
    start_from_template(first, world, library["vaginismus"])
    with app.app_context():
        pid = the_protocol(app, world).id
    url = f"{base(world)}/{pid}/revise"
    mine = form_values(first.get(url).get_data(as_text=True))
    theirs = form_values(second.get(url).get_data(as_text=True))
    mine.update({"stages-0-minutes": "12", "reason": "Mine", "action": "save"})
    theirs.update({"stages-0-minutes": "20", "reason": "Theirs, typed carefully", "action": "save"})
    assert first.post(url, data=mine).status_code == 302
    refused = second.post(url, data=theirs)
    html = refused.get_data(as_text=True)
    assert "Someone else changed this protocol" in html
    assert "Theirs, typed carefully" in html and 'value="20"' in html
    with app.app_context():
        protocol = the_protocol(app, world)
        assert len(protocol.versions) == 2 and protocol.versions[1].stages[0].minutes == 12


def test_starting_again_replaces_and_keeps_history(
    app: Flask, client, world: World, library, as_clinician
) -> None:
    """A new protocol closes the open one as replaced; both stay on record."""
    start_from_template(client, world, library["vaginismus"])
    start_from_template(client, world, library["dyspareunia"])
    with app.app_context():
        protocols = db.session.scalars(
            select(Protocol)
            .where(Protocol.patient_id == world.patient.patient_id)
            .order_by(Protocol.id)
        ).all()
        assert [p.status for p in protocols] == [ProtocolStatus.REPLACED, ProtocolStatus.ACTIVE]
        assert protocols[0].events[-1].kind.value == "replaced"
    page = client.get(base(world) + "/").get_data(as_text=True)
    assert "Other protocols" in page and "Replaced" in page


def test_tampering_shows(app: Flask, client, world: World, library, as_clinician) -> None:
    """Editing a prescribed stage behind the app's back breaks the recorded fingerprints,
    and the protocol page says so."""
    start_from_template(client, world, library["vaginismus"])
    assert "matches its recorded fingerprints" in client.get(base(world) + "/").get_data(
        as_text=True
    )
    with app.app_context():
        db.session.execute(update(ProtocolStage).values(minutes=59))
        db.session.commit()
    assert "does not match its fingerprints" in client.get(base(world) + "/").get_data(as_text=True)


def test_instruction_sheet_is_plain_and_discreet(
    client, world: World, library, as_clinician
) -> None:
    """The printable sheet spells the plan out in plain words with the safety guidance,
    under a neutral title."""
    start_from_template(client, world, library["vaginismus"])
    with client.application.app_context():
        pid = the_protocol(client.application, world).id
    html = client.get(f"{base(world)}/{pid}/instructions").get_data(as_text=True)
    assert "<title>Your session plan" in html
    assert "once a day" in html and "Size 1 (13 mm)" in html
    assert "sudden pain is a signal to stop" in html
    assert "go to emergency care" in html


def test_other_clinics_and_other_patients_protocols_are_not_found(
    app: Flask, client, world: World, library, as_clinician
) -> None:
    """A protocol is reached only through its own patient in its own clinic."""
    start_from_template(client, world, library["vaginismus"])
    with app.app_context():
        pid = the_protocol(app, world).id
        other = make_patient(db.session.get(Clinic, world.clinic_a))
        db.session.commit()
        other_id = other.id
    assert client.get(f"/patients/{other_id}/protocol/{pid}").status_code == 404
    assert client.get(f"/patients/{other_id}/protocol/{pid}/revise").status_code == 404
    assert client.post(f"/patients/{other_id}/protocol/{pid}/advance", data={}).status_code == 404
    outsider = app.test_client()
    act_as(outsider, world.other_clinician.id)
    for url in (f"{base(world)}/", f"{base(world)}/{pid}", f"{base(world)}/{pid}/instructions"):
        assert outsider.get(url).status_code == 404
    # The other clinic's template cannot seed this clinic's protocol.
    with app.app_context():
        foreign = db.session.scalar(
            select(ProtocolTemplate.id).where(ProtocolTemplate.clinic_id == world.clinic_b)
        )
    assert client.get(f"{base(world)}/new?template={foreign}").status_code == 404


def test_one_open_protocol_is_enforced_by_the_database(app: Flask, world: World, library) -> None:
    """Even bypassing the app, a patient cannot have two open protocols."""
    from sqlalchemy.exc import IntegrityError

    with app.app_context():
        for _ in range(2):
            db.session.add(
                Protocol(
                    clinic_id=world.clinic_a,
                    patient_id=world.patient.patient_id,
                    name="x",
                    indication=Indication.VAGINISMUS,
                    route="vaginal",
                    status=ProtocolStatus.ACTIVE,
                )
            )
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()


# --- Found in review: history stays consistent whatever the dates and forms -------------


def test_changes_cannot_be_dated_in_the_future(
    app: Flask, client, world: World, library, as_clinician
) -> None:
    """Completing or pausing "next month" is refused: a protocol's status always
    describes today, so a new protocol can never overlap one completed in the future."""
    start_from_template(client, world, library["vaginismus"])
    with app.app_context():
        pid = the_protocol(app, world).id
    later = (today(app) + timedelta(days=30)).isoformat()
    for change in ("complete", "pause", "advance"):
        response = record(client, world, pid, change, effective_on=later)
        assert "The date cannot be after" in response.get_data(as_text=True), change


def test_a_new_protocol_cannot_start_inside_an_earlier_one(
    app: Flask, client, world: World, library, as_clinician
) -> None:
    """After a protocol completes, the next cannot be back-dated into its time, and one
    replacing an open protocol cannot be scheduled ahead (two would be in force)."""
    start_from_template(client, world, library["vaginismus"])
    ahead = (today(app) + timedelta(days=10)).isoformat()
    replacing = start_from_template(client, world, library["dyspareunia"], start_on=ahead)
    assert "replaces the open one, so it cannot start after today" in replacing.get_data(
        as_text=True
    )
    with app.app_context():
        pid = the_protocol(app, world).id
    assert record(client, world, pid, "complete").status_code == 302
    back = (today(app) - timedelta(days=30)).isoformat()
    overlapping = start_from_template(client, world, library["dyspareunia"], start_on=back)
    assert "earlier protocol has changes recorded up to" in unescape(
        overlapping.get_data(as_text=True)
    )


def test_a_protocol_planned_ahead_says_when_it_can_be_replaced(
    app: Flask, client, world: World, library, as_clinician
) -> None:
    """An open protocol planned to start in 10 days leaves no day a replacement could start
    on (on or after its start, and by today): the refusal says from when it can be
    replaced, whatever day was asked for, instead of two limits that contradict each other."""
    ahead = today(app) + timedelta(days=10)
    start_from_template(client, world, library["vaginismus"], start_on=ahead.isoformat())
    for asked in (today(app), ahead):
        response = start_from_template(
            client, world, library["dyspareunia"], start_on=asked.isoformat()
        )
        html = unescape(response.get_data(as_text=True))
        assert f"it can be replaced from {ahead.strftime('%d %b %Y')}." in html, asked
        assert "earlier protocol has changes recorded up to" not in html
        assert "cannot start after today" not in html


def test_a_start_from_an_outdated_form_is_refused(
    app: Flask, client, world: World, library, as_clinician
) -> None:
    """Submitting the same start form twice (double click, back button) does not
    silently replace the protocol the first submission started."""
    url = f"{base(world)}/new?template={library['vaginismus']}"
    values = {**form_values(client.get(url).get_data(as_text=True)), "action": "save"}
    assert client.post(url, data=values).status_code == 302
    again = client.post(url, data=values)
    assert "Someone else changed this protocol" in again.get_data(as_text=True)
    with app.app_context():
        protocols = db.session.scalars(
            select(Protocol).where(Protocol.patient_id == world.patient.patient_id)
        ).all()
        assert len(protocols) == 1


def test_a_revision_cannot_silently_change_the_dilator_in_use(
    app: Flask, client, world: World, library, as_clinician
) -> None:
    """Moving the patient's current stage to another dilator through "change the plan"
    needs an explicit confirmation (or a move up / step back decision)."""
    start_from_template(client, world, library["vaginismus"])
    with app.app_context():
        pid = the_protocol(app, world).id
    url = f"{base(world)}/{pid}/revise"
    values = form_values(client.get(url).get_data(as_text=True))
    values.update({"current_stage": "7", "reason": "Jump", "action": "save"})
    refused = client.post(url, data=values)
    assert "changes the dilator the patient uses now" in refused.get_data(as_text=True)
    values["confirm_device_change"] = "y"
    assert client.post(url, data=values).status_code == 302


def test_removed_history_and_changed_identity_show(
    app: Flask, client, world: World, library, as_clinician
) -> None:
    """Deleting the latest event, or changing a protocol's route behind the app's back,
    breaks the fingerprints as surely as editing a stage does."""
    start_from_template(client, world, library["vaginismus"])
    with app.app_context():
        pid = the_protocol(app, world).id
    record(client, world, pid, "advance")
    page = client.get(base(world) + "/").get_data(as_text=True)
    assert "matches its recorded fingerprints" in page
    with app.app_context():
        db.session.execute(
            delete(ProtocolEvent).where(ProtocolEvent.id == the_protocol(app, world).events[-1].id)
        )
        db.session.commit()
    assert "does not match its fingerprints" in client.get(base(world) + "/").get_data(as_text=True)


def test_changed_route_shows(app: Flask, client, world: World, library, as_clinician) -> None:
    """The protocol's identity (route, indication, surgeon's direction) is fingerprinted."""
    start_from_template(client, world, library["vaginismus"])
    with app.app_context():
        db.session.execute(update(Protocol).values(route="anal"))
        db.session.commit()
    assert "does not match its fingerprints" in client.get(base(world) + "/").get_data(as_text=True)


@pytest.mark.parametrize("choice", ["²", "99999999999999999999", "-1", "abc"])
def test_junk_template_choice_is_not_found(
    client, world: World, library, choice: str, as_clinician
) -> None:
    """Anything but a template id of this clinic (or "none") in ?template= is a 404."""
    assert client.get(f"{base(world)}/new", query_string={"template": choice}).status_code == 404


def test_adding_a_stage_past_the_maximum_explains(
    client, world: World, library, as_clinician
) -> None:
    """At 20 stages "Add a stage" says the limit instead of failing."""
    url = f"{base(world)}/new?template={library['vaginismus']}"
    values = {**form_values(client.get(url).get_data(as_text=True)), "action": "add_stage"}
    for _ in range(13):  # 7 stages -> 20
        values = {
            **form_values(client.post(url, data=values).get_data(as_text=True)),
            "action": "add_stage",
        }
    response = client.post(url, data=values)
    assert response.status_code == 200
    assert "A plan has at most 20 stages" in response.get_data(as_text=True)


def test_a_retired_size_cannot_be_forced_into_a_new_plan(
    app: Flask, client, world: World, library, as_clinician
) -> None:
    """A size retired from the catalogue is not offered, and a forged submission of it is
    refused."""
    url = f"{base(world)}/new?template={library['vaginismus']}"
    values = form_values(client.get(url).get_data(as_text=True))
    with app.app_context():
        size = db.session.get(DilatorSize, int(values["stages-0-dilator_size_id"]))
        size.retired_at = utcnow()
        db.session.commit()
    response = client.post(url, data={**values, "action": "save"})
    assert "Choose a dilator from the list." in response.get_data(as_text=True)


def test_a_broken_stage_can_be_removed(
    app: Flask, client, world: World, library, as_clinician
) -> None:
    """Ticking "remove" on a stage with a bad value lets the rest of the plan save."""
    url = f"{base(world)}/new?template={library['vaginismus']}"
    values = form_values(client.get(url).get_data(as_text=True))
    values.update({"stages-6-minutes": "oops", "stages-6-remove": "y", "action": "save"})
    assert client.post(url, data=values).status_code == 302
    with app.app_context():
        assert len(the_protocol(app, world).versions[0].stages) == 6


def test_a_planned_pause_waits_for_a_clinician_to_resume_it(
    app: Flask, client, world: World, library, as_clinician
) -> None:
    """Once a pause's planned resume date has passed, the plan is still paused (issue 16:
    it used to resume by itself): the page offers "resume", not stage decisions, and the
    service refuses a decision; the date raised "review before resuming", which the
    resume answers; then decisions work again."""
    start_from_template(
        client, world, library["vaginismus"], start_on=(today(app) - timedelta(days=20)).isoformat()
    )
    with app.app_context():
        pid = the_protocol(app, world).id
    paused = record(
        client,
        world,
        pid,
        "pause",
        effective_on=(today(app) - timedelta(days=10)).isoformat(),
        resume_on=(today(app) - timedelta(days=2)).isoformat(),
    )
    assert paused.status_code == 302
    page = client.get(f"{base(world)}/{pid}").get_data(as_text=True)
    assert f"/{pid}/resume" in page
    assert f"/{pid}/advance" not in page and f"/{pid}/pause" not in page
    assert record(client, world, pid, "advance").status_code != 302
    with app.app_context():
        protocol = the_protocol(app, world)
        assert protocol.status is ProtocolStatus.PAUSED
        flag = db.session.scalars(
            select(CareFlag).where(CareFlag.kind == FlagKind.RESUME_REVIEW)
        ).one()
        assert flag.acknowledged_at is None and "review before resuming" in flag.detail

    assert record(client, world, pid, "resume", reason="Recovered well.").status_code == 302
    with app.app_context():
        assert the_protocol(app, world).status is ProtocolStatus.ACTIVE
        flag = db.session.scalars(
            select(CareFlag).where(CareFlag.kind == FlagKind.RESUME_REVIEW)
        ).one()
        assert flag.acknowledgement == "Resumed: Recovered well."
    assert record(client, world, pid, "advance").status_code == 302


def test_the_services_refuse_an_anal_plan_without_a_flared_base(
    app: Flask, world: World, library
) -> None:
    """Issue 16: a dilator used anally must have a flared base. Not only the plan forms
    refuse it: `start_protocol` and `revise_protocol` do too, whoever calls them, with the
    stage and what to do; nothing is saved. A set recorded with one goes through."""
    with app.app_context():
        unchecked = DilatorSet(
            clinic_id=world.clinic_a,
            name="Unchecked anal set",
            material="Silicone",
            intended_use=IntendedUse.ANAL,
            flared_base=False,
        )
        size = DilatorSize(dilator_set=unchecked, label="Unchecked 1", diameter_mm=30)
        db.session.add(size)
        db.session.flush()
        template = db.session.get(ProtocolTemplate, library["levator_ani"])
        flared = [s.stage_values() for s in template.stages]
        patient = db.session.get(Patient, world.patient.patient_id)
        clinician = db.session.get(User, world.clinician.id)
        day = clinic_today("Europe/London")
        stage = replace(flared[0], dilator_size_id=size.id)
        with pytest.raises(ProtocolChangeError, match="Stage 1: a dilator used anally must have"):
            start_protocol(
                patient,
                clinician,
                name="Anal plan",
                route=Route.ANAL,
                stages=[stage],
                start_stage=1,
                start_on=day,
                today=day,
            )
        assert db.session.scalar(select(func.count()).select_from(Protocol)) == 0
        protocol = start_protocol(
            patient,
            clinician,
            name="Anal plan",
            route=Route.ANAL,
            stages=flared,
            start_stage=1,
            start_on=day,
            today=day,
        )
        with pytest.raises(ProtocolChangeError, match="must have a flared base"):
            revise_protocol(
                protocol,
                clinician,
                expected_lock=str(protocol.lock_version),
                stages=[*flared, stage],
                current_stage=1,
                effective_on=day,
                today=day,
                reason="A last, larger stage",
            )
        assert len(protocol.versions) == 1

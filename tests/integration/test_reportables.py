"""More things a patient can report with a session (issue 16): each "Anything else
today?" box raises its red flag with its severity and shows its guidance; the questions
follow the plan's route; new bleeding after radiotherapy is found from the diary;
repeated skips for pain and a "very much worse" global impression raise care flags; the
dashboard and timeline name every new reason and its severity in words."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from html import unescape

import pytest
from flask import Flask
from sqlalchemy import func, select

from clinic.core.clock import clinic_today
from clinic.domain.diary import Bleeding, Concern, FlagReason, SkipReason
from clinic.domain.flags import FlagKind
from clinic.domain.indications import Indication
from clinic.domain.measure_schedule import Cadence
from clinic.extensions import db
from clinic.models import CareFlag, DiaryEntry, Patient, PatientSummary, RedFlag, User
from clinic.models.types import utcnow
from clinic.rights.export import build_export
from tests.support.auth import act_as
from tests.support.diaries import add_entries, log_session, refresh, saved_entry_id
from tests.support.forms import form_values
from tests.support.measures import answer_measure, assign_measure
from tests.support.protocols import ZONE, clinic_template, make_protocol
from tests.support.sheets import download
from tests.support.world import World


def put_on_plan(app: Flask, world: World, indication: Indication = Indication.VAGINISMUS) -> int:
    """The world's first portal patient on the clinic's template for `indication`, since
    20 days ago; returns the protocol id."""
    with app.app_context():
        patient = db.session.get(Patient, world.patient.patient_id)
        started_on = clinic_today(ZONE) - timedelta(days=20)
        details: dict = {}
        if indication.is_surgeon_directed:
            # Surgeon-directed programmes start once directed, after the procedure.
            details = {
                "surgeon_direction": "Ms F. Doyle",
                "procedure_on": started_on - timedelta(days=21),
            }
        if indication is Indication.PELVIC_RADIOTHERAPY:
            # Dilation starts only after the clinic's interval since radiotherapy ended.
            patient.radiotherapy_ended_on = started_on - timedelta(weeks=10)
        protocol = make_protocol(
            patient,
            db.session.get(User, world.clinician.id),
            template=clinic_template(world.clinic_a, indication),
            started_on=started_on,
            **details,
        )
        db.session.commit()
        return protocol.id


def session_form(client, concerns: list[str] = (), **answers: str) -> dict:
    """The log form as the page gives it, answered calmly, with `concerns` ticked."""
    values: dict = form_values(client.get("/diary/log").get_data(as_text=True))
    values.pop("concerns", None)
    values.update(
        {"pain_during": "2", "pain_after": "1", "bleeding": "none", "sharp_pain": "no", **answers}
    )
    if concerns:
        values["concerns"] = list(concerns)
    return values


def text_of(html: str) -> str:
    """A page's visible text, tags dropped and white space collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def reasons(app: Flask) -> dict[FlagReason, int]:
    """Each red flag's reason and severity (as a number)."""
    with app.app_context():
        return {f.reason: int(f.reason.severity) for f in db.session.scalars(select(RedFlag))}


def test_the_form_asks_anything_else_as_labelled_checkboxes(
    app: Flask, client, world: World, as_patient
) -> None:
    """A vaginal plan asks about stool, wind or urine from the vagina, not bowel leakage;
    every box has its label; heavy bleeding is explained in plain words."""
    put_on_plan(app, world)
    page = client.get("/diary/log").get_data(as_text=True)
    assert "<legend>Anything else today?</legend>" in page
    for concern in (Concern.INFECTION, Concern.FISTULA, Concern.URINARY, Concern.DISTRESS):
        assert f'type="checkbox" value="{concern.value}"' in page
    assert 'value="bowel_leakage"' not in page
    assert 'for="concerns-0"' in page and 'id="concerns-0"' in page
    assert "soaking a pad, passing clots" in page
    assert "wound" not in page  # not a surgical programme


def test_an_anal_programme_after_surgery_asks_its_own_questions(
    app: Flask, client, world: World, as_patient
) -> None:
    """After haemorrhoidectomy (anal route, surgical): bowel leakage or urgency is asked,
    the vagina question is not, and the infection question names the wound."""
    put_on_plan(app, world, Indication.ANAL_STENOSIS)
    page = client.get("/diary/log").get_data(as_text=True)
    assert 'value="bowel_leakage"' in page and 'value="fistula"' not in page
    assert "or a wound opening" in page


@pytest.mark.parametrize(
    ("concern", "words"),
    [
        (Concern.INFECTION, "Fever or signs of infection"),
        (Concern.FISTULA, "Stool (poo), wind or urine (pee) from the vagina"),
        (Concern.URINARY, "if you cannot pee at all"),
        (Concern.DEVICE_STUCK, "bear down gently"),
    ],
)
def test_each_report_raises_an_urgent_flag_and_shows_its_guidance(
    app: Flask, client, world: World, as_patient, concern: Concern, words: str
) -> None:
    """A ticked box raises the red flag for it, urgent, and the saved entry says what to
    do about that very thing (with the emergency named as in the clinical content)."""
    put_on_plan(app, world)
    response = client.post("/diary/log", data=session_form(client, [concern.value]))
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert reasons(app) == {concern.reason: 3}
    assert "Please stop for today" in page
    assert words in page
    if concern is Concern.DEVICE_STUCK:
        assert "go to emergency care now" in page


def test_distress_gets_a_gentle_check_in_flagged_at_a_lower_severity(
    app: Flask, client, world: World, as_patient
) -> None:
    """Distress or flashbacks: no "stop" alarm, a check-in and where to find support; the
    clinic's flag "needs attention" rather than "urgent", and the dashboard shows it in
    words without counting it among the urgent red flags."""
    put_on_plan(app, world)
    response = client.post("/diary/log", data=session_form(client, ["distress"]))
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Please stop for today" not in page
    assert "Thank you for telling us" in page and "Where to find support" in page
    assert reasons(app) == {FlagReason.DISTRESS: 2}
    with app.app_context():
        summary = db.session.get(PatientSummary, world.patient.patient_id)
        assert summary.red_flags == 0 and FlagKind.DISTRESS in summary.open_kinds
    act_as(client, world.clinician.id)
    dashboard = client.get("/dashboard/?who=all").get_data(as_text=True)
    assert 'Distress: check in <small class="severity">(needs attention)</small>' in dashboard
    assert "an open red flag" not in dashboard
    timeline = client.get(f"/patients/{world.patient.patient_id}/timeline").get_data(as_text=True)
    assert "Red flag: Distress or flashbacks during the session" in timeline
    assert "— Needs attention" in timeline
    # Counted as a red flag where all are, said to be not urgent (never "(0 urgent)").
    header = timeline[timeline.index('class="patient-banner"') :]
    assert "1 red flag (not urgent)" in text_of(header[: header.index("</header>")])
    listed = text_of(client.get("/patients/").get_data(as_text=True))
    assert "1 red flag (not urgent)" in listed and "0 urgent" not in listed


def test_several_reports_at_once_each_raise_their_flag_and_show_in_words(
    app: Flask, client, world: World, as_patient
) -> None:
    """Urinary trouble and distress together: two flags with their own severities; the
    dashboard shows the urgent red flag and the check-in, each with its severity in
    words; the timeline names both reasons, the urgent one first."""
    put_on_plan(app, world)
    client.post("/diary/log", data=session_form(client, ["urinary", "distress"]))
    assert reasons(app) == {FlagReason.URINARY: 3, FlagReason.DISTRESS: 2}
    act_as(client, world.clinician.id)
    dashboard = client.get("/dashboard/?who=all").get_data(as_text=True)
    assert "<strong>1 urgent red flag</strong>" in dashboard
    assert "Distress: check in" in dashboard
    timeline = client.get(f"/patients/{world.patient.patient_id}/timeline").get_data(as_text=True)
    # One card for the session's flags, each with its severity in words, the urgent first.
    card = timeline[timeline.index("Red flags from one session") :]
    urgent = card.index("New trouble passing urine, burning or blood in the urine")
    assert urgent < card.index("Distress or flashbacks during the session")
    assert "(urgent)" in card
    assert "Distress or flashbacks during the session (needs attention)" in timeline  # entries


def test_every_page_counts_red_flags_in_the_same_words(
    app: Flask, client, world: World, as_patient
) -> None:
    """One urgent red flag and one distress check-in, open: the dashboard counts the
    urgent one ("1 urgent red flag"); the caseload list, the chart's header and the
    timeline count both and say how many are urgent ("2 red flags (1 urgent)"; the
    timeline's open flags count its rule flags apart), so no
    page shows another number under the same name."""
    put_on_plan(app, world)
    client.post("/diary/log", data=session_form(client, ["urinary", "distress"]))
    act_as(client, world.clinician.id)
    dashboard = client.get("/dashboard/?who=all").get_data(as_text=True)
    assert "<strong>1 urgent red flag</strong>" in dashboard
    assert "1 patient has an open urgent red flag." in dashboard
    listed = text_of(client.get("/patients/").get_data(as_text=True))
    assert "2 red flags (1 urgent)" in listed
    timeline = client.get(f"/patients/{world.patient.patient_id}/timeline").get_data(as_text=True)
    header = timeline[timeline.index('class="patient-banner"') :]
    assert "2 red flags (1 urgent)" in text_of(header[: header.index("</header>")])
    # With the rule flag the plan's start raised, counted apart.
    open_flags = timeline[timeline.index("<dt>Open flags</dt>") :]
    shown = re.sub(r"<[^>]+>", "", open_flags[: open_flags.index("</dd>")])
    assert shown == "Open flags3: 2 red flags (1 urgent), 1 other flag"


def test_nothing_ticked_is_lost_on_a_validation_error(
    app: Flask, client, world: World, as_patient
) -> None:
    """A form sent without the pain scores comes back with the boxes still ticked, and
    nothing is saved."""
    put_on_plan(app, world)
    values = session_form(client, ["urinary", "device_stuck"])
    del values["pain_during"]
    page = client.post("/diary/log", data=values).get_data(as_text=True)
    assert "Error:" in page
    for value in ("urinary", "device_stuck"):
        assert re.search(
            rf'<input checked id="concerns-\d" name="concerns" type="checkbox" value="{value}"',
            page,
        )
    assert 'value="infection">' in page  # left unticked
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(DiaryEntry)) == 0


def test_a_question_the_plan_does_not_ask_is_refused(
    app: Flask, client, world: World, as_patient
) -> None:
    """A tampered form ticking bowel leakage on a vaginal plan saves nothing."""
    put_on_plan(app, world)
    response = client.post("/diary/log", data=session_form(client, ["bowel_leakage"]))
    assert response.status_code == 200
    assert "Tick only the boxes shown on the page." in response.get_data(as_text=True)
    assert reasons(app) == {}


def test_a_correction_keeps_the_boxes_and_a_new_box_adds_its_flag(
    app: Flask, client, world: World, as_patient
) -> None:
    """The correction form shows what was ticked; ticking another adds its flag, and the
    first flag stays."""
    put_on_plan(app, world)
    response = client.post("/diary/log", data=session_form(client, ["urinary"]))
    entry_id = saved_entry_id(response.headers["Location"])
    edit = client.get(f"/diary/entries/{entry_id}/edit").get_data(as_text=True)
    values = form_values(edit)
    assert values.get("concerns") == "urinary"
    values["concerns"] = ["urinary", "infection"]
    client.post(f"/diary/entries/{entry_id}/edit", data=values)
    assert set(reasons(app)) == {FlagReason.URINARY, FlagReason.INFECTION}


def test_bleeding_after_a_quiet_spell_after_radiotherapy_is_flagged(
    app: Flask, client, world: World, as_patient
) -> None:
    """After radiotherapy, six sessions without bleeding then spotting: a red flag for new
    bleeding (spotting alone would not be one), with guidance that says why."""
    protocol_id = put_on_plan(app, world, Indication.PELVIC_RADIOTHERAPY)
    add_entries(app, protocol_id, world.patient, [12, 10, 8, 6, 4, 2])
    response = client.post("/diary/log", data=session_form(client, bleeding="spotting"))
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert reasons(app) == {FlagReason.BLEEDING_RETURNED: 3}
    assert "Bleeding after a spell without any" in page and "soaking a pad" in page


def test_the_plan_after_vaginoplasty_names_its_own_warning_signs(
    app: Flask, client, world: World, as_patient
) -> None:
    """After vaginoplasty, the patient's plan page and its PDF name the warning signs of
    the neovagina (a size used before that no longer goes in, or less depth) with
    infection signs, and the portal says to tick them when logging."""
    put_on_plan(app, world, Indication.VAGINOPLASTY)
    page = " ".join(client.get("/diary/plan").get_data(as_text=True).split())
    assert "You could not insert the size you used before</strong>, or it goes less deep" in page
    assert "A fever or signs of infection" in page and "Anything else today?" in page
    sheet = " ".join(download(client, "/diary/plan.pdf").text.split())
    assert "You could not insert the size you used before, or it goes less deep" in sheet
    assert "a wound opening" in sheet


def test_bleeding_beyond_spotting_after_a_quiet_spell_says_heavy_bleeding_once(
    app: Flask, client, world: World, as_patient
) -> None:
    """After radiotherapy, more than spotting after a quiet spell raises both bleeding
    flags; the page defines heavy bleeding and its emergency once, not in each section."""
    protocol_id = put_on_plan(app, world, Indication.PELVIC_RADIOTHERAPY)
    add_entries(app, protocol_id, world.patient, [12, 10, 8, 6, 4, 2])
    response = client.post("/diary/log", data=session_form(client, bleeding="more"))
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert set(reasons(app)) == {FlagReason.BLEEDING, FlagReason.BLEEDING_RETURNED}
    assert "Bleeding after a spell without any" in page and "About the bleeding" in page
    assert page.count("soaking a pad") == 1
    assert page.count("If the bleeding is heavy, get urgent medical care now.") == 1


def test_a_backdated_entry_does_not_hide_bleeding_after_radiotherapy(
    app: Flask, world: World
) -> None:
    """After radiotherapy: five sessions without bleeding, then spotting today (not yet a
    quiet spell: no flag); then the patient adds yesterday's forgotten session, also
    without bleeding. Today's spotting now follows six sessions with none, so the later
    session (today's) is checked again and raises "new bleeding after radiotherapy"."""
    protocol_id = put_on_plan(app, world, Indication.PELVIC_RADIOTHERAPY)
    for ago in (6, 5, 4, 3, 2):
        log_session(app, world.patient, protocol_id, ago)
    log_session(app, world.patient, protocol_id, 0, bleeding=Bleeding.SPOTTING)
    assert reasons(app) == {}
    log_session(app, world.patient, protocol_id, 1)
    assert reasons(app) == {FlagReason.BLEEDING_RETURNED: 3}


def test_spotting_early_after_radiotherapy_is_not_flagged(
    app: Flask, client, world: World, as_patient
) -> None:
    """Without a quiet spell before it, spotting after radiotherapy is expected."""
    put_on_plan(app, world, Indication.PELVIC_RADIOTHERAPY)
    client.post("/diary/log", data=session_form(client, bleeding="spotting"))
    assert reasons(app) == {}


def test_repeated_skips_for_pain_raise_a_care_flag(app: Flask, client, world: World) -> None:
    """Three skips for pain or worry about pain in two weeks raise "skipping for pain"
    (needs attention), once; skips for other reasons do not count."""
    protocol_id = put_on_plan(app, world)
    add_entries(
        app, protocol_id, world.patient, [9, 5], skipped=True, skip_reason=SkipReason.PAIN_OR_FEAR
    )
    add_entries(app, protocol_id, world.patient, [3], skipped=True, skip_reason=SkipReason.NO_TIME)
    refresh(app, world.clinic_a)
    with app.app_context():
        assert not db.session.scalars(
            select(CareFlag).where(CareFlag.kind == FlagKind.PAIN_SKIPS)
        ).all()
    add_entries(
        app, protocol_id, world.patient, [1], skipped=True, skip_reason=SkipReason.PAIN_OR_FEAR
    )
    refresh(app, world.clinic_a)
    refresh(app, world.clinic_a)
    with app.app_context():
        flags = db.session.scalars(
            select(CareFlag).where(CareFlag.kind == FlagKind.PAIN_SKIPS)
        ).all()
        assert len(flags) == 1
        assert flags[0].detail.startswith("3 sessions skipped for pain or worry about pain")
    act_as(client, world.clinician.id)
    dashboard = client.get("/dashboard/?who=all").get_data(as_text=True)
    assert 'Skipping for pain <small class="severity">(needs attention)</small>' in dashboard


def test_a_very_much_worse_global_impression_raises_a_care_flag(app: Flask, world: World) -> None:
    """A PGIC answered "very much worse" raises "feels very much worse" (one per answer);
    "much worse" does not."""
    put_on_plan(app, world)
    today = clinic_today(ZONE)
    for person, answer in ((world.patient, 7), (world.other_patient, 6)):
        assignment = assign_measure(
            app,
            person.patient_id,
            world.clinician.id,
            "pgic",
            Cadence.ONCE,
            on=today,
            every_weeks=None,
        )
        answer_measure(app, assignment, "once", {"change": answer}, on=today)
    with app.app_context():
        flags = db.session.scalars(
            select(CareFlag).where(CareFlag.kind == FlagKind.PGIC_WORSE)
        ).all()
        assert [f.patient_id for f in flags] == [world.patient.patient_id]
        assert "very much worse" in flags[0].detail


def test_the_patients_export_lists_what_they_ticked(
    app: Flask, client, world: World, as_patient
) -> None:
    """A subject-access export carries each entry's concerns as a list of codes."""
    put_on_plan(app, world)
    client.post("/diary/log", data=session_form(client, ["urinary", "distress"]))
    with app.app_context():
        patient = db.session.get(Patient, world.patient.patient_id)
        export = build_export(patient, utcnow(), clinic_today(ZONE))
        entries = export.bundle["diary_entries"]
        assert [e["concerns"] for e in entries] == [["distress", "urinary"]]
        json.dumps(export.bundle)  # all of it is JSON

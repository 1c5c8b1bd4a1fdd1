"""The patient's diary: logging and skipping sessions, exactly once, red flags with
guidance, corrections within 24 hours, and nobody else's entries."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from clinic.core.clock import clinic_today
from clinic.domain.diary import FlagReason
from clinic.extensions import db
from clinic.models import (
    AuditEvent,
    DiaryEntry,
    DilatorSet,
    EntryRevision,
    Patient,
    RedFlag,
    User,
)
from clinic.models.types import utcnow
from tests.support.auth import act_as
from tests.support.diaries import saved_entry_id
from tests.support.forms import form_values
from tests.support.html import forms_in
from tests.support.protocols import make_protocol, portal_patients_on_plan
from tests.support.queries import count_queries
from tests.support.world import World


@pytest.fixture
def on_plan(app: Flask, world: World) -> None:
    """Both clinic-A portal patients on the vaginismus template since 10 days ago."""
    portal_patients_on_plan(app, world)


def session_form(client, **answers: str) -> dict[str, str]:
    values = form_values(client.get("/diary/log").get_data(as_text=True))
    values.update(
        {"pain_during": "2", "pain_after": "1", "bleeding": "none", "sharp_pain": "no", **answers}
    )
    return values


def count(app: Flask, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_logging_a_session_is_prefilled_and_saved_with_its_stage(
    app: Flask, client, world: World, on_plan, as_patient
) -> None:
    """The form starts from the prescription; the saved entry carries the version and
    stage in force, and the patient sees it saved."""
    values = session_form(client)
    assert values["minutes"] == "10"
    response = client.post("/diary/log", data=values)
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Saved" in page and "Size 1 (13 mm)" in page
    with app.app_context():
        entry = db.session.scalars(select(DiaryEntry)).one()
        assert (entry.version_number, entry.stage, entry.minutes) == (1, 1, 10)
        assert entry.patient_id == world.patient.patient_id
    assert "Done today: <strong>1</strong> of 1" in client.get("/diary/").get_data(as_text=True)


def test_the_same_form_sent_twice_saves_once(
    app: Flask, client, world: World, on_plan, as_patient
) -> None:
    """A double tap, a refresh or a re-sent form creates one entry, not two."""
    values = session_form(client)
    first = client.post("/diary/log", data=values)
    second = client.post("/diary/log", data=values)
    assert first.headers["Location"] == second.headers["Location"]
    assert count(app, DiaryEntry) == 1


def test_a_calm_session_reads_no_earlier_sessions(
    app: Flask, client, world: World, on_plan, as_patient
) -> None:
    """Bleeding coming back is looked for after radiotherapy, in a session with bleeding:
    logging a calm session on a vaginismus plan reads no earlier session's bleeding."""
    values = session_form(client)
    with app.app_context():
        engine = db.engine
    with count_queries(engine) as statements:
        assert client.post("/diary/log", data=values).status_code == 302
    assert not [s for s in statements if "diary_entries.bleeding FROM" in s]


def test_a_form_sent_again_is_audited_as_an_attempt_that_changed_nothing(
    app: Flask, client, world: World, on_plan, as_patient
) -> None:
    """The second sending finds the entry its key saved (by the look for a repeat, or
    when the INSERT finds the key taken): it saves nothing (no second entry, no second
    "diary.log" event) and leaves its attempt in the audit trail as unchanged."""
    values = session_form(client)
    client.post("/diary/log", data=values)
    client.post("/diary/log", data=values)
    with app.app_context():
        events = db.session.execute(
            select(AuditEvent.action, AuditEvent.outcome)
            .where(AuditEvent.action == "diary.log")
            .order_by(AuditEvent.id)
        ).all()
    assert [tuple(e) for e in events] == [("diary.log", "ok"), ("diary.log", "unchanged")]


def test_red_flags_give_guidance_and_reach_the_clinic(
    app: Flask, client, world: World, on_plan, as_patient
) -> None:
    """High pain, bleeding beyond spotting and sharp pain each create a flag for the
    clinician, and the confirmation page says to stop, call, and when to seek urgent
    care."""
    response = client.post(
        "/diary/log",
        data=session_form(client, pain_during="8", bleeding="more", sharp_pain="yes"),
    )
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Please stop for today" in page
    assert "Get emergency care now" in page and "0100 000 000" in page
    assert "Your clinic has been sent a message about it." in page
    with app.app_context():
        reasons = {f.reason for f in db.session.scalars(select(RedFlag))}
        assert reasons == {FlagReason.HIGH_PAIN, FlagReason.BLEEDING, FlagReason.SHARP_PAIN}


def test_no_flag_for_expected_discomfort(
    app: Flask, client, world: World, on_plan, as_patient
) -> None:
    """Pain below the stage's level and spotting raise nothing."""
    client.post("/diary/log", data=session_form(client, pain_during="4", bleeding="spotting"))
    assert count(app, RedFlag) == 0


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"pain_during": ""}, "Choose a number from 0 (no pain) to 10 (worst pain)."),
        ({"pain_after": "11"}, "Not a valid choice"),
        ({"bleeding": ""}, "Choose whether there was any bleeding."),
        ({"sharp_pain": ""}, "Answer whether you felt sharp or sudden pain."),
        ({"minutes": "0"}, "Enter the minutes, from 1 to 240."),
        ({"minutes": "ten"}, "Enter a whole number, for example 7."),
        ({"depth_cm": "40"}, "Enter a depth from 1 to 25 cm, or leave it empty."),
        ({"when": "yesterday"}, "Enter the date and time, for example"),
        ({"dilator_size_id": "999999"}, "Choose the dilator you used from the list."),
    ],
)
def test_every_problem_is_explained_and_input_kept(
    app: Flask, client, world: World, on_plan, answers: dict, message: str, as_patient
) -> None:
    """Each problem gets a plain message; everything else typed stays; nothing is saved."""
    values = session_form(client, note="Felt calmer today", **answers)
    html = client.post("/diary/log", data=values).get_data(as_text=True)
    assert message in html
    assert "Felt calmer today" in html
    assert count(app, DiaryEntry) == 0


@pytest.mark.parametrize(
    ("offset_days", "message"),
    [(1, "The time is in the future"), (8, "for the last 7 days only"), (-0, None)],
)
def test_dates_future_and_too_old(
    app: Flask, client, world: World, on_plan, offset_days: int, message, as_patient
) -> None:
    """Back-dating is allowed up to 7 days; the future and older days are refused."""
    values = session_form(client)
    when = values["when"]
    day = clinic_today("Europe/London") + timedelta(
        days=offset_days if message != "for the last 7 days only" else -offset_days
    )
    values["when"] = day.isoformat() + when[10:]
    response = client.post("/diary/log", data=values)
    if message is None:
        assert response.status_code == 302
    else:
        assert message in response.get_data(as_text=True)


def test_a_day_before_the_plan_started_is_refused(app: Flask, client, world: World) -> None:
    """Entries before the protocol's start are refused (nothing was prescribed)."""
    with app.app_context():
        today = clinic_today("Europe/London")
        make_protocol(
            db.session.get(Patient, world.patient.patient_id),
            db.session.get(User, world.clinician.id),
            started_on=today - timedelta(days=2),
        )
        db.session.commit()
    act_as(client, world.patient.id)
    values = session_form(client)
    values["when"] = (today - timedelta(days=5)).isoformat() + values["when"][10:]
    assert "outside your current plan" in client.post("/diary/log", data=values).get_data(
        as_text=True
    )


def test_skipping_with_a_reason(app: Flask, client, world: World, on_plan, as_patient) -> None:
    """A skipped session is saved with its reason; "another reason" needs a few words."""
    values = form_values(client.get("/diary/skip").get_data(as_text=True))
    missing = client.post("/diary/skip", data={**values, "skip_reason": "other"})
    assert "Say briefly what the other reason was." in missing.get_data(as_text=True)
    assert (
        client.post("/diary/skip", data={**values, "skip_reason": "no_privacy"}).status_code == 302
    )
    with app.app_context():
        entry = db.session.scalars(select(DiaryEntry)).one()
        assert entry.skipped and entry.skip_reason.value == "no_privacy"
    assert "Done today: <strong>0</strong>" in client.get("/diary/").get_data(as_text=True)


def test_correction_within_24_hours_keeps_the_original(
    app: Flask, client, world: World, on_plan, as_patient
) -> None:
    """A correction changes the entry, keeps its earlier values in the audit trail, and a
    red flag it newly reveals is raised."""
    location = client.post("/diary/log", data=session_form(client)).headers["Location"]
    entry_id = saved_entry_id(location)
    values = form_values(client.get(f"/diary/entries/{entry_id}/edit").get_data(as_text=True))
    assert values["pain_during"] == "2"
    values["pain_during"] = "9"
    assert client.post(f"/diary/entries/{entry_id}/edit", data=values).status_code == 302
    with app.app_context():
        entry = db.session.get(DiaryEntry, entry_id)
        assert entry.pain_during == 9 and entry.updated_at is not None
        revision = db.session.scalars(select(EntryRevision)).one()
        assert revision.action == "corrected" and '"pain_during": 2' in revision.previous
        assert [f.reason for f in entry.flags] == [FlagReason.HIGH_PAIN]


def test_withdrawal_keeps_the_record_and_its_flags(
    app: Flask, client, world: World, on_plan, as_patient
) -> None:
    """A withdrawn entry stays on record, marked withdrawn; a red flag it raised stays."""
    location = client.post("/diary/log", data=session_form(client, sharp_pain="yes")).headers[
        "Location"
    ]
    entry_id = saved_entry_id(location)
    client.post(f"/diary/entries/{entry_id}/withdraw")
    with app.app_context():
        entry = db.session.get(DiaryEntry, entry_id)
        assert entry.withdrawn and len(entry.flags) == 1
    assert "withdrawn" in client.get("/diary/entries").get_data(as_text=True)


def test_withdrawing_asks_first_and_only_its_button_withdraws(
    app: Flask, client, world: World, on_plan, as_patient
) -> None:
    """Issue 17: the entries list and the entry page link to a page that asks "Withdraw
    this entry?", says what it means and offers the button and a "Keep it" link; neither
    the list nor that page withdraws anything until the button is pressed (a POST with its
    CSRF token), which then withdraws it."""
    location = client.post("/diary/log", data=session_form(client)).headers["Location"]
    entry_id = saved_entry_id(location)
    url = f"/diary/entries/{entry_id}/withdraw"
    history = client.get("/diary/entries").get_data(as_text=True)
    assert f'href="{url}"' in history
    assert f'action="{url}"' not in history  # no one-tap withdrawal on the list
    assert f'href="{url}"' in client.get(location).get_data(as_text=True)
    page = client.get(url)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<h1" in html and "Withdraw this entry?</h1>" in html
    assert "no longer counts in your sessions or your progress" in html
    assert "It is not deleted." in html and "You cannot undo this." in html
    assert re.search(r'<a class="[^"]*" href="/diary/entries">Keep it</a>', html)
    form = next(f for f in forms_in(html) if f.path(url) == url)
    assert form.method == "post" and "csrf_token" in form.names
    with app.app_context():
        assert not db.session.get(DiaryEntry, entry_id).withdrawn
    # Without its token the button's request is refused, and still nothing is withdrawn.
    assert client.post(url, data={"csrf_token": ""}, csrf=False).status_code == 400
    with app.app_context():
        assert not db.session.get(DiaryEntry, entry_id).withdrawn
    done = client.post(url, data=dict(form.values), follow_redirects=True)
    assert "The entry was withdrawn." in done.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(DiaryEntry, entry_id).withdrawn
    # Withdrawn, it can be neither withdrawn again nor asked about.
    assert client.get(url).status_code == 302


def test_after_24_hours_entries_are_fixed(
    app: Flask, client, world: World, on_plan, as_patient
) -> None:
    """After the window an entry can be neither corrected nor withdrawn."""
    location = client.post("/diary/log", data=session_form(client)).headers["Location"]
    entry_id = saved_entry_id(location)
    with app.app_context():
        db.session.get(DiaryEntry, entry_id).created_at = utcnow() - timedelta(hours=25)
        db.session.commit()
    assert client.get(f"/diary/entries/{entry_id}/edit").status_code == 302
    client.post(f"/diary/entries/{entry_id}/withdraw")
    with app.app_context():
        assert not db.session.get(DiaryEntry, entry_id).withdrawn


def test_nobody_reads_or_changes_another_patients_entry(
    app: Flask, client, world: World, on_plan, as_patient
) -> None:
    """Changing an id in the URL never reaches another patient's entry (read or write)."""
    location = client.post("/diary/log", data=session_form(client, note="private")).headers[
        "Location"
    ]
    entry_id = saved_entry_id(location)
    other = app.test_client()
    act_as(other, world.other_patient.id)
    assert other.get(f"/diary/entries/{entry_id}").status_code == 404
    assert other.get(f"/diary/entries/{entry_id}/edit").status_code == 404
    assert other.post(f"/diary/entries/{entry_id}/withdraw").status_code == 404
    assert "private" not in other.get("/diary/entries").get_data(as_text=True)
    with app.app_context():
        assert not db.session.get(DiaryEntry, entry_id).withdrawn


def test_no_plan_means_nothing_to_log(client, world: World, as_patient) -> None:
    """Without a protocol there is no log form (the Today page explains)."""
    assert client.get("/diary/log").status_code == 404


def test_clinicians_see_red_flags_at_once(
    app: Flask, client, world: World, on_plan, as_patient
) -> None:
    """A red flag shows on the patient's chart (counted in the header of every section,
    linking to the flag on the Overview) and in the caseload list of their clinic straight
    away — and nowhere in another clinic."""
    client.post("/diary/log", data=session_form(client, pain_after="9"))
    clinician = app.test_client()
    act_as(clinician, world.clinician.id)
    pid = world.patient.patient_id
    record_page = clinician.get(f"/patients/{pid}").get_data(as_text=True)
    flag_link = f'href="/patients/{pid}/timeline#flags-heading"><strong>1 urgent red flag</strong>'
    assert flag_link in record_page
    overview = clinician.get(f"/patients/{pid}/timeline").get_data(as_text=True)
    assert "Red flag: High pain" in overview and "(9/10)" in overview
    assert "1 urgent red flag" in clinician.get("/patients/").get_data(as_text=True)
    outsider = app.test_client()
    act_as(outsider, world.other_clinician.id)
    assert "red flag" not in outsider.get("/patients/").get_data(as_text=True)


def test_the_size_list_offers_the_prescribed_size_first_and_only_the_routes_sizes(
    app: Flask, client, world: World, on_plan, as_patient
) -> None:
    """The log form's size list starts with the prescribed size (chosen by default, said
    to be the prescribed one), then the clinic's other sizes for a vaginal plan, never a
    device of its anal set."""
    page = client.get("/diary/log").get_data(as_text=True)
    select_html = page[page.index('<select id="dilator_size_id"') :]
    select_html = select_html[: select_html.index("</select>")]
    options = re.findall(r"<option([^>]*)>([^<]*)</option>", select_html)
    assert options[0][1] == "13 mm · Size 1 — Graduated vaginal set (your prescribed size)"
    assert "selected" in options[0][0]
    assert len(options) > 1 and all("selected" not in attrs for attrs, _ in options[1:])
    with app.app_context():
        sets = db.session.scalars(select(DilatorSet.name)).all()
    assert "Anal dilator set" in sets  # the clinic has one: the list leaves it out
    assert "Anal dilator set" not in select_html
    assert '<optgroup label="Graduated vaginal set">' in select_html  # grouped by set


def _title(page: str) -> str:
    return page.split("<title>", 1)[1].split("</title>", 1)[0]


def _days_back(client, days: int, **answers: str) -> dict[str, str]:
    """The diary form for a session `days` ago at the same time of day (the diary takes a
    week back)."""
    values = session_form(client, **answers)
    when = values["when"]
    day = date.fromisoformat(when[:10]) - timedelta(days=days)
    return {**values, "when": f"{day.isoformat()}{when[10:]}"}


def test_an_entry_opened_later_is_not_saved_again(
    client, world: World, on_plan, as_patient
) -> None:
    """Straight after saving, the page says "Saved" and "Well done"; opened again later
    from the list, it is "Your entry", with neither (nor "Entry saved" as its title)."""
    location = client.post("/diary/log", data=session_form(client)).headers["Location"]
    assert location.endswith("?saved=1")
    saved = client.get(location).get_data(as_text=True)
    assert "<h1>Saved</h1>" in saved and "Well done" in saved
    assert _title(saved).startswith("Entry saved")
    later = client.get(f"/diary/entries/{saved_entry_id(location)}").get_data(as_text=True)
    assert "<h1>Your entry</h1>" in later
    assert "Saved" not in later.split("<main", 1)[1] and "Well done" not in later
    assert _title(later).startswith("Your entry")


def test_a_withdrawn_entry_never_reads_saved(client, world: World, on_plan, as_patient) -> None:
    """A withdrawn skip is "Withdrawn entry", without "Thank you for noting it"."""
    values = form_values(client.get("/diary/skip").get_data(as_text=True))
    location = client.post("/diary/skip", data={**values, "skip_reason": "no_time"}).headers[
        "Location"
    ]
    entry_id = saved_entry_id(location)
    withdraw_form = form_values(client.get(f"/diary/entries/{entry_id}/withdraw").get_data(True))
    client.post(f"/diary/entries/{entry_id}/withdraw", data=withdraw_form)
    page = client.get(f"/diary/entries/{entry_id}").get_data(as_text=True)
    assert "<h1>Withdrawn entry</h1>" in page
    assert "Thank you for noting it" not in page and "<h1>Saved</h1>" not in page


def test_a_report_from_days_ago_is_told_in_the_past(
    app: Flask, client, world: World, on_plan, as_patient
) -> None:
    """A session with red flags three days ago, opened again: no "stop for today"; it says
    the clinic was told and has not looked yet (speak to it first), and, once the clinic
    has acknowledged the flags, that it has looked, without the opening hours."""
    form = _days_back(client, 3, pain_during="8", bleeding="more", sharp_pain="yes")
    location = client.post("/diary/log", data=form).headers["Location"]
    entry_id = saved_entry_id(location)
    just_saved = client.get(location).get_data(as_text=True)
    assert "Please stop for today" in just_saved  # said once, straight after the session
    page = client.get(f"/diary/entries/{entry_id}").get_data(as_text=True)
    assert "Please stop for today" not in page and "Do not continue" not in page
    assert "Your clinic was told about this session" in page
    assert "has not looked at it yet" in page
    assert "Speak to the clinic before your next session" in page
    assert "When the clinic will answer" in page and "Get emergency care now" in page
    with app.app_context():
        for flag in db.session.scalars(select(RedFlag).where(RedFlag.entry_id == entry_id)):
            flag.acknowledged_at = utcnow()
        db.session.commit()
    page = client.get(f"/diary/entries/{entry_id}").get_data(as_text=True)
    assert "Your clinic has looked at it." in page
    assert "When the clinic will answer" not in page
    assert "Speak to the clinic before your next session" not in page
    assert "Get emergency care now" in page


def test_a_correction_that_takes_the_cause_away_says_the_report_came_before_it(
    client, world: World, on_plan, as_patient
) -> None:
    """Pain 9 corrected to 0: the flag stays for the clinic, and the page says it was
    reported before the correction, not "You told us about high pain" above "Pain 0"."""
    form = session_form(client, pain_during="9", pain_after="9")
    location = client.post("/diary/log", data=form).headers["Location"]
    entry_id = saved_entry_id(location)
    edit = form_values(client.get(f"/diary/entries/{entry_id}/edit").get_data(as_text=True))
    answer = client.post(
        f"/diary/entries/{entry_id}/edit", data={**edit, "pain_during": "0", "pain_after": "0"}
    )
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Before you corrected this entry, you told us about high pain." in page
    assert "You told us about high pain." not in page
    assert "Your clinic has been sent a message about it." in page


def test_a_correction_that_takes_bleeding_away_drops_its_advice(
    client, world: World, on_plan, as_patient
) -> None:
    """Bleeding with sharp pain corrected to none: the page no longer advises on bleeding
    above "Bleeding: None" (seen in the final walk); the emergency signs stay."""
    form = session_form(client, bleeding="more", sharp_pain="yes")
    entry_id = saved_entry_id(client.post("/diary/log", data=form).headers["Location"])
    edit = form_values(client.get(f"/diary/entries/{entry_id}/edit").get_data(as_text=True))
    answer = client.post(
        f"/diary/entries/{entry_id}/edit", data={**edit, "bleeding": "none", "sharp_pain": "no"}
    )
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Before you corrected this entry" in page
    assert "About the bleeding" not in page and "needs a medical check today" not in page
    assert "Get emergency care now" in page


def test_a_correction_that_keeps_the_cause_still_says_what_was_reported(
    client, world: World, on_plan, as_patient
) -> None:
    """Pain 9 kept and only the note corrected: the report is not "before the
    correction", since the answers still show it (found by review)."""
    form = session_form(client, pain_during="9", pain_after="9")
    entry_id = saved_entry_id(client.post("/diary/log", data=form).headers["Location"])
    edit = form_values(client.get(f"/diary/entries/{entry_id}/edit").get_data(as_text=True))
    answer = client.post(f"/diary/entries/{entry_id}/edit", data={**edit, "note": "a typo"})
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "You told us about high pain." in page
    assert "Before you corrected this entry" not in page

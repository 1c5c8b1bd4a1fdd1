"""The same diary entry sent again with a new key (Back after saving, then Save) is held
until the patient says it was another session: adherence and pain trends count a session
twice otherwise. Held means nothing saved, the answers kept on the form, a calm message
that links to the entry saved; one tick saves it. Only a recent, not withdrawn entry of
the same patient with the same answers holds one."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import func, select, text, update

from clinic.core.clock import clinic_today
from clinic.extensions import db
from clinic.models import Clinic, DiaryEntry, RedFlag
from clinic.models.types import utcnow
from tests.support.auth import act_as
from tests.support.diaries import saved_entry_id
from tests.support.forms import form_values
from tests.support.languages import speaks
from tests.support.protocols import portal_patients_on_plan
from tests.support.queries import count_queries
from tests.support.world import World

HELD = "You already saved this same session at"
HELD_SKIP = "You already noted this same skipped session at"


@pytest.fixture
def on_plan(app: Flask, world: World) -> None:
    """Both clinic-A portal patients on the vaginismus template since 10 days ago."""
    portal_patients_on_plan(app, world)


def session_form(client, **answers: str) -> dict[str, str]:
    """The log form as the page gives it (a new key each time it is opened), answered."""
    values = form_values(client.get("/diary/log").get_data(as_text=True))
    values.update(
        {
            "pain_during": "2",
            "pain_after": "1",
            "bleeding": "none",
            "sharp_pain": "no",
            "note": "Easier than last time",
            **answers,
        }
    )
    return values


def skip_form(client, **answers: str) -> dict[str, str]:
    """The skip form as the page gives it, answered."""
    values = form_values(client.get("/diary/skip").get_data(as_text=True))
    values.update({"skip_reason": "no_time", **answers})
    return values


def back_and_save(client, first: dict[str, str], path: str = "/diary/log") -> dict[str, str]:
    """What the browser sends after Back: the form reloaded (a new key, the time it is
    now), with the same answers as `first`."""
    again = form_values(client.get(path).get_data(as_text=True))
    assert again["key"] != first["key"]
    return {**first, "key": again["key"], "csrf_token": again["csrf_token"]}


def entries(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(DiaryEntry))


def saved(client, values: dict[str, str], path: str = "/diary/log") -> int:
    response = client.post(path, data=values)
    assert response.status_code == 302, response.get_data(as_text=True)
    return saved_entry_id(response.headers["Location"])


def held(client, values: dict[str, str], path: str = "/diary/log") -> str:
    """Send `values`, expecting the form back, held; the page."""
    response = client.post(path, data=values)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and (HELD in page or HELD_SKIP in page), page
    return page


def clock(app: Flask, entry_id: int, zone: str = "Europe/London") -> str:
    """When the entry was saved, as the page says it: the time of day in the clinic's
    zone (the world's clinics are in London)."""
    with app.app_context():
        entry = db.session.get_one(DiaryEntry, entry_id)
        return f"{entry.created_at.astimezone(ZoneInfo(zone)):%H:%M}"


def test_back_then_save_with_the_same_answers_is_held_and_saves_nothing(
    app: Flask, client, world: World, on_plan, as_patient
) -> None:
    """Back brings the form again, with a line saying the session was saved; Save with the
    same answers and the new key saves nothing and shows the form again: every answer
    still chosen, a message announced at the top with the time the first was saved (the
    clinic's time) and a link to it, and an unticked, labelled box tied to the message."""
    first = session_form(client, depth_cm="6.5", concerns="distress")
    first_id = saved(client, first)
    reopened = client.get("/diary/log").get_data(as_text=True)
    assert f"You saved a session at {clock(app, first_id)}." in reopened
    assert f'href="/diary/entries/{first_id}"' in reopened

    page = client.post("/diary/log", data=back_and_save(client, first)).get_data(as_text=True)
    assert entries(app) == 1
    assert f"{HELD} {clock(app, first_id)}." in page
    opening = re.search(r'<div[^>]*id="repeat-notice"[^>]*>', page)
    assert opening is not None and 'role="alert"' in opening.group(0)
    notice = page[opening.end() :].split("</div>")[0]
    assert f'<a href="/diary/entries/{first_id}">See it</a>' in notice
    assert "This one has not been saved." in notice
    assert "tick “This was another session” and save again." in notice
    box = re.search(r'<input[^>]*name="another"[^>]*>', notice)
    assert box is not None and "checked" not in box.group(0)
    assert 'aria-describedby="repeat-text repeat-hint"' in box.group(0)
    assert re.search(r'<label for="another">.*This was another session</label>', notice)
    kept = form_values(page)
    for name in ("pain_during", "pain_after", "bleeding", "sharp_pain", "minutes", "note"):
        assert kept[name] == first[name], name
    assert kept["depth_cm"] == "6.5" and kept["concerns"] == "distress"
    assert "another" not in kept  # not ticked for the patient


def test_ticked_as_another_session_it_is_saved(
    app: Flask, client, world: World, on_plan, as_patient
) -> None:
    """The held form, ticked, saves a second entry; sent again with its key (a double
    tap), still only that one."""
    first = session_form(client)
    first_id = saved(client, first)
    again = back_and_save(client, first)
    assert HELD in client.post("/diary/log", data=again).get_data(as_text=True)
    second_id = saved(client, {**again, "another": "y"})
    assert second_id != first_id
    assert saved(client, {**again, "another": "y"}) == second_id
    assert entries(app) == 2


def test_the_same_form_sent_again_still_shows_its_entry(
    app: Flask, client, world: World, on_plan, as_patient
) -> None:
    """A form sent twice with its own key leads both times to the one entry it saved,
    even after another entry with the same answers was saved (ticked)."""
    first = session_form(client)
    first_id = saved(client, first)
    again = back_and_save(client, first)
    held(client, again)
    saved(client, {**again, "another": "y"})
    assert saved(client, first) == first_id
    assert entries(app) == 2


@pytest.mark.parametrize(
    "change",
    [
        {"pain_after": "3"},
        {"minutes": "12"},
        {"bleeding": "spotting"},
        {"note": "Harder today"},
        {"depth_cm": "7"},
        {"concerns": "distress"},
    ],
)
def test_different_answers_are_saved_at_once(
    app: Flask, client, world: World, on_plan, change: dict[str, str], as_patient
) -> None:
    """Any answer different from the session saved a moment ago: another session, saved."""
    first = session_form(client)
    saved(client, first)
    again = back_and_save(client, first)
    held(client, again)
    saved(client, {**again, **change})
    assert entries(app) == 2


def test_another_day_with_the_same_answers_is_saved_at_once(
    app: Flask, client, world: World, on_plan, as_patient
) -> None:
    """Catching up on the days before with the same answers is not a repeat."""
    first = session_form(client)
    saved(client, first)
    again = back_and_save(client, first)
    held(client, again)
    yesterday = clinic_today("Europe/London") - timedelta(days=1)
    saved(client, {**again, "when": f"{yesterday.isoformat()}T18:00"})
    assert entries(app) == 2


def test_a_withdrawn_entry_holds_nothing(
    app: Flask, client, world: World, on_plan, as_patient
) -> None:
    """The patient withdrew the first (it was wrong): the same answers save at once."""
    first = session_form(client)
    first_id = saved(client, first)
    again = back_and_save(client, first)
    held(client, again)
    withdraw = form_values(client.get(f"/diary/entries/{first_id}/withdraw").get_data(as_text=True))
    client.post(f"/diary/entries/{first_id}/withdraw", data=withdraw)
    with app.app_context():
        assert db.session.get(DiaryEntry, first_id).withdrawn_at is not None
    assert "You saved a session at" not in client.get("/diary/log").get_data(as_text=True)
    saved(client, again)
    assert entries(app) == 2


def test_an_entry_saved_more_than_half_an_hour_ago_holds_nothing(
    app: Flask, client, world: World, on_plan, as_patient
) -> None:
    """Saved 31 minutes ago: the same answers are another session, saved at once; the form
    no longer says one was just saved."""
    first = session_form(client)
    first_id = saved(client, first)
    again = back_and_save(client, first)
    held(client, again)
    with app.app_context():
        db.session.execute(
            update(DiaryEntry)
            .where(DiaryEntry.id == first_id)
            .values(created_at=utcnow() - timedelta(minutes=31))
        )
        db.session.commit()
    assert "You saved a session at" not in client.get("/diary/log").get_data(as_text=True)
    saved(client, again)
    assert entries(app) == 2


def test_another_patients_identical_entry_holds_nothing(
    app: Flask, client, world: World, on_plan
) -> None:
    """Two patients with the same answers a minute apart: each one's entry is saved, and
    neither form mentions the other's (each one's own repeat is held)."""
    act_as(client, world.other_patient.id)
    theirs = session_form(client)
    saved(client, theirs)
    act_as(client, world.patient.id)
    assert "You saved a session at" not in client.get("/diary/log").get_data(as_text=True)
    mine = session_form(client)
    saved(client, mine)
    assert entries(app) == 2
    held(client, back_and_save(client, mine))
    act_as(client, world.other_patient.id)
    held(client, back_and_save(client, theirs))
    assert entries(app) == 2


def test_a_skip_sent_again_is_held_and_saved_when_ticked(
    app: Flask, client, world: World, on_plan, as_patient
) -> None:
    """The skip form the same: Back shows a line that the skip was noted; the same reason
    and words again are held with the message and the box; ticked, saved; another
    reason, saved at once."""
    first = skip_form(client, skip_reason="other", skip_other="Away for work")
    first_id = saved(client, first, "/diary/skip")
    reopened = client.get("/diary/skip").get_data(as_text=True)
    assert f"You noted a skipped session at {clock(app, first_id)}." in reopened

    again = back_and_save(client, first, "/diary/skip")
    page = client.post("/diary/skip", data=again).get_data(as_text=True)
    assert f"{HELD_SKIP} {clock(app, first_id)}." in page
    assert "tick “This was another skipped session” and save again." in page
    assert f'<a href="/diary/entries/{first_id}">See it</a>' in page
    kept = form_values(page)
    assert (kept["skip_reason"], kept["skip_other"]) == ("other", "Away for work")
    assert entries(app) == 1

    saved(client, {**again, "another": "y"}, "/diary/skip")
    assert entries(app) == 2
    saved(
        client,
        {**back_and_save(client, first, "/diary/skip"), "skip_other": "Unwell"},
        "/diary/skip",
    )
    assert entries(app) == 3


def test_a_skip_does_not_hold_a_session_nor_the_other_way(
    app: Flask, client, world: World, on_plan, as_patient
) -> None:
    """A skip noted, then a session logged: different kinds, both saved, and each form
    mentions only the entry of its own kind."""
    saved(client, skip_form(client), "/diary/skip")
    log = client.get("/diary/log").get_data(as_text=True)
    assert "You saved a session at" not in log and "You noted a skipped" not in log
    saved(client, session_form(client))
    skip = client.get("/diary/skip").get_data(as_text=True)
    assert "You noted a skipped session at" in skip and "You saved a session" not in skip
    assert entries(app) == 2


def test_a_repeat_with_red_flag_answers_loses_no_flag_and_leads_to_the_guidance(
    app: Flask, client, world: World, on_plan, as_patient
) -> None:
    """The first entry raised its red flags; the same answers again are held (no second
    entry, no flag lost or doubled), the message says the clinic was told and leads to
    the entry, which tells the patient to stop and when to get emergency care."""
    first = session_form(client, pain_during="8", sharp_pain="yes", bleeding="more")
    first_id = saved(client, first)
    with app.app_context():
        raised = sorted(
            f.reason.value for f in db.session.scalars(select(RedFlag)) if f.entry_id == first_id
        )
    assert raised == ["bleeding", "high_pain", "sharp_pain"]

    page = client.post("/diary/log", data=back_and_save(client, first)).get_data(as_text=True)
    assert HELD in page
    # What the entry's page says to do now is said here too: the patient may never have
    # seen that page (its answer lost, then the form sent again).
    notice = page[
        page.index('id="repeat-notice"') : page.index("</div>", page.index('id="repeat-notice"'))
    ]
    assert "Your clinic has been sent a message about it." in notice
    assert "<strong>Do not continue</strong> the session today" in notice
    assert "Speak to the clinic before your next session" in notice
    assert "Get emergency care now" in notice and "bleeding is heavy" in notice
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(RedFlag)) == 3
    assert entries(app) == 1
    shown = client.get(f"/diary/entries/{first_id}").get_data(as_text=True)
    assert "Please stop for today" in shown and "Get emergency care now" in shown


def test_a_repeat_of_an_entry_whose_flags_the_clinic_has_seen_is_saved(
    app: Flask, client, world: World, on_plan, as_patient
) -> None:
    """Once the clinic has acknowledged the first entry's red flags, the same answers again
    may be a second session with the same trouble: saved at once, with flags of its own
    for the clinic to see (a doubled entry is the safer mistake than a report not made)."""
    first = session_form(client, pain_during="8", sharp_pain="yes")
    first_id = saved(client, first)
    with app.app_context():
        for flag in db.session.scalars(select(RedFlag).where(RedFlag.entry_id == first_id)):
            flag.acknowledged_at = utcnow()
            flag.acknowledged_by_id = world.clinician.id
        db.session.commit()
    second_id = saved(client, back_and_save(client, first))
    assert second_id != first_id and entries(app) == 2
    with app.app_context():
        again = db.session.scalars(select(RedFlag).where(RedFlag.entry_id == second_id)).all()
        assert {f.reason.value for f in again} == {"high_pain", "sharp_pain"}
        assert all(f.acknowledged_at is None for f in again)


def test_the_message_is_in_the_patients_language_and_the_clinics_time(
    app: Flask, client, world: World, on_plan, as_patient
) -> None:
    """A Spanish-speaking patient of a clinic in Mexico City: the line on the form, the
    message and the box are in Spanish, the time the clinic's (six hours behind UTC, an
    hour or more from London's at any time of year)."""
    zone = "America/Mexico_City"
    with app.app_context():
        db.session.get_one(Clinic, world.clinic_a).timezone = zone
        db.session.commit()
    speaks(app, world.patient.patient_id, "es")
    first = session_form(client)
    first_id = saved(client, first)
    assert clock(app, first_id, zone) != clock(app, first_id)
    reopened = client.get("/diary/log").get_data(as_text=True)
    assert f"Guardó una sesión a las {clock(app, first_id, zone)}." in reopened
    response = client.post("/diary/log", data=back_and_save(client, first))
    page = response.get_data(as_text=True)
    assert f"Ya guardó esta misma sesión a las {clock(app, first_id, zone)}." in page
    assert "Si fue otra sesión, marque «Fue otra sesión» y vuelva a guardar." in page
    assert entries(app) == 1


def test_a_calm_repeat_does_not_speak_of_the_clinic(
    app: Flask, client, world: World, on_plan, as_patient
) -> None:
    """Without a red flag, the message says nothing about the clinic being told."""
    first = session_form(client)
    saved(client, first)
    page = client.post("/diary/log", data=back_and_save(client, first)).get_data(as_text=True)
    assert HELD in page and "Your clinic has been sent a message" not in page


def test_a_ticked_form_sent_back_with_an_error_keeps_its_tick(
    app: Flask, client, world: World, on_plan, as_patient
) -> None:
    """Ticked, then a field left wrong: the form comes back with the error and the tick
    goes with it (nothing the patient chose is lost); corrected, it saves."""
    first = session_form(client)
    saved(client, first)
    again = {**back_and_save(client, first), "another": "y", "minutes": "0"}
    page = client.post("/diary/log", data=again).get_data(as_text=True)
    assert "Enter the minutes, from 1 to 240." in page
    assert form_values(page).get("another") == "y"
    # Shown, ticked, where the patient can take it back (not a hidden field).
    box = re.search(r'<input[^>]*name="another"[^>]*>', page).group(0)
    assert 'type="checkbox"' in box and "checked" in box
    unticked = {k: v for k, v in form_values(page).items() if k != "another"}
    held(client, {**unticked, "minutes": first["minutes"]})
    assert entries(app) == 1
    saved(client, {**form_values(page), "minutes": first["minutes"]})
    assert entries(app) == 2


def test_the_ordinary_post_adds_one_indexed_statement(
    app: Flask, client, world: World, on_plan, as_patient
) -> None:
    """A session with nothing saved just before: one statement looks for a repeat before
    the INSERT (by the clinic, patient and day index, one row at most); a form ticked as
    another session does not look."""
    with app.app_context():
        engine = db.engine
    values = session_form(client)
    with count_queries(engine) as statements:
        saved(client, values)
    looks = _looks_before_insert(statements)
    assert len(looks) == 1 and "LIMIT" in looks[0]
    if engine.dialect.name == "sqlite":
        plan = _query_plan(app, looks[0])
        assert "ix_diary_entries_clinic_patient_day" in plan, plan
    ticked = {**session_form(client, pain_after="4"), "another": "y"}
    with count_queries(engine) as statements:
        saved(client, ticked)
    assert _looks_before_insert(statements) == []


def _looks_before_insert(statements: list[str]) -> list[str]:
    """The statements reading the diary before the new entry's INSERT."""
    insert = next(i for i, s in enumerate(statements) if "INSERT INTO diary_entries" in s)
    return [s for s in statements[:insert] if "FROM diary_entries" in s]


def _query_plan(app: Flask, statement: str) -> str:
    """SQLite's plan for a statement as sent (its parameters as NULLs: the plan is the
    same)."""
    with app.app_context():
        rows = db.session.execute(text("EXPLAIN QUERY PLAN " + re.sub(r"\?", "NULL", statement)))
        return " ".join(str(row[-1]) for row in rows)

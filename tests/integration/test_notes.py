"""Clinical notes: dated, signed by their author, editable by that author for 24 hours,
then only added to with addenda; read and written only by the clinic's clinicians."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from clinic.core.templating import clinic_time
from clinic.extensions import db
from clinic.models import Clinic, ClinicalNote, ClinicalNoteRevision, Patient, User
from clinic.models.types import utcnow
from clinic.notes.queries import notes_for
from clinic.notes.services import (
    ADDENDUM_REFUSED,
    NoteChangedMeanwhile,
    change_note,
    write_addendum,
    write_note,
)
from tests.support.auth import act_as
from tests.support.queries import count_queries
from tests.support.world import World

EDIT_REFUSED_WORDS = "Notes can be changed for 24 hours by their author; add an addendum instead."


def make_note(
    app: Flask,
    patient_id: int,
    author_id: int,
    body: str = "Tolerating size 2 well.",
    hours_ago: float = 0,
    addendum_to: int | None = None,
) -> int:
    """A note (or an addendum to `addendum_to`) written `hours_ago`; returns its id."""
    with app.app_context():
        author = db.session.get(User, author_id)
        now = utcnow() - timedelta(hours=hours_ago)
        if addendum_to is None:
            note = write_note(db.session.get(Patient, patient_id), author, body, now=now)
        else:
            note = write_addendum(db.session.get(ClinicalNote, addendum_to), author, body, now=now)
        db.session.commit()
        return note.id


def edit_note(app: Flask, note_id: int, editor_id: int, body: str) -> None:
    """Change a note (or addendum) now, as `editor` (its author, within its 24 hours)."""
    with app.app_context():
        change_note(db.session.get(ClinicalNote, note_id), db.session.get(User, editor_id), body)
        db.session.commit()


def revisions_of(app: Flask, note_id: int) -> list[ClinicalNoteRevision]:
    """The note's stored revisions, oldest first, detached from the session."""
    with app.app_context():
        revisions = list(
            db.session.scalars(
                select(ClinicalNoteRevision)
                .where(ClinicalNoteRevision.note_id == note_id)
                .order_by(ClinicalNoteRevision.id)
            )
        )
        db.session.expunge_all()
        return revisions


def notes_url(world: World) -> str:
    return f"/patients/{world.patient.patient_id}/notes"


def stored(app: Flask, note_id: int) -> ClinicalNote:
    with app.app_context():
        note = db.session.get(ClinicalNote, note_id)
        db.session.expunge(note)
        return note


def note_count(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(ClinicalNote))


def test_clinician_adds_a_note_signed_and_dated(app: Flask, client, world: World) -> None:
    """A note is saved for the patient, signed by whoever wrote it and dated now; the list
    shows the author's name and role and the date in the clinic's time zone."""
    with app.app_context():
        db.session.get(Clinic, world.clinic_a).timezone = "America/New_York"
        db.session.commit()
    act_as(client, world.clinician.id)
    before = utcnow()
    response = client.post(
        notes_url(world), data={"body": "  First visit.\r\nTalked through size 1.  "}
    )
    assert response.status_code == 302
    with app.app_context():
        note = db.session.scalar(select(ClinicalNote))
        assert note.body == "First visit.\nTalked through size 1."
        assert (note.author_id, note.patient_id, note.clinic_id) == (
            world.clinician.id,
            world.patient.patient_id,
            world.clinic_a,
        )
        assert before <= note.written_at <= utcnow()
        assert note.edited_at is None and note.addendum_to_id is None
        written_at = note.written_at
    assert response.headers["Location"].endswith(f"{notes_url(world)}#note-{note.id}")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "First visit.\nTalked through size 1." in page
    assert f"Signed by <strong>{world.clinician.name}</strong> (Clinician)" in page
    assert clinic_time(written_at, "America/New_York") in page
    assert "<strong>edited</strong>" not in page


def test_notes_are_listed_newest_first_with_their_addenda_below(
    app: Flask, client, world: World
) -> None:
    """Original notes run newest first; each note's addenda follow it, oldest first."""
    pid = world.patient.patient_id
    old = make_note(app, pid, world.clinician.id, "Old note.", hours_ago=72)
    make_note(app, pid, world.colleague.id, "Newer note.", hours_ago=48)
    make_note(app, pid, world.colleague.id, "First addendum.", hours_ago=30, addendum_to=old)
    make_note(app, pid, world.clinician.id, "Second addendum.", hours_ago=2, addendum_to=old)
    act_as(client, world.clinician.id)
    page = client.get(notes_url(world)).get_data(as_text=True)
    order = ["Newer note.", "Old note.", "First addendum.", "Second addendum."]
    positions = [page.index(text) for text in order]
    assert positions == sorted(positions)
    assert page.count("Addendum of ") == 2
    assert page.count(f"Signed by <strong>{world.colleague.name}</strong>") == 2


def test_author_edits_a_note_within_24_hours(app: Flask, client, world: World) -> None:
    """The author sees an Edit link, gets the text to change, and the saved change is
    marked as edited."""
    note_id = make_note(app, world.patient.patient_id, world.clinician.id, hours_ago=23)
    act_as(client, world.clinician.id)
    edit_url = f"{notes_url(world)}/{note_id}/edit"
    assert f'href="{edit_url}"' in client.get(notes_url(world)).get_data(as_text=True)
    form = client.get(edit_url).get_data(as_text=True)
    assert "Tolerating size 2 well." in form
    response = client.post(edit_url, data={"body": "Tolerating size 3 well."})
    assert response.status_code == 302
    changed = stored(app, note_id)
    assert changed.body == "Tolerating size 3 well."
    assert changed.edited_at is not None
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Tolerating size 3 well." in page and "<strong>edited</strong> by the author" in page


def test_editing_keeps_the_earlier_wording_and_shows_it(app: Flask, client, world: World) -> None:
    """Each change keeps the text it replaced, dated when that text was written and when
    it was replaced, by whom; the notes page (and the timeline) shows the note as it
    stands, with its earlier wording, oldest first, folded under it and escaped."""
    pid = world.patient.patient_id
    note_id = make_note(app, pid, world.clinician.id, "Size 2 <b>fine</b>.", hours_ago=23)
    written_at = stored(app, note_id).written_at
    act_as(client, world.clinician.id)
    edit_url = f"{notes_url(world)}/{note_id}/edit"
    assert client.post(edit_url, data={"body": "Size 3 fine."}).status_code == 302
    first_edit = stored(app, note_id).edited_at
    assert client.post(edit_url, data={"body": "Size 4 fine."}).status_code == 302
    note = stored(app, note_id)
    assert note.body == "Size 4 fine."

    first, second = revisions_of(app, note_id)
    assert (first.body, first.written_at, first.replaced_at) == (
        "Size 2 <b>fine</b>.",
        written_at,
        first_edit,
    )
    assert (second.body, second.written_at, second.replaced_at) == (
        "Size 3 fine.",
        first_edit,
        note.edited_at,
    )
    assert {first.replaced_by_id, second.replaced_by_id} == {world.clinician.id}

    page = client.get(notes_url(world)).get_data(as_text=True)
    assert "<b>fine</b>" not in page
    order = [
        "Size 4 fine.",
        "<summary>Earlier wording (2)",
        "Size 2 &lt;b&gt;fine&lt;/b&gt;.",
        "Size 3 fine.",
    ]
    positions = [page.index(text) for text in order]
    assert positions == sorted(positions)
    assert "of the note of " + clinic_time(written_at, "UTC") + "</span></summary>" in page
    timeline = client.get(f"/patients/{pid}/timeline").get_data(as_text=True)
    assert "Earlier wording (2)" in timeline and "Size 3 fine." in timeline


def test_editing_an_addendum_keeps_its_earlier_wording(app: Flask, client, world: World) -> None:
    """An addendum changed by its author keeps what it said before, shown under it."""
    pid = world.patient.patient_id
    note_id = make_note(app, pid, world.colleague.id, hours_ago=48)
    addendum_id = make_note(app, pid, world.clinician.id, "Seen: fine.", addendum_to=note_id)
    act_as(client, world.clinician.id)
    client.post(f"{notes_url(world)}/{addendum_id}/edit", data={"body": "Seen: pain settled."})
    assert [r.body for r in revisions_of(app, addendum_id)] == ["Seen: fine."]
    assert revisions_of(app, note_id) == []
    page = client.get(notes_url(world)).get_data(as_text=True)
    assert page.count("<summary>Earlier wording (1)") == 1
    assert page.index("Seen: pain settled.") < page.index("Seen: fine.")


def test_saving_an_unchanged_note_does_not_mark_it_edited(app: Flask, client, world: World) -> None:
    """Pressing Save without changing anything leaves no "edited" mark and no revision."""
    note_id = make_note(app, world.patient.patient_id, world.clinician.id)
    act_as(client, world.clinician.id)
    client.post(f"{notes_url(world)}/{note_id}/edit", data={"body": "Tolerating size 2 well."})
    assert stored(app, note_id).edited_at is None
    assert revisions_of(app, note_id) == []
    assert "Earlier wording" not in client.get(notes_url(world)).get_data(as_text=True)


@pytest.mark.parametrize(
    ("editor", "hours_ago"),
    [("colleague", 1), ("clinician", 24), ("clinician", 300)],
    ids=["another-clinician", "author-at-24h", "author-long-after"],
)
def test_edit_is_refused_to_others_and_after_24_hours(
    app: Flask, client, world: World, editor: str, hours_ago: float
) -> None:
    """No Edit link; opening the edit page sends back to the notes with the rule in plain
    words; a submitted change is refused with the text kept, ready to save as an addendum."""
    note_id = make_note(app, world.patient.patient_id, world.clinician.id, hours_ago=hours_ago)
    act_as(client, getattr(world, editor).id)
    edit_url = f"{notes_url(world)}/{note_id}/edit"
    assert f'href="{edit_url}"' not in client.get(notes_url(world)).get_data(as_text=True)

    opened = client.get(edit_url)
    assert opened.status_code == 302
    assert opened.headers["Location"].endswith(f"#note-{note_id}")
    assert EDIT_REFUSED_WORDS in client.get(opened.headers["Location"]).get_data(as_text=True)

    sent = client.post(edit_url, data={"body": "My late correction."})
    page = sent.get_data(as_text=True)
    assert sent.status_code == 403
    assert EDIT_REFUSED_WORDS in page and 'aria-invalid="true"' in page
    assert "My late correction." in page
    assert f'formaction="{notes_url(world)}/{note_id}/addendum"' in page
    assert stored(app, note_id).body == "Tolerating size 2 well."
    assert stored(app, note_id).edited_at is None


def test_refused_edit_of_an_addendum_offers_an_addendum_to_the_original(
    app: Flask, client, world: World
) -> None:
    """Late text for an addendum is offered as a new addendum to the original note."""
    pid = world.patient.patient_id
    note_id = make_note(app, pid, world.clinician.id, hours_ago=50)
    addendum_id = make_note(app, pid, world.clinician.id, hours_ago=26, addendum_to=note_id)
    act_as(client, world.clinician.id)
    page = client.post(f"{notes_url(world)}/{addendum_id}/edit", data={"body": "Late."}).get_data(
        as_text=True
    )
    assert f'formaction="{notes_url(world)}/{note_id}/addendum"' in page


def test_anyone_in_the_clinic_adds_an_addendum_after_24_hours(
    app: Flask, client, world: World
) -> None:
    """A note past its 24 hours takes an addendum from any of the clinic's clinicians,
    signed by them, dated now and shown under the note."""
    note_id = make_note(app, world.patient.patient_id, world.clinician.id, hours_ago=48)
    act_as(client, world.colleague.id)
    response = client.post(
        f"{notes_url(world)}/{note_id}/addendum", data={"body": "Seen again: pain settled."}
    )
    assert response.status_code == 302
    with app.app_context():
        addendum = db.session.scalar(
            select(ClinicalNote).where(ClinicalNote.addendum_to_id == note_id)
        )
        assert addendum.author_id == world.colleague.id
        assert addendum.patient_id == world.patient.patient_id
        assert utcnow() - addendum.written_at < timedelta(minutes=1)
        addendum_id = addendum.id
    assert response.headers["Location"].endswith(f"#note-{addendum_id}")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert page.index("Tolerating size 2 well.") < page.index("Seen again: pain settled.")
    assert f"Signed by <strong>{world.colleague.name}</strong> (Clinician)" in page
    assert stored(app, note_id).body == "Tolerating size 2 well."


def test_an_addendum_takes_no_addenda(app: Flask, client, world: World) -> None:
    """Addenda hang off the original note: the page offers no addendum form for an
    addendum, and a forged request is refused in plain words."""
    pid = world.patient.patient_id
    note_id = make_note(app, pid, world.clinician.id)
    addendum_id = make_note(app, pid, world.colleague.id, "An addendum.", addendum_to=note_id)
    act_as(client, world.clinician.id)
    page = client.get(notes_url(world)).get_data(as_text=True)
    assert f"/notes/{note_id}/addendum" in page
    assert f"/notes/{addendum_id}/addendum" not in page
    before = note_count(app)
    response = client.post(f"{notes_url(world)}/{addendum_id}/addendum", data={"body": "More."})
    assert response.status_code == 302
    assert ADDENDUM_REFUSED in client.get(response.headers["Location"]).get_data(as_text=True)
    assert note_count(app) == before


@pytest.mark.parametrize("target", ["add", "edit", "addendum"])
@pytest.mark.parametrize(
    ("body", "message", "kept"),
    [
        ("", "before saving: it is empty.", None),
        ("   \r\n\t ", "before saving: it is empty.", None),
        ("y" * 5001, "Use at most 5,000 characters; this text has 5,001.", "y" * 5001),
        ("Hidden\x00text", "Remove the invisible control characters", None),
    ],
    ids=["empty", "white-space", "too-long", "control-character"],
)
def test_invalid_text_is_explained_and_kept(
    app: Flask, client, world: World, target: str, body: str, message: str, kept: str | None
) -> None:
    """Each rule answers next to the box in plain words; nothing is saved or changed, and
    what was typed is still in the box."""
    note_id = make_note(app, world.patient.patient_id, world.clinician.id)
    url = {
        "add": notes_url(world),
        "edit": f"{notes_url(world)}/{note_id}/edit",
        "addendum": f"{notes_url(world)}/{note_id}/addendum",
    }[target]
    act_as(client, world.clinician.id)
    before = note_count(app)
    response = client.post(url, data={"body": body})
    page = response.get_data(as_text=True)
    assert response.status_code == (200 if target == "edit" else 400)
    assert message in page
    assert 'aria-invalid="true"' in page and 'aria-describedby="body-hint body-error"' in page
    if kept:
        assert kept in page
    assert note_count(app) == before
    assert stored(app, note_id).body == "Tolerating size 2 well."


def test_line_breaks_count_once_towards_the_limit(
    app: Flask, client, world: World, as_clinician
) -> None:
    """5,000 characters typed over many lines are accepted, although the browser sends
    each line break as two characters."""
    body = "\r\n".join(["x" * 99] * 50)  # 4,999 characters as typed; 5,048 as sent
    assert client.post(notes_url(world), data={"body": body}).status_code == 302


def test_posts_without_csrf_token_are_refused(app: Flask, client, world: World) -> None:
    """Every notes form needs its CSRF token."""
    note_id = make_note(app, world.patient.patient_id, world.clinician.id)
    act_as(client, world.clinician.id)
    for url in (
        notes_url(world),
        f"{notes_url(world)}/{note_id}/edit",
        f"{notes_url(world)}/{note_id}/addendum",
    ):
        response = client.post(url, data={"body": "Forged."}, csrf=False)
        assert response.status_code == 400, url
    assert note_count(app) == 1
    assert stored(app, note_id).body == "Tolerating size 2 well."


def all_notes_routes(world: World, patient_id: int, note_id: int) -> list[tuple[str, str]]:
    base = f"/patients/{patient_id}/notes"
    return [
        ("GET", base),
        ("POST", base),
        ("GET", f"{base}/{note_id}/edit"),
        ("POST", f"{base}/{note_id}/edit"),
        ("POST", f"{base}/{note_id}/addendum"),
    ]


def test_other_clinics_clinician_finds_nothing(app: Flask, client, world: World) -> None:
    """Another clinic's clinician gets 404 on every notes route of this clinic's patient,
    never sees a note or its earlier wording, and changes nothing."""
    note_id = make_note(app, world.patient.patient_id, world.clinician.id, "Private draft.")
    edit_note(app, note_id, world.clinician.id, "Private text.")
    act_as(client, world.other_clinician.id)
    for method, url in all_notes_routes(world, world.patient.patient_id, note_id):
        data = {"body": "Intruding."}
        response = client.post(url, data=data) if method == "POST" else client.get(url)
        assert response.status_code == 404, (method, url)
        assert "Private" not in response.get_data(as_text=True)
    assert note_count(app) == 1
    assert stored(app, note_id).body == "Private text."
    assert [r.body for r in revisions_of(app, note_id)] == ["Private draft."]


def test_a_note_is_only_found_under_its_own_patient(app: Flask, client, world: World) -> None:
    """A note's id under another patient of the same clinic is not found; and another
    clinic's note is not found under any of this clinic's patients."""
    note_id = make_note(app, world.patient.patient_id, world.clinician.id, "Private text.")
    other_clinic_note = make_note(
        app, world.other_clinic_patient.patient_id, world.other_clinician.id, "Clinic B text."
    )
    act_as(client, world.clinician.id)
    for pid, nid in (
        (world.other_patient.patient_id, note_id),
        (world.patient.patient_id, other_clinic_note),
    ):
        for method, url in all_notes_routes(world, pid, nid)[2:]:
            response = client.post(url, data={"body": "x"}) if method == "POST" else client.get(url)
            assert response.status_code == 404, (method, url)
    other_page = client.get(f"/patients/{world.other_patient.patient_id}/notes")
    assert "Private text." not in other_page.get_data(as_text=True)
    assert "Clinic B text." not in client.get(notes_url(world)).get_data(as_text=True)
    assert note_count(app) == 2


@pytest.mark.parametrize("actor", ["patient", "admin"])
def test_patients_and_admins_cannot_reach_notes(
    app: Flask, client, world: World, actor: str
) -> None:
    """Portal users (even the patient the notes are about) and administrators are refused
    every notes route."""
    note_id = make_note(app, world.patient.patient_id, world.clinician.id, "Private text.")
    act_as(client, getattr(world, actor).id)
    for method, url in all_notes_routes(world, world.patient.patient_id, note_id):
        response = client.post(url, data={"body": "x"}) if method == "POST" else client.get(url)
        assert response.status_code == 403, (method, url)
        assert "Private text." not in response.get_data(as_text=True)
    assert note_count(app) == 1


def test_patient_record_links_to_the_notes(client, world: World, as_clinician) -> None:
    """The patient's record page leads to their notes."""
    page = client.get(f"/patients/{world.patient.patient_id}").get_data(as_text=True)
    assert f'href="{notes_url(world)}"' in page


def test_notes_for_loads_latest_notes_with_addenda(app: Flask, world: World) -> None:
    """`notes_for` gives the latest original notes of one patient in one clinic, newest
    first, with their addenda: no addendum stands on its own, and `limit` keeps the latest."""
    pid = world.patient.patient_id
    first = make_note(app, pid, world.clinician.id, "First.", hours_ago=3)
    make_note(app, pid, world.colleague.id, "Addendum.", hours_ago=1, addendum_to=first)
    make_note(app, pid, world.clinician.id, "Second.", hours_ago=2)
    make_note(app, world.other_patient.patient_id, world.clinician.id, "Someone else.")
    with app.app_context():
        notes = notes_for(pid, world.clinic_a)
        assert [n.body for n in notes] == ["Second.", "First."]
        assert [a.body for a in notes[1].addenda] == ["Addendum."]
        assert [n.body for n in notes_for(pid, world.clinic_a, limit=1)] == ["Second."]
        assert notes_for(pid, world.clinic_b) == []


def test_notes_page_query_count_is_constant(app: Flask, client, world: World) -> None:
    """The notes page costs the same number of queries for 2 notes as for 20, each edited
    and with an edited addendum by a colleague (no query per note, addendum, author or
    earlier wording)."""

    def add_notes(n: int) -> None:
        pid = world.patient.patient_id
        for i in range(n):
            note_id = make_note(app, pid, world.clinician.id, f"Note {i}.")
            edit_note(app, note_id, world.clinician.id, f"Note {i}, corrected.")
            addendum_id = make_note(app, pid, world.colleague.id, "Agree.", addendum_to=note_id)
            edit_note(app, addendum_id, world.colleague.id, "Agreed.")

    def queries() -> int:
        with app.app_context():
            engine = db.engine
        with count_queries(engine) as statements:
            assert client.get(notes_url(world)).status_code == 200
        return len(statements)

    act_as(client, world.clinician.id)
    add_notes(2)
    few = queries()
    add_notes(18)
    assert queries() == few
    page = client.get(notes_url(world)).get_data(as_text=True)
    assert page.count("Agreed.") == 20 and page.count("Earlier wording (1)") == 40
    # The user, the patient, the notes, their addenda, the earlier wording of each
    # (+ a savepoint at most).
    assert few <= 7


def test_an_edit_from_a_stale_window_is_refused_and_loses_nothing(app: Flask, world: World) -> None:
    """If the text changed after this edit read it (another window), the edit is refused
    and neither wording is lost."""
    with app.app_context():
        author = db.session.get(User, world.clinician.id)
        note = write_note(db.session.get(Patient, world.patient.patient_id), author, "First.")
        db.session.commit()
        note = db.session.get(ClinicalNote, note.id)
        assert note.body == "First."
        with db.engine.begin() as other_window:
            other_window.execute(
                ClinicalNote.__table__.update()
                .where(ClinicalNote.id == note.id)
                .values(body="Second.")
            )
        with pytest.raises(NoteChangedMeanwhile):
            change_note(note, author, "Third.")
        db.session.rollback()
        assert db.session.get(ClinicalNote, note.id).body == "Second."
        assert db.session.scalar(select(func.count(ClinicalNoteRevision.id))) == 0

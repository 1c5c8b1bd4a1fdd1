"""The patient timeline: what it shows, acknowledging flags (the red flags of one session
together, with one note, all or nothing), and recording a decision from the suggestion,
scoped to the clinic and the patient, at a fixed number of queries."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from werkzeug.test import TestResponse

from clinic.alerts.jobs import escalate_red_flags
from clinic.domain.diary import Bleeding
from clinic.domain.flags import FlagKind
from clinic.domain.progression import Suggestion
from clinic.domain.protocols import EventKind
from clinic.extensions import db
from clinic.models import AuditEvent, CareFlag, Patient, Protocol, RedFlag, User
from clinic.models.outbox import MessageStatus
from clinic.models.types import utcnow
from clinic.monitoring.services import acknowledge
from clinic.outbox.kinds import MessageKind
from tests.support.alerts import log_session, outbox
from tests.support.auth import act_as
from tests.support.diaries import add_entries, refresh, report_red_flag
from tests.support.forms import form_values
from tests.support.html import Form, forms_in
from tests.support.measure_scores import answer_measure, assign_measure, weekly_pain_scores
from tests.support.protocols import ZONE, start_plan
from tests.support.queries import count_queries
from tests.support.world import World


def url(patient_id: int) -> str:
    return f"/patients/{patient_id}/timeline"


def timeline(client, person, patient_id: int, query: str = "") -> str:
    act_as(client, person.id)
    response = client.get(url(patient_id) + query)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def ready_patient(app: Flask, world: World) -> int:
    """The world's first patient, 16 days at stage 1 with a comfortable session every
    day and a few skips: the rule suggests advancing. Returns the protocol id."""
    protocol = start_plan(app, world.patient.patient_id, world.clinician.id, started_days_ago=16)
    add_entries(app, protocol, world.patient, range(14), pain=(2, 1))
    add_entries(app, protocol, world.patient, [15], skipped=True)
    refresh(app, world.clinic_a)
    return protocol


def test_timeline_shows_the_evidence_and_the_suggestion(app: Flask, client, world: World) -> None:
    """Header, suggestion with its reasons, both charts with tables, skip reasons, the
    entries and the stage history are on one page."""
    ready_patient(app, world)
    html = timeline(client, world.clinician, world.patient.patient_id)
    text = unescape(re.sub(r"<[^>]+>", " ", html))
    assert "Suggested next step: Advance" in text
    # The sign is held to its number (a no-break space): never "≤" at a line's end.
    assert "Met: pain during and after ≤\N{NO-BREAK SPACE}3 in 6 of the last 6 sessions" in text
    assert "Advance to stage 2" in text
    assert html.count('<figure class="chart-figure">') == 2
    assert "No time: 1" in text
    assert "15 entries" in text
    assert "Stage and plan history" in text and "Started" in text
    assert "Ready to advance" in text  # the flag, with its acknowledgement form
    assert "Clinical notes" in text


def test_accepting_the_suggestion_records_the_decision(app: Flask, client, world: World) -> None:
    """The suggested decision opens the same form as any other, the reason left empty:
    saving it as it is moves the stage, keeps what was suggested with the evidence as its
    reason, answers the "ready" flag, and goes back to the timeline's suggestion."""
    protocol_id = ready_patient(app, world)
    html = timeline(client, world.clinician, world.patient.patient_id)
    link = unescape(re.search(r'href="([^"]*/advance\?next=[^"]*)"', html).group(1))
    values = form_values(client.get(link).get_data(as_text=True))
    # Nothing pre-filled: the suggestion is context above the form, never typed for you.
    assert values["reason"] == ""
    response = client.post(link.split("?")[0], data=values)
    assert response.status_code == 302
    assert response.headers["Location"] == (
        f"/patients/{world.patient.patient_id}/timeline#suggestion-heading"
    )
    with app.app_context():
        protocol = db.session.get(Protocol, protocol_id)
        event = protocol.events[-1]
        assert (event.kind, event.stage, event.suggested) == (
            EventKind.ADVANCE,
            2,
            Suggestion.ADVANCE,
        )
        assert event.reason.startswith(
            "As suggested: pain during and after ≤ 3 in 6 of the last 6 sessions"
        )
        ready = db.session.scalars(select(CareFlag).where(CareFlag.kind == FlagKind.READY)).one()
        assert ready.acknowledged_at is not None
    assert "stage 2 of" in timeline(client, world.clinician, world.patient.patient_id)


def test_overriding_the_suggestion_is_recorded_as_such(app: Flask, client, world: World) -> None:
    """Holding when the system suggested advancing needs a reason, and keeps both: the
    history says so."""
    protocol_id = ready_patient(app, world)
    act_as(client, world.clinician.id)
    path = f"/patients/{world.patient.patient_id}/protocol/{protocol_id}/hold"
    values = form_values(client.get(path).get_data(as_text=True))
    refused = client.post(path, data=values)
    assert refused.status_code == 200
    assert "Say why you decided otherwise: the system suggested advance." in unescape(
        refused.get_data(as_text=True)
    )
    values["reason"] = "Wants two more weeks at this size."
    assert client.post(path, data=values).status_code == 302
    with app.app_context():
        event = db.session.get(Protocol, protocol_id).events[-1]
        assert (event.kind, event.suggested) == (EventKind.HOLD, Suggestion.ADVANCE)
        assert event.reason == "Wants two more weeks at this size."
    html = timeline(client, world.clinician, world.patient.patient_id)
    assert "Advance (overridden)" in html


def flag_forms(html: str, source: str = "red") -> list[Form]:
    """The acknowledgement forms of a timeline page for red flags (or rule flags), in
    order."""
    return [f for f in forms_in(html) if f"/flags/{source}/" in f.action]


def send(client, form: Form, **typed: object) -> TestResponse:
    """Send `form` as the page fills it, with `typed` put in by name ending (`note="..."`,
    `flags=[...]` to tick exactly these flag ids)."""
    sent = MultiDict()
    for name, value in form.values:
        ending = name.rsplit("-", 1)[-1]
        if ending == "csrf_token":
            # The session's token now (a test may have signed in again since the page).
            sent.add(name, client.fetch_csrf_token())
        elif ending not in typed:
            sent.add(name, value)
    for ending, value in typed.items():
        name = next(n for n in form.names if n.rsplit("-", 1)[-1] == ending)
        for item in value if isinstance(value, list) else [value]:
            sent.add(name, str(item))
    # The form carries its own CSRF token (a MultiDict is sent as it is, repeated names too).
    return client.post(form.action, data=sent, csrf=False)


def session_flags(app: Flask, world: World, protocol_id: int) -> list[int]:
    """The patient logs a session with pain 8 and heavy bleeding: two red flags from one
    session. Returns their ids."""
    log_session(app, world.patient, protocol_id, pain=8, bleeding=Bleeding.MORE)
    with app.app_context():
        return list(db.session.scalars(select(RedFlag.id).order_by(RedFlag.id)))


def open_flag_ids(app: Flask) -> set[int]:
    with app.app_context():
        return set(db.session.scalars(select(RedFlag.id).where(RedFlag.acknowledged_at.is_(None))))


def test_acknowledging_a_red_flag_needs_a_note_and_keeps_it(
    app: Flask, client, world: World
) -> None:
    """A blank note is refused with a message and the flag stays open; with a note the
    flag is closed, signed and shown among the acknowledged ones."""
    protocol = start_plan(app, world.patient.patient_id, world.clinician.id)
    report_red_flag(app, world.patient, protocol)
    with app.app_context():
        flag_id, entry_id = db.session.execute(select(RedFlag.id, RedFlag.entry_id)).one()
    (form,) = flag_forms(timeline(client, world.clinician, world.patient.patient_id))
    # Posted to the flag's own card, where a browser then shows a refusal's message.
    assert form.path("/").endswith(f"/flags/red/{flag_id}/acknowledge")
    assert form.action.endswith(f"#flag-session-{entry_id}")
    assert "checkbox" not in form.kinds.values()  # a lone flag: nothing to tick

    refused = send(client, form, note="   ")
    assert refused.status_code == 400
    assert "Write a short note" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(RedFlag, flag_id).acknowledged_at is None

    done = send(client, form, note="Phoned; settled with rest.")
    assert done.status_code == 302
    with app.app_context():
        flag = db.session.get(RedFlag, flag_id)
        assert flag.acknowledged_by_id == world.clinician.id
        assert flag.acknowledgement == "Phoned; settled with rest."
        assert db.session.get(Patient, world.patient.patient_id).open_red_flags == 0
    html = timeline(client, world.clinician, world.patient.patient_id)
    assert "Phoned; settled with rest." in html and "Acknowledged flags" in html

    again = send(client, form, note="Second try.")
    assert again.status_code == 302
    assert "already been acknowledged" in client.get(again.headers["Location"]).get_data(
        as_text=True
    )
    # Even with a blank note (its form is gone from the page, so a note error would show
    # nowhere): the page says the flag is done.
    blank = send(client, form, note="")
    assert "already been acknowledged" in client.get(blank.headers["Location"]).get_data(
        as_text=True
    )
    with app.app_context():
        assert db.session.get(RedFlag, flag_id).acknowledgement == "Phoned; settled with rest."


def test_one_note_acknowledges_every_flag_of_a_session(
    app: Flask, client, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pain 8 and heavy bleeding in one session: one form with a box per flag, each
    ticked and named with its severity, one note and one button. Sending it acknowledges
    both with that note, each signed and audited as on its own, and withdraws the
    escalation waiting to go out; the page returns to the flags at the period shown."""
    monkeypatch.setattr("clinic.outbox.enqueue", lambda *args: None)  # messages wait
    protocol_id = start_plan(app, world.patient.patient_id, world.clinician.id)
    flag_ids = session_flags(app, world, protocol_id)
    assert len(flag_ids) == 2
    monkeypatch.setattr("clinic.alerts.jobs.utcnow", lambda: utcnow() + timedelta(hours=30))
    with app.app_context():
        assert escalate_red_flags.call_local() > 0
    assert MessageStatus.PENDING.value in {m.status for m in outbox(app)}

    html = timeline(client, world.clinician, world.patient.patient_id, "?weeks=26")
    (form,) = flag_forms(html)
    text = unescape(re.sub(r"<[^>]+>", " ", html))
    assert "Red flags from one session — 2 open" in " ".join(text.split())
    assert re.search(r"High pain \(8/10\)\s+\(urgent\)", text)
    assert re.search(r"Bleeding beyond spotting\s+\(urgent\)", text)
    boxes = [v for n, v in form.values if n.endswith("-flags")]
    assert sorted(int(v) for v in boxes) == flag_ids  # every flag ticked by default
    assert "Acknowledge the ticked flags" in html

    done = send(client, form, note="Phoned: resting today, seen tomorrow.")
    assert done.status_code == 302
    assert done.headers["Location"] == (
        f"/patients/{world.patient.patient_id}/timeline?weeks=26#flags-heading"
    )
    with app.app_context():
        flags = db.session.scalars(select(RedFlag).order_by(RedFlag.id)).all()
        assert {(f.acknowledged_by_id, f.acknowledgement) for f in flags} == {
            (world.clinician.id, "Phoned: resting today, seen tomorrow.")
        }
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "flag.acknowledge")
        ).all()
        assert sorted(e.object_id for e in events) == flag_ids
        assert {(e.object_type, e.outcome) for e in events} == {("red_flag", "ok")}
    assert {m.status for m in outbox(app, MessageKind.RED_FLAG_ESCALATION)} == {
        MessageStatus.CANCELLED.value
    }
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "2 flags were acknowledged; your note is kept with each." in page
    assert flag_forms(page) == []


def test_an_unticked_flag_stays_open_with_a_form_of_its_own(
    app: Flask, client, world: World
) -> None:
    """Unticking a flag leaves it open: only the ticked one is acknowledged, and the one
    left keeps a form of its own."""
    protocol_id = start_plan(app, world.patient.patient_id, world.clinician.id)
    first, second = session_flags(app, world, protocol_id)
    (form,) = flag_forms(timeline(client, world.clinician, world.patient.patient_id))
    assert (
        send(client, form, flags=[second], note="Bleeding stopped; checked by phone.").status_code
        == 302
    )
    assert open_flag_ids(app) == {first}
    (left,) = flag_forms(timeline(client, world.clinician, world.patient.patient_id))
    assert "checkbox" not in left.kinds.values()


def test_the_session_form_says_what_is_wrong_and_keeps_what_was_typed(
    app: Flask, client, world: World
) -> None:
    """No flag ticked, no note, a note too long, a tick the page never offered: each is
    said in plain words next to its field, what was typed stays, and nothing is saved."""
    protocol_id = start_plan(app, world.patient.patient_id, world.clinician.id)
    flag_ids = session_flags(app, world, protocol_id)
    other_plan = start_plan(app, world.other_patient.patient_id, world.clinician.id)
    log_session(app, world.other_patient, other_plan, pain=9)
    with app.app_context():
        others = set(db.session.scalars(select(RedFlag.id))) - set(flag_ids)
    (form,) = flag_forms(timeline(client, world.clinician, world.patient.patient_id))

    none_ticked = send(client, form, flags=[], note="Phoned the patient.")
    assert none_ticked.status_code == 400
    html = unescape(none_ticked.get_data(as_text=True))
    assert "Tick at least one flag to acknowledge." in html
    assert "Phoned the patient.</textarea>" in html
    (again,) = flag_forms(html)
    assert [v for n, v in again.values if n.endswith("-flags")] == []  # unticked, as sent

    blank = send(client, form, note="")
    assert blank.status_code == 400 and "Write a short note" in blank.get_data(as_text=True)

    long_note = "Phoned. " + "x" * 1000
    too_long = send(client, form, note=long_note)
    assert too_long.status_code == 400
    assert "Use at most 1000 characters." in too_long.get_data(as_text=True)
    assert long_note in too_long.get_data(as_text=True)

    # Another patient's flag slipped into the form: refused, and nothing acknowledged.
    forged = send(client, form, flags=[flag_ids[0], *others], note="Forged.")
    assert forged.status_code == 400
    assert "Tick only the flags shown for this session." in unescape(forged.get_data(as_text=True))
    assert open_flag_ids(app) == set(flag_ids) | others


def test_a_flag_a_colleague_acknowledged_meanwhile_saves_nothing_and_keeps_the_note(
    app: Flask, client, world: World
) -> None:
    """All or nothing: a colleague acknowledges one flag of the session while the form is
    open. Sending both ticked acknowledges neither (the first, written before the second
    was found taken, is rolled back), says who acknowledged which, and keeps the note;
    sending again from that page acknowledges the flag still open."""
    protocol_id = start_plan(app, world.patient.patient_id, world.clinician.id)
    flag_ids = session_flags(app, world, protocol_id)
    (form,) = flag_forms(timeline(client, world.clinician, world.patient.patient_id))
    # The form acknowledges in the page's order: the colleague takes the last one.
    page_order = [int(v) for n, v in form.values if n.endswith("-flags")]
    taken = page_order[-1]
    with app.app_context():
        colleague = db.session.get(User, world.colleague.id)
        acknowledge(db.session.get(RedFlag, taken), colleague, "Seen in clinic.")
        db.session.commit()

    refused = send(client, form, note="Phoned: resting.")
    assert refused.status_code == 409
    html = unescape(refused.get_data(as_text=True))
    assert "While you were writing, this flag was acknowledged" in html
    assert f"(by {world.colleague.name})" in html
    assert "Phoned: resting.</textarea>" in html
    assert open_flag_ids(app) == set(flag_ids) - {taken}
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "flag.acknowledge", AuditEvent.actor_id == world.clinician.id
            )
        ).all()
        assert [e.outcome for e in events] == ["refused"]

    (again,) = flag_forms(html)
    assert send(client, again).status_code == 302
    assert open_flag_ids(app) == set()
    with app.app_context():
        assert db.session.get(RedFlag, page_order[0]).acknowledgement == "Phoned: resting."
        assert db.session.get(RedFlag, taken).acknowledgement == "Seen in clinic."


def test_a_session_a_colleague_closed_entirely_keeps_the_note_to_copy(
    app: Flask, client, world: World
) -> None:
    """Every flag of the session acknowledged by a colleague meanwhile: nothing is left to
    acknowledge, and the page says so with the note as typed (to keep as a clinical note);
    the same form sent twice by its own author just says it is done."""
    protocol_id = start_plan(app, world.patient.patient_id, world.clinician.id)
    flag_ids = session_flags(app, world, protocol_id)
    (form,) = flag_forms(timeline(client, world.clinician, world.patient.patient_id))
    with app.app_context():
        colleague = db.session.get(User, world.colleague.id)
        for flag_id in flag_ids:
            acknowledge(db.session.get(RedFlag, flag_id), colleague, "Seen in clinic.")
        db.session.commit()
    refused = send(client, form, note="Phoned: resting.")
    assert refused.status_code == 409
    html = unescape(refused.get_data(as_text=True))
    assert "these flags were acknowledged" in html
    assert "Phoned: resting.</textarea>" in html and "Write a clinical note" in html
    card = re.search(r'<article[^>]*"flag-session-\d+">.*?</article>', html, re.DOTALL).group(0)
    assert "<button" not in card  # nothing left to send


def test_acknowledging_needs_the_csrf_token(app: Flask, client, world: World) -> None:
    """A session's form sent without its CSRF token is refused and changes nothing."""
    protocol_id = start_plan(app, world.patient.patient_id, world.clinician.id)
    flag_ids = session_flags(app, world, protocol_id)
    (form,) = flag_forms(timeline(client, world.clinician, world.patient.patient_id))
    data = {name: value for name, value in form.values if not name.endswith("csrf_token")}
    data[next(n for n in form.names if n.endswith("-note"))] = "Forged."
    assert client.post(form.action, data=data, csrf=False).status_code == 400
    assert open_flag_ids(app) == set(flag_ids)


def test_acknowledging_returns_only_to_this_patients_pages(
    app: Flask, client, world: World
) -> None:
    """The page to return to is one of this patient's chart pages (or the dashboard),
    rebuilt: another site, another patient's timeline or a page not on the list sends
    the clinician back to this patient's flags instead."""
    protocol_id = start_plan(app, world.patient.patient_id, world.clinician.id)
    own = f"/patients/{world.patient.patient_id}/timeline#flags-heading"
    refused = [
        "https://evil.example/phish",
        "//evil.example/phish",
        "/\\evil.example",
        f"/patients/{world.other_patient.patient_id}/timeline",
        f"/patients/{world.other_clinic_patient.patient_id}/timeline",
        "/admin/staff",
    ]
    for index, target in enumerate(refused):
        log_session(app, world.patient, protocol_id, sharp=True)
        (form,) = flag_forms(timeline(client, world.clinician, world.patient.patient_id))
        response = send(client, form, note=f"Seen {index}.", next=target)
        assert response.status_code == 302, target
        assert response.headers["Location"] == own, target
    log_session(app, world.patient, protocol_id, sharp=True)
    (form,) = flag_forms(timeline(client, world.clinician, world.patient.patient_id))
    record_page = f"/patients/{world.patient.patient_id}"
    response = send(client, form, note="Seen.", next=record_page + "?junk=1#flags-heading")
    assert response.headers["Location"] == record_page + "#flags-heading"


def test_flags_of_another_patient_or_clinic_are_not_found(app: Flask, client, world: World) -> None:
    """A flag id is only found under its own patient, in its own clinic."""
    protocol = start_plan(app, world.other_patient.patient_id, world.clinician.id)
    report_red_flag(app, world.other_patient, protocol)
    with app.app_context():
        flag = db.session.scalars(select(RedFlag)).one()
        flag_id, data = (
            flag.id,
            {
                f"ack-session-{flag.entry_id}-note": "x",
                f"ack-session-{flag.entry_id}-flags": str(flag.id),
            },
        )
    act_as(client, world.clinician.id)
    wrong_patient = f"{url(world.patient.patient_id)}/flags/red/{flag_id}/acknowledge"
    assert client.post(wrong_patient, data=data).status_code == 404
    act_as(client, world.other_clinician.id)
    right_patient = f"{url(world.other_patient.patient_id)}/flags/red/{flag_id}/acknowledge"
    assert client.post(right_patient, data=data).status_code == 404
    assert client.get(url(world.other_patient.patient_id)).status_code == 404
    # Under their own patient, the other clinic's clinician still cannot reach this flag.
    own_patient = f"{url(world.other_clinic_patient.patient_id)}/flags/red/{flag_id}/acknowledge"
    assert client.post(own_patient, data=data).status_code == 404
    with app.app_context():
        assert db.session.get(RedFlag, flag_id).acknowledged_at is None


def test_typed_text_is_escaped(app: Flask, client, world: World) -> None:
    """An acknowledgement note with markup is shown as text, never run."""
    protocol = start_plan(app, world.patient.patient_id, world.clinician.id)
    report_red_flag(app, world.patient, protocol)
    (form,) = flag_forms(timeline(client, world.clinician, world.patient.patient_id))
    response = send(client, form, note="<script>alert(1)</script>")
    assert response.status_code == 302
    html = timeline(client, world.clinician, world.patient.patient_id)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_period_choice_and_query_count(app: Flask, client, world: World) -> None:
    """The period can be 4 to 52 weeks (anything else: 12); the page costs the same
    queries with 10 entries or 100, and with one outcome measure answered twice or three
    measures answered 20 times in all (a chart each)."""
    protocol = start_plan(app, world.patient.patient_id, world.clinician.id, started_days_ago=120)
    add_entries(app, protocol, world.patient, range(0, 20, 2))
    weekly_pain_scores(app, world.patient.patient_id, weeks=1, started_days_ago=120)
    refresh(app, world.clinic_a)

    def queries(query: str) -> int:
        act_as(client, world.clinician.id)
        with app.app_context():
            engine = db.engine
        with count_queries(engine) as statements:
            assert client.get(url(world.patient.patient_id) + query).status_code == 200
        return len(statements)

    few = queries("?weeks=52")
    add_entries(app, protocol, world.patient, range(20, 110))
    weekly_pain_scores(app, world.patient.patient_id, weeks=14, started_days_ago=119)
    confidence = assign_measure(app, world.patient.patient_id, "dilator-confidence", on_days_ago=3)
    answer_measure(app, confidence, "once", {"insert": 2, "on_own": 3}, occasion_days_ago=3)
    change = assign_measure(app, world.patient.patient_id, "pgic", on_days_ago=2)
    answer_measure(app, change, "once", {"change": 2}, occasion_days_ago=2)
    refresh(app, world.clinic_a)
    assert queries("?weeks=52") == few
    # Pain and adherence, then the pain scale and PGIC (two confidence answers: no score).
    charts = timeline(client, world.clinician, world.patient.patient_id)
    assert charts.count('<figure class="chart-figure">') == 2 + 2
    assert "100 entries" in timeline(client, world.clinician, world.patient.patient_id, "?weeks=52")
    four_weeks = timeline(client, world.clinician, world.patient.patient_id, "?weeks=4")
    assert "100 entries" not in four_weeks and '<option value="4" selected>' in four_weeks
    assert '<option value="12" selected>' in timeline(
        client, world.clinician, world.patient.patient_id, "?weeks=7"
    )


def test_the_chart_reads_the_clinic_in_no_query_of_its_own(
    app: Flask, client, world: World
) -> None:
    """The world's patient is in the care of the signed-in clinician: the record is read
    afresh with the clinician's account, and the clinic the page reads next comes in that
    same statement (a lazy load after a fresh read would send a query of its own)."""
    start_plan(app, world.patient.patient_id, world.clinician.id)
    act_as(client, world.clinician.id)
    client.get(url(world.patient.patient_id))
    with app.app_context():
        engine = db.engine
    with count_queries(engine) as statements:
        assert client.get(url(world.patient.patient_id)).status_code == 200
    assert not [s for s in statements if s.lstrip().startswith("SELECT clinics.")]


def test_the_decision_page_shows_the_suggestion_and_open_red_flags(
    app: Flask, client, world: World
) -> None:
    """Deciding a stage shows what the rules say now and any open red flag, as context
    above the same form whichever decision it is; nothing is typed in for the clinician."""
    protocol_id = ready_patient(app, world)
    act_as(client, world.clinician.id)
    base = f"/patients/{world.patient.patient_id}/protocol/{protocol_id}"
    hold = unescape(client.get(base + "/hold").get_data(as_text=True))
    assert "The system suggests: Advance" in hold and "the suggestion as overridden" in hold
    assert form_values(hold)["reason"] == ""
    advance = unescape(client.get(base + "/advance").get_data(as_text=True))
    assert "carries the suggestion out" in advance
    assert form_values(advance)["reason"] == ""

    report_red_flag(app, world.patient, protocol_id)
    advance = client.get(base + "/advance").get_data(as_text=True)
    assert "1 open red flag" in advance and "The system suggests: Review" in advance
    assert form_values(advance)["reason"] == ""


def test_every_page_that_acts_on_a_patient_names_that_patient(
    app: Flask, client, world: World
) -> None:
    """Against acting on the wrong patient (hazard log HAZ-03): the timeline heads with the
    name, clinic identifier and date of birth; the pages where a clinician decides a stage,
    changes the plan, writes a note or a report name the patient in the page title and the
    body, and never the clinic's other patient."""
    protocol_id = ready_patient(app, world)
    start_plan(app, world.other_patient.patient_id, world.clinician.id)
    with app.app_context():
        patient = db.session.get(Patient, world.patient.patient_id)
        name, identifier = patient.full_name, patient.clinic_identifier
        born = patient.date_of_birth
        other = db.session.get(Patient, world.other_patient.patient_id).full_name
    text = unescape(re.sub(r"<[^>]+>", " ", timeline(client, world.clinician, patient.id)))
    assert name in text and identifier in text and str(born.year) in text
    base = f"/patients/{patient.id}"
    for page in (
        f"{base}/protocol/{protocol_id}/advance",
        f"{base}/protocol/{protocol_id}/revise",
        f"{base}/notes",
        f"{base}/reports/new",
    ):
        response = client.get(page)
        assert response.status_code == 200, page
        html = unescape(response.get_data(as_text=True))
        title = html.split("<title>")[1].split("</title>")[0]
        assert name in title and name in html.split("<main")[1], page
        assert other not in html, page


def test_a_flag_raised_later_on_the_same_session_shows_its_own_time(
    app: Flask, client, world: World
) -> None:
    """A correction can raise a session's second flag hours after the first: the card
    groups them but names the later one's own time, so its arrival is not misstated."""
    protocol_id = start_plan(app, world.patient.patient_id, world.clinician.id)
    first, second = session_flags(app, world, protocol_id)
    with app.app_context():
        flag = db.session.get(RedFlag, second)
        flag.raised_at = db.session.get(RedFlag, first).raised_at + timedelta(hours=3)
        local = (t.astimezone(ZoneInfo(ZONE)) for t in (flag.raised_at, raised_at_of(first)))
        times = {f"{t.hour:02d}:{t.minute:02d}" for t in local}
        db.session.commit()
    html = timeline(client, world.clinician, world.patient.patient_id)
    text = unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))
    # The card's "Raised …" is its most severe flag's; the other flag names its own time.
    assert text.count("raised ") == 1
    shown = {text.split("Raised ", 1)[1][12:17], text.split("raised ", 1)[1][12:17]}
    assert shown == times


def raised_at_of(flag_id: int) -> datetime:
    """The stored raised time of red flag `flag_id`."""
    return db.session.get(RedFlag, flag_id).raised_at

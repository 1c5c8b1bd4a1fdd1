"""The reminder rules (clinic.domain.reminders), as properties over time zones, clock
changes and the minute ticks the job happens to run at."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from clinic.domain.reminders import (
    GRACE,
    Kind,
    PlanState,
    QuietHours,
    Settings,
    Slot,
    due,
    moment,
    next_due_at,
    occurrences,
    parse_slots,
    proposed_slots,
    slots_text,
)

ZONES = ("Europe/London", "America/New_York", "Australia/Lord_Howe", "UTC", "Asia/Kolkata")
START = datetime(2026, 3, 20, tzinfo=UTC)  # London and New York change clocks soon after

slot_times = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45]))
slot_lists = st.lists(st.builds(Slot, st.integers(0, 6), slot_times), min_size=1, max_size=6)


def _ticks(draw: st.DrawFn, start: datetime, span: timedelta) -> list[datetime]:
    """Minute ticks from `start` over `span`, never further apart than GRACE, with repeats
    (the same minute twice: two workers). The gaps come from a seed the test draws, so
    hypothesis replays a failing run."""
    rng = random.Random(draw(st.integers(0, 2**32)))
    longest = int(GRACE.total_seconds() // 60)
    ticks, at = [], start
    while at < start + span:
        at += timedelta(minutes=rng.choice([0, 1, 1, 1, 2, 7, rng.randint(0, longest)]))
        ticks.append(at)
        if rng.random() < 0.1:
            ticks.append(at)
    return ticks


def _run(settings_: Settings, ticks: list[datetime], entries=(), state=PlanState.ACTIVE):
    """Run the job at each tick as the real job does (only once `next_due_at` has come),
    keeping each occasion once as the outbox does; returns the occasions in order."""
    sent: dict[str, datetime] = {}
    due_at = next_due_at(settings_, settings_.since)
    for tick in ticks:
        if due_at is None or due_at > tick:
            continue
        for d in due(settings_, state, [e for e in entries if e <= tick], tick):
            sent.setdefault(d.occasion, d.occurrence.at)
        due_at = next_due_at(settings_, tick)
    return sent


@settings(max_examples=60, deadline=None)
@given(slots=slot_lists, zone=st.sampled_from(ZONES), data=st.data())
def test_each_slot_occurrence_is_sent_exactly_once_whatever_the_ticks(slots, zone, data):
    """Run at any minute ticks (repeats, gaps up to GRACE) as the job runs (only once
    `next_due_at` has come), the occasions sent are exactly the occurrences between
    reminders being turned on and the last tick, each with its own occasion (the outbox
    keeps one message per occasion): none lost, none twice, across clock changes in
    London, New York and Lord Howe Island."""
    since = START + timedelta(minutes=data.draw(st.integers(0, 60 * 24)))
    rules = Settings(tuple(slots), zone, since, nudge_after_days=14)
    ticks = _ticks(data.draw, since, timedelta(days=10))
    sent = _run(rules, ticks)
    # The last tick may fall less than GRACE after an occurrence it has not reached.
    expected = {f"slot:{o.name}" for o in occurrences(slots, zone, since, ticks[-1])}
    assert set(sent) == expected


@settings(max_examples=40, deadline=None)
@given(slots=slot_lists, zone=st.sampled_from(ZONES), data=st.data())
def test_nothing_is_sent_while_paused_or_after_completion(slots, zone, data):
    """A paused plan, or none open (completed), gets nothing at any tick."""
    rules = Settings(tuple(slots), zone, START)
    state = data.draw(st.sampled_from([PlanState.PAUSED, PlanState.NONE]))
    ticks = _ticks(data.draw, START, timedelta(days=9))
    assert _run(rules, ticks, state=state) == {}


@settings(max_examples=60, deadline=None)
@given(slots=slot_lists, zone=st.sampled_from(ZONES), data=st.data())
def test_a_day_with_its_sessions_logged_gets_no_reminder(slots, zone, data):
    """An occurrence whose day already has as many entries as its place among the day's
    slots, by the time it would go, gets no reminder."""
    rules = Settings(tuple(slots), zone, START, nudge_after_days=14)
    found = occurrences(slots, zone, START, START + timedelta(days=8))
    occurrence = data.draw(st.sampled_from(found))
    # The day's entries, all before the slot, on the slot's local day.
    local_midnight = moment(occurrence.day, time(0, 0), zone)
    room = max(int((occurrence.at - local_midnight).total_seconds() // 60), 0)
    entries = [
        local_midnight + timedelta(minutes=data.draw(st.integers(0, room)))
        for _ in range(occurrence.ordinal)
    ]
    entries = [e for e in entries if e <= occurrence.at]
    if len(entries) < occurrence.ordinal:
        return  # a slot at local midnight on a day that starts with a clock change
    sent = due(rules, PlanState.ACTIVE, entries, occurrence.at)
    assert f"slot:{occurrence.name}" not in {d.occasion for d in sent}


def test_the_second_slot_of_a_day_still_comes_after_only_one_session():
    """Twice a day: a session noted at noon leaves the evening's reminder (the second
    session is still to do); a second one noted before the evening covers it."""
    rules = Settings((Slot(0, time(8, 0)), Slot(0, time(19, 0))), "Europe/London", START)
    evening = moment(date(2026, 3, 23), time(19, 0), "Europe/London")
    noon = moment(date(2026, 3, 23), time(12, 0), "Europe/London")
    assert [d.kind for d in due(rules, PlanState.ACTIVE, [noon], evening)] == [Kind.REMINDER]
    afternoon = noon + timedelta(hours=3)
    assert due(rules, PlanState.ACTIVE, [noon, afternoon], evening) == []


@settings(max_examples=40, deadline=None)
@given(zone=st.sampled_from(ZONES), at=slot_times, day=st.integers(0, 400))
def test_a_slot_stays_at_its_local_time_across_clock_changes(zone, at, day):
    """A slot's moment reads as the slot's time on the patient's clock, except in a
    skipped hour, where it goes as far after the jump (never before the slot's time)."""
    on = date(2026, 1, 1) + timedelta(days=day)
    local = moment(on, at, zone).astimezone(ZoneInfo(zone))
    assert local.date() == on
    assert local.time() >= at
    assert (datetime.combine(on, local.time()) - datetime.combine(on, at)) <= timedelta(hours=1)


def test_clock_changes_in_london_new_york_and_lord_howe():
    """07:30 is 07:30 local before and after the change; 01:30 in London's skipped hour
    goes at 02:30 BST, and in the repeated hour once, at the first 01:30 (BST); Lord Howe's
    02:15 in its skipped half hour goes at 02:45."""
    london, ny, lh = "Europe/London", "America/New_York", "Australia/Lord_Howe"
    assert moment(date(2026, 3, 28), time(7, 30), london) == datetime(
        2026, 3, 28, 7, 30, tzinfo=UTC
    )
    assert moment(date(2026, 3, 30), time(7, 30), london) == datetime(
        2026, 3, 30, 6, 30, tzinfo=UTC
    )
    assert moment(date(2026, 3, 29), time(1, 30), london) == datetime(
        2026, 3, 29, 1, 30, tzinfo=UTC
    )
    assert moment(date(2026, 10, 25), time(1, 30), london) == datetime(
        2026, 10, 25, 0, 30, tzinfo=UTC
    )
    assert moment(date(2026, 3, 7), time(7, 30), ny) == datetime(2026, 3, 7, 12, 30, tzinfo=UTC)
    assert moment(date(2026, 3, 9), time(7, 30), ny) == datetime(2026, 3, 9, 11, 30, tzinfo=UTC)
    # Lord Howe: +10:30 standard, +11 in summer; the jump is at 02:00 on 4 Oct 2026.
    assert moment(date(2026, 10, 4), time(2, 15), lh).astimezone(ZoneInfo(lh)).time() == time(2, 45)
    # A repeated hour sends once: one occurrence for 01:30 on London's October night.
    found = occurrences(
        [Slot(6, time(1, 30))],
        london,
        datetime(2026, 10, 24, tzinfo=UTC),
        datetime(2026, 10, 26, tzinfo=UTC),
    )
    assert len(found) == 1


@settings(max_examples=40, deadline=None)
@given(slots=slot_lists, zone=st.sampled_from(ZONES), start=slot_times, data=st.data())
def test_nothing_is_ever_sent_inside_quiet_hours(slots, zone, start, data):
    """Whatever the slots (even ones inside quiet hours, which the form refuses), nothing
    sent falls inside quiet hours on the patient's clock."""
    end = data.draw(slot_times)
    quiet = QuietHours(start, end)
    rules = Settings(tuple(slots), zone, START, quiet=quiet, nudge_after_days=3)
    ticks = _ticks(data.draw, START, timedelta(days=9))
    zoneinfo = ZoneInfo(zone)
    for at in _run(rules, ticks).values():
        assert not quiet.covers(at.astimezone(zoneinfo).time())


@settings(max_examples=40, deadline=None)
@given(slots=slot_lists, zone=st.sampled_from(ZONES), days=st.integers(2, 5), data=st.data())
def test_one_nudge_after_the_silence_then_nothing_until_an_entry(slots, zone, days, data):
    """Nothing noted: reminders until the nudge days have passed, then one nudge (only
    after at least one reminder), then silence; an entry starts the count again (the next
    slot brings a reminder again)."""
    rules = Settings(tuple(slots), zone, START, nudge_after_days=days)
    ticks = _ticks(data.draw, START, timedelta(days=days + 9))
    sent = _run(rules, ticks)
    nudges = [o for o in sent if o.startswith("nudge:")]
    assert len(nudges) <= 1
    threshold = START + timedelta(days=days)
    if nudges:
        nudged_at = sent[nudges[0]]
        assert nudged_at >= threshold
        assert all(at < nudged_at for o, at in sent.items() if o.startswith("slot:"))
        assert any(at < nudged_at for o, at in sent.items() if o.startswith("slot:"))
        # After an entry: the next slot brings a reminder again.
        entry = sent[nudges[0]] + timedelta(minutes=1)
        after = next_due_at(rules, entry)
        assert after is not None
        again = due(rules, PlanState.ACTIVE, [entry], after)
        same_day = [o for o in again if o.occurrence.day == entry.astimezone(ZoneInfo(zone)).date()]
        assert [d.kind for d in again] == [Kind.REMINDER] or same_day


def test_the_nudge_comes_at_the_first_slot_after_the_silence():
    """Daily 19:00, nudge after 4 days, reminders turned on Monday 20:00 and nothing
    noted: reminders up to Friday 19:00, the nudge at the first slot at least 4 days
    later (Saturday 19:00), then nothing new: Sunday offers the same nudge occasion again,
    which the outbox keeps to one message."""
    zone = "Europe/London"
    since = moment(date(2026, 5, 4), time(20, 0), zone)
    rules = Settings(proposed_slots(1, per_week=False), zone, since, nudge_after_days=4)
    saturday = moment(date(2026, 5, 9), time(19, 0), zone)
    friday = moment(date(2026, 5, 8), time(19, 0), zone)
    assert [d.kind for d in due(rules, PlanState.ACTIVE, [], friday)] == [Kind.REMINDER]
    (nudge,) = due(rules, PlanState.ACTIVE, [], saturday)
    assert nudge.kind is Kind.NUDGE
    sunday = saturday + timedelta(days=1)
    assert [d.occasion for d in due(rules, PlanState.ACTIVE, [], sunday)] == [nudge.occasion]


def test_proposals_follow_the_prescription():
    """Three a week: Monday, Wednesday, Friday; twice a day: two times every day."""
    assert [s.weekday for s in proposed_slots(3, per_week=True)] == [0, 2, 4]
    twice = proposed_slots(2, per_week=False)
    assert len(twice) == 14 and {s.at for s in twice} == {time(8, 0), time(19, 0)}
    assert len(proposed_slots(7, per_week=True)) == 7


@given(slots=slot_lists)
def test_slots_survive_being_stored(slots):
    """Slots stored as text read back the same (sorted, without duplicates)."""
    assert parse_slots(slots_text(slots)) == tuple(sorted(set(slots)))

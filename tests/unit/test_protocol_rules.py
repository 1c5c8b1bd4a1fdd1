"""The protocol rules: which plans are valid, and what was prescribed on a given day."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clinic.domain.indications import Indication
from clinic.domain.protocols import (
    Event,
    EventKind,
    IntendedUse,
    Period,
    ProtocolStatus,
    Route,
    StagePlan,
    StagePrescription,
    allowed_events,
    beyond_usual_limits,
    frequency_text,
    in_force_on,
    needs_jump_confirmation,
    needs_target_depth,
    plan_problems,
)

V = IntendedUse.VAGINAL


def stage(mm: float, size_use: IntendedUse = V, flared_base: bool = True, **kw) -> StagePlan:
    prescribed = {
        "dilator_size_id": 1,
        "minutes": 10,
        "sessions": 1,
        "period": Period.DAY,
        "min_days": 14,
    }
    return StagePlan(StagePrescription(**{**prescribed, **kw}), mm, size_use, flared_base)


def messages(stages, route=Route.VAGINAL, max_step=5.0) -> list[str]:
    return [p.message for p in plan_problems(stages, route, max_step)]


# --- Plan rules ------------------------------------------------------------------------


def test_a_gentle_graded_plan_is_valid() -> None:
    """Steps of 4 mm, same use as the route, a maintenance phase last: no problems."""
    assert messages([stage(13), stage(17), stage(21), stage(21, is_maintenance=True)]) == []


def test_empty_plan_needs_a_stage() -> None:
    """A plan has at least one stage."""
    assert messages([]) == ["Add at least one stage."]


def test_sizes_never_decrease() -> None:
    """A smaller dilator than the previous stage is refused with both sizes named."""
    [message] = messages([stage(21), stage(17)])
    assert "Stage 2: the dilator (17 mm) is smaller than stage 1's (21 mm)" in message


def test_equal_sizes_are_fine() -> None:
    """Staying on a size across stages (e.g. longer sessions) is allowed."""
    assert messages([stage(21), stage(21)]) == []


def test_big_jump_needs_a_reason() -> None:
    """A step over the clinic's maximum is refused until a reason confirms it."""
    [message] = messages([stage(13), stage(21)])
    # Issue 16: one message for every reason a stage goes beyond the usual limits.
    assert "a step of 8 mm (this clinic's maximum is 5 mm)" in message
    assert messages([stage(13), stage(21, limits_reason="Surgeon's instruction")]) == []
    assert messages([stage(13), stage(21, limits_reason="   ")]) != []


def test_maximum_step_is_the_clinics() -> None:
    """The limit is a clinic setting: 8 mm passes at a 10 mm maximum."""
    assert messages([stage(13), stage(21)], max_step=10) == []


def test_a_step_of_exactly_the_maximum_is_fine() -> None:
    """Half-millimetre sizes (27.5 -> 32.5) at exactly the maximum need no confirmation."""
    assert not needs_jump_confirmation(27.5, 32.5, 5.0)
    assert needs_jump_confirmation(27.5, 32.6, 5.0)


@pytest.mark.parametrize(
    ("use", "route", "ok"),
    [
        (IntendedUse.VAGINAL, Route.ANAL, False),
        (IntendedUse.ANAL, Route.VAGINAL, False),
        (IntendedUse.EITHER, Route.ANAL, True),
        (IntendedUse.EITHER, Route.VAGINAL, True),
        (IntendedUse.ANAL, Route.ANAL, True),
    ],
)
def test_device_use_must_suit_the_route(use: IntendedUse, route: Route, ok: bool) -> None:
    """A vaginal-only device is never prescribed anally, and vice versa."""
    found = messages([stage(14, size_use=use)], route=route)
    assert (found == []) is ok
    if not ok:
        assert "cannot be used in a" in found[0]


@pytest.mark.parametrize("use", [IntendedUse.ANAL, IntendedUse.EITHER])
def test_anal_use_needs_a_set_with_a_flared_base(use: IntendedUse) -> None:
    """A dilator whose set is not recorded as having a flared base is refused for anal use,
    with the way out in plain words; the same dilator is fine once the base is recorded."""
    [message] = messages([stage(14, size_use=use, flared_base=False)], route=Route.ANAL)
    assert message.startswith("Stage 1: a dilator used anally must have a flared base")
    assert "record the flared base on the set in the catalogue" in message
    assert messages([stage(14, size_use=use, flared_base=True)], route=Route.ANAL) == []


def test_flared_base_is_not_asked_of_vaginal_use() -> None:
    """Vaginal plans do not need a flared base."""
    assert messages([stage(14, flared_base=False), stage(17, flared_base=False)]) == []


@given(
    flags=st.lists(st.booleans(), min_size=1, max_size=6),
)
def test_every_anal_stage_without_a_flared_base_is_named(flags: list[bool]) -> None:
    """Each anal stage whose set lacks a flared base gets its own problem, and only those."""
    plan = [stage(14, size_use=IntendedUse.ANAL, flared_base=f) for f in flags]
    found = plan_problems(plan, Route.ANAL, 5.0)
    assert [p.stage for p in found] == [i for i, f in enumerate(flags) if not f]
    assert all(p.field == "dilator_size_id" for p in found)


def test_sessions_per_day_are_capped() -> None:
    """More than 4 sessions a day is a typing slip; 21 a week is the weekly cap."""
    assert "at most 4 sessions per day" in messages([stage(13, sessions=5)])[0]
    assert messages([stage(13, sessions=21, period=Period.WEEK)]) == []


def test_red_flag_level_must_be_above_the_progress_ceiling() -> None:
    """Pain that allows progress can never also be a red flag."""
    [message] = messages([stage(13, pain_ceiling=4, red_flag_pain=4)])
    assert "red-flag pain level must be above the pain ceiling" in message


def test_maintenance_only_last() -> None:
    """A stage with no end can only be the last one."""
    [message] = messages([stage(13, is_maintenance=True), stage(17)])
    assert "only the last stage can be one" in message


increasing_plans = st.lists(st.integers(min_value=0, max_value=50), min_size=1, max_size=10).map(
    lambda steps: [stage(10 + sum(steps[: i + 1]) / 10) for i in range(len(steps))]
)


@given(increasing_plans)
def test_small_non_decreasing_steps_are_always_valid(stages: list[StagePlan]) -> None:
    """Property: any plan whose sizes never go down and never rise by more than 5 mm is
    valid."""
    assert messages(stages) == []


@given(increasing_plans, st.integers(min_value=1, max_value=100))
def test_any_decrease_is_caught(stages: list[StagePlan], drop_tenths: int) -> None:
    """Property: appending a smaller size than the last one always yields a problem."""
    smaller = stage(stages[-1].diameter_mm - drop_tenths / 10)
    assert any("smaller than" in m for m in messages([*stages, smaller]))


def test_frequency_in_plain_words() -> None:
    """Schedules read the way a patient says them."""
    assert frequency_text(1, Period.DAY) == "once a day"
    assert frequency_text(2, Period.WEEK) == "twice a week"
    assert frequency_text(3, Period.DAY) == "3 times a day"


# --- What was in force -----------------------------------------------------------------

D0 = date(2026, 1, 5)


def ev(kind: EventKind, day: int, stage: int, version: int = 1, resume: int | None = None):
    return Event(
        kind,
        D0 + timedelta(days=day),
        version,
        stage,
        D0 + timedelta(days=resume) if resume is not None else None,
    )


HISTORY = [
    ev(EventKind.START, 0, 1),
    ev(EventKind.ADVANCE, 14, 2),
    ev(EventKind.EDIT, 20, 2, version=2),
    ev(EventKind.PAUSE, 30, 2, version=2),
    ev(EventKind.RESUME, 40, 2, version=2),
    ev(EventKind.STEP_BACK, 45, 1, version=2),
]


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (-1, None),
        (0, (1, 1, ProtocolStatus.ACTIVE, 0)),
        (13, (1, 1, ProtocolStatus.ACTIVE, 0)),
        (14, (1, 2, ProtocolStatus.ACTIVE, 14)),
        (25, (2, 2, ProtocolStatus.ACTIVE, 14)),
        (35, (2, 2, ProtocolStatus.PAUSED, 14)),
        (41, (2, 2, ProtocolStatus.ACTIVE, 14)),
        (50, (2, 1, ProtocolStatus.ACTIVE, 45)),
    ],
)
def test_prescription_in_force_on_past_days(day: int, expected) -> None:
    """For any day the timeline tells the version, the stage, whether it ran, and since
    when the patient was at that stage (a plan edit keeps the stage's start date)."""
    found = in_force_on(HISTORY, D0 + timedelta(days=day))
    if expected is None:
        assert found is None
    else:
        version, stage_no, status, since = expected
        assert (found.version, found.stage, found.status, found.stage_since) == (
            version,
            stage_no,
            status,
            D0 + timedelta(days=since),
        )


def test_a_planned_pause_does_not_end_by_itself() -> None:
    """A pause with a resume date stays paused on and after that date until a clinician
    records "resume" (issue 16: the old rule resumed it by itself); from the date on, a
    review before resuming is due."""
    events = [ev(EventKind.START, 0, 1), ev(EventKind.PAUSE, 10, 1, resume=20)]
    before = in_force_on(events, D0 + timedelta(days=19))
    on_the_day = in_force_on(events, D0 + timedelta(days=20))
    assert before.status is on_the_day.status is ProtocolStatus.PAUSED
    assert not before.resume_review_due(D0 + timedelta(days=19))
    assert on_the_day.resume_review_due(D0 + timedelta(days=20))
    assert (on_the_day.paused_on, on_the_day.resume_on) == (
        D0 + timedelta(days=10),
        D0 + timedelta(days=20),
    )
    resumed = [*events, ev(EventKind.RESUME, 22, 1)]
    state = in_force_on(resumed, D0 + timedelta(days=22))
    assert state.status is ProtocolStatus.ACTIVE and not state.resume_review_due(
        D0 + timedelta(days=22)
    )


@given(st.integers(1, 30), st.integers(0, 60))
def test_only_a_resume_ends_a_pause(length: int, later: int) -> None:
    """Property: whatever its planned date, a pause lasts every day after it until a
    "resume"; a review is due exactly from the planned date on."""
    events = [ev(EventKind.START, 0, 1), ev(EventKind.PAUSE, 5, 1, resume=5 + length)]
    day = D0 + timedelta(days=5 + later)
    state = in_force_on(events, day)
    assert state.status is ProtocolStatus.PAUSED
    assert state.resume_review_due(day) == (later >= length)


def test_editing_during_a_pause_keeps_the_planned_resume() -> None:
    """Changing the plan while paused neither resumes it nor forgets the resume date (its
    review falls due on that date; the pause goes on until a resume)."""
    events = [
        ev(EventKind.START, 0, 1),
        ev(EventKind.PAUSE, 10, 1, resume=20),
        ev(EventKind.EDIT, 12, 1, version=2),
    ]
    assert in_force_on(events, D0 + timedelta(days=15)).status is ProtocolStatus.PAUSED
    later = in_force_on(events, D0 + timedelta(days=21))
    assert later.status is ProtocolStatus.PAUSED
    assert later.resume_on == D0 + timedelta(days=20)


def test_completed_and_replaced_stay_so() -> None:
    """After completion or replacement nothing is prescribed by this protocol."""
    for kind, status in (
        (EventKind.COMPLETE, ProtocolStatus.COMPLETED),
        (EventKind.REPLACED, ProtocolStatus.REPLACED),
    ):
        events = [ev(EventKind.START, 0, 1), ev(kind, 5, 1)]
        assert in_force_on(events, D0 + timedelta(days=400)).status is status
        assert allowed_events(status) == frozenset()


@given(st.integers(min_value=0, max_value=60))
def test_days_after_the_last_event_see_the_final_state(extra: int) -> None:
    """Property: any day on or after the last event shows the state that event left."""
    found = in_force_on(HISTORY, D0 + timedelta(days=45 + extra))
    assert (found.version, found.stage, found.status) == (2, 1, ProtocolStatus.ACTIVE)


def test_paused_protocols_take_no_stage_decisions() -> None:
    """While paused, only resume, plan edits, completion or replacement are possible."""
    assert EventKind.ADVANCE not in allowed_events(ProtocolStatus.PAUSED)
    assert EventKind.RESUME in allowed_events(ProtocolStatus.PAUSED)
    assert EventKind.RESUME not in allowed_events(ProtocolStatus.ACTIVE)


def test_plan_change_keeps_days_at_stage_when_the_device_stays() -> None:
    """A revision that renumbers stages around the same dilator keeps the count of days
    at the stage; one that changes the dilator at the current stage restarts it."""
    same_device = [
        Event(EventKind.START, D0, 1, 2, device_mm=17.0),
        Event(EventKind.EDIT, D0 + timedelta(days=5), 2, 1, device_mm=17.0),
    ]
    assert in_force_on(same_device, D0 + timedelta(days=9)).stage_since == D0
    new_device = [
        Event(EventKind.START, D0, 1, 2, device_mm=17.0),
        Event(EventKind.EDIT, D0 + timedelta(days=5), 2, 2, device_mm=21.0),
    ]
    assert in_force_on(new_device, D0 + timedelta(days=9)).stage_since == D0 + timedelta(days=5)


# --- Safety limits and target depth (issue 16) ------------------------------------------


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"pain_ceiling": 5, "red_flag_pain": 7}, "a pain ceiling above 4/10"),
        ({"red_flag_pain": 9}, "a red flag only above 8/10"),
        ({"min_days": 0}, "no minimum days at the stage"),
        ({"last_n_sessions": 1}, "a single session of evidence"),
    ],
)
def test_a_rule_beyond_the_usual_limits_needs_a_reason(change: dict, words: str) -> None:
    """Each limit beyond the usual asks for the same reason as an oversized step, under
    the same field, naming what goes beyond; a reason lets the plan through."""
    [problem] = plan_problems([stage(13), stage(17, **change)], Route.VAGINAL, 5.0)
    assert problem.field == "limits_reason" and problem.stage == 1
    assert problem.message == (
        f"Stage 2 goes beyond the usual limits: {words}. Confirm it by giving the reason."
    )
    assert messages([stage(13), stage(17, **change, limits_reason="Surgeon's plan.")]) == []


def test_the_usual_limits_themselves_need_no_reason() -> None:
    """Pain ceiling 4, red flag at 8, one minimum day and two sessions are within limits."""
    within = {"pain_ceiling": 4, "red_flag_pain": 8, "min_days": 1, "last_n_sessions": 2}
    assert messages([stage(13, **within)]) == []


def test_every_exception_of_a_stage_is_named_in_one_message() -> None:
    """A big step and a high ceiling on the same stage: one message naming both."""
    [message] = messages([stage(13), stage(21, pain_ceiling=6)])
    assert "a step of 8 mm (this clinic's maximum is 5 mm); a pain ceiling above 4/10" in message


def test_a_maintenance_phase_is_held_to_its_red_flag_only() -> None:
    """A maintenance phase never moves up: no minimum days is usual there, a red flag
    only above 8 still needs a reason."""
    assert messages([stage(13), stage(13, is_maintenance=True, min_days=0)]) == []
    assert messages([stage(13), stage(13, is_maintenance=True, red_flag_pain=9)]) != []


def test_after_vaginoplasty_every_stage_needs_a_target_depth() -> None:
    """A vaginoplasty plan without a stage's target depth is refused next to that field,
    in plain words; other indications may leave it empty."""
    plan = [stage(25, target_depth_cm=12.0), stage(27.5)]
    [problem] = plan_problems(plan, Route.VAGINAL, 5.0, Indication.VAGINOPLASTY)
    assert (problem.stage, problem.field) == (1, "target_depth_cm")
    assert problem.message == (
        "Stage 2: after vaginoplasty each stage needs a target depth, in cm (depth matters "
        "as much as size). Enter the depth measured in clinic."
    )
    assert plan_problems(plan, Route.VAGINAL, 5.0, Indication.VAGINISMUS) == []
    assert needs_target_depth(Indication.VAGINOPLASTY)
    assert not needs_target_depth(None)


limits = st.fixed_dictionaries(
    {
        "pain_ceiling": st.integers(0, 6),
        "red_flag_pain": st.integers(7, 10),
        "min_days": st.integers(0, 3),
        "last_n_sessions": st.integers(1, 3),
        "is_maintenance": st.booleans(),
    }
)


@given(limits, st.floats(13, 40), st.floats(0, 12), st.text(max_size=5))
def test_a_stage_beyond_the_usual_limits_is_valid_only_with_a_reason(
    values: dict, previous_mm: float, step_mm: float, reason: str
) -> None:
    """Property: a stage is refused for its limits exactly when something goes beyond the
    usual (an oversized step, a ceiling above 4, a red flag above 8, no minimum days or a
    single session, the last three only outside maintenance) and no reason is given."""
    plan = [stage(previous_mm), stage(previous_mm + step_mm, **values, limits_reason=reason)]
    beyond = (
        step_mm > 5.0 + 0.05
        or values["red_flag_pain"] > 8
        or (
            not values["is_maintenance"]
            and (
                values["pain_ceiling"] > 4
                or values["min_days"] < 1
                or values["last_n_sessions"] < 2
            )
        )
    )
    refused = any(p.field == "limits_reason" for p in plan_problems(plan, Route.VAGINAL, 5.0))
    assert refused == (beyond and not reason.strip())
    found = beyond_usual_limits(plan[1].prescription, plan[1].diameter_mm, previous_mm, 5.0)
    assert bool(found) == beyond

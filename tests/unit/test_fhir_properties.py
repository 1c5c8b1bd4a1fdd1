"""Property-based checks of the FHIR builders (clinic.fhir.resources), on records made in
memory: any diary entry the database accepts maps to a valid R4 Observation carrying its
values, and any submitted score to a valid score Observation."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from clinic.domain.diary import Bleeding, Concern, FlagReason, SkipReason
from clinic.fhir.resources import (
    Context,
    red_flag_resource,
    response_resources,
    session_observation,
)
from clinic.models import (
    Clinic,
    DiaryEntry,
    DilatorSet,
    DilatorSize,
    MeasureResponse,
    Patient,
    RedFlag,
)
from tests.support.fhir import PAIN, component, pains, round_trips

BASE = "https://diary.example.org"
MOMENTS = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)
)
TEXT = st.text(max_size=60)


def context() -> Context:
    clinic = Clinic(id=1, name="Clinic A")
    patient = Patient(id=7, clinic_id=1, user_id=70, full_name="P", clinic_identifier="MRN-1")
    return Context(base_url=BASE, clinic=clinic, patient=patient)


def a_size() -> DilatorSize:
    return DilatorSize(
        id=3, label="Size 3", diameter_mm=27.5, dilator_set=DilatorSet(id=1, name="Set")
    )


@st.composite
def entries(draw: st.DrawFn) -> DiaryEntry:
    """A diary entry as the `session_complete` and `skip_has_reason` checks allow it."""
    skipped = draw(st.booleans())
    at = draw(MOMENTS)
    common = {
        "id": draw(st.integers(1, 10**12)),
        "clinic_id": 1,
        "patient_id": 7,
        "protocol_id": 2,
        "occurred_at": at,
        "occurred_on": at.date(),
        "created_at": at,
        "created_by_id": 70,
        "skipped": skipped,
        "note": draw(TEXT),
        "updated_at": draw(st.none() | st.just(at + timedelta(hours=1))),
        "withdrawn_at": draw(st.none() | st.just(at + timedelta(hours=2))),
        "concerns": frozenset(),
    }
    if skipped:
        return DiaryEntry(
            **common,
            skip_reason=draw(st.sampled_from(SkipReason)),
            skip_other=draw(TEXT),
        )
    return DiaryEntry(
        **{**common, "concerns": draw(st.frozensets(st.sampled_from(Concern)))},
        dilator_size_id=3,
        minutes=draw(st.integers(1, 240)),
        pain_during=draw(st.integers(0, 10)),
        pain_after=draw(st.integers(0, 10)),
        bleeding=draw(st.sampled_from(Bleeding)),
        sharp_pain=draw(st.booleans()),
        depth_cm=draw(st.none() | st.integers(0, 200).map(lambda d: d / 10)),
    )


@given(entries())
def test_any_diary_entry_is_a_valid_observation_with_its_values(entry: DiaryEntry) -> None:
    """Whatever an entry holds, its Observation round-trips through the R4B model and
    carries the entry's values: pains under LOINC 72514-3, minutes, bleeding, sharp pain,
    each concern; or, for a skip, that it was skipped and why (with the patient's words)."""
    observation = session_observation(
        context(), entry, None if entry.skipped else a_size(), "careplan-2"
    )
    round_trips(observation)
    assert observation["id"] == f"session-{entry.id}"
    skipped = component(observation, "skipped")
    assert skipped is not None and skipped["valueBoolean"] is entry.skipped
    expected_status = (
        "entered-in-error" if entry.withdrawn_at else "amended" if entry.updated_at else "final"
    )
    assert observation["status"] == expected_status
    if entry.skipped:
        reason = component(observation, "skip-reason")
        assert reason is not None
        assert reason["valueCodeableConcept"]["coding"][0]["code"] == entry.skip_reason
        assert reason["valueCodeableConcept"]["text"] == (
            entry.skip_other.strip() or entry.reason_skipped.label
        )
        assert pains(observation) == [] and "valueInteger" not in observation
        return
    assert observation["code"]["coding"][0]["code"] == PAIN
    assert observation["valueInteger"] == entry.pain_during
    assert pains(observation) == [entry.pain_during, entry.pain_after]
    minutes = component(observation, "session-minutes")
    assert minutes is not None and minutes["valueQuantity"]["value"] == entry.minutes
    depth = component(observation, "insertion-depth")
    assert (depth is None) == (entry.depth_cm is None)
    concerns = [
        part["valueCodeableConcept"]["coding"][0]["code"]
        for part in observation["component"]
        if part["code"]["coding"][0]["code"] == "concern"
    ]
    assert sorted(concerns) == sorted(c.value for c in entry.concerns)
    assert observation["device"] == {"reference": "Device/dilator-3"}


@given(
    total=st.none() | st.floats(0, 100, allow_nan=False).map(lambda v: round(v, 3)),
    valid=st.booleans(),
    domains=st.dictionaries(
        st.sampled_from(["pain", "urinary", "qol"]),
        st.none() | st.floats(0, 50, allow_nan=False).map(lambda v: round(v, 3)),
    ),
    answers=st.dictionaries(
        st.text("abcdefgh", min_size=1, max_size=5), st.none() | st.integers(0, 10)
    ),
    at=MOMENTS,
)
def test_any_score_is_a_valid_observation(
    total: float | None,
    valid: bool,
    domains: dict[str, float | None],
    answers: dict[str, int | None],
    at: datetime,
) -> None:
    """A submitted response of an instrument we no longer have, whatever it was scored,
    gives a valid QuestionnaireResponse and a score Observation: the total when there is a
    valid one, else the reason it has none; each domain a component."""
    response = MeasureResponse(
        id=9,
        clinic_id=1,
        patient_id=7,
        instrument_key="gone",
        instrument_version="1",
        answers=json.dumps(answers),
        domains=json.dumps(domains),
        total=total,
        valid=valid,
        band_label="",
        invalid_reason="" if valid else "Not sexually active",
        submitted_at=at,
    )
    qr, score = response_resources(context(), response, None)
    round_trips(qr)
    round_trips(score)
    if total is not None and valid:
        assert score["valueQuantity"]["value"] == total
    else:
        assert "valueQuantity" not in score and score["dataAbsentReason"]["text"]
    assert len(score.get("component", [])) == len(domains)
    assert len(qr.get("item", [])) == sum(v is not None for v in answers.values())


@given(reason=st.sampled_from(FlagReason), pain=st.none() | st.integers(0, 10), at=MOMENTS)
def test_a_red_flag_shows_a_pain_only_when_pain_raised_it(
    reason: FlagReason, pain: int | None, at: datetime
) -> None:
    """A red flag is a valid Flag coded with its reason; its text shows the pain score
    only for high pain (other flags keep the session's pain, which is not their reason)."""
    flag = RedFlag(id=4, clinic_id=1, patient_id=7, entry_id=12, reason=reason, pain=pain)
    flag.raised_at = at
    resource = red_flag_resource(context(), flag)
    round_trips(resource)
    assert resource["code"]["coding"][0]["code"] == reason.value
    shown = (
        f"{reason.label} ({pain}/10)" if reason.is_high_pain and pain is not None else reason.label
    )
    assert resource["code"]["text"] == shown
    assert resource["status"] == "active"

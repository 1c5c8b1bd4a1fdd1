"""What a patient's pages show, kept per process under the patient's summary version.

The timeline's charts and assessment, the portal's Today and Progress are made of what the
patient's summary is made of (the diary and its revisions, red flags, questionnaires
answered, the protocol with its versions, stages, events and sizes, the patient's record,
the clinic's rules and time zone), so every committed change to any of it adds one to the
summary's `version`, in the database and in the same transaction (clinic.monitoring.upkeep).
A part kept under that version, with the patient, the clinic and whatever else it shows
that no summary is made of (the day, the period, a phone number: the caller's `inputs`),
is never an old answer: a changed input makes a new key, in any process or instance.

The caller reads the version before loading anything the part is made of; what it then
loads is at least as new as the key (a change committed in between is kept under the old
key, which only a request that read the old version asks for). Nothing kept may depend on
the viewer or the request: no form as sent, token, or name of who is looking. The
exceptions are the language the part is written in (its words, dates and charts' labels)
and the address prefix its links start with: both are part of every key, so a patient
reading Spanish and their clinician reading English never share one. (The timeline's
course keeps its untouched acknowledgement forms with a mark where the CSRF token goes,
and each request puts its own token back: clinic.timeline.course.)

The parts live in a store of their own per app and process, so that charts viewed one after
another never push the dashboard's tables out of the app's cache (`CACHE_THRESHOLD`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any, Generic, TypeVar, cast

from flask import current_app, has_request_context, request
from flask_babel import get_locale
from flask_caching.backends import SimpleCache
from sqlalchemy import bindparam, select

from clinic.core.uow import after_commit
from clinic.extensions import db
from clinic.models import Patient, PatientSummary

T = TypeVar("T")

# Enough for every patient a few clinicians and patients look at in a day, a few parts
# each (a part is 2 to 70 kB); older ones make way.
PARTS_KEPT = 1000
PART_SECONDS = 600


@dataclass(frozen=True)
class _Kept(Generic[T]):
    """A part as kept (its value may be None: "nothing to show" is kept too)."""

    value: T


def summary_version(clinic_id: int, patient_id: int) -> int | None:
    """The patient's summary version (None: no summary yet, so nothing may be kept)."""
    return db.session.scalar(_VERSION, {"clinic_id": clinic_id, "patient_id": patient_id})


# Read on every kept page (built once).
_VERSION = select(PatientSummary.version).where(
    PatientSummary.clinic_id == bindparam("clinic_id"),
    PatientSummary.patient_id == bindparam("patient_id"),
)


def served_under() -> str:
    """The address prefix the app is reached under in this request (`SCRIPT_NAME`, as a
    proxy may send it): every link a kept part holds starts with it, so it is part of
    every key (a process reached under two prefixes keeps a part for each)."""
    return request.script_root if has_request_context() else ""


def store() -> SimpleCache:
    """This app's store of kept parts, in this process."""
    found = current_app.extensions.get("patient_parts")
    if found is None:
        found = SimpleCache(threshold=PARTS_KEPT, default_timeout=PART_SECONDS)
        current_app.extensions["patient_parts"] = found
    return found


def part_key(
    part: str, patient: Patient, version: int | None, inputs: Iterable[object]
) -> str | None:
    """The key the `part` of the patient's page is kept under for `version` (read before
    anything it is made of) and `inputs`; None without a version (no summary yet: nothing
    may be kept)."""
    if version is None:
        return None
    clinic = patient.clinic
    # The clinic's creation time tells apart clinics that share an id across databases (a
    # restored backup, the test suite), as the dashboard's key does.
    return ":".join(
        str(each)
        for each in (
            part,
            clinic.id,
            clinic.created_at.timestamp(),
            patient.id,
            version,
            get_locale(),
            served_under(),
            *inputs,
        )
    )


def found(key: str | None) -> _Kept[Any] | None:
    """What is kept under `key`, if anything (a value of None is kept too)."""
    value = store().get(key) if key is not None else None
    return value if isinstance(value, _Kept) else None


def keep(key: str | None, value: object) -> None:
    """Keep `value` under `key` once the request's unit of work ends well (never from one
    rolled back); nothing without a key."""
    if key is not None:
        after_commit(partial(store().set, key, _Kept(value)))


def kept(
    part: str,
    patient: Patient,
    version: int | None,
    inputs: Iterable[object],
    build: Callable[[], T],
    *,
    as_kept: Callable[[T], T] = lambda value: value,
) -> T:
    """The `part` of the patient's page for `version` (read before anything it is made
    of) and `inputs`, from the store when it holds one, else made by `build` and kept once
    the request's unit of work ends well. `as_kept` gives the value as it may be kept
    (without database rows, say): a value from the store is always in that form. Without
    a version (no summary yet) nothing is kept."""
    key = part_key(part, patient, version, inputs)
    existing = found(key)
    if existing is not None:
        return cast(T, existing.value)
    value = build()
    keep(key, as_kept(value))
    return value

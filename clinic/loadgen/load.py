"""`flask seed-load`: synthetic clinics, staff and patients with their history, in bulk.

Every clinic is made as a new clinic is (`seed_clinic_library`: the default catalogue and
templates, the default settings), with an administrator and about one clinician per 100
patients (at least two). Its patients are fictional ("Loadtest Patient 00042", emails on
the reserved domain `seed-load.invalid`, which can never receive mail), of every
indication the library has a template for and every gender, each on a protocol started
some time in the last `years` (moved up at their own pace; some paused, some completed
and discharged), with a diary over the programme (clinic.loadgen.diary), red flags (most
acknowledged), questionnaire answers at the baseline and every four weeks, reminders for
some and a planned review (due now for some). Then the clinic's summaries are computed,
as the daily refresh would.

Speed: rows are plain dicts inserted with executemany (table-level `insert()`, with
RETURNING where the ids are needed next), never per-patient service calls; the rows are
the ones the services write (clinic.loadgen.plans). Table-level statements are not seen
by the summary upkeep (clinic.monitoring.upkeep), so each clinic's summaries are refreshed
explicitly once its rows are in.

Transactions: one unit of work per clinic, not one for the whole load. A load of 10,000
patients writes millions of rows; one transaction per clinic keeps each transaction (and,
on SQLite, the write lock and journal) bounded and shows progress, and a failure leaves
only whole clinics behind, never half of one. Refusals come before anything is written.
"""

from __future__ import annotations

import json
import random
import secrets
import time as timer
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from clinic.core.clock import clinic_today
from clinic.core.uow import unit_of_work
from clinic.domain.indications import Indication, Indications
from clinic.domain.progression import default_going_back
from clinic.domain.protocols import EventKind, Period, ProtocolStatus, in_force_on
from clinic.domain.questionnaires import Instrument, score, shipped_instruments
from clinic.domain.reminders import Settings, next_due_at, proposed_slots, slots_text
from clinic.domain.starting import is_under_18_on
from clinic.extensions import db
from clinic.library.defaults import seed_clinic_library
from clinic.loadgen.diary import DiaryPlan, StageRx, diary_rows
from clinic.loadgen.plans import PlanTemplate, Step, VersionHashes, history, protocol_rows
from clinic.measures.answers import scored_answers
from clinic.models import (
    Clinic,
    DiaryEntry,
    MeasureAssignment,
    MeasureResponse,
    Patient,
    PatientStatus,
    Protocol,
    ProtocolEvent,
    ProtocolStage,
    ProtocolTemplate,
    ProtocolVersion,
    RedFlag,
    ReminderPlan,
    Role,
    TemplateStage,
    User,
)

# The printed patient is chosen among the clinic's first this many (see `_load_clinic`).
PRINTED_AMONG = 100
DOMAIN = "seed-load.invalid"  # reserved (RFC 2606): no mail can ever reach it
CLINIC_NAME = "Loadtest Clinic {:02d}"
PATIENTS_PER_CLINICIAN = 100
MIN_CLINICIANS = 2
INSERT_CHUNK = 5_000  # diary rows per executemany
REVIEW_DUE_EVERY = 10  # one patient in 10 has a review date that has come
REMINDERS_EVERY = 3  # one in 3 has reminders on
MEASURED_EVERY_WEEKS = 4
# Every gender: pronouns for plans on any anatomy, and for vaginal plans.
ANY_PRONOUNS = ("she/her", "he/him", "they/them", "she/they", "he/they", "")
VAGINAL_PRONOUNS = ("she/her", "she/her", "they/them", "she/they", "")
SURGEON = "Loadtest Surgeon, surgical team"
# Who leads the program of a patient under 18 on its start date (with --years above about
# four, some patients born late enough start young).
SPECIALIST = "Loadtest Specialist, adolescent gynaecology"


class LoadRefused(Exception):
    """The database is not one seed-load may write to; the message says why."""


@dataclass
class ClinicLoaded:
    """What the operator needs to sign in to one loaded clinic."""

    name: str
    clinician_email: str
    patient_email: str
    patient_id: int  # the printed patient's record (the benchmark opens their pages)


@dataclass
class LoadResult:
    """What a load made, and how long it took."""

    clinics: list[ClinicLoaded] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0


def refusal(heads: Iterable[str]) -> str | None:
    """Why seed-load must not write to the app's database (None: it may): a schema that is
    not at `heads`, or anything in it that seed-load did not make itself."""
    inspector = sa.inspect(db.engine)
    if not inspector.has_table("alembic_version"):
        return "The database schema is not migrated: run `flask db upgrade` first."
    current = set(db.session.scalars(sa.text("SELECT version_num FROM alembic_version")))
    if current != set(heads):
        return "The database schema is not at the latest migration: run `flask db upgrade` first."
    foreign_users = db.session.scalar(
        sa.select(sa.func.count()).select_from(User).where(~User.email.endswith("@" + DOMAIN))
    )
    foreign_clinics = db.session.scalar(
        sa.select(sa.func.count()).select_from(Clinic).where(~Clinic.email.endswith("@" + DOMAIN))
    )
    if foreign_users or foreign_clinics:
        return (
            "The database holds data seed-load did not make (accounts or clinics outside "
            f"@{DOMAIN}): it only adds to an empty database or to its own load data."
        )
    return None


def load(
    *,
    clinics: int,
    patients: int,
    years: float,
    password_hash: str,
    seed: str,
    progress: Callable[[str], None] = lambda _message: None,
) -> LoadResult:
    """Add `clinics` clinics sharing `patients` patients evenly, each clinic in a unit of
    work of its own (see the module's docstring); every account gets `password_hash`."""
    started = timer.perf_counter()
    result = LoadResult()
    first = _clinics_made() + 1
    for k in range(first, first + clinics):
        share = patients // clinics + (1 if k - first < patients % clinics else 0)
        with unit_of_work():
            loaded = _load_clinic(k, share, years, password_hash, seed, result.counts)
        result.clinics.append(loaded)
        result.counts["clinics"] += 1
        progress(f"{loaded.name}: {share} patients ({timer.perf_counter() - started:.1f} s)")
    if db.engine.dialect.name == "postgresql":
        # The planner's statistics, as after any bulk load: until autovacuum gets to the new
        # rows, PostgreSQL plans as for empty tables and reads a protocol's 4 events by
        # scanning all 35,000 (measured: the protocol page 44 ms before, 11 ms after).
        with unit_of_work():
            db.session.execute(sa.text("ANALYZE"))
        progress(f"statistics gathered ({timer.perf_counter() - started:.1f} s)")
    result.seconds = timer.perf_counter() - started
    return result


def _clinics_made() -> int:
    """How many clinics seed-load made before (the next is numbered after them)."""
    return (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Clinic)
            .where(Clinic.email.endswith("@" + DOMAIN))
        )
        or 0
    )


def _insert(table: sa.Table, rows: list[dict[str, Any]], *, ids: bool = False) -> list[int]:
    """Insert `rows` (plain dicts with the same keys); with `ids`, return the new ids in
    the rows' order.

    SQLite: executemany, with RETURNING for the ids. PostgreSQL: COPY, the ids taken from
    the table's sequence first. Several times faster than executemany there (psycopg sends
    a statement per row; SQLAlchemy's many-rows-per-statement form spends its time
    splitting the statement's text), and what makes 10,000 patients a matter of minutes.
    COPY skips SQLAlchemy's column defaults: the rows give every column without a
    server default."""
    if not rows:
        return []
    if db.engine.dialect.name != "postgresql":
        if not ids:
            db.session.execute(sa.insert(table), rows)
            return []
        statement = sa.insert(table).returning(table.c.id, sort_by_parameter_order=True)
        return list(db.session.scalars(statement, rows))
    new_ids: list[int] = []
    if ids:
        new_ids = list(
            db.session.scalars(
                sa.text(
                    "SELECT nextval(pg_get_serial_sequence(:table, 'id')) "
                    "FROM generate_series(1, :n)"
                ),
                {"table": table.name, "n": len(rows)},
            )
        )
        rows = [row | {"id": new_id} for row, new_id in zip(rows, new_ids, strict=True)]
    columns = list(rows[0])
    names = ", ".join(f'"{c}"' for c in columns)
    connection = db.session.connection().connection.driver_connection
    if connection is None:
        raise RuntimeError("The database connection is closed.")
    with (
        connection.cursor() as cursor,
        cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy,
    ):
        for row in rows:
            copy.write_row([row[c] for c in columns])
    return new_ids


def _load_clinic(
    k: int, count: int, years: float, password_hash: str, seed: str, counts: Counter[str]
) -> ClinicLoaded:
    """One clinic with `count` patients and their history."""
    clinic = Clinic(
        name=CLINIC_NAME.format(k),
        address=f"{k} Example Street\nLoadtest Town (synthetic data)",
        email=f"clinic{k:02d}@{DOMAIN}",
    )
    db.session.add(clinic)
    seed_clinic_library(clinic)
    zone = ZoneInfo(clinic.timezone)
    today = clinic_today(clinic.timezone)
    now = datetime.now(UTC)
    staff_rows = [_user(clinic.id, f"c{k:02d}.admin@{DOMAIN}", "Loadtest Admin", Role.ADMIN)]
    clinician_count = max(MIN_CLINICIANS, round(count / PATIENTS_PER_CLINICIAN))
    staff_rows += [
        _user(
            clinic.id,
            f"c{k:02d}.clinician{c:02d}@{DOMAIN}",
            f"Loadtest Clinician {c:02d}",
            Role.CLINICIAN,
        )
        for c in range(1, clinician_count + 1)
    ]
    for row in staff_rows:
        row["password_hash"] = password_hash
    staff_ids = _insert(User.__table__, staff_rows, ids=True)
    clinician_ids = staff_ids[1:]
    counts["staff"] += len(staff_ids)
    templates = _templates(clinic.id)

    # Patients and their portal accounts.
    days_back = max(21, round(years * 365))
    plans: list[_Planned] = []
    for j in range(1, count + 1):
        rng = random.Random(f"{seed}patient-{k}-{j}")
        template = templates[(j - 1) % len(templates)]
        start = today - timedelta(days=rng.randint(14, days_back))
        steps = history(j, rng, start, today, len(template.stages))
        plans.append(
            _Planned(
                j=j,
                rng=rng,
                template=template,
                clinician_id=clinician_ids[(j - 1) % len(clinician_ids)],
                start=start,
                steps=steps,
            )
        )
    user_ids = _insert(
        User.__table__,
        [
            _user(clinic.id, _patient_email(k, p.j), _patient_name(p.j), Role.PATIENT)
            | {"password_hash": password_hash}
            for p in plans
        ],
        ids=True,
    )
    patient_rows = [
        _patient(clinic, p, user_id, today) for p, user_id in zip(plans, user_ids, strict=True)
    ]
    patient_ids = _insert(Patient.__table__, patient_rows, ids=True)
    counts["patients"] += len(patient_ids)

    # Protocols, as the services would have recorded them.
    hashes = VersionHashes()
    built = []
    for p, patient_id, patient in zip(plans, patient_ids, patient_rows, strict=True):
        surgeon = any(i.is_surgeon_directed for i in Indications.of(p.template.indication))
        young = is_under_18_on(patient["date_of_birth"], p.start)
        built.append(
            protocol_rows(
                clinic_id=clinic.id,
                patient_id=patient_id,
                template=p.template,
                clinician_id=p.clinician_id,
                start=p.start,
                steps=p.steps,
                zone=zone,
                now=now,
                hashes=hashes,
                surgeon_direction=SURGEON if surgeon else "",
                procedure_on=p.start - timedelta(days=14) if surgeon else None,
                specialist_direction=SPECIALIST if young else "",
            )
        )
    protocol_ids = _insert(Protocol.__table__, [b.protocol for b in built], ids=True)
    version_ids = _insert(
        ProtocolVersion.__table__,
        [b.version | {"protocol_id": pid} for b, pid in zip(built, protocol_ids, strict=True)],
        ids=True,
    )
    _insert(
        ProtocolStage.__table__,
        [
            stage | {"version_id": vid}
            for b, vid in zip(built, version_ids, strict=True)
            for stage in b.stages
        ],
    )
    _insert(
        ProtocolEvent.__table__,
        [
            event | {"protocol_id": pid}
            for b, pid in zip(built, protocol_ids, strict=True)
            for event in b.events
        ],
    )
    counts["protocols"] += len(protocol_ids)
    counts["protocol events"] += sum(len(b.events) for b in built)

    diaries = [
        DiaryPlan(
            n=p.j,
            patient_id=patient_id,
            user_id=user_id,
            clinician_id=p.clinician_id,
            protocol_id=protocol_id,
            events=b.timeline,
            stages={1: [_rx(s) for s in p.template.stages]},
        )
        for p, patient_id, user_id, protocol_id, b in zip(
            plans, patient_ids, user_ids, protocol_ids, built, strict=True
        )
    ]
    done = _load_diaries(clinic.id, diaries, zone, today, now, f"{seed}{k}-", counts)
    _load_measures(clinic.id, plans, patient_ids, built, zone, today, counts)
    _load_reminders(clinic, plans, patient_ids, built, now, counts)

    # The printed patient: an active one whose diary is the richest among the clinic's
    # first PRINTED_AMONG, and their clinician. A patient's history depends only on the
    # seed, the clinic's and the patient's number, so the same patient is printed whatever
    # the clinic's size: a benchmark at two sizes measures the same patient's pages.
    best = max(
        range(min(len(plans), PRINTED_AMONG)),
        key=lambda i: (built[i].status is ProtocolStatus.ACTIVE, done[patient_ids[i]]),
    )
    # Every summary and flag for today, as the daily run does: the new clinic is noted by
    # the summary upkeep, which refreshes the whole clinic when the unit of work commits
    # (after every row above), and marks it refreshed today (`summaries_on`).
    clinician = db.session.get(User, plans[best].clinician_id)
    return ClinicLoaded(
        name=clinic.name,
        clinician_email=clinician.email if clinician else "",
        patient_email=_patient_email(k, plans[best].j),
        patient_id=patient_ids[best],
    )


@dataclass
class _Planned:
    """A patient to be made: their number, habits, plan and history."""

    j: int
    rng: random.Random
    template: PlanTemplate
    clinician_id: int
    start: date
    steps: list[Step]


def _patient_email(k: int, j: int) -> str:
    return f"c{k:02d}.patient{j:05d}@{DOMAIN}"


def _patient_name(j: int) -> str:
    return f"Loadtest Patient {j:05d}"


def _user(clinic_id: int, email: str, name: str, role: Role) -> dict[str, Any]:
    return {
        "clinic_id": clinic_id,
        "email": email,
        "full_name": name,
        "role": role,
        "active": True,
        "session_token": secrets.token_urlsafe(24),
        "created_at": datetime.now(UTC),
    }


def _patient(clinic: Clinic, p: _Planned, user_id: int, today: date) -> dict[str, Any]:
    rng = p.rng
    indication = p.template.indication
    anatomy_free = p.template.route.value == "anal" or indication in (
        Indication.CHRONIC_PELVIC_PAIN,
        Indication.LEVATOR_ANI,
    )
    pronouns = rng.choice(ANY_PRONOUNS if anatomy_free else VAGINAL_PRONOUNS)
    radiotherapy = indication.follows_radiotherapy
    last = p.steps[-1] if p.steps else None
    status = PatientStatus.ACTIVE
    if last is not None and last.kind is EventKind.COMPLETE:
        status = PatientStatus.DISCHARGED
    elif last is not None and last.kind is EventKind.PAUSE:
        status = PatientStatus.PAUSED
    review_on: date | None = today + timedelta(days=rng.randint(7, 90))
    if status is PatientStatus.DISCHARGED:
        review_on = None
    elif p.j % REVIEW_DUE_EVERY == 3:
        review_on = today - timedelta(days=rng.randrange(7))
    return {
        "clinic_id": clinic.id,
        "user_id": user_id,
        "full_name": _patient_name(p.j),
        "name_to_use": "",
        "date_of_birth": date(1950, 1, 1) + timedelta(days=rng.randrange(365 * 55)),
        "clinic_identifier": f"LT{p.j:06d}",
        "pronouns": pronouns,
        "indication": indication,
        "indication_other": "",
        "referring_clinician": "Loadtest Referrer, GP",
        "status": status,
        "responsible_clinician_id": p.clinician_id,
        "review_on": review_on,
        "created_at": datetime.combine(p.start, time(9), UTC) - timedelta(days=7),
        "updated_at": datetime.combine(p.start, time(9), UTC) - timedelta(days=7),
        "radiotherapy_ended_on": (
            p.start - timedelta(weeks=clinic.radiotherapy_weeks + rng.randint(1, 8))
            if radiotherapy
            else None
        ),
    }


def _templates(clinic_id: int) -> list[PlanTemplate]:
    """The clinic's templates as the loader uses them, in the library's order."""
    found = db.session.scalars(
        sa.select(ProtocolTemplate)
        .where(ProtocolTemplate.clinic_id == clinic_id, ProtocolTemplate.retired_at.is_(None))
        .options(selectinload(ProtocolTemplate.stages).selectinload(TemplateStage.dilator_size))
        .order_by(ProtocolTemplate.id)
    ).all()
    plans = []
    for t in found:
        # As start_protocol chooses: the template's, unless after vaginoplasty.
        rules = Indications.of(t.indication, t.indication)
        going_back = t.going_back if not rules.is_neovagina else default_going_back(rules)
        plans.append(
            PlanTemplate(
                id=t.id,
                name=t.name,
                indication=t.indication,
                route=t.route,
                going_back=going_back,
                stages=tuple(s.stage_values() for s in t.stages),
                diameters={s.dilator_size_id: s.dilator_size.diameter_mm for s in t.stages},
            )
        )
    return plans


def _rx(stage: Any) -> StageRx:
    return StageRx(
        stage.dilator_size_id,
        stage.minutes,
        stage.sessions,
        stage.period,
        stage.red_flag_pain,
        stage.target_depth_cm,
    )


def _load_diaries(
    clinic_id: int,
    plans: Sequence[DiaryPlan],
    zone: ZoneInfo,
    today: date,
    now: datetime,
    seed: str,
    counts: Counter[str],
) -> Counter[int]:
    """Every patient's diary and red flags; returns the sessions done per patient."""
    done: Counter[int] = Counter()
    rows: list[dict[str, Any]] = []
    flags: list[dict[str, Any]] = []
    table = DiaryEntry.__table__
    for plan in plans:
        for row, raised in diary_rows(plan, clinic_id, zone, today, now, seed):
            row.setdefault("concerns", "")
            rows.append(row)
            flags.extend(raised)
            counts["diary entries"] += 1
            if row["skipped"]:
                counts["skips"] += 1
            else:
                done[plan.patient_id] += 1
        if len(rows) >= INSERT_CHUNK:
            _insert(table, rows)
            rows = []
    _insert(table, rows)
    keys = [flag["submission_key"] for flag in flags]
    entry_ids: dict[str, int] = {}
    for i in range(0, len(keys), 500):
        found = db.session.execute(
            sa.select(DiaryEntry.submission_key, DiaryEntry.id).where(
                DiaryEntry.submission_key.in_(keys[i : i + 500])
            )
        )
        entry_ids.update({key: entry_id for key, entry_id in found})
    for flag in flags:
        flag["entry_id"] = entry_ids[flag.pop("submission_key")]
    _insert(RedFlag.__table__, flags)
    counts["red flags"] += len(flags)
    counts["open red flags"] += sum(flag["acknowledged_at"] is None for flag in flags)
    return done


def _load_measures(
    clinic_id: int,
    plans: Sequence[_Planned],
    patient_ids: Sequence[int],
    built: Sequence[Any],
    zone: ZoneInfo,
    today: date,
    counts: Counter[str],
) -> None:
    """Pain (0-10) every four weeks for most patients and dilator confidence for some,
    assigned at the start, answered at the baseline and on most occasions since (and at
    discharge), scored as on submission."""
    instruments = shipped_instruments()
    assignments: list[dict[str, Any]] = []
    answers: list[tuple[int, Instrument, list[tuple[str, date, float]]]] = []
    for i, (p, patient_id, b) in enumerate(zip(plans, patient_ids, built, strict=True)):
        if p.j % 5 == 4:
            continue  # not every clinician uses questionnaires
        discharged = p.steps[-1].on if p.steps and p.steps[-1].kind is EventKind.COMPLETE else None
        keys = ["pain-nrs"] + (["dilator-confidence"] if p.j % 3 == 0 else [])
        for key in keys:
            assignments.append(
                {
                    "clinic_id": clinic_id,
                    "patient_id": patient_id,
                    "instrument_key": key,
                    "cadence": "repeating",
                    "on": None,
                    "every_weeks": MEASURED_EVERY_WEEKS,
                    "at_discharge": True,
                    "assigned_on": p.start,
                    "assigned_by_id": p.clinician_id,
                    "created_at": b.protocol["created_at"],
                }
            )
            answers.append((i, instruments[key], _occasions(p, today, discharged)))
    assignment_ids = _insert(MeasureAssignment.__table__, assignments, ids=True)
    counts["measure assignments"] += len(assignment_ids)
    responses = []
    for assignment_id, row, (i, instrument, occasions) in zip(
        assignment_ids, assignments, answers, strict=True
    ):
        rng = plans[i].rng
        for key, on, progress in occasions:
            if key != "baseline" and rng.random() < 0.2:
                continue  # not answered (it shows as overdue)
            given = _answers(instrument, progress, rng)
            result = score(instrument, given)
            sent = datetime.combine(on, datetime.min.time(), zone) + timedelta(
                hours=rng.randint(8, 21)
            )
            domains = {
                d.key: float(d.score) if d.score is not None else None for d in result.domains
            }
            responses.append(
                {
                    "clinic_id": clinic_id,
                    "patient_id": row["patient_id"],
                    "assignment_id": assignment_id,
                    "occasion_key": key,
                    "occasion_on": on,
                    "instrument_key": instrument.key,
                    "instrument_version": instrument.version,
                    "answers": json.dumps(scored_answers(instrument, given), sort_keys=True),
                    "started_at": sent.astimezone(UTC),
                    "saved_at": sent.astimezone(UTC),
                    "submitted_at": sent.astimezone(UTC),
                    "total": float(result.total) if result.total is not None else None,
                    "band_label": result.band.label if result.band is not None else "",
                    "domains": json.dumps(domains, sort_keys=True),
                    "valid": result.valid,
                    "invalid_reason": "; ".join(result.reasons),
                }
            )
    _insert(MeasureResponse.__table__, responses)
    counts["questionnaire answers"] += len(responses)


def _occasions(p: _Planned, today: date, discharged: date | None) -> list[tuple[str, date, float]]:
    """The occasions up to yesterday (or discharge): key, day, and how far through the
    programme (0 to 1) the patient was, which their answers follow."""
    end = min(today - timedelta(days=1), discharged or today)
    span = max(1, (end - p.start).days)
    found = [("baseline", p.start, 0.0)]
    n = 1
    while (day := p.start + timedelta(weeks=MEASURED_EVERY_WEEKS * n)) <= end:
        found.append((f"week-{MEASURED_EVERY_WEEKS * n}", day, (day - p.start).days / span))
        n += 1
    if discharged is not None:
        found.append(("discharge", discharged, 1.0))
    return found


def _answers(instrument: Instrument, progress: float, rng: random.Random) -> dict[str, int | None]:
    """Answers that improve as the programme goes on: about a third of the way up the
    scale from the worst answer at the start, most of the way by the end."""
    given: dict[str, int | None] = {}
    lower_is_better = instrument.total is not None and instrument.total.better == "lower"
    for item in instrument.items:
        values = sorted(item.values, reverse=lower_is_better)
        place = (0.3 + 0.6 * progress) * (len(values) - 1) + rng.gauss(0, 1)
        given[item.key] = values[min(len(values) - 1, max(0, round(place)))]
    return given


def _load_reminders(
    clinic: Clinic,
    plans: Sequence[_Planned],
    patient_ids: Sequence[int],
    built: Sequence[Any],
    now: datetime,
    counts: Counter[str],
) -> None:
    """Reminders at the times proposed from the current stage's schedule, for one patient
    in REMINDERS_EVERY whose programme is open; on since their start."""
    rows = []
    for p, patient_id, b in zip(plans, patient_ids, built, strict=True):
        if p.j % REMINDERS_EVERY != 1 or b.status not in (
            ProtocolStatus.ACTIVE,
            ProtocolStatus.PAUSED,
        ):
            continue
        state = in_force_on(b.timeline, now.date())
        stage = p.template.stages[(state.stage if state else 1) - 1]
        slots = proposed_slots(stage.sessions, stage.period is Period.WEEK)
        since = b.protocol["created_at"]
        settings = Settings(
            slots=slots,
            zone=clinic.timezone,
            since=since,
            nudge_after_days=clinic.reminder_nudge_days,
        )
        rows.append(
            {
                "clinic_id": clinic.id,
                "patient_id": patient_id,
                "enabled": True,
                "since": since,
                "slots_text": slots_text(slots),
                "quiet_from_minute": None,
                "quiet_to_minute": None,
                "timezone": None,
                "subject": "reminder",
                "show_clinic_name": False,
                "by_email": True,
                "by_push": False,
                "next_due_at": next_due_at(settings, now),
                "revision": 1,
                "updated_at": since,
            }
        )
    _insert(ReminderPlan.__table__, rows)
    counts["reminder plans"] += len(rows)

"""Throughput benchmark: clinicians' pages against a trivial endpoint, on a big caseload.

Run with `make bench` (options through BENCH_ARGS, e.g.
`make bench BENCH_ARGS="--patients 100 --seconds 3 --pages dashboard,timeline"`).

It builds a SQLite database with the demo data plus a big caseload (default 1,000
patients, half for each Northside clinician): every bench patient has a protocol started
about a year ago and moved up through its stages since, and a year of diary entries
(sessions at roughly the prescribed frequency, skips with their reasons, days without
any entry, pain mostly low with higher days, red flags as the rules raise them, a few
still open). Then it serves the app with gunicorn, signs in as a clinician and loads each
page with wrk from a second process.

Machines here are shared and noisy, so the figure that matters is the ratio to the
trivial endpoint (/healthz), measured in the same run before and after the pages. A page
that does not answer 200 (not written yet, for instance) is reported and skipped.

The report benchmark (`--report also`, the default; `--report only` for it alone, without
wrk or gunicorn) renders the 12-week progress report of a demo patient with a diary in
this warm process, `--renders` times, interleaved with as many renders of a one-paragraph
document through the same pipeline; it prints both medians and their ratio against the
target (the report takes at most 10x the paragraph).

The mail benchmark (`--mail also`, the default, after the pages; `--mail only` for it
alone, without wrk or gunicorn; see tests/bench/mail.py) sends `--messages` messages
through the real worker to an SMTP server on the loopback and as many with a plain
smtplib loop, prints both rates and their ratio (target: the worker at least half the
loop), then the time from a red-flag diary entry to the clinician's email at the server
(median and 95th percentile).

The reminders benchmark (`--reminders also`, the default, last; `--reminders only` for it
alone; see tests/bench/reminders.py) makes `--reminder-patients` patients (default 10,000)
whose reminders fall due in the same minute, has the real worker run the reminders job and
deliver every message to the SMTP server, and compares the time from due to delivered
with a plain smtplib loop sending as many messages (target: at least half its speed).

The fault drill (`--faults also`, the default, last; `--faults only` for it alone; see
tests/bench/faults.py) posts diary entries with wrk while a private PostgreSQL is stopped,
crashed and started and workers are SIGKILLed, then checks the database against every
answer and counts the messages the killed worker's successor delivered.

Not part of the test suite: timings never decide whether tests pass.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from io import BytesIO
from pathlib import Path
from statistics import median
from typing import Any
from zoneinfo import ZoneInfo

from pypdf import PdfReader
from sqlalchemy import insert, select

# This checkout's `clinic` and `tests` (the virtualenv's editable install may be another's).
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from clinic import create_app
from clinic.core.clock import clinic_today
from clinic.demo import DEMO_PASSWORD, SKIP_REASONS, seed_demo
from clinic.domain.diary import Bleeding, FlagReason, SessionReport, red_flags
from clinic.domain.indications import Indication
from clinic.domain.protocols import Event, EventKind, Period, ProtocolStatus, in_force_on
from clinic.extensions import db
from clinic.models import (
    Clinic,
    DiaryEntry,
    Patient,
    ProtocolTemplate,
    RedFlag,
    Role,
    User,
)
from clinic.monitoring import upkeep
from clinic.protocols.queries import timeline
from clinic.protocols.services import record_event, start_protocol
from clinic.reporting.pdf import html_to_pdf
from clinic.reporting.progress import (
    build_progress_report,
    default_period,
    latest_protocol,
    progress_report_pdf,
)
from tests.bench.faults import FaultFigures, measure_faults, report_faults
from tests.bench.mail import MailFigures, measure_mail, report_mail
from tests.bench.reminders import ReminderFigures, measure_reminders, report_reminders

ROOT = Path(__file__).resolve().parents[2]
CLINIC_NAME = "Northside Pelvic Health"
CLINICIANS = ("physio@northside.example", "physio2@northside.example")
SIGN_IN_AS = CLINICIANS[0]
BASELINE = ("trivial endpoint (/healthz)", "/healthz")

# The pages, in the order they are measured: name for --pages -> (label, path). {patient}
# is a bench patient of the signed-in clinician with a year of logs.
PAGES = {
    "caseload": ("caseload list (/patients/)", "/patients/"),
    "search": ("caseload search (?q=Bench 004)", "/patients/?q=Bench+004"),
    "protocol": ("protocol page (a year of events)", "/patients/{patient}/protocol/"),
    "dashboard": ("dashboard (/dashboard/)", "/dashboard/"),
    "dashboard-all": ("dashboard, whole clinic (/dashboard/?who=all)", "/dashboard/?who=all"),
    "timeline": ("patient timeline (/patients/<id>/timeline)", "/patients/{patient}/timeline"),
}

# The report benchmark: a demo patient whose diary covers the whole 12 weeks (Avery Quinn:
# 120 days of daily and then weekly sessions, a red flag, stage changes).
REPORT_PATIENT = "Avery Quinn"
REPORT_TARGET = 10  # the report may take at most this many times the one-paragraph document
ONE_PARAGRAPH = """<!doctype html>
<html lang="en-GB"><head><meta charset="utf-8"><title>One paragraph</title></head>
<body><p>Please continue your dilator program as agreed at your last appointment, and
contact the clinic if you have any questions.</p></body></html>"""

# wrk drops a response slower than its timeout (2 s by default) from the latency figures
# and counts it as a timeout: give slow pages time, so their percentiles are real.
WRK_TIMEOUT = 30
INSERT_CHUNK = 10_000  # diary rows per bulk INSERT (and per commit)
OPEN_RED_FLAG_EVERY = 50  # one bench patient in 50 has an open red flag from the last days
SILENT_EVERY = 25  # one in 25 stopped logging a week to a month ago
REVIEW_DUE_EVERY = 10  # one in 10 has a review date that has come
# Why a clinician moved a bench patient up.
ADVANCE_REASONS = (
    "Comfortable at this size in recent sessions; pain low.",
    "Insertion easy; ready for the next size.",
    "Pain 2/10 or less for two weeks; moving up.",
    "Sessions regular and comfortable.",
)


def log(message: str) -> None:
    """Progress and seeding figures go to stderr; the results table goes to stdout."""
    print(message, file=sys.stderr, flush=True)


# Seeding ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class StagePrescription:
    """What a diary entry needs from the stage it was logged under."""

    dilator_size_id: int
    minutes: int
    sessions: int
    period: Period
    red_flag_pain: int
    target_depth_cm: float | None


@dataclass(frozen=True)
class BenchPatient:
    """One seeded patient, as plain values: enough to write their diary without the ORM."""

    n: int
    patient_id: int
    user_id: int
    clinician_id: int
    protocol_id: int
    events: list[Event]  # the protocol's timeline, as the rules read it
    stages: dict[int, list[StagePrescription]]  # per protocol version number, stage 1 first


@dataclass
class SeedCounts:
    """What seeding inserted, for the report."""

    patients: int = 0
    events: int = 0
    entries: int = 0
    skips: int = 0
    red_flags: int = 0
    open_red_flags: int = 0


def seed(database_url: str, patients: int) -> int | None:
    """Build the bench database: the demo data plus `patients` bench patients with a year
    of history each. Returns the id of a bench patient of the signed-in clinician who
    logged all year (the patient whose pages are measured), None without bench patients."""
    os.environ["CLINIC_DATABASE_URL"] = database_url
    app = create_app({"PASSWORD_HASH_PARAMS": {"time_cost": 1, "memory_cost": 8, "parallelism": 1}})
    counts = SeedCounts(patients=patients)
    with app.app_context():
        db.create_all()
        seed_demo()
        db.session.commit()
        clinic = db.session.scalar(select(Clinic).where(Clinic.name == CLINIC_NAME))
        today = clinic_today(clinic.timezone)

        # Each patient's summary and flags are computed once, after their whole year is in,
        # not at every commit of the replay (which would also raise "not logging" flags for
        # protocols whose diaries are not seeded yet).
        with upkeep.deferred():
            started = time.perf_counter()
            bench = seed_protocols(clinic, patients, today)
            counts.events = sum(len(p.events) for p in bench)
            log(
                f"seeded {patients} patients, {patients} protocols with {counts.events} "
                f"events in {time.perf_counter() - started:.1f} s"
            )
            started = time.perf_counter()
            seed_diaries(clinic, bench, today, counts)
            log(
                f"seeded {counts.entries} diary entries ({counts.skips} skips) and "
                f"{counts.red_flags} red flags ({counts.open_red_flags} open) "
                f"in {time.perf_counter() - started:.1f} s"
            )
            started = time.perf_counter()
        # As the dashboard's first visit of the day would: the summaries are current, so
        # the benchmark measures the steady state, not the once-a-day refresh.
        clinic.summaries_on = today
        db.session.commit()
        log(f"refreshed the clinic's summaries in {time.perf_counter() - started:.1f} s")
    return bench[0].patient_id if bench else None


def seed_protocols(clinic: Clinic, count: int, today: date) -> list[BenchPatient]:
    """Add `count` patients (each with a portal account), alternately for each clinician,
    each on the vaginismus program from about a year ago, moved up stage by stage through
    the protocol services as a clinician would."""
    clinicians = [db.session.scalar(select(User).where(User.email == e)) for e in CLINICIANS]
    template = db.session.scalar(
        select(ProtocolTemplate).where(
            ProtocolTemplate.clinic_id == clinic.id,
            ProtocolTemplate.indication == Indication.VAGINISMUS,
        )
    )
    stage_values = [stage.stage_values() for stage in template.stages]
    password_hash = clinicians[0].password_hash  # the demo password: one hash, reused
    bench: list[BenchPatient] = []
    for n in range(count):
        rng = random.Random(f"protocol-{n}")
        clinician = clinicians[n % len(clinicians)]
        name = f"Bench Patient {n:05d}"
        user = User(
            clinic_id=clinic.id,
            email=f"bench.patient.{n:05d}@example.org",
            full_name=name,
            role=Role.PATIENT,
            password_hash=password_hash,
        )
        patient = Patient(
            clinic_id=clinic.id,
            user=user,
            full_name=name,
            date_of_birth=date(1970, 1, 1) + timedelta(days=(n * 37) % 12_000),
            clinic_identifier=f"B{n:06d}",
            indication=Indication.VAGINISMUS,
            responsible_clinician=clinician,
            review_on=_review_date(n, rng, today),
        )
        db.session.add(patient)
        db.session.flush()
        protocol = start_protocol(
            patient,
            clinician,
            name=template.name,
            route=template.route,
            stages=stage_values,
            start_stage=1,
            start_on=today - timedelta(days=365 - n % 7),
            today=today,
            template=template,
        )
        for day in _advance_days(rng, protocol.events[0].effective_on, today, len(stage_values)):
            record_event(
                protocol,
                EventKind.ADVANCE,
                clinician,
                expected_lock=str(protocol.lock_version),
                effective_on=day,
                today=today,
                reason=rng.choice(ADVANCE_REASONS),
            )
        bench.append(
            BenchPatient(
                n=n,
                patient_id=patient.id,
                user_id=user.id,
                clinician_id=clinician.id,
                protocol_id=protocol.id,
                events=timeline(protocol),
                stages={
                    v.number: [
                        StagePrescription(
                            s.dilator_size_id,
                            s.minutes,
                            s.sessions,
                            s.period,
                            s.red_flag_pain,
                            s.target_depth_cm,
                        )
                        for s in v.stages
                    ]
                    for v in protocol.versions
                },
            )
        )
        if n % 100 == 99:
            db.session.commit()
    db.session.commit()
    return bench


def _review_date(n: int, rng: random.Random, today: date) -> date:
    """Most reviews are planned weeks ahead; one patient in REVIEW_DUE_EVERY is due now."""
    if n % REVIEW_DUE_EVERY == 3:
        return today - timedelta(days=rng.randrange(7))
    return today + timedelta(days=rng.randint(7, 90))


def _advance_days(rng: random.Random, start: date, today: date, stage_count: int) -> list[date]:
    """When the patient moved up: every three weeks to a few months, at their own pace,
    until the last stage (or until last week)."""
    pace = rng.uniform(1.2, 3.5)
    days: list[date] = []
    day = start
    while len(days) < stage_count - 1:
        day += timedelta(days=round(rng.randint(18, 35) * pace))  # at least the 14 days
        if day > today - timedelta(days=7):
            break
        days.append(day)
    return days


def seed_diaries(
    clinic: Clinic, bench: Sequence[BenchPatient], today: date, counts: SeedCounts
) -> None:
    """A year of diary entries per bench patient, inserted with bulk INSERTs in chunks,
    then the red flags those entries raise (acknowledged, except a few recent ones)."""
    zone = ZoneInfo(clinic.timezone)
    now = datetime.now(UTC)
    rows: list[dict[str, Any]] = []
    flags: list[dict[str, Any]] = []  # each with the submission key of its entry
    for patient in bench:
        for row, raised in _diary(patient, clinic.id, zone, today, now):
            rows.append(row)
            flags.extend(raised)
            counts.entries += 1
            counts.skips += row["skipped"]
        if len(rows) >= INSERT_CHUNK:
            db.session.execute(insert(DiaryEntry), rows)
            db.session.commit()
            rows.clear()
    if rows:
        db.session.execute(insert(DiaryEntry), rows)
        db.session.commit()

    keys = [flag["submission_key"] for flag in flags]
    entry_ids: dict[str, int] = {}
    for i in range(0, len(keys), 500):
        entry_ids.update(
            db.session.execute(
                select(DiaryEntry.submission_key, DiaryEntry.id).where(
                    DiaryEntry.submission_key.in_(keys[i : i + 500])
                )
            ).all()
        )
    for flag in flags:
        flag["entry_id"] = entry_ids[flag.pop("submission_key")]
    if flags:
        db.session.execute(insert(RedFlag), flags)
    db.session.commit()
    counts.red_flags = len(flags)
    counts.open_red_flags = sum(flag["acknowledged_at"] is None for flag in flags)


def _diary(
    patient: BenchPatient, clinic_id: int, zone: ZoneInfo, today: date, now: datetime
) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """The patient's entries from the protocol's start to yesterday, each with the red
    flags it raises, as rows for bulk INSERTs.

    Each patient has their own habits: how regularly they log (varying from week to week),
    how much pain they feel. Pain rises after each step up and eases over about two weeks;
    a few days are bad. Missed sessions are a skip with a reason or, less often, nothing.
    """
    rng = random.Random(f"diary-{patient.n}")
    regularity = rng.uniform(0.55, 0.97)
    sensitivity = rng.uniform(-0.5, 2.0)
    last_day = today - timedelta(days=1)
    if patient.n % SILENT_EVERY == SILENT_EVERY // 2:
        last_day = today - timedelta(days=rng.randint(7, 30))  # stopped logging
    open_flag_day = None
    if patient.n % OPEN_RED_FLAG_EVERY == OPEN_RED_FLAG_EVERY // 2:
        open_flag_day = today - timedelta(days=rng.randint(1, 3))

    adherence = regularity
    first = patient.events[0].effective_on
    for day in (first + timedelta(days=d) for d in range((last_day - first).days + 1)):
        if day.weekday() == 0:  # some weeks go better than others
            adherence = min(1.0, max(0.1, regularity + rng.uniform(-0.25, 0.1)))
        state = in_force_on(patient.events, day)
        if state is None or state.status is not ProtocolStatus.ACTIVE:
            continue
        stage = patient.stages[state.version][state.stage - 1]
        if stage.period is Period.DAY:
            per_day = stage.sessions
        else:
            per_day = 1 if rng.random() < stage.sessions / 7 else 0
        if day == open_flag_day:
            per_day = max(per_day, 1)
        for i, hour in enumerate(sorted(rng.sample(range(7, 22), per_day))):
            occurred_at = datetime.combine(day, clock_time(hour, rng.randrange(60)), zone)
            created_at = min(now, occurred_at + timedelta(minutes=rng.randint(2, 90)))
            row = {
                "clinic_id": clinic_id,
                "patient_id": patient.patient_id,
                "protocol_id": patient.protocol_id,
                "version_number": state.version,
                "stage": state.stage,
                "occurred_at": occurred_at.astimezone(UTC),
                "occurred_on": day,
                "submission_key": f"bench-{patient.patient_id}-{day.isoformat()}-{i}",
                "created_by_id": patient.user_id,
                "created_at": created_at.astimezone(UTC),
                "updated_at": None,
                "withdrawn_at": None,
                "note": "",
                "skip_other": "",
            }
            flagged = day == open_flag_day and i == 0
            if not flagged and rng.random() > adherence:
                if rng.random() < 0.4:
                    continue  # missed without a word, as often happens
                yield row | _skip(rng), []
                continue
            session = _session(rng, stage, (day - state.stage_since).days, sensitivity)
            if flagged:
                session.update(pain_during=8, pain_after=7)  # a recent red flag, still open
            report = SessionReport(
                session["pain_during"],
                session["pain_after"],
                session["bleeding"],
                session["sharp_pain"],
            )
            raised = [
                _red_flag(row, reason, max(report.pain_during, report.pain_after))
                | _acknowledgement(rng, row["created_at"], patient.clinician_id, now, flagged)
                for reason in red_flags(report, stage.red_flag_pain)
            ]
            yield row | session, raised


def _skip(rng: random.Random) -> dict[str, Any]:
    """The columns of a skipped session."""
    return {
        "skipped": True,
        "skip_reason": rng.choice(SKIP_REASONS),
        "dilator_size_id": None,
        "minutes": None,
        "pain_during": None,
        "pain_after": None,
        "bleeding": None,
        "sharp_pain": None,
        "depth_cm": None,
    }


def _session(
    rng: random.Random, stage: StagePrescription, days_on_stage: int, sensitivity: float
) -> dict[str, Any]:
    """The columns of a session done: mostly the prescribed minutes, pain mostly low
    (`sensitivity` is the patient's usual level; higher for two weeks after a step up, and
    on the odd bad day), bleeding rarely."""
    settling = max(0.0, 3.0 - days_on_stage / 5)
    during = round(sensitivity + settling + rng.gauss(0, 0.9))
    if rng.random() < 0.02:
        during += rng.randint(2, 4)  # a bad day
    during = min(10, max(0, during))
    after = min(10, max(0, during + rng.choice((-2, -1, -1, 0, 0, 0, 1))))
    roll = rng.random()
    bleeding = (
        Bleeding.MORE if roll < 0.002 else Bleeding.SPOTTING if roll < 0.04 else Bleeding.NONE
    )
    minutes = stage.minutes
    if rng.random() > 0.8:
        minutes = max(1, minutes + rng.randint(-5, 5))
    return {
        "skipped": False,
        "skip_reason": None,
        "dilator_size_id": stage.dilator_size_id,
        "minutes": minutes,
        "pain_during": during,
        "pain_after": after,
        "bleeding": bleeding,
        "sharp_pain": rng.random() < 0.002,
        "depth_cm": stage.target_depth_cm,
    }


def _red_flag(entry: dict[str, Any], reason: FlagReason, pain: int) -> dict[str, Any]:
    """A red flag raised by `entry` (named by its submission key until it has an id)."""
    return {
        "submission_key": entry["submission_key"],
        "clinic_id": entry["clinic_id"],
        "patient_id": entry["patient_id"],
        "reason": reason,
        "pain": pain,
        "raised_at": entry["created_at"],
    }


def _acknowledgement(
    rng: random.Random, raised_at: datetime, clinician_id: int, now: datetime, still_open: bool
) -> dict[str, Any]:
    """The acknowledgement columns of a red flag: the responsible clinician acknowledged it
    within a day or so, unless it is `still_open`."""
    if still_open:
        return {"acknowledged_at": None, "acknowledged_by_id": None, "acknowledgement": ""}
    return {
        "acknowledged_at": min(now, raised_at + timedelta(hours=rng.uniform(1, 30))),
        "acknowledged_by_id": clinician_id,
        "acknowledgement": "Phoned the patient; advice given, plan unchanged.",
    }


# Measuring -------------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(port: int, workers: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Start gunicorn on `port` and wait until /healthz answers."""
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
    )
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz").read()
            return server
        except OSError:
            time.sleep(0.1)
    server.terminate()
    raise SystemExit("gunicorn did not answer /healthz within 10 s.")


def sign_in(base: str) -> str:
    """A clinician's session cookie, obtained through the real sign-in form."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/login").read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode(
        {"email": SIGN_IN_AS, "password": DEMO_PASSWORD, "csrf_token": token}
    ).encode()
    opener.open(base + "/login", data=form).read()
    return "; ".join(f"{c.name}={c.value}" for c in jar)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Report a redirect instead of following it (a redirect to /login means signed out)."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def probe(url: str, cookie: str) -> str | None:
    """None if the page answers 200 once; otherwise why it cannot be measured."""
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(urllib.request.Request(url, headers={"Cookie": cookie})) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status, location = exc.code, exc.headers.get("Location", "")
        if status == 404:
            return "not found (404): the page does not exist yet; skipped"
        if 300 <= status < 400:
            return f"redirected ({status}) to {location}; skipped"
        return f"answered {status} ({exc.reason}); skipped"
    return None if status == 200 else f"answered {status}; skipped"


def wrk(url: str, cookie: str, seconds: int, connections: int) -> dict[str, float]:
    """Requests per second, latency percentiles (ms) and error counts from one wrk run."""
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            f"--timeout={WRK_TIMEOUT}s",
            "--latency",
            "-H",
            f"Cookie: {cookie}",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    def ms(label: str) -> float:
        value, unit = re.search(rf"{label}\s+([\d.]+)(us|ms|s)", out).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: .*timeout (\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": ms("50%"),
        "p90": ms("90%"),
        "p99": ms("99%"),
        "errors": int(non_2xx.group(1)) if non_2xx else 0,
        "timeouts": int(socket_errors.group(1)) if socket_errors else 0,
    }


def measure(
    base: str, cookie: str, pages: Sequence[tuple[str, str]], seconds: int, connections: int
) -> list[tuple[str, dict[str, float] | str]]:
    """Each page's wrk figures (or why it was skipped), between two runs of the baseline."""
    results: list[tuple[str, dict[str, float] | str]] = []
    runs = [BASELINE, *pages, (BASELINE[0] + ", again", BASELINE[1])]
    for label, path in runs:
        log(f"measuring {label} ...")
        problem = probe(base + path, cookie)
        results.append((label, problem or wrk(base + path, cookie, seconds, connections)))
    return results


def report(results: list[tuple[str, dict[str, float] | str]], args: argparse.Namespace) -> None:
    """The results table: req/s, its ratio to the trivial endpoint, latency percentiles."""
    baselines = [r["rps"] for label, r in results if label.startswith(BASELINE[0])]
    baseline = sum(baselines) / len(baselines)
    width = max(len(label) for label, _ in results) + 1
    print(f"\n{args.workers} gunicorn workers, wrk {args.connections} connections,", end=" ")
    print(f"{args.seconds} s each, {args.patients} bench patients\n")
    print(f"{'page':{width}} {'req/s':>8} {'ratio':>7} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8}")
    for label, r in results:
        if isinstance(r, str):
            print(f"{label:{width}} {r}")
            continue
        print(f"{label:{width}} {r['rps']:8.0f} {r['rps'] / baseline:7.3f}", end=" ")
        print(f"{r['p50']:8.1f} {r['p90']:8.1f} {r['p99']:8.1f}", end="")
        if r["errors"] or r["timeouts"]:
            print(f"  ({r['errors']:.0f} error responses, {r['timeouts']:.0f} timeouts)", end="")
        print()
    print(f"\nratio: req/s over the mean of the two {BASELINE[1]} runs ({baseline:.0f} req/s)")


# The report benchmark -------------------------------------------------------------------


@dataclass(frozen=True)
class ReportFigures:
    """Render times (seconds) of the progress report and of the one-paragraph document."""

    patient: str
    period: str
    pages: int
    size_bytes: int
    paper: str
    first_report: float  # the first render of each, in a process that had rendered nothing
    first_paragraph: float
    report: list[float]
    paragraph: list[float]


def _timed(render: Any) -> tuple[float, bytes]:
    started = time.perf_counter()
    pdf = render()
    return time.perf_counter() - started, pdf


def measure_report(renders: int) -> ReportFigures:
    """The demo patient's 12-week progress report rendered `renders` times in this
    process (its content built once, as the report's page does before rendering), each
    render next to one of a one-paragraph document through the same pipeline
    (`html_to_pdf`: print stylesheet, the clinic's paper, PDF/UA), so both see the same
    noise. A first render of each warms the process (fonts, stylesheet) and is reported
    apart."""
    app = create_app()
    with app.test_request_context():
        patient = db.session.scalar(select(Patient).where(Patient.full_name == REPORT_PATIENT))
        protocol = latest_protocol(patient)
        period_from, period_to = default_period(protocol, clinic_today(patient.clinic.timezone))
        content = build_progress_report(
            patient,
            protocol,
            period_from,
            period_to,
            author=patient.responsible_clinician,
            assessment="Dilating regularly; pain settling after each step up.",
            plan="Continue at the current size; review in four weeks.",
        )
        paper = patient.clinic.paper_size
        first_report, pdf = _timed(lambda: progress_report_pdf(content))
        first_paragraph, _ = _timed(lambda: html_to_pdf(ONE_PARAGRAPH, paper))
        report_times: list[float] = []
        paragraph_times: list[float] = []
        for n in range(renders):
            log(f"rendering the report and the paragraph ({n + 1} of {renders}) ...")
            paragraph_times.append(_timed(lambda: html_to_pdf(ONE_PARAGRAPH, paper))[0])
            report_times.append(_timed(lambda: progress_report_pdf(content))[0])
    return ReportFigures(
        patient=REPORT_PATIENT,
        period=f"{period_from.day} {period_from:%b %Y} to {period_to.day} {period_to:%b %Y}",
        pages=len(PdfReader(BytesIO(pdf)).pages),
        size_bytes=len(pdf),
        paper=paper,
        first_report=first_report,
        first_paragraph=first_paragraph,
        report=report_times,
        paragraph=paragraph_times,
    )


def report_rendering(figures: ReportFigures) -> None:
    """The report benchmark's results: medians (and range) in ms, and the ratio."""
    report_ms, paragraph_ms = median(figures.report) * 1000, median(figures.paragraph) * 1000
    ratio = report_ms / paragraph_ms
    size = f"{figures.pages} pages, {figures.size_bytes / 1024:.0f} KiB, {figures.paper}"
    print(f"\nprogress report of {figures.patient}, {figures.period} ({size})")
    print(f"{len(figures.report)} renders in a warm process, each next to a one-paragraph", end=" ")
    print("document (html_to_pdf)\n")
    print(f"{'document':24} {'median ms':>10} {'min ms':>8} {'max ms':>8} {'first ms':>9}")
    for label, times, first in (
        ("one paragraph", figures.paragraph, figures.first_paragraph),
        ("12-week progress report", figures.report, figures.first_report),
    ):
        print(f"{label:24} {median(times) * 1000:10.1f} {min(times) * 1000:8.1f}", end=" ")
        print(f"{max(times) * 1000:8.1f} {first * 1000:9.1f}")
    print("(first: the first render of each in the process, the report's first; not counted)")
    verdict = "within" if ratio <= REPORT_TARGET else "OVER"
    print(f"\nratio: {ratio:.1f}x the one-paragraph document ({verdict} the target of", end=" ")
    print(f"{REPORT_TARGET}x)")


def page_names(value: str) -> list[str]:
    """--pages: a comma-separated list of names from PAGES."""
    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = sorted(set(names) - set(PAGES))
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown page {', '.join(unknown)}; choose from {', '.join(PAGES)}"
        )
    return names


def main() -> None:
    """Seed, serve, measure, report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=1000, help="bench patients to seed")
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration per page")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument(
        "--pages",
        type=page_names,
        default=list(PAGES),
        help=f"comma-separated pages to measure (default all: {','.join(PAGES)})",
    )
    parser.add_argument(
        "--report",
        choices=("also", "only", "skip"),
        default="also",
        help="the progress report benchmark: after seeding, before the pages (default), "
        "alone (no wrk, no gunicorn, no bench patients), or not at all",
    )
    parser.add_argument(
        "--renders", type=int, default=25, help="renders of the report and of the paragraph"
    )
    parser.add_argument(
        "--mail",
        choices=("also", "only", "skip"),
        default="also",
        help="the mail benchmark (worker vs a plain SMTP loop, alert latency): after the "
        "pages (default), alone (no wrk, no gunicorn, no bench patients), or not at all",
    )
    parser.add_argument("--messages", type=int, default=500, help="messages per mail sender")
    parser.add_argument(
        "--latency-samples", type=int, default=10, help="red-flag entries timed one by one"
    )
    parser.add_argument(
        "--reminders",
        choices=("also", "only", "skip"),
        default="also",
        help="the reminders benchmark (reminders due in the same minute, queued and delivered, "
        "vs a plain SMTP loop): last (default), alone (no wrk, no gunicorn), or not at all",
    )
    parser.add_argument(
        "--reminder-patients",
        type=int,
        default=10_000,
        help="patients whose reminders fall due in the same minute",
    )
    parser.add_argument(
        "--faults",
        choices=("also", "only", "skip"),
        default="also",
        help="the fault drill (PostgreSQL restarted, workers killed under wrk; see "
        "tests/bench/faults.py): last (default), alone, or not at all",
    )
    args = parser.parse_args()
    if args.faults == "only":
        args.report, args.mail, args.reminders = "skip", "skip", "skip"
    if args.reminders == "only":
        args.report, args.mail = "skip", "skip"
    if args.mail == "only":
        args.report = "skip"
        args.reminders = "skip"
    if args.reminder_patients < 2:
        parser.error("--reminder-patients must be at least 2")
    if args.patients < 1:
        parser.error("--patients must be at least 1")
    if args.renders < 1:
        parser.error("--renders must be at least 1")
    if args.messages < 2 or args.latency_samples < 1:
        parser.error("--messages must be at least 2 and --latency-samples at least 1")
    pages_too = args.report != "only" and args.mail != "only" and args.reminders != "only"
    pages_too = pages_too and args.faults != "only"
    if pages_too and shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk (make bench does this).")

    with tempfile.TemporaryDirectory() as tmp:
        database_url = f"sqlite:///{tmp}/bench.sqlite3"
        env = {
            **os.environ,
            "CLINIC_ENV": "development",
            "SECRET_KEY": "bench-only-secret",
            "CLINIC_DATABASE_URL": database_url,
        }
        os.environ.update(env)
        started = time.perf_counter()
        patient_id = seed(database_url, args.patients if pages_too else 0)
        log(f"seeding took {time.perf_counter() - started:.1f} s in all")
        # Before gunicorn starts, so nothing else competes for the CPU.
        figures = None if args.report == "skip" else measure_report(args.renders)

        results = None
        if pages_too:
            port = free_port()
            server = serve(port, args.workers, env)
            try:
                base = f"http://127.0.0.1:{port}"
                pages = [
                    (PAGES[name][0], PAGES[name][1].format(patient=patient_id))
                    for name in args.pages
                ]
                results = measure(base, sign_in(base), pages, args.seconds, args.connections)
            finally:
                server.terminate()
                server.wait(timeout=10)
        mail: MailFigures | None = None
        if args.mail != "skip":
            mail = measure_mail(
                database_url, Path(tmp), args.messages, args.latency_samples, free_port
            )
        reminders: ReminderFigures | None = None
        if args.reminders != "skip":
            reminders = measure_reminders(
                database_url, Path(tmp), args.reminder_patients, free_port
            )
        faults: FaultFigures | None = None
        if args.faults != "skip":
            faults = measure_faults(Path(tmp))
    if results is not None:
        report(results, args)
    if figures is not None:
        report_rendering(figures)
    if mail is not None:
        report_mail(mail)
    if reminders is not None:
        report_reminders(reminders)
    if faults is not None:
        report_faults(faults)


if __name__ == "__main__":
    main()

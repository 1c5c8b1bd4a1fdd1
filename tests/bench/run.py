"""Throughput benchmark: clinicians' and patients' pages against a trivial endpoint, on
synthetic clinics of a given size, on SQLite or PostgreSQL.

Run with `make bench` (options through BENCH_ARGS, e.g.
`make bench BENCH_ARGS="--database postgresql --patients 1000,10000 --seconds 10"` or
`make bench BENCH_ARGS="--patients 100 --seconds 3 --pages dashboard,timeline"`).

For each size in `--patients` (a comma list) it makes a fresh database (`--database`:
a SQLite file, or a uniquely named database on the PostgreSQL server at 127.0.0.1:5432 as
user postgres, dropped at the end), migrates it and fills it with `flask seed-load`
(clinic.loadgen: `--clinics` clinics sharing the patients, each patient on a protocol
started within the last year with a diary, red flags, questionnaires), plus the demo data
(the report and mail benchmarks use its patients). Then it serves the app with gunicorn,
signs in as the clinician seed-load printed for the first clinic, and as that clinic's
printed patient for the portal pages, and loads each page with wrk from a second process.
Logging a session is a POST of the diary form with its CSRF token and a new submission key
per request (a wrk Lua script), signed in as up to `POSTERS` patients of that clinic with an
active plan (the printed one first), the script taking them in turn, so that requests at
the same moment are about different patients, as when many patients log; anything but the
form's success redirect counts as an error. The same POST by the printed patient alone from
every connection ("log-one", no target) shows what one patient's entries cost when they
queue behind each other: each entry's summary refresh takes that patient's summary row
until its commit.

Machines here are shared and noisy, so the figure that matters is the ratio to the
trivial endpoint (/healthz), measured in the same run before and after the pages; each
page has a target ratio (issue 18), marked met or MISSED. With more than one size, a last
table compares each page's ratio at the largest size with the smallest: a clinic's pages
should cost what the clinic holds, not what the server holds (flagged when more than 20%
slower). A page that does not answer 200 is reported and skipped.

The report benchmark (`--report also`, the default; `--report only` for it alone, without
wrk or gunicorn) renders the 12-week progress report of a demo patient with a diary in
this warm process, `--renders` times, interleaved with as many renders of a one-paragraph
document through the same pipeline; it prints both medians and their ratio against the
target (the report takes at most 10x the paragraph). The MDT pack's figures are
tests/bench/mdt_pack.py (same `--database`).

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

The report, mail and reminders benchmarks run once, on the first size's database.

Not part of the test suite: timings never decide whether tests pass.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
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
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO
from pathlib import Path
from statistics import median
from typing import Any
from zoneinfo import ZoneInfo

from pypdf import PdfReader
from sqlalchemy import create_engine, select, text

# This checkout's `clinic` and `tests` (the virtualenv's editable install may be another's).
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from flask_migrate import upgrade

from clinic import create_app
from clinic.auth.hashing import hash_password
from clinic.core.clock import clinic_today
from clinic.core.uow import unit_of_work
from clinic.demo import seed_demo
from clinic.domain.protocols import ProtocolStatus
from clinic.extensions import db
from clinic.loadgen import load as loadgen
from clinic.models import Clinic, Patient, Protocol, User
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
BASELINE = ("trivial endpoint (/healthz)", "/healthz")
BENCH_PASSWORD = "bench-load-pass-2026"  # every account seed-load makes here
POSTGRES_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
# Every request of the benchmark names the same browser, as a real browser's do: the
# sign-in keeps who signed in from which browser (Flask-Login's session protection), and
# a session used from another one is marked not fresh, its cookie signed and sent again on
# every answer. (wrk sends no User-Agent of its own; urllib sends "Python-urllib/3.x".)
USER_AGENT = "clinic-bench/1 (wrk and urllib)"


@dataclass(frozen=True)
class Page:
    """A page to measure: its label, path ({patient}: the signed-in clinician's printed
    patient), who loads it, its target ratio to the trivial endpoint (None: none set),
    whether it is the diary form's POST, and whether that POST is sent by the printed
    patient alone (`one_patient`) rather than by several patients in turn."""

    label: str
    path: str
    as_patient: bool = False
    target: float | None = None
    post: bool = False
    one_patient: bool = False


# The pages, in the order they are measured: name for --pages -> Page. Targets: issue 18.
PAGES = {
    "caseload": Page("caseload list (/patients/)", "/patients/", target=0.30),
    "search": Page("caseload search (?q=Patient 0004)", "/patients/?q=Patient+0004"),
    "protocol": Page("protocol page", "/patients/{patient}/protocol/", target=0.30),
    # No target of its own; measured because its "recent access" once read the whole audit
    # trail per event shown (see migration i18_erasures).
    "record": Page("patient record (/patients/N)", "/patients/{patient}"),
    "dashboard": Page("dashboard (/dashboard/)", "/dashboard/", target=0.35),
    "dashboard-all": Page("dashboard, whole clinic (?who=all)", "/dashboard/?who=all"),
    "timeline": Page("patient timeline", "/patients/{patient}/timeline", target=0.15),
    "today": Page("portal Today (/diary/)", "/diary/", as_patient=True, target=0.35),
    "progress": Page(
        "portal progress (/diary/progress)", "/diary/progress", as_patient=True, target=0.35
    ),
    "log": Page(
        "logging a session (POST /diary/log)",
        "/diary/log",
        as_patient=True,
        target=0.20,
        post=True,
    ),
    "log-one": Page(
        "logging a session, one patient, 16 at once",
        "/diary/log",
        as_patient=True,
        post=True,
        one_patient=True,
    ),
}
POSTERS = 16  # patients the diary POST is sent as, in turn (at most)
SLOWER_LIMIT = 0.8  # a page's ratio at the largest size at least this share of the smallest's

# The report benchmark: a demo patient whose diary covers the whole 12 weeks (Avery Quinn:
# 120 days of daily and then weekly sessions, a red flag, stage changes).
REPORT_PATIENT = "Avery Quinn"
REPORT_TARGET = 10  # the report may take at most this many times the one-paragraph document
ONE_PARAGRAPH = """<!doctype html>
<html lang="en-GB"><head><meta charset="utf-8"><title>One paragraph</title></head>
<body><p>Please continue your dilator program as agreed at your last appointment, and
contact the clinic if you have any questions.</p></body></html>"""

# wrk drops a response slower than its timeout (2 s by default) from the latency figures

# wrk drops a response slower than its timeout (2 s by default) from the latency figures
# and counts it as a timeout: give slow pages time, so their percentiles are real.
WRK_TIMEOUT = 30


def log(message: str) -> None:
    """Progress and seeding figures go to stderr; the results table goes to stdout."""
    print(message, file=sys.stderr, flush=True)


# The database ----------------------------------------------------------------------------


@contextmanager
def bench_database(kind: str, folder: Path) -> Iterator[str]:
    """The URL of a new empty database of `kind` (sqlite or postgresql), dropped after."""
    name = f"clinic_bench_{uuid.uuid4().hex[:10]}"
    if kind == "sqlite":
        yield f"sqlite:///{folder / name}.sqlite3"
        return
    server = create_engine(POSTGRES_SERVER, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield POSTGRES_SERVER.rsplit("/", 1)[0] + "/" + name
    finally:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


# Seeding ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Loaded:
    """Who the benchmark signs in as: seed-load's printed clinician and patient of its
    first clinic, that patient's record, and the patients who post diary entries (the
    printed one first, then others of the clinic with an active plan)."""

    clinic: str
    clinician: str
    patient: str
    patient_id: int
    posters: tuple[str, ...] = ()


def seed(
    database_url: str, clinics: int, patients: int, seed_value: str = "bench"
) -> Loaded | None:
    """Migrate the database, add the demo data (the report and mail benchmarks use its
    patients), then what `flask seed-load` adds: `clinics` clinics sharing `patients`
    patients (none if 0). Returns whom to sign in as.

    The generator is called directly, after the demo data: the command itself refuses a
    database holding anything it did not make, the demo data included."""
    os.environ["CLINIC_DATABASE_URL"] = database_url
    app = create_app()
    loaded = None
    with app.app_context():
        started = time.perf_counter()
        upgrade()
        log(f"migrated the database in {time.perf_counter() - started:.1f} s")
        with unit_of_work():
            seed_demo()
        if patients:
            result = loadgen.load(
                clinics=clinics,
                patients=patients,
                years=1,
                password_hash=hash_password(BENCH_PASSWORD),
                seed=seed_value,
                progress=log,
            )
            counts = ", ".join(f"{n:,} {what}" for what, n in result.counts.items())
            log(f"seed-load: {counts} in {result.seconds:.1f} s")
            first = result.clinics[0]
            log(f"signing in as {first.clinician_email} and {first.patient_email}")
            loaded = Loaded(
                first.name,
                first.clinician_email,
                first.patient_email,
                first.patient_id,
                posters(first.name, first.patient_email),
            )
        db.engine.dispose()
    return loaded


def posters(clinic: str, printed: str) -> tuple[str, ...]:
    """The sign-in emails of up to `POSTERS` patients of `clinic` with an active plan: the
    printed patient first, then the others in the order of their records."""
    emails = db.session.scalars(
        select(User.email)
        .join(Patient, Patient.user_id == User.id)
        .join(Clinic, Clinic.id == Patient.clinic_id)
        .join(Protocol, Protocol.patient_id == Patient.id)
        .where(
            Clinic.name == clinic,
            Protocol.status == ProtocolStatus.ACTIVE,
            User.email != printed,
        )
        .order_by(Patient.id)
        .limit(POSTERS - 1)
    ).all()
    return (printed, *emails)


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


def sign_in(base: str, email: str) -> str:
    """A session cookie for `email`, obtained through the real sign-in form."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.addheaders = [("User-Agent", USER_AGENT)]
    page = opener.open(base + "/login").read().decode()
    form = urllib.parse.urlencode(
        {"email": email, "password": BENCH_PASSWORD, "csrf_token": _csrf(page)}
    ).encode()
    opener.open(base + "/login", data=form).read()
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    if found is None:
        raise SystemExit("No CSRF token in the page: is the form there?")
    return found.group(1)


def _selected(page: str, name: str) -> str:
    """The value the form prefilled for the field `name` (an <input> or a <select>)."""
    field = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', page)
    if field is None:
        select_html = re.search(rf'<select[^>]*name="{name}".*?</select>', page, re.S)
        field = select_html and re.search(
            r'<option[^>]*selected[^>]*value="([^"]*)"|<option[^>]*value="([^"]*)"[^>]*selected',
            select_html.group(0),
        )
        if field is None:
            raise SystemExit(f"The diary form has no {name} field.")
        return field.group(1) or field.group(2)
    return field.group(1)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Report a redirect instead of following it (a redirect to /login means signed out)."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def session_form(base: str, cookie: str, zone: str) -> str:
    """The diary form's fields as the patient would send them (the prescribed dilator and
    minutes, low pain, no bleeding), without the submission key and the note: url-encoded.
    Each post adds its key, and its key as its note too: the same answers again within
    half an hour would be held as a repeat (clinic.diary.services.find_repeat), so each
    post is the ordinary case, a repeat looked for and none found."""
    request = urllib.request.Request(
        base + "/diary/log", headers={"Cookie": cookie, "User-Agent": USER_AGENT}
    )
    page = urllib.request.urlopen(request).read().decode()
    return urllib.parse.urlencode(
        {
            "csrf_token": _csrf(page),
            "when": datetime.now(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M"),
            "dilator_size_id": _selected(page, "dilator_size_id"),
            "minutes": _selected(page, "minutes"),
            "pain_during": "1",
            "pain_after": "1",
            "bleeding": "none",
            "sharp_pain": "no",
        }
    )


def probe(url: str, cookie: str, body: str | None = None) -> str | None:
    """None if the page answers 200 once (a POST: its success redirect to the entry);
    otherwise why it cannot be measured."""
    opener = urllib.request.build_opener(_NoRedirect)
    key = f"probe-{uuid.uuid4().hex}"
    data = None if body is None else f"{body}&key={key}&note={key}".encode()
    try:
        with opener.open(
            urllib.request.Request(
                url, data=data, headers={"Cookie": cookie, "User-Agent": USER_AGENT}
            )
        ) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status, location = exc.code, exc.headers.get("Location", "")
        if body is not None and status in (302, 303) and "/diary/entries/" in location:
            return None
        if status == 404:
            return "not found (404): the page does not exist yet; skipped"
        if 300 <= status < 400:
            return f"redirected ({status}) to {location}; skipped"
        return f"answered {status} ({exc.reason}); skipped"
    if body is not None:
        return f"answered {status} instead of the success redirect (form refused?); skipped"
    return None if status == 200 else f"answered {status}; skipped"


# Logging a session: every request a new submission key (its note too: see session_form);
# a response other than the redirect to the saved entry is counted as failed (wrk itself
# counts only 4xx and 5xx).
# `posts` (written before this script) holds one {cookie, form} pair per patient; each
# request takes the next pair in turn, thread k the pairs k, k + threads_n, ..., so that
# the requests in flight at once are about different patients (wrk.format with headers of
# its own: wrk's -H headers are not added to them).
POST_SCRIPT = """
local threads = {}
counter, ok, failed = 0, 0, 0  -- globals: done() reads them with thread:get
function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end
function request()
  counter = counter + 1
  local post = posts[((counter - 1) * threads_n + id - 1) % #posts + 1]
  local key = string.format("%s-%d-%d", run_id, id, counter)
  local headers = {
    ["Cookie"] = post[1],
    ["User-Agent"] = user_agent,
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }
  return wrk.format("POST", nil, headers, post[2] .. "&key=" .. key .. "&note=" .. key)
end
function response(status, headers, body)
  local location = headers["Location"] or headers["location"] or ""
  if (status == 302 or status == 303) and string.find(location, "/diary/entries/", 1, true) then
    ok = ok + 1
  else
    failed = failed + 1
  end
end
function done(summary, latency, requests)
  local total_ok, total_failed = 0, 0
  for _, thread in ipairs(threads) do
    total_ok = total_ok + thread:get("ok")
    total_failed = total_failed + thread:get("failed")
  end
  io.write(string.format("posted: %d saved, %d not saved\\n", total_ok, total_failed))
end
"""
WRK_THREADS = 2


def _lua(value: str) -> str:
    """`value` as a Lua string literal."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def post_script(posts: Sequence[tuple[str, str]]) -> str:
    """The wrk script posting the diary form as each (cookie, form) pair in turn."""
    pairs = ",\n".join(f"  {{{_lua(cookie)}, {_lua(form)}}}" for cookie, form in posts)
    head = f'run_id = "wrk-{uuid.uuid4().hex[:12]}"\nthreads_n = {WRK_THREADS}\n'
    head += f"user_agent = {_lua(USER_AGENT)}\n"
    return head + f"posts = {{\n{pairs}\n}}\n" + POST_SCRIPT


def wrk(
    url: str,
    cookie: str,
    seconds: int,
    connections: int,
    posts: Sequence[tuple[str, str]] | None,
    folder: Path,
) -> dict[str, float]:
    """Requests per second, latency percentiles (ms) and error counts from one wrk run
    (`posts`: POST these (cookie, form) pairs in turn, a new submission key each time)."""
    command = [
        "wrk",
        f"-t{WRK_THREADS}",
        f"-c{connections}",
        f"-d{seconds}s",
        f"--timeout={WRK_TIMEOUT}s",
        "--latency",
        "-H",
        f"Cookie: {cookie}",
        "-H",
        f"User-Agent: {USER_AGENT}",
    ]
    if posts is not None:
        script = folder / "post.lua"
        script.write_text(post_script(posts))
        command += ["-s", str(script)]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout

    def ms(label: str) -> float:
        value, unit = re.search(rf"{label}\s+([\d.]+)(us|ms|s)", out).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: .*timeout (\d+)", out)
    errors = int(non_2xx.group(1)) if non_2xx else 0
    posted = re.search(r"posted: (\d+) saved, (\d+) not saved", out)
    if posts is not None:
        if posted is None:
            raise SystemExit(f"The wrk script did not report:\n{out}")
        errors = int(posted.group(2))
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": ms("50%"),
        "p90": ms("90%"),
        "p99": ms("99%"),
        "errors": errors,
        "timeouts": int(socket_errors.group(1)) if socket_errors else 0,
    }


Result = tuple[str, Page | None, dict[str, float] | str]


def measure(
    base: str,
    cookies: dict[bool, str],
    posters: Sequence[str],
    pages: Sequence[Page],
    patient_id: int,
    zone: str,
    args: argparse.Namespace,
    folder: Path,
) -> list[Result]:
    """Each page's wrk figures (or why it was skipped), between two runs of the baseline.
    `cookies`: the clinician's (False) and the patient's (True) sessions; `posters`: the
    sessions of the patients who post diary entries in turn (the printed patient's first)."""
    results: list[Result] = []
    runs: list[tuple[str, Page | None]] = [(BASELINE[0], None)]
    runs += [(page.label, page) for page in pages]
    runs.append((BASELINE[0] + ", again", None))
    for label, page in runs:
        log(f"measuring {label} ...")
        posts: list[tuple[str, str]] | None = None
        if page is None:
            url, cookie = base + BASELINE[1], cookies[False]
        else:
            url = base + page.path.format(patient=patient_id)
            cookie = cookies[page.as_patient]
            if page.post:
                senders = [cookie] if page.one_patient else posters
                posts = [(sender, session_form(base, sender, zone)) for sender in senders]
        problems = [probe(url, sender, form) for sender, form in posts or [(cookie, None)]]
        problem = next((p for p in problems if p is not None), None)
        figures = problem or wrk(url, cookie, args.seconds, args.connections, posts, folder)
        results.append((label, page, figures))
    return results


def report(results: list[Result], args: argparse.Namespace, patients: int) -> dict[str, float]:
    """The results table: req/s, its ratio to the trivial endpoint against the page's
    target, latency percentiles. Returns each page's ratio."""
    baselines = [r["rps"] for _, page, r in results if page is None and not isinstance(r, str)]
    baseline = sum(baselines) / len(baselines)
    width = max(len(label) for label, _, _ in results) + 1
    print(f"\n{patients:,} patients over {args.clinics} clinics, {args.database};", end=" ")
    print(f"{args.workers} gunicorn workers, wrk {args.connections} connections,", end=" ")
    print(f"{args.seconds} s each\n")
    print(f"{'page':{width}} {'req/s':>8} {'ratio':>7} {'target':>13}", end=" ")
    print(f"{'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8}")
    ratios: dict[str, float] = {}
    for label, page, r in results:
        if isinstance(r, str):
            print(f"{label:{width}} {r}")
            continue
        ratio = r["rps"] / baseline
        target = ""
        if page is not None:
            ratios[label] = ratio
            if page.target is not None:
                met = "met" if ratio >= page.target else "MISSED"
                target = f"≥{page.target:.2f} {met}"
        print(f"{label:{width}} {r['rps']:8.0f} {ratio:7.3f} {target:>13}", end=" ")
        print(f"{r['p50']:8.1f} {r['p90']:8.1f} {r['p99']:8.1f}", end="")
        if r["errors"] or r["timeouts"]:
            print(f"  ({r['errors']:.0f} errors, {r['timeouts']:.0f} timeouts)", end="")
        print()
    print(f"\nratio: req/s over the mean of the two {BASELINE[1]} runs ({baseline:.0f} req/s)")
    return ratios


def compare(by_size: dict[int, dict[str, float]]) -> None:
    """Each page's ratio at the largest size against the smallest: flagged when more than
    20% slower (a clinic's pages should cost what it holds, not what the server holds)."""
    smallest, largest = min(by_size), max(by_size)
    small, large = by_size[smallest], by_size[largest]
    labels = [label for label in small if label in large]
    if not labels:
        return
    width = max(len(label) for label in labels) + 1
    print(f"\n{largest:,} patients against {smallest:,} (ratios to /healthz)\n")
    print(f"{'page':{width}} {f'at {smallest:,}':>10} {f'at {largest:,}':>10} {'change':>8}")
    for label in labels:
        change = large[label] / small[label]
        flag = "" if change >= SLOWER_LIMIT else "  more than 20% slower"
        print(f"{label:{width}} {small[label]:10.3f} {large[label]:10.3f} {change:8.2f}{flag}")


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


def sizes(value: str) -> list[int]:
    """--patients: a comma-separated list of patient counts, each at least 1."""
    try:
        found = sorted({int(part) for part in value.split(",") if part.strip()})
    except ValueError as exc:
        raise argparse.ArgumentTypeError("give numbers of patients, e.g. 1000,10000") from exc
    if not found or found[0] < 1:
        raise argparse.ArgumentTypeError("give numbers of patients of at least 1")
    return found


def measure_pages(
    database_url: str, loaded: Loaded, args: argparse.Namespace, folder: Path
) -> list[Result]:
    """Serve the app with gunicorn on the database and measure the pages."""
    env = {**os.environ, "CLINIC_DATABASE_URL": database_url}
    port = free_port()
    server = serve(port, args.workers, env)
    try:
        base = f"http://127.0.0.1:{port}"
        cookies = {False: sign_in(base, loaded.clinician), True: sign_in(base, loaded.patient)}
        # The other posters sign in only when their POST is measured (sign-ins are limited
        # per address: 20 a minute).
        posters = [cookies[True]]
        if any(PAGES[name].post and not PAGES[name].one_patient for name in args.pages):
            posters += [sign_in(base, email) for email in loaded.posters[1:]]
        app = create_app()
        with app.app_context():
            zone = db.session.scalar(select(Clinic.timezone).where(Clinic.name == loaded.clinic))
            db.engine.dispose()
        pages = [PAGES[name] for name in args.pages]
        return measure(base, cookies, posters, pages, loaded.patient_id, zone, args, folder)
    finally:
        server.terminate()
        server.wait(timeout=10)


def main() -> None:
    """For each size: seed, serve, measure, report; then compare the sizes."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database",
        choices=("sqlite", "postgresql"),
        default="sqlite",
        help="a SQLite file, or a new database on the PostgreSQL server at 127.0.0.1:5432 "
        "(user postgres), dropped at the end",
    )
    parser.add_argument("--clinics", type=int, default=10, help="clinics seed-load makes")
    parser.add_argument(
        "--patients",
        type=sizes,
        default=[1000],
        help="patients in all (a comma list, e.g. 1000,10000: the pages are measured on a "
        "fresh database for each, then compared)",
    )
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
        "alone (no wrk, no gunicorn, no load data), or not at all",
    )
    parser.add_argument(
        "--renders", type=int, default=25, help="renders of the report and of the paragraph"
    )
    parser.add_argument(
        "--mail",
        choices=("also", "only", "skip"),
        default="also",
        help="the mail benchmark (worker vs a plain SMTP loop, alert latency): after the "
        "pages (default), alone (no wrk, no gunicorn, no load data), or not at all",
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
        args.report, args.mail, args.faults = "skip", "skip", "skip"
    if args.mail == "only":
        args.report, args.reminders, args.faults = "skip", "skip", "skip"
    if args.report == "only":  # the report alone, as its help says
        args.mail, args.reminders, args.faults = "skip", "skip", "skip"
    if args.reminder_patients < 2:
        parser.error("--reminder-patients must be at least 2")
    if args.clinics < 1 or args.patients[0] < args.clinics:
        parser.error("--clinics must be at least 1, with at least one patient per clinic")
    if args.renders < 1:
        parser.error("--renders must be at least 1")
    if args.messages < 2 or args.latency_samples < 1:
        parser.error("--messages must be at least 2 and --latency-samples at least 1")
    pages_too = args.report != "only" and args.mail != "only" and args.reminders != "only"
    pages_too = pages_too and args.faults != "only"
    if pages_too and shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk (make bench does this).")
    os.environ.update({"CLINIC_ENV": "development", "SECRET_KEY": "bench-only-secret"})

    figures: ReportFigures | None = None
    mail: MailFigures | None = None
    reminders: ReminderFigures | None = None
    tables: list[tuple[int, list[Result]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for n, patients in enumerate(args.patients if pages_too else [0]):
            first = n == 0
            with bench_database(args.database, Path(tmp)) as database_url:
                started = time.perf_counter()
                loaded = seed(database_url, args.clinics, patients)
                log(f"seeding took {time.perf_counter() - started:.1f} s in all")
                # Before gunicorn starts, so nothing else competes for the CPU.
                if first and args.report != "skip":
                    figures = measure_report(args.renders)
                if loaded is not None:
                    tables.append((patients, measure_pages(database_url, loaded, args, Path(tmp))))
                if first and args.mail != "skip":
                    mail = measure_mail(
                        database_url, Path(tmp), args.messages, args.latency_samples, free_port
                    )
                if first and args.reminders != "skip":
                    reminders = measure_reminders(
                        database_url, Path(tmp), args.reminder_patients, free_port
                    )
        faults: FaultFigures | None = None
        if args.faults != "skip":
            faults = measure_faults(Path(tmp))
    by_size = {patients: report(results, args, patients) for patients, results in tables}
    if len(by_size) > 1:
        compare(by_size)
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

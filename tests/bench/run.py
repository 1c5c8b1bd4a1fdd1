"""Throughput benchmark: the caseload list and a protocol page against a trivial endpoint.

Run with `make bench`. It builds a SQLite database with a big caseload (default 1,000
patients, each with a protocol and its history), serves the app with gunicorn, and loads
each page with wrk from a second process. Machines here are shared and noisy, so the result
that matters is the ratio to the trivial endpoint (/healthz) measured in the same run.

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
import urllib.parse
import urllib.request
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def seed(database_url: str, patients: int) -> None:
    """The demo data plus `patients` more, each with a protocol a few stages in."""
    os.environ["CLINIC_DATABASE_URL"] = database_url
    from clinic import create_app
    from clinic.core.clock import clinic_today
    from clinic.demo import seed_demo
    from clinic.domain.indications import Indication
    from clinic.domain.protocols import EventKind
    from clinic.extensions import db
    from clinic.models import Clinic, Patient, ProtocolTemplate, User
    from clinic.protocols.services import record_event, start_protocol

    app = create_app({"PASSWORD_HASH_PARAMS": {"time_cost": 1, "memory_cost": 8, "parallelism": 1}})
    with app.app_context():
        db.create_all()
        seed_demo()
        clinic = db.session.scalar(
            db.select(Clinic).where(Clinic.name == "Northside Pelvic Health")
        )
        clinician = db.session.scalar(
            db.select(User).where(User.email == "physio@northside.example")
        )
        template = db.session.scalar(
            db.select(ProtocolTemplate).where(
                ProtocolTemplate.clinic_id == clinic.id,
                ProtocolTemplate.indication == Indication.VAGINISMUS,
            )
        )
        today = clinic_today(clinic.timezone)
        for n in range(patients):
            patient = Patient(
                clinic_id=clinic.id,
                full_name=f"Bench Patient {n:05d}",
                date_of_birth=date(1980, 1, 1) + timedelta(days=n),
                clinic_identifier=f"B{n:06d}",
                indication=Indication.VAGINISMUS,
                responsible_clinician=clinician,
            )
            db.session.add(patient)
            db.session.flush()
            protocol = start_protocol(
                patient,
                clinician,
                name=template.name,
                route=template.route,
                stages=[s.stage_values() for s in template.stages],
                start_stage=1,
                start_on=today - timedelta(days=60),
                today=today,
                template=template,
            )
            for days_ago in (45, 30, 15):
                record_event(
                    protocol,
                    EventKind.ADVANCE,
                    clinician,
                    expected_lock=str(protocol.lock_version),
                    effective_on=today - timedelta(days=days_ago),
                    today=today,
                    reason="Ready.",
                )
            if n % 200 == 0:
                db.session.commit()
        db.session.commit()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sign_in(base: str) -> str:
    """A clinician's session cookie, obtained through the real sign-in form."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/login").read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode(
        {"email": "physio@northside.example", "password": "demo-pass-2026", "csrf_token": token}
    ).encode()
    opener.open(base + "/login", data=form).read()
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def wrk(url: str, cookie: str, seconds: int, connections: int) -> dict[str, float]:
    """Requests per second and latency percentiles (ms) from one wrk run."""
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-H",
            f"Cookie: {cookie}",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non_2xx:
        raise SystemExit(f"{url}: {non_2xx.group(1)} error responses; is the page broken?\n{out}")

    def ms(label: str) -> float:
        value, unit = re.search(rf"{label}\s+([\d.]+)(us|ms|s)", out).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": ms("50%"),
        "p90": ms("90%"),
        "p99": ms("99%"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=3)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
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
        seed(database_url, args.patients)
        elapsed = time.perf_counter() - started
        print(f"seeded {args.patients} patients with protocols in {elapsed:.1f} s")

        port = free_port()
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                str(args.workers),
                "--bind",
                f"127.0.0.1:{port}",
                "--log-level",
                "warning",
                "wsgi:app",
            ],
            cwd=ROOT,
            env=env,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(100):
                try:
                    urllib.request.urlopen(base + "/healthz").read()
                    break
                except OSError:
                    time.sleep(0.1)
            cookie = sign_in(base)
            pages = {
                "trivial endpoint (/healthz)": "/healthz",
                "caseload list (/patients/)": "/patients/",
                "caseload search (?q=Bench 004)": "/patients/?q=Bench+004",
                "protocol page (4 events)": "/patients/20/protocol/",
            }
            results = {
                name: wrk(base + path, cookie, args.seconds, args.connections)
                for name, path in pages.items()
            }
        finally:
            server.terminate()
            server.wait(timeout=10)

    baseline = results["trivial endpoint (/healthz)"]["rps"]
    print(f"\n{args.workers} gunicorn workers, wrk {args.connections} connections,", end=" ")
    print(f"{args.seconds} s each\n")
    print(f"{'page':34} {'req/s':>8} {'ratio':>7} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8}")
    for name, r in results.items():
        ratio = r["rps"] / baseline
        print(f"{name:34} {r['rps']:8.0f} {ratio:7.2f}", end=" ")
        print(f"{r['p50']:8.1f} {r['p90']:8.1f} {r['p99']:8.1f}")


if __name__ == "__main__":
    main()

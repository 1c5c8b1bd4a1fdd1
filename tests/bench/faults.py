"""The fault drill under wrk: PostgreSQL stopped and crashed, a gunicorn worker and the
huey worker killed, while patients post diary entries; then the database is checked
against every answer.

`make bench` runs it last (`--faults only` for it alone, `--faults skip` to leave it out);
`measure_faults` is called by tests/bench/run.py. It needs wrk and PostgreSQL's server
programs (initdb, pg_ctl), never the shared PostgreSQL on 5432, which is not touched:

1. A private PostgreSQL cluster (tests/support/private_postgres.py), a database built by
   the migrations, a clinic of `patients` portal patients on a plan, gunicorn (3 sync
   workers, production settings) on it, and each patient signed in through the real form.
2. wrk posts the log form for `seconds` seconds, one connection per wrk thread, each post
   with a key of its own (tests/bench/faults.lua writes each key and its answer to a file
   per thread; one post in five reports sharp pain, a red flag whose alert goes to the
   outbox). Meanwhile, at fixed times: PostgreSQL stopped (`pg_ctl stop -m fast`) and
   started again after `outage` seconds; a gunicorn worker SIGKILLed; PostgreSQL crashed
   (`pg_ctl stop -m immediate`) and started again (crash recovery) after `outage` seconds.
3. Every post without a success answer is sent again with its key, once all is back.
   The database must then hold each acknowledged entry once (as the entry its answer
   named), nothing half-written (tests/support/drill.py `stored`), no duplicate.
4. The huey worker sends what the outbox holds (the alerts, plus `messages` more) to an
   SMTP server on the loopback and is SIGKILLed in the middle of it; another is started.
   Counted by Message-ID: every message delivered, at most one twice (the message the
   server took in the instant the worker died).

Printed: requests, successes, 503s (all the app's calm page with Retry-After, or not),
other answers and posts without an answer, the outage windows and the time from
PostgreSQL accepting connections again to the first saved entry, entries stored against
acknowledged, duplicates, half-written changes, messages delivered against expected.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("faults.lua")
PREFIX = "wrk"


@dataclass
class Outage:
    """One time PostgreSQL was taken away and brought back (wall-clock times)."""

    how: str
    stopped: float
    started: float
    recovered_after: float | None = None  # first saved entry after the start, seconds


@dataclass
class FaultFigures:
    """What the drill measured."""

    seconds: int
    connections: int
    requests: int = 0
    ok: int = 0
    calm_503: int = 0
    other_503: int = 0
    other: Counter[int] = field(default_factory=Counter)
    no_answer: int = 0
    unknown_at_end: int = 0
    outages: list[Outage] = field(default_factory=list)
    worker_killed_at: float = 0.0  # seconds into the wrk run
    no_answer_at: list[float] = field(default_factory=list)  # when those posts were sent
    first_error: float | None = None
    last_error: float | None = None
    retried: int = 0
    saved_unanswered: int = 0
    saved_after_503: int = 0  # of those, answered with the 503 page ("Nothing was changed")
    retried_ok: int = 0
    acknowledged: int = 0
    stored: int = 0
    stored_acknowledged: int = 0
    wrong_entry: int = 0
    duplicates: int = 0
    not_posted: int = 0
    problems: list[str] = field(default_factory=list)
    messages_expected: int = 0
    messages_delivered: int = 0
    messages_doubled: int = 0
    messages_missing: int = 0
    killed_after: int = 0


@dataclass(frozen=True)
class Line:
    """One line of a wrk thread's file."""

    kind: str  # S, R or N
    key: str
    sent: float
    answered: float = 0.0
    status: int = 0
    calm: bool = False
    retry_after: str = "-"
    location: str = "-"


def _lines(folder: Path) -> list[Line]:
    lines = []
    for path in sorted(folder.glob("outcomes-*.txt")):
        for raw in path.read_text().splitlines():
            parts = raw.split(" ")
            if parts[0] == "R" and len(parts) == 8:
                lines.append(
                    Line("R", parts[1], float(parts[2]), float(parts[3]), int(parts[4]),
                         parts[5] == "1", parts[6], parts[7])
                )  # fmt: skip
            elif parts[0] in ("S", "N") and len(parts) == 3:
                lines.append(Line(parts[0], parts[1], float(parts[2])))
    return lines


def _entry_id(location: str) -> int | None:
    from tests.support.drill import ENTRY_PATH

    found = ENTRY_PATH.search(urllib.parse.urlsplit(location).path)
    return int(found.group(1)) if found else None


def _write_portals(folder: Path, portals) -> None:
    """portals.tsv for the Lua script: cookie, then the form body with @KEY@ / @SHARP@."""
    with (folder / "portals.tsv").open("w") as out:
        for portal in portals:
            form = portal.form("@KEY@")
            form["sharp_pain"] = "@SHARP@"
            body = urllib.parse.urlencode(form).replace("%40KEY%40", "@KEY@")
            out.write(f"{portal.cookie}\t{body.replace('%40SHARP%40', '@SHARP@')}\n")


def _schedule(seconds: int, outage: float) -> list[tuple[float, str]]:
    """When (seconds into the wrk run) each fault happens."""
    return [
        (seconds * 0.2, "stop fast"),
        (seconds * 0.2 + outage, "start"),
        (seconds * 0.5, "kill gunicorn worker"),
        (seconds * 0.6, "stop immediate"),
        (seconds * 0.6 + outage, "start"),
    ]


def measure_faults(
    folder: Path, seconds: int = 30, connections: int = 6, outage: float = 3.0,
    messages: int = 1000, patients: int = 10,
) -> FaultFigures | None:  # fmt: skip
    """Run the drill (see the module's docstring) in `folder`; None (and why, on stderr)
    when PostgreSQL's server programs or wrk are not installed here."""
    from tests.support.private_postgres import server_binaries

    if server_binaries() is None or shutil.which("wrk") is None:
        print(
            "faults: skipped: needs wrk and PostgreSQL's server programs (initdb, pg_ctl; "
            "apt-get install wrk postgresql)",
            file=sys.stderr,
        )
        return None
    return _drill(folder, seconds, connections, outage, messages, patients)


def _drill(
    folder: Path, seconds: int, connections: int, outage: float, messages: int, patients: int
) -> FaultFigures:
    from clinic import create_app
    from clinic.extensions import db
    from clinic.models.outbox import MessageStatus
    from tests.support.apps import config_for_tests
    from tests.support.drill import (
        OK,
        Outcome,
        app_environment,
        classify,
        migrated_database,
        seed_patients,
        served,
        sign_in,
        stored,
    )
    from tests.support.outbox import add_messages
    from tests.support.private_postgres import private_postgres
    from tests.support.smtp import smtp_sink
    from tests.support.worker import Worker, outbox_rows, wait_for, worker_environment

    figures = FaultFigures(seconds, connections)
    drill = Path(tempfile.mkdtemp(prefix="faults-", dir=folder))
    with private_postgres() as postgres:
        print("faults: private PostgreSQL, migrations, patients ...", file=sys.stderr)
        url = migrated_database(postgres, drill)
        app = create_app(config_for_tests(url))
        cast = seed_patients(app, patients)
        with served(app_environment(url, drill), drill, workers=3) as server:
            portals = [sign_in(server.base, e, cast.password) for e in cast.patient_emails]
            _write_portals(drill, portals)
            command = [
                "wrk", f"-t{connections}", f"-c{connections}", f"-d{seconds}s", "--timeout=30s",
                "-s", str(SCRIPT), server.base + "/diary/log", "--", str(drill), PREFIX,
            ]  # fmt: skip
            print(f"faults: wrk for {seconds} s, faults on the way ...", file=sys.stderr)
            began = time.time()
            wrk = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
            stopped_at, how = 0.0, ""
            for at, action in _schedule(seconds, outage):
                time.sleep(max(0.0, began + at - time.time()))
                print(f"faults: {action} at {time.time() - began:.1f} s", file=sys.stderr)
                if action.startswith("stop"):
                    stopped_at, mode = time.time(), action.split()[1]
                    how = "fast shutdown" if mode == "fast" else "crash (immediate)"
                    postgres.stop(mode)
                elif action == "start":
                    postgres.start()  # returns once it accepts connections
                    figures.outages.append(Outage(how, stopped_at, time.time()))
                else:
                    server.kill_worker()
                    figures.worker_killed_at = time.time() - began
            wrk.communicate(timeout=seconds + 60)

            lines = _lines(drill)
            answers = {line.key: line for line in lines if line.kind == "R"}
            sent = {line.key: line for line in lines if line.kind == "S"}
            figures.requests = len(sent)
            figures.no_answer = sum(1 for line in lines if line.kind == "N")
            figures.no_answer_at = sorted(line.sent - began for line in lines if line.kind == "N")
            figures.unknown_at_end = len(sent) - len(answers) - figures.no_answer
            for line in answers.values():
                if line.status == 302 and _entry_id(line.location):
                    figures.ok += 1
                elif line.status == 503 and line.calm and line.retry_after != "-":
                    figures.calm_503 += 1
                elif line.status == 503:
                    figures.other_503 += 1
                else:
                    figures.other[line.status] += 1
            errors = [line.sent for line in lines if line.kind != "S" and not _is_ok(line)]
            if errors:
                figures.first_error, figures.last_error = min(errors), max(errors)
            for outage_ in figures.outages:
                after = [
                    line.answered
                    for line in answers.values()
                    if _is_ok(line) and line.sent >= outage_.started
                ]
                if after:
                    outage_.recovered_after = min(after) - outage_.started

            # Every post without a success answer, sent again with its key.
            acknowledged = {k: _entry_id(v.location) for k, v in answers.items() if _is_ok(v)}
            again = [key for key in sent if key not in acknowledged]
            # Saved although the answer said otherwise (or never came): the database went
            # away between the commit and the answer, or the web process was killed there.
            before = stored(app, cast.clinic_id).entry_ids_by_key
            figures.saved_unanswered = sum(1 for key in again if key in before)
            figures.saved_after_503 = sum(
                1
                for key in again
                if key in before and key in answers and answers[key].status == 503
            )
            print(f"faults: {len(again)} posts sent again with their keys ...", file=sys.stderr)

            def post_again(key: str) -> Outcome:
                portal = portals[(int(key.split("-")[1]) - 1) % len(portals)]
                return classify(key, 0, time.monotonic(), lambda: portal.post(key))

            with ThreadPoolExecutor(connections) as pool:
                for outcome in pool.map(post_again, again):
                    figures.retried += 1
                    if outcome.kind == OK:
                        figures.retried_ok += 1
                        acknowledged[outcome.key] = outcome.entry_id
            found = stored(app, cast.clinic_id)
            mine = {k: v for k, v in found.entry_ids_by_key.items() if k.startswith(PREFIX)}
            figures.acknowledged = len(acknowledged)
            figures.stored = sum(len(ids) for ids in mine.values())
            figures.stored_acknowledged = sum(1 for k in acknowledged if k in mine)
            figures.wrong_entry = sum(1 for k, e in acknowledged.items() if mine.get(k) != [e])
            figures.duplicates = sum(len(ids) - 1 for ids in mine.values())
            figures.not_posted = len(set(mine) - set(sent))
            figures.problems = found.problems

        # The huey worker killed in the middle of a delivery.
        add_messages(app, cast.clinic_id, messages, MessageStatus.PENDING)
        expected = {f"<outbox-{row.id}@clinic.test>" for row in outbox_rows(app)}
        figures.messages_expected = len(expected)
        with smtp_sink() as sink:
            env = worker_environment(
                url, f"sqlite:///{drill / 'queue.sqlite3'}", sink.port, drill,
                CLINIC_OUTBOX_LEASE_SECONDS="5",
            )  # fmt: skip
            worker = Worker(env, drill / "worker.log")
            kill_after = random.randint(len(expected) // 5, len(expected) // 2)
            print(f"faults: the worker sends {len(expected)} messages ...", file=sys.stderr)
            worker.start()
            try:
                wait_for(lambda: len(sink.received) >= kill_after, 120, "messages arriving")
                worker.kill()
                figures.killed_after = len(sink.received)
                worker.start()
                wait_for(
                    lambda: all(r.status == MessageStatus.SENT for r in outbox_rows(app)),
                    300,
                    "every message sent",
                )
            finally:
                worker.stop()
            arrived = Counter(str(m["Message-ID"]) for m in sink.received)
        figures.messages_delivered = len(set(arrived) & expected)
        figures.messages_missing = len(expected - set(arrived))
        figures.messages_doubled = sum(1 for n in arrived.values() if n > 1)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    shutil.rmtree(drill, ignore_errors=True)
    return figures


def _is_ok(line: Line) -> bool:
    return line.kind == "R" and line.status == 302 and _entry_id(line.location) is not None


def report_faults(figures: FaultFigures) -> None:
    """The drill's figures, and whether each promise held."""

    def verdict(held: bool) -> str:
        return "held" if held else "BROKEN"

    print(f"\nfaults: wrk, {figures.connections} connections (one patient each) posting the")
    print(f"diary log form for {figures.seconds} s, each post with a key of its own; gunicorn")
    print("3 workers on a private PostgreSQL 15\n")
    print(f"{'requests sent':44} {figures.requests:8d}")
    print(f"{'saved (302 to the entry)':44} {figures.ok:8d}")
    print(f"{'503, the app calm page with Retry-After':44} {figures.calm_503:8d}")
    print(f"{'503, anything else':44} {figures.other_503:8d}")
    other = ", ".join(f"{n} x {status}" for status, n in sorted(figures.other.items())) or "0"
    print(f"{'other answers':44} {other:>8}")
    print(f"{'no answer (connection lost)':44} {figures.no_answer:8d}", end="")
    sent_at = ", ".join(f"{t:.1f}" for t in figures.no_answer_at)
    print(f"  (sent at {sent_at} s; a gunicorn worker killed at {figures.worker_killed_at:.1f} s)")
    print(f"{'in flight when wrk stopped':44} {figures.unknown_at_end:8d}")
    for outage in figures.outages:
        held = outage.started - outage.stopped
        back = f"{outage.recovered_after:.2f} s" if outage.recovered_after is not None else "NEVER"
        print(f"PostgreSQL {outage.how}: away {held:.1f} s; first saved entry {back} after")
        print("  it accepted connections again")
    print(f"\nsent again with their keys: {figures.retried}, saved: {figures.retried_ok}", end="")
    print(f" (of which {figures.saved_unanswered} had been saved the first time,")
    print(f"{figures.saved_after_503} of them answered with the 503 page)")
    print(f"{'entries acknowledged (first answer or retry)':44} {figures.acknowledged:8d}")
    print(f"{'entries stored':44} {figures.stored:8d}")
    as_answered = figures.acknowledged - figures.wrong_entry
    print(f"{'acknowledged and stored as answered':44} {as_answered:8d}")
    print(f"{'duplicates (must be 0)':44} {figures.duplicates:8d}")
    print(f"{'stored but never posted (must be 0)':44} {figures.not_posted:8d}")
    print(f"{'half-written changes (must be 0)':44} {len(figures.problems):8d}")
    for problem in figures.problems[:10]:
        print(f"  {problem}")
    entries_ok = (
        figures.wrong_entry == 0
        and figures.duplicates == 0
        and figures.not_posted == 0
        and not figures.problems
        and figures.other_503 == 0
        and not figures.other
    )
    print(f"every acknowledged entry stored once and whole, only calm 503s: {verdict(entries_ok)}")
    print(f"\nhuey worker SIGKILLed after {figures.killed_after} messages had arrived, another")
    print("started (lease 5 s)")
    print(f"{'messages expected':44} {figures.messages_expected:8d}")
    print(f"{'messages delivered (distinct Message-IDs)':44} {figures.messages_delivered:8d}")
    print(f"{'missing':44} {figures.messages_missing:8d}")
    print(f"{'delivered twice (same Message-ID; at most 1)':44} {figures.messages_doubled:8d}")
    mail_ok = figures.messages_missing == 0 and figures.messages_doubled <= 1
    print(f"every message delivered, at most the one in flight twice: {verdict(mail_ok)}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "run":
        # `python tests/bench/faults.py run [seconds]`: the drill alone.
        sys.path.insert(0, str(ROOT))
        os.environ.setdefault("CLINIC_ENV", "testing")
        os.environ.setdefault("SECRET_KEY", "bench-only-secret")
        with tempfile.TemporaryDirectory() as tmp:
            figures = measure_faults(Path(tmp), int(sys.argv[2]) if sys.argv[2:] else 30)
        if figures is not None:
            report_faults(figures)
    else:
        raise SystemExit("run the fault drill through tests/bench/run.py (--faults only)")

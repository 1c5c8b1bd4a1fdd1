"""Where an MDT pack's time goes, and whether drawing its charts in a process pool helps.

Run with `.venv/bin/python tests/bench/mdt_pack.py [--patients 20] [--runs 9]
[--database sqlite|postgresql]`. It seeds a throwaway database as `make bench` does (the
demo data plus one seed-load clinic of that many patients with up to a year of diary
entries each), builds the pack for them, then times, in the same run: the reads
(`build_pack`), drawing every pain chart in this process, drawing them in a warm
`ProcessPoolExecutor` (forkserver, one worker per core), the one WeasyPrint render, the
whole pack as the view makes it, and a one-paragraph document through the same pipeline.
Medians, the parallel/serial ratio, and the whole pack's ratio to the paragraph.

The app draws charts serially. On the 2-core machine this was written on (20 patients),
the charts took about 70 ms of a 1.6 s pack, WeasyPrint the rest; the pool came out
between 26% faster and 41% slower on the charts depending on the machine's load (about
20 ms saved at best), and cost 1.4 s to start and about 100 MiB per worker. Re-run this
on a bigger machine before changing that. Not part of the test suite: timings never
decide a test.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("CLINIC_ENV", "testing")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key")

from sqlalchemy import select

from clinic import create_app
from clinic.core.clock import clinic_today
from clinic.extensions import db
from clinic.mdt import services
from clinic.models import Clinic, Patient, User
from clinic.reporting.pdf import html_to_pdf
from tests.bench.run import ONE_PARAGRAPH, Loaded, bench_database, seed


def median_ms(run: Callable[[], object], runs: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=20)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as folder,
        bench_database(args.database, Path(folder)) as url,
    ):
        loaded = seed(url, 1, args.patients)
        app = create_app({"SQLALCHEMY_DATABASE_URI": url})
        with app.app_context(), app.test_request_context():
            measure(args, loaded)
            db.engine.dispose()


def measure(args: argparse.Namespace, loaded: Loaded | None) -> None:
    if loaded is None:
        raise SystemExit("--patients must be at least 1")
    clinic = db.session.scalar(select(Clinic).where(Clinic.name == loaded.clinic))
    author = db.session.scalar(select(User).where(User.email == loaded.clinician))
    ids = list(
        db.session.scalars(
            select(Patient.id)
            .where(Patient.clinic_id == clinic.id)
            .order_by(Patient.id.desc())
            .limit(args.patients)
        )
    )
    today = clinic_today(clinic.timezone)

    def build() -> services.MdtPack:
        return services.build_pack(clinic, ids, today, author=author, today=today)

    pack = build()
    charts = [page.chart for page in pack.pages if page.chart is not None]
    files = services.draw_charts(charts)
    workers = os.cpu_count() or 1
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["clinic.charts"])
    started = time.perf_counter()
    pool = ProcessPoolExecutor(workers, mp_context=context, max_tasks_per_child=200)
    list(pool.map(services.draw_pain_chart, charts[:workers]))
    cold_ms = (time.perf_counter() - started) * 1000

    def parallel() -> dict[str, bytes]:
        drawn = pool.map(services.draw_pain_chart, charts, chunksize=max(1, len(charts) // 8))
        return dict(zip([c.file_name for c in charts], drawn, strict=True))

    assert parallel() == files
    results = {
        "reads (build_pack)": median_ms(build, args.runs),
        "charts, serial": median_ms(lambda: services.draw_charts(charts), args.runs),
        "charts, process pool": median_ms(parallel, args.runs),
        "WeasyPrint render": median_ms(
            lambda: services.render_pdf(
                "reports/mdt.html", clinic.paper_size, files=files, pack=pack
            ),
            args.runs,
        ),
        "whole pack (serial)": median_ms(lambda: services.pack_pdf(build()), args.runs),
        "one paragraph": median_ms(
            lambda: html_to_pdf(ONE_PARAGRAPH, clinic.paper_size), args.runs
        ),
    }
    rss = [_rss_mib(pid) for pid in pool._processes]  # private, but only measured
    pool.shutdown()
    print(f"{len(pack.pages)} patients, {len(charts)} charts, {workers} cores")
    for label, (median, times) in results.items():
        print(f"{label:24} {median:7.0f} ms   ({', '.join(f'{t:.0f}' for t in times)})")
    serial, pooled = results["charts, serial"][0], results["charts, process pool"][0]
    print(f"pool / serial for the charts: {pooled / serial:.2f}")
    whole, paragraph = results["whole pack (serial)"][0], results["one paragraph"][0]
    print(f"whole pack / one-paragraph document: {whole / paragraph:.1f}x")
    print(f"pool start (first {workers} charts): {cold_ms:.0f} ms; worker memory: {rss} MiB")


def _rss_mib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmRSS:"))
    return int(line.split()[1]) // 1024


if __name__ == "__main__":
    main()

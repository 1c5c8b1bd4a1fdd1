"""The job that writes an audit trail export (CSV) in the background, asked for on the
audit trail page (clinic.audit.views) and followed on the run's progress page
(clinic.jobs.views).

The events are read from one query in batches (`stream_events`), so neither memory nor
the number of queries grows with the trail; the progress is saved after each batch.
"""

from __future__ import annotations

from contextlib import closing

from clinic.audit.export import TooLarge, write_csv
from clinic.audit.queries import EXPORT_BATCH, AuditFilters, stream_events
from clinic.core.clock import clinic_today
from clinic.extensions import db
from clinic.jobs.kinds import AUDIT_EXPORT
from clinic.jobs.services import (
    MAX_RESULT_BYTES,
    JobRefused,
    JobResult,
    Progress,
    params_of,
    run_job,
)
from clinic.models import Clinic, JobRun
from clinic.queue import job

CSV = "text/csv"


@job
def make_audit_export(run_id: int) -> None:
    """Write the export of run `run_id` and keep it for its download."""
    run_job(run_id, _make)


def _make(run: JobRun, progress: Progress) -> JobResult:
    clinic = db.session.get_one(Clinic, run.clinic_id)
    filters = AuditFilters.from_params(params_of(run))
    try:
        # Closed however writing ends, so the database cursor never outlives the job.
        with closing(stream_events(clinic.id, filters)) as rows:
            content = write_csv(
                rows,
                clinic.timezone,
                every=EXPORT_BATCH,
                progress=progress,
                max_bytes=MAX_RESULT_BYTES,
            )
    except TooLarge as refusal:
        raise JobRefused(AUDIT_EXPORT.too_large) from refusal
    # A neutral name: the clinic's date it was made, nothing about what it holds.
    name = f"audit-{clinic_today(clinic.timezone).isoformat()}.csv"
    return JobResult(content, name, CSV)

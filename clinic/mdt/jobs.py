"""The job that makes an MDT pack in the background, asked for on the MDT page
(clinic.mdt.views) and followed on the run's progress page (clinic.jobs.views)."""

from __future__ import annotations

from datetime import date

from clinic.core.clock import clinic_today
from clinic.extensions import db
from clinic.jobs.services import JobRefused, JobResult, Progress, params_of, run_job
from clinic.mdt.services import MdtPackError, build_pack, pack_pdf
from clinic.models import Clinic, JobRun, User
from clinic.queue import job

PDF = "application/pdf"


@job
def make_mdt_pack(run_id: int) -> None:
    """Make the pack of run `run_id` and keep it for its download."""
    run_job(run_id, _make)


def _make(run: JobRun, progress: Progress) -> JobResult:
    params = params_of(run)
    clinic = db.session.get_one(Clinic, run.clinic_id)
    try:
        pack = build_pack(
            clinic,
            [int(i) for i in params["patient_ids"]],
            date.fromisoformat(params["meeting_on"]),
            author=db.session.get(User, run.requested_by_id),
            # The latest figures when it is made (the request was moments ago).
            today=clinic_today(clinic.timezone),
        )
    except MdtPackError as refusal:  # a patient erased meanwhile
        raise JobRefused(str(refusal)) from refusal
    return JobResult(pack_pdf(pack, progress), pack.file_name, PDF)

"""The progress page of a background run and the download of its file, for the person who
asked only: anyone else (a colleague, another clinic, another role) is told it does not
exist. The kind of run decides the role: an MDT pack is a clinician's, an audit export an
administrator's (clinic.jobs.kinds).

The page refreshes itself (`<meta http-equiv="refresh">`: no script, which the CSP forbids
inline anyway) until the run is finished, then offers the file or says why it failed.
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user
from werkzeug.wrappers import Response

from clinic.access import roles
from clinic.audit.log import audited, record_each
from clinic.jobs.services import is_expired, kind_of, own_run, patient_ids
from clinic.models import JobRun, JobStatus, Role

bp = Blueprint("jobs", __name__, url_prefix="/jobs")

# The roles that ask for some kind of run; which runs each may see is `own_run`'s answer.
staff_who_run_jobs = roles(Role.CLINICIAN, Role.ADMIN)

# Seconds between refreshes while the run is not finished.
REFRESH_SECONDS = 2


def _own_run_or_404(run_id: int) -> JobRun:
    """The signed-in person's own run; 404 for anyone else's, in any clinic."""
    run = own_run(run_id, current_user._get_current_object())
    if run is None:
        abort(404)
    return run


@bp.get("/<int:run_id>")
@staff_who_run_jobs
@audited("job.progress", object_type="job_run", object_id="run_id")
def progress(run_id: int) -> str:
    """How far the run is, refreshing itself until it is finished; then its download."""
    run = _own_run_or_404(run_id)
    return render_template(
        "jobs/progress.html",
        run=run,
        kind=kind_of(run),
        statuses=JobStatus,
        expired=is_expired(run),
        refresh_seconds=REFRESH_SECONDS,
    )


@bp.get("/<int:run_id>/download")
@staff_who_run_jobs
@audited("job.download", object_type="job_run", object_id="run_id")
def download(run_id: int) -> Response | tuple[str, int]:
    """The run's file as a download (neutral name, not cached), while it is kept."""
    run = _own_run_or_404(run_id)
    kind = kind_of(run)
    if run.status is not JobStatus.DONE:
        abort(404)  # nothing to download yet: the progress page says so
    if is_expired(run) or run.result is None:
        return render_template("jobs/expired.html", run=run, kind=kind), 410
    if kind.download_action:
        # Who took which patients' data away, as the pack made in the request recorded it.
        record_each(
            kind.download_action, patient_ids(run), object_type=kind.object_type, object_id=run.id
        )
    response = Response(run.result, mimetype=run.result_type)
    response.headers.set("Content-Disposition", "attachment", filename=run.result_name)
    # Personal data: no browser or proxy may keep a copy.
    response.headers["Cache-Control"] = "no-store"
    return response

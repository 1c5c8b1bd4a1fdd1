"""Long work for one member of staff, run by the task queue, followed on a page that
refreshes itself, and kept for a day for its download (the MDT pack for many patients,
a clinician's; the audit trail's CSV export, an administrator's).

- `services`: ask for a run, run it (`run_job`: progress between steps, each saved in a
  short transaction of its own; the file stored, or the failure said in plain words with
  nothing kept), find one's own run, and empty expired files.
- `kinds`: what each kind of run is called, counted in, whose role asks for it, and what
  it records when downloaded.
- `views`: the progress page and the download, for the person who asked only.
- `tasks`: the hourly clean-up (expired files, runs whose worker died).
"""

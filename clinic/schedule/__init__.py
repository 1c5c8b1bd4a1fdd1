"""Scheduled work, off the request path: each clinic's daily work at an early local hour,
clinicians' daily digests, patients told a questionnaire is ready, and clean-up of what
has outlived its use. The periodic jobs are in `clinic.schedule.jobs`."""

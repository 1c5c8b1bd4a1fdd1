"""Patients' rights over their data: a copy of everything the clinic holds about them
(for the clinic's staff, and for the patient from the portal), and erasure on a
documented request (administrators), which keeps only de-identified aggregates."""

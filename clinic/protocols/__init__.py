"""Patients' graded dilator protocols: start, revise, move between stages, pause, finish."""

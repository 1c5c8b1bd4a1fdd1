"""Outcome measures: instruments a clinic can use, measures assigned to patients, the
occasions due, and the patients' scored answers."""

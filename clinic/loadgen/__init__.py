"""Synthetic load data for sizing a deployment: `flask seed-load` (clinic.cli) fills a
database with fictional clinics, staff and patients with a realistic history, in bulk.
`load` makes it (clinic.loadgen.load), `diary` the diaries, `plans` the protocols."""

"""Monitoring: the rules of `clinic.domain` applied to each patient's data.

`evidence` turns a loaded protocol and its diary entries into the domain's plain values
and an `Assessment` (adherence, pain trend, suggestion, signals); `services` keeps each
patient's dashboard summary and flags up to date, in batches, with a fixed number of
queries.
"""

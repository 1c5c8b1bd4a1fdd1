"""Keeping patient data out of the application's logs.

The trail itself stores ids and codes, never what a person typed (see `clinic.audit.log`).
The logs are the other place data could leak to: the database engine already hides
statement parameters (`hide_parameters` in clinic/config.py), and this module stops it from
logging fetched rows, which it does whenever its logger is set to DEBUG (someone
debugging a slow page in production would otherwise write names and notes to disk).
"""

from __future__ import annotations

import logging

ENGINE_LOGGER = "sqlalchemy.engine.Engine"


class WithoutResultRows(logging.Filter):
    """Drop the engine's per-row DEBUG records ("Row (...)", "Col (...)"); statements
    and timings still come through."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (isinstance(record.msg, str) and record.msg.startswith(("Row ", "Col ")))


def keep_patient_data_out_of_logs() -> None:
    """Install the filters (once per process, however many apps are created)."""
    logger = logging.getLogger(ENGINE_LOGGER)
    if not any(isinstance(f, WithoutResultRows) for f in logger.filters):
        logger.addFilter(WithoutResultRows())

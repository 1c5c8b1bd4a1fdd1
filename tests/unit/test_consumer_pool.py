"""The worker's pool follows its command line: `huey_consumer clinic.worker.huey -w N`
runs N jobs at once in one process (threads), each holding a database connection, so its
pool keeps N (clinic.worker); process workers each have a pool of their own, so 1."""

from __future__ import annotations

import pytest

from clinic.queue import consumer_threads


@pytest.mark.parametrize(
    ("arguments", "threads"),
    [
        ([], 1),
        (["-w", "4"], 4),
        (["--workers=6", "-n"], 6),
        (["-w8", "-m", "0.2"], 8),
        (["-w", "4", "-k", "greenlet"], 4),
        (["-w", "4", "-k", "process"], 1),
        (["--workers", "3", "--worker-type=process", "--no-periodic"], 1),
    ],
)
def test_jobs_at_once_per_process_from_the_consumer_command_line(
    arguments: list[str], threads: int
) -> None:
    """Threads (and greenlets) share the process's pool; processes do not."""
    assert consumer_threads(["huey_consumer", "clinic.worker.huey", *arguments]) == threads

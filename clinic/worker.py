"""The worker process: `huey_consumer clinic.worker.huey`.

Creating the app here configures the queue (clinic.queue) from the environment, exactly
as the web processes do, and gives every job the app it runs in. Run one consumer with the
scheduler (the default) and any others with `--no-periodic` (README: production).

Each of the consumer's workers (`--workers N`, threads by default) runs one job at a time
in an app context of its own, so holds one database connection while it works: unless
`CLINIC_DATABASE_POOL_SIZE` says otherwise, the worker's pool keeps N connections (read
from its command line), so no thread waits for another's. Process workers
(`--worker-type process`) are forked after the app is built and open their own.
"""

import os
import sys
from pathlib import Path

from clinic import create_app
from clinic.extensions import forget_inherited_connections
from clinic.queue import consumer_threads, huey

# `huey_consumer ...` or `python -m huey.bin.huey_consumer ...` (argv[0] ends in .py then).
if Path(sys.argv[0]).stem == "huey_consumer" and not os.environ.get("CLINIC_DATABASE_POOL_SIZE"):
    os.environ["CLINIC_DATABASE_POOL_SIZE"] = str(consumer_threads(sys.argv))

app = create_app()
_BUILT_IN = os.getpid()


@huey.on_startup()
def _own_connections() -> None:
    # Runs in every consumer worker as it starts; only a forked one has inherited a pool.
    if os.getpid() != _BUILT_IN:
        forget_inherited_connections(app)


__all__ = ["app", "huey"]

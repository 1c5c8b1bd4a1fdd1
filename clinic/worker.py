"""The worker process: `huey_consumer clinic.worker.huey`.

Creating the app here configures the queue (clinic.queue) from the environment, exactly
as the web processes do, and gives every job the app it runs in. Run one consumer with the
scheduler (the default) and any others with `--no-periodic` (README: production).
"""

from clinic import create_app
from clinic.queue import huey

app = create_app()

__all__ = ["app", "huey"]

"""gunicorn hooks: start the in-process job runner and periodic ticker in each worker when no broker is
configured."""

from __future__ import annotations

from typing import Any


def post_worker_init(worker: Any) -> None:
    from insignia.site import jobs

    jobs.start_in_process_runner()
    jobs.start_periodic_runner()  # the expiry sweep and other periodic tasks (no-op with a broker)

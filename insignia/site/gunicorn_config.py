"""gunicorn settings and hooks for the production server (``insignia serve``).

Worker model (measured with ``benchmarks/serving.py`` on 2 cores): threaded workers (``gthread``) keep
connections alive between requests, which sync workers cannot, and a load balancer or load tool reuses
them; one process per core plus one keeps both cores busy while a worker waits on the database. Every
value here can be overridden on the gunicorn command line or with the environment variables below.

Hooks: each worker starts the in-process job runner and periodic ticker (when no broker is configured) and
buffers engagement counts (``insignia.awards.engagement``), flushing them when it exits.
"""

from __future__ import annotations

import multiprocessing
import os
from typing import Any


def _int(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, "") or default)
    except ValueError:
        return default


worker_class = os.environ.get("INSIGNIA_WORKER_CLASS", "gthread")
workers = _int("INSIGNIA_WORKERS", multiprocessing.cpu_count() + 1)
threads = _int("INSIGNIA_THREADS", 4)
#: Keep idle client connections open a little while (browsers, proxies and load tools reuse them).
keepalive = _int("INSIGNIA_KEEPALIVE", 5)
backlog = 2048
#: The access log costs a write per request; INSIGNIA_ACCESS_LOG=off turns it off (e.g. behind a proxy that logs).
accesslog = None if os.environ.get("INSIGNIA_ACCESS_LOG", "").lower() in ("off", "0", "no", "false") else "-"


def post_worker_init(worker: Any) -> None:
    from insignia.awards import engagement
    from insignia.site import jobs

    jobs.start_in_process_runner()
    jobs.start_periodic_runner()  # the expiry sweep and other periodic tasks (no-op with a broker)
    engagement.enable_buffering()


def worker_exit(server: Any, worker: Any) -> None:
    """Write the worker's buffered engagement counts before it goes."""
    from insignia.awards import engagement

    engagement.disable_buffering()

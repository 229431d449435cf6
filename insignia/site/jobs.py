"""Background jobs: Celery when INSIGNIA_BROKER_URL is set, otherwise a thread in each web process.

A job is a database row (see the app that owns it) that records its own progress, so a job interrupted
by a crash is picked up again by ``resume_interrupted`` and continues without redoing finished work.
Apps register runnable job kinds with ``register``; ``enqueue`` schedules one after the transaction
commits.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

from django.conf import settings
from django.db import transaction

log = logging.getLogger(__name__)

_HANDLERS: dict[str, Callable[[str], None]] = {}
_RESUMERS: list[Callable[[], list[tuple[str, str]]]] = []
_queue: queue.Queue[tuple[str, str]] = queue.Queue()
_started = threading.Event()


def register(kind: str, handler: Callable[[str], None], *, resume: Callable[[], list[tuple[str, str]]] | None = None
             ) -> None:
    """Register a job kind: ``handler(job_id)`` runs it (idempotently); ``resume`` lists unfinished jobs."""
    _HANDLERS[kind] = handler
    if resume is not None:
        _RESUMERS.append(resume)


def run_now(kind: str, job_id: str) -> None:
    """Run one job in this thread (used by the worker thread, Celery tasks and tests)."""
    handler = _HANDLERS.get(kind)
    if handler is None:
        raise LookupError(f"no job handler registered for {kind!r}")
    handler(job_id)


def enqueue(kind: str, job_id: str) -> None:
    """Schedule a job once the current transaction commits."""

    def dispatch() -> None:
        if settings.BROKER_URL:
            from insignia.site.celery import run_job

            run_job.delay(kind, job_id)
        else:
            start_in_process_runner()
            _queue.put((kind, job_id))

    transaction.on_commit(dispatch)


def _worker() -> None:
    while True:
        kind, job_id = _queue.get()
        try:
            run_now(kind, job_id)
        except Exception:  # a job's failure is recorded by the job; keep the runner alive
            log.exception("job %s %s failed", kind, job_id)
        finally:
            _queue.task_done()


def resume_interrupted() -> int:
    """Queue every job that was running or waiting when a process stopped; returns how many."""
    count = 0
    for resumer in _RESUMERS:
        for kind, job_id in resumer():
            _queue.put((kind, job_id))
            count += 1
    return count


def start_in_process_runner() -> None:
    """Start the background thread once per process (no-op when a broker is configured)."""
    if settings.BROKER_URL or _started.is_set():
        return
    _started.set()
    threading.Thread(target=_worker, name="insignia-jobs", daemon=True).start()
    try:
        resume_interrupted()
    except Exception:
        log.exception("could not resume interrupted jobs")

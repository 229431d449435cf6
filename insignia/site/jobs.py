"""Background jobs: Celery when INSIGNIA_BROKER_URL is set, otherwise a thread in each web process.

A job is a database row (see the app that owns it) that records its own progress, so a job interrupted
by a crash is picked up again by ``resume_interrupted`` and continues without redoing finished work.
Apps register runnable job kinds with ``register``; ``enqueue`` schedules one after the transaction
commits.

Periodic work (the expiry sweep) is registered with ``register_periodic``. With a broker, Celery beat
runs it (``insignia.site.celery`` turns the registry into its schedule). Without one, each web worker of
``insignia serve`` starts a small ticker thread (``start_periodic_runner``) that runs each task at most
once per its interval in that process. Several workers may each run a task: periodic tasks must be
idempotent (the expiry sweep claims each award with a conditional UPDATE, so an event is emitted once).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction

log = logging.getLogger(__name__)

_HANDLERS: dict[str, Callable[[str], None]] = {}
_RESUMERS: list[Callable[[], list[tuple[str, str]]]] = []
_queue: queue.Queue[tuple[str, str]] = queue.Queue()
_started = threading.Event()
_periodic_started = threading.Event()
#: How often the in-process ticker wakes to look for due periodic tasks.
TICK_SECONDS = 30.0


@dataclass
class Periodic:
    """A task run every ``every`` (Celery beat, or the in-process ticker); ``last_run`` is monotonic seconds."""

    name: str
    every: timedelta
    task: Callable[[], object]
    last_run: float | None = None


_PERIODIC: dict[str, Periodic] = {}


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


# -- periodic tasks ------------------------------------------------------------------------------


def register_periodic(name: str, every: timedelta, task: Callable[[], object]) -> None:
    """Run ``task()`` every ``every`` (a zero or negative interval turns it off). Call from ``AppConfig.ready``."""
    if every.total_seconds() <= 0:
        _PERIODIC.pop(name, None)
        return
    _PERIODIC[name] = Periodic(name=name, every=every, task=task)


def periodic_tasks() -> dict[str, Periodic]:
    """The registered periodic tasks by name (Celery beat's schedule is made from these)."""
    return dict(_PERIODIC)


def run_periodic(name: str) -> object:
    """Run one periodic task now, in this thread (the Celery beat task and the ticker call this)."""
    entry = _PERIODIC.get(name)
    if entry is None:
        raise LookupError(f"no periodic task registered as {name!r}")
    entry.last_run = time.monotonic()
    return entry.task()


def run_due_periodic(*, clock: Callable[[], float] = time.monotonic) -> list[str]:
    """Run every periodic task that has not run in this process yet, or whose interval has passed since it
    last did; returns the names run."""
    ran: list[str] = []
    now = clock()
    for entry in list(_PERIODIC.values()):
        if entry.last_run is not None and now - entry.last_run < entry.every.total_seconds():
            continue
        entry.last_run = now
        try:
            entry.task()
        except Exception:  # one failing task must not stop the others or the ticker
            log.exception("periodic task %s failed", entry.name)
        else:
            ran.append(entry.name)
    return ran


def _ticker() -> None:
    from django.db import close_old_connections

    while True:
        time.sleep(TICK_SECONDS)
        try:
            run_due_periodic()
        finally:
            close_old_connections()


def start_periodic_runner() -> bool:
    """Start the ticker thread once per process, when there is no broker (Celery beat does it then).

    Started by ``insignia serve``'s web workers (``gunicorn_config``), not on import or in tests. Returns
    whether a thread was started.
    """
    if settings.BROKER_URL or _periodic_started.is_set() or not _PERIODIC:
        return False
    _periodic_started.set()
    threading.Thread(target=_ticker, name="insignia-periodic", daemon=True).start()
    return True

"""Celery application for production workers: ``celery -A insignia.site.celery worker``, plus
``celery -A insignia.site.celery beat`` for the periodic tasks apps register with ``jobs.register_periodic``
(the expiry sweep): beat sends ``insignia.run_periodic`` with the task's name at its interval."""

from __future__ import annotations

import os
from typing import Any

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "insignia.site.settings")

app = Celery("insignia")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_acks_late = True
app.conf.worker_prefetch_multiplier = 1


@app.task(name="insignia.run_job", bind=True, max_retries=5, default_retry_delay=10)
def run_job(self, kind: str, job_id: str) -> None:  # type: ignore[no-untyped-def]
    import django

    django.setup()
    from insignia.site import jobs

    jobs.run_now(kind, job_id)


@app.task(name="insignia.run_periodic")
def run_periodic(name: str) -> object:
    import django

    django.setup()
    from insignia.site import jobs

    return jobs.run_periodic(name)


@app.on_after_finalize.connect
def schedule_periodic(sender: Celery, **kwargs: Any) -> None:
    """Beat's schedule: every periodic task the apps registered, at its interval."""
    import django

    django.setup()
    from insignia.site import jobs

    for name, entry in jobs.periodic_tasks().items():
        sender.add_periodic_task(entry.every.total_seconds(), run_periodic.s(name), name=name)

"""Celery application for production workers: ``celery -A insignia.site.celery worker``."""

from __future__ import annotations

import os

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

"""Bulk issue jobs and their rows. A job records its own progress, so a crash loses nothing.

Rows are issued a chunk per transaction (awards, row states and counters together) with the idempotency
key ``bulk:<job>:<row>``: a resumed job skips finished rows, and even a row caught mid-flight cannot be
issued twice.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from insignia.awards.models import Award
from insignia.badges.models import BadgeClass
from insignia.core.ids import new_public_id
from insignia.core.models import Organisation


class JobStatus(models.TextChoices):
    DRAFT = "draft", "Previewed"
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


#: Statuses a job never leaves.
FINISHED_STATUSES = frozenset({JobStatus.DONE, JobStatus.FAILED, JobStatus.CANCELLED})


class RowState(models.TextChoices):
    PENDING = "pending", "Pending"
    ISSUED = "issued", "Issued"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"


class BulkIssueJob(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="bulk_jobs")
    badge = models.ForeignKey(BadgeClass, on_delete=models.PROTECT, related_name="bulk_jobs")
    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_by_label = models.CharField(max_length=200, blank=True)
    #: The uploaded file, kept as received (Django storage: local directory or S3).
    source_file = models.FileField(upload_to="bulk/", blank=True)
    filename = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.DRAFT)
    total = models.PositiveIntegerField(default=0)
    issued = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    #: How many rows have problems (the job cannot start while this is not zero).
    problem_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    #: When the job's award emails were last all sent (they go out after issuing, from their own job).
    emails_sent_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organisation", "-created_at"]), models.Index(fields=["status"])]

    def __str__(self) -> str:
        return f"Bulk issue of {self.badge} ({self.total} rows, {self.status})"

    @property
    def processed(self) -> int:
        return self.issued + self.skipped + self.failed

    @property
    def finished(self) -> bool:
        return self.status in FINISHED_STATUSES


class BulkIssueRow(models.Model):
    #: No index of its own: ``unique_bulk_row`` (job, row_number) serves every lookup by job.
    job = models.ForeignKey(BulkIssueJob, on_delete=models.CASCADE, related_name="rows", db_index=False)
    row_number = models.PositiveIntegerField()
    recipient = models.CharField(max_length=320, blank=True)
    name = models.CharField(max_length=200, blank=True)
    evidence_url = models.CharField(max_length=2000, blank=True)
    narrative = models.TextField(blank=True)
    award_date = models.DateTimeField(null=True, blank=True)
    #: Problems found by the preview: [{"column", "value", "reason"}].
    problems = models.JSONField(default=list, blank=True)
    has_problems = models.BooleanField(default=False)
    state = models.CharField(max_length=16, choices=RowState.choices, default=RowState.PENDING)
    award = models.ForeignKey(Award, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["job", "row_number"]
        constraints = [models.UniqueConstraint(fields=["job", "row_number"], name="unique_bulk_row")]
        indexes = [models.Index(fields=["job", "state", "row_number"])]

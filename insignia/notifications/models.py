"""Claim tokens, the opt-out list and the log of every email we sent (or chose not to send)."""

from __future__ import annotations

from django.db import models

from insignia.awards.models import Award
from insignia.core.models import Organisation


class ClaimToken(models.Model):
    """A claim link's token. Only its SHA-256 is stored; the plain token exists only in the email."""

    award = models.ForeignKey(Award, on_delete=models.CASCADE, related_name="claim_tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["award", "-created_at"])]


class EmailOptOut(models.Model):
    """An address that asked for no more award emails: from one organisation, or (organisation null) from all."""

    organisation = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.CASCADE,
                                     related_name="email_opt_outs")
    #: Lower-cased.
    email = models.CharField(max_length=320)
    created_at = models.DateTimeField(auto_now_add=True)
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "email"], condition=models.Q(organisation__isnull=False),
                                    name="one_opt_out_per_organisation"),
            models.UniqueConstraint(fields=["email"], condition=models.Q(organisation__isnull=True),
                                    name="one_global_opt_out"),
        ]
        indexes = [models.Index(fields=["email"])]


class NotificationKind(models.TextChoices):
    AWARD_ISSUED = "award_issued", "Award issued"
    REMINDER = "reminder", "Reminder"


class NotificationStatus(models.TextChoices):
    #: Recorded in the transaction; the email goes out once it commits.
    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"
    SKIPPED_OPTED_OUT = "skipped_opted_out", "Not sent: the recipient opted out"
    FAILED = "failed", "Failed"


class Notification(models.Model):
    """One email about an award: what, to whom, and what became of it."""

    award = models.ForeignKey(Award, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=16, choices=NotificationKind.choices)
    to = models.CharField(max_length=320)
    status = models.CharField(max_length=24, choices=NotificationStatus.choices)
    error = models.TextField(blank=True)
    message_id = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["award", "-created_at"])]

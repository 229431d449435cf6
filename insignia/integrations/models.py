"""API tokens (stored hashed, with scopes), webhooks and the log of their deliveries."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from insignia.core.ids import new_public_id
from insignia.core.models import Organisation

#: What a token may do. Each scope grants one permission (and every scope grants ``view``).
SCOPES: tuple[str, ...] = ("read", "issue", "design", "manage")

#: Events a webhook can subscribe to.
EVENTS: tuple[str, ...] = (
    "award.issued",
    "award.accepted",
    "award.revoked",
    "award.suspended",
    "award.unsuspended",
    "award.expired",
)


class ApiToken(models.Model):
    """A bearer token ``ins_<prefix>_<secret>``; only the SHA-256 of the secret is kept."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="api_tokens")
    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    token_hash = models.CharField(max_length=64)
    scopes = models.JSONField(default=list)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} (ins_{self.prefix}_…)"


class Webhook(models.Model):
    """An organisation's receiver of award events. ``secret`` is stored encrypted with the KEK."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="webhooks")
    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    url = models.URLField(max_length=500)
    secret = models.TextField()
    events = models.JSONField(default=list)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "webhook"

    def __str__(self) -> str:
        return self.url


class DeliveryState(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed (gave up)"


class WebhookDelivery(models.Model):
    """One event sent to one webhook: the payload, and the outcome of the latest attempt."""

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    event = models.CharField(max_length=32)
    payload = models.JSONField()
    state = models.CharField(max_length=16, choices=DeliveryState.choices, default=DeliveryState.PENDING)
    #: Attempts made so far (0 before the first).
    attempt = models.PositiveSmallIntegerField(default=0)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_excerpt = models.TextField(blank=True)
    error = models.TextField(blank=True)
    #: When the next attempt is due; None once delivered or given up.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    #: Every attempt: [{"attempt", "at", "status_code", "error", "duration_ms"}].
    attempts_log = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "webhook delivery"
        verbose_name_plural = "webhook deliveries"
        indexes = [models.Index(fields=["state", "next_attempt_at"])]

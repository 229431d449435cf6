"""Badge classes. Rows hold what the issuer designed; credentials copy what they need when issued."""

from __future__ import annotations

from django.db import models

from insignia.core.ids import new_public_id
from insignia.core.models import Organisation
from insignia.issuers.models import Issuer


class BadgeStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"
    ARCHIVED = "archived", "Archived"


class ExpiryPolicy(models.TextChoices):
    NONE = "none", "Never expires"
    FIXED_DATE = "fixed_date", "Expires on a fixed date"
    DURATION = "duration", "Expires a number of days after the award"


class BadgeClass(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="badge_classes")
    issuer = models.ForeignKey(Issuer, on_delete=models.PROTECT, related_name="badge_classes")
    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    name = models.CharField(max_length=200)
    description = models.TextField()
    #: The badge image as served: a sanitised SVG or a re-encoded PNG.
    image = models.FileField(upload_to="badges/", blank=True)
    image_type = models.CharField(max_length=16, blank=True)  # "image/png" | "image/svg+xml"
    #: A PNG rendition (the image itself when it is a PNG), for PNG baking, previews and certificates.
    image_png = models.FileField(upload_to="badges/png/", blank=True)
    #: Parameters of the in-app designer (shape, colours, icon/initials, ribbon), when designed here.
    design = models.JSONField(default=dict, blank=True)
    criteria_narrative = models.TextField(blank=True)
    criteria_url = models.URLField(max_length=500, blank=True)
    achievement_type = models.CharField(max_length=64, default="Badge")
    level = models.CharField(max_length=64, blank=True)
    #: [{"framework", "code", "name", "url", "description"}]
    alignments = models.JSONField(default=list, blank=True)
    tags = models.JSONField(default=list, blank=True)
    expiry_policy = models.CharField(max_length=16, choices=ExpiryPolicy.choices, default=ExpiryPolicy.NONE)
    expiry_date = models.DateTimeField(null=True, blank=True)
    expiry_days = models.PositiveIntegerField(null=True, blank=True)
    evidence_required = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=BadgeStatus.choices, default=BadgeStatus.DRAFT)
    #: When the badge was (last) published; awards can only be issued for published badges.
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "badge"
        indexes = [models.Index(fields=["organisation", "status"])]

    def __str__(self) -> str:
        return self.name

    @property
    def is_public(self) -> bool:
        """Published and archived badges are public (awards point at them); drafts are not."""
        return self.status != BadgeStatus.DRAFT

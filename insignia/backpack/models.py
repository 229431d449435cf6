"""The earner's side: identities, imported badges, collections, the portfolio and requests to the issuer.

Native awards live in ``insignia.awards`` (the earner-controlled columns there are ``earner``,
``acceptance``, ``visibility`` and ``show_recipient_name``); this app owns everything else an earner keeps.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from insignia.awards.models import Award, Visibility
from insignia.core.ids import new_public_id


class IdentityKind(models.TextChoices):
    EMAIL = "email", "Email address"
    URL = "url", "Web address"
    DID = "did", "DID"


class EarnerIdentity(models.Model):
    """An identity an earner says is theirs; awards made to it join their wallet once it is verified.

    ``value`` is normalised (emails lower-cased, URLs canonical). Only the SHA-256 of a pending challenge
    is stored. A verified identity belongs to one account at a time.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="identities")
    kind = models.CharField(max_length=8, choices=IdentityKind.choices)
    value = models.CharField(max_length=500)
    verified_at = models.DateTimeField(null=True, blank=True)
    challenge_hash = models.CharField(max_length=64, blank=True)
    challenge_expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "value"]
        constraints = [
            models.UniqueConstraint(fields=["user", "kind", "value"], name="one_identity_per_user"),
            models.UniqueConstraint(fields=["kind", "value"], condition=models.Q(verified_at__isnull=False),
                                    name="verified_identity_has_one_owner"),
        ]


class EarnerProfile(models.Model):
    """The earner's public portfolio: a random handle, a display name and a headline they choose."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="earner_profile")
    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    display_name = models.CharField(max_length=200, blank=True)
    headline = models.CharField(max_length=300, blank=True)
    #: Off by default: the portfolio page is 404 until the earner turns it on.
    portfolio_enabled = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)


class ImportOrigin(models.TextChoices):
    URL = "url", "From a URL"
    FILE = "file", "Uploaded baked image"
    JSON = "json", "Pasted JSON"
    JWT = "jwt", "Pasted JWT"


class ImportedBadge(models.Model):
    """A badge earned elsewhere, verified by the kernel on import and again on demand.

    ``document`` is exactly what was imported (JSON text, a JWT or an OB 2.0 assertion as fetched);
    ``summary`` holds what the wallet shows (name, issuer, image, dates), taken from the verified credential.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="imported_badges")
    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    origin = models.CharField(max_length=8, choices=ImportOrigin.choices)
    source_url = models.URLField(max_length=2000, blank=True)
    #: ``ob3``, ``ob2`` or ``vc-jwt``.
    format = models.CharField(max_length=16)
    document = models.TextField()
    #: SHA-256 of ``document``: one account does not import the same credential twice.
    fingerprint = models.CharField(max_length=64)
    credential_id = models.CharField(max_length=2000, blank=True)
    summary = models.JSONField(default=dict)
    #: The last verification report (kernel ``VerificationReport`` as JSON) and its verdict.
    report = models.JSONField(default=dict)
    verdict = models.CharField(max_length=16)
    verified_at = models.DateTimeField()
    visibility = models.CharField(max_length=16, choices=Visibility.choices, default=Visibility.UNLISTED)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "fingerprint"], name="one_import_per_credential"),
        ]


class Collection(models.Model):
    """A named, ordered set of the earner's badges (native or imported) with its own visibility."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="collections")
    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    visibility = models.CharField(max_length=16, choices=Visibility.choices, default=Visibility.UNLISTED)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "id"]


class CollectionItem(models.Model):
    """One badge in a collection: exactly one of ``award`` and ``imported`` is set."""

    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="items")
    award = models.ForeignKey(Award, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    imported = models.ForeignKey(ImportedBadge, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(award__isnull=False, imported__isnull=True)
                           | models.Q(award__isnull=True, imported__isnull=False)),
                name="collection_item_is_award_or_import",
            ),
            models.UniqueConstraint(fields=["collection", "award"], condition=models.Q(award__isnull=False),
                                    name="award_once_per_collection"),
            models.UniqueConstraint(fields=["collection", "imported"], condition=models.Q(imported__isnull=False),
                                    name="import_once_per_collection"),
        ]


class RequestKind(models.TextChoices):
    CORRECTION = "correction", "Correction"
    EVIDENCE = "evidence", "More evidence"


class RequestState(models.TextChoices):
    OPEN = "open", "Open"
    REISSUED = "reissued", "Re-issued"
    ACCEPTED = "accepted", "Evidence accepted"
    DECLINED = "declined", "Declined"
    WITHDRAWN = "withdrawn", "Withdrawn"


class AwardRequest(models.Model):
    """An earner asks the issuer to correct an award (e.g. a name change) or offers more evidence.

    The issuer answers by re-issuing (``replacement`` points to the new award, which ``replaces`` the old)
    or by declining with a note.
    """

    award = models.ForeignKey(Award, on_delete=models.CASCADE, related_name="requests")
    #: The organisation is denormalised so the issuer's queue is one indexed, tenant-scoped query.
    organisation = models.ForeignKey("core.Organisation", on_delete=models.CASCADE, related_name="award_requests")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                     related_name="award_requests")
    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    kind = models.CharField(max_length=16, choices=RequestKind.choices)
    message = models.TextField(blank=True)
    #: For corrections: the fields the earner wants changed, e.g. ``{"recipient_name": "New Name"}``.
    changes = models.JSONField(default=dict, blank=True)
    #: For evidence: ``[{"url"?, "narrative"?, "name"?}]`` (files go through the awards evidence store).
    evidence = models.JSONField(default=list, blank=True)
    state = models.CharField(max_length=16, choices=RequestState.choices, default=RequestState.OPEN)
    response = models.TextField(blank=True)
    replacement = models.ForeignKey(Award, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organisation", "state", "-created_at"])]

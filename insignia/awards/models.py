"""Awards and status lists.

The signed credential is immutable: ``Award.credential`` is the exact document that was signed and is
what we serve. The other columns exist for querying. Corrections are re-issues (``replaces``);
revocation and suspension go through the status lists.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from insignia.badges.models import BadgeClass
from insignia.core.ids import new_public_id
from insignia.core.models import Organisation
from insignia.issuers.models import Issuer


class StatusPurpose(models.TextChoices):
    REVOCATION = "revocation", "Revocation"
    SUSPENSION = "suspension", "Suspension"


class StatusList(models.Model):
    """One Bitstring Status List of an issuer (131,072 entries), published as a signed credential."""

    issuer = models.ForeignKey(Issuer, on_delete=models.CASCADE, related_name="status_lists")
    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    purpose = models.CharField(max_length=16, choices=StatusPurpose.choices)
    size = models.PositiveIntegerField(default=131_072)
    bits = models.BinaryField()
    allocated = models.PositiveIntegerField(default=0)
    #: Which entries are reserved (one bit each, as in ``bits``), so reserving entries is a read and a write of
    #: this row, not a query over the awards. Empty for lists made before it existed: rebuilt from the awards
    #: on their next reservation (``statuslists._reserved_map``).
    reserved = models.BinaryField(default=bytes)
    version = models.PositiveIntegerField(default=0)
    #: The signed list credential for ``version`` (re-signed lazily when bits change).
    signed_credential = models.JSONField(null=True, blank=True)
    signed_version = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["issuer", "purpose"])]


class RecipientKind(models.TextChoices):
    EMAIL = "email", "Email"
    URL = "url", "URL"
    PHONE = "phone", "Phone"
    DID = "did", "DID"


class AwardStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended"
    REVOKED = "revoked", "Revoked"


class AcceptanceState(models.TextChoices):
    PENDING = "pending", "Pending"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"


class Visibility(models.TextChoices):
    """Who may see an award's public page, chosen by the earner."""

    #: The default: the page opens only through its unguessable link and is marked noindex.
    UNLISTED = "unlisted", "Unlisted"
    #: Listed on the earner's portfolio (and indexable).
    PUBLIC = "public", "Public"
    #: The page says only that a valid credential exists; the credential file still verifies.
    HIDDEN = "hidden", "Hidden"


class Award(models.Model):
    """One badge awarded to one recipient, with its signed credential.

    Indexes: every index is paid for on each of a bulk job's 100,000 inserts, so a foreign key whose column
    leads a composite index below has none of its own (``db_index=False``), and on PostgreSQL the text columns
    have no ``LIKE`` pattern index beside their plain one (migration 0008: nothing searches them by prefix).
    """

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="awards",
                                     db_index=False)  # award_org_issued
    badge = models.ForeignKey(BadgeClass, on_delete=models.PROTECT, related_name="awards",
                              db_index=False)  # (badge, -issued_on)
    issuer = models.ForeignKey(Issuer, on_delete=models.PROTECT, related_name="awards")
    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    recipient_kind = models.CharField(max_length=8, choices=RecipientKind.choices, default=RecipientKind.EMAIL)
    #: The plain identity, kept privately to notify the recipient; the credential carries only its salted hash.
    recipient_identity = models.CharField(max_length=320)
    recipient_salt = models.CharField(max_length=64)
    recipient_hash = models.CharField(max_length=80, db_index=True)
    recipient_name = models.CharField(max_length=200, blank=True)
    narrative = models.TextField(blank=True)
    evidence = models.JSONField(default=list, blank=True)
    issued_on = models.DateTimeField()
    expires_on = models.DateTimeField(null=True, blank=True)
    #: The signed OB 3.0 credential, exactly as signed (never modified afterwards).
    credential = models.JSONField()
    credential_id = models.CharField(max_length=500, unique=True)
    status = models.CharField(max_length=16, choices=AwardStatus.choices, default=AwardStatus.ACTIVE)
    status_reason = models.TextField(blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    revocation_list = models.ForeignKey(StatusList, on_delete=models.PROTECT, related_name="+",
                                        db_index=False)  # unique_revocation_entry
    revocation_index = models.PositiveIntegerField()
    suspension_list = models.ForeignKey(StatusList, on_delete=models.PROTECT, related_name="+",
                                        db_index=False)  # unique_suspension_entry
    suspension_index = models.PositiveIntegerField()
    acceptance = models.CharField(max_length=16, choices=AcceptanceState.choices, default=AcceptanceState.PENDING)
    #: When the earner accepted or declined (``acceptance``).
    accepted_at = models.DateTimeField(null=True, blank=True)
    #: The account that claimed the award (set on accept or decline); the issuer's records never depend on it.
    earner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="earned_awards", db_index=False)  # (earner, -issued_on)
    #: Earner-controlled: who sees the public page, and whether it shows the recipient's name.
    visibility = models.CharField(max_length=16, choices=Visibility.choices, default=Visibility.UNLISTED)
    show_recipient_name = models.BooleanField(default=False)
    replaces = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replaced_by",
                                 db_index=False)  # award_replaces: only the few awards that replace another
    #: When the ``award.expired`` webhook event was emitted (``awards.expiry``): at most once per award.
    expiry_announced_at = models.DateTimeField(null=True, blank=True)
    idempotency_key = models.CharField(max_length=200, blank=True)
    #: SHA-256 of the issue request, so a retry with the same key is told apart from a different request.
    request_fingerprint = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    #: Derived forms produced on first request and cached (the primary form is ``credential``).
    jwt = models.TextField(blank=True)
    ob2_signed = models.TextField(blank=True)

    class Meta:
        ordering = ["-issued_on", "-id"]
        indexes = [
            # The award list (newest first, by page or by id range), the dashboard's "awarded this month".
            models.Index(fields=["organisation", "-issued_on", "-id"], name="award_org_issued"),
            # The list filtered by status, and the dashboard's revoked count.
            models.Index(fields=["organisation", "status", "-issued_on", "-id"], name="award_org_status_issued"),
            models.Index(fields=["badge", "-issued_on"]),
            models.Index(fields=["earner", "-issued_on"]),
            models.Index(fields=["recipient_kind", "recipient_identity"]),
            models.Index(fields=["replaces"], name="award_replaces", condition=models.Q(replaces__isnull=False)),
            # The expiry sweep's query: only awards still to be announced are in it.
            models.Index(fields=["expires_on"], name="award_expiry_unannounced",
                         condition=models.Q(expires_on__isnull=False, expiry_announced_at__isnull=True)),
        ]
        constraints = [
            models.UniqueConstraint(fields=["revocation_list", "revocation_index"], name="unique_revocation_entry"),
            models.UniqueConstraint(fields=["suspension_list", "suspension_index"], name="unique_suspension_entry"),
            models.UniqueConstraint(
                fields=["organisation", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="unique_idempotency_key",
            ),
        ]


class EvidenceFile(models.Model):
    """A file an issuer uploaded as evidence, served publicly at ``/c/<award>/evidence/<public_id>``.

    The stored name is random (never the uploader's); ``filename`` is the sanitised original name, shown
    and offered on download. ``award`` is empty only while the award is being issued (same transaction).
    """

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="evidence_files")
    award = models.ForeignKey(Award, null=True, blank=True, on_delete=models.CASCADE, related_name="evidence_files")
    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    file = models.FileField(upload_to="evidence/")
    filename = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]


class EngagementKind(models.TextChoices):
    VIEW = "view", "Page views"
    SHARE = "share", "Share clicks"
    VERIFY = "verify", "Verifications"
    DOWNLOAD = "download", "Downloads"
    EMBED = "embed", "Embed views"


class EngagementCount(models.Model):
    """Server-side counts per award, kind and day. No viewer data at all: no IP, no user agent, no cookie."""

    award = models.ForeignKey(Award, on_delete=models.CASCADE, related_name="engagement")
    kind = models.CharField(max_length=16, choices=EngagementKind.choices)
    #: For shares, the channel (``linkedin``, ``x``, ``facebook``, ``email``, ``copy``, …); empty otherwise.
    channel = models.CharField(max_length=32, blank=True)
    day = models.DateField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["award", "kind", "channel", "day"], name="one_engagement_row_per_day"),
        ]
        # Rolling one day up into ``EngagementDaily`` reads that day's rows only.
        indexes = [models.Index(fields=["day"], name="engagement_day")]


class EngagementDaily(models.Model):
    """Per-organisation totals of one kind on one closed day, rolled up from ``EngagementCount``.

    Organisation totals (the analytics counts) read these few rows instead of summing every award's
    rows; see ``insignia.awards.rollup``.
    """

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    kind = models.CharField(max_length=16, choices=EngagementKind.choices)
    count = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "day", "kind"], name="one_daily_total_per_kind"),
        ]


class EngagementRolledDay(models.Model):
    """A day whose ``EngagementCount`` rows are rolled up into ``EngagementDaily`` (one row per day)."""

    day = models.DateField(unique=True)
    rolled_at = models.DateTimeField()
    #: Rolled after the day closed: final. Open days (today, yesterday) are rolled again when stale.
    closed = models.BooleanField(default=False)

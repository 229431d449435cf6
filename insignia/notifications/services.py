"""Emails to award recipients: the award email with its claim link, reminders, and opting out.

Every email is recorded as a ``Notification`` inside the caller's transaction and goes out only after
that transaction commits; a delivery failure is recorded on the notification, never raised to the
issuer. Claim tokens are stored as SHA-256 hashes: the plain token exists only in the email.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import formataddr, make_msgid, parseaddr
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from insignia.awards.models import Award, AwardStatus, RecipientKind
from insignia.badges.designer import text_colour_on
from insignia.core import audit
from insignia.core.bulkinsert import insert_values
from insignia.core.errors import ServiceError
from insignia.core.models import Organisation
from insignia.core.tenancy import Actor, get_scoped
from insignia.notifications.models import (
    ClaimToken,
    EmailOptOut,
    Notification,
    NotificationKind,
    NotificationStatus,
)

log = logging.getLogger(__name__)

#: How long the link in an award email can be used to claim the badge.
CLAIM_TOKEN_LIFETIME = timedelta(days=90)
#: An issuer may resend an award's email at most once in this interval.
RESEND_INTERVAL = timedelta(minutes=10)
OPT_OUT_SALT = "insignia.notifications.opt-out"
DEFAULT_BRAND = "#1d4ed8"
_HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_MAX_TOKEN = 200


class ResendTooSoon(ServiceError):
    """The award's email was sent less than ``RESEND_INTERVAL`` ago; ``retry_at`` says when to try again."""

    status = 429
    code = "resend_too_soon"

    def __init__(self, message: str, *, retry_at: datetime) -> None:
        super().__init__(message)
        self.retry_at = retry_at


# -- links -------------------------------------------------------------------------------------


def hash_claim_token(token: str) -> str:
    """The stored form of a claim token (SHA-256, hex)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def claim_url(token: str) -> str:
    return f"{settings.BASE_URL}/claim/{token}"


def award_page_url(award: Award) -> str:
    return f"{settings.BASE_URL}/c/{award.public_id}"


def badge_image_url(award: Award) -> str | None:
    """The badge's PNG image (absolute, for email clients), or None when the badge has no image."""
    badge = award.badge
    if not (badge.image_png or badge.image):
        return None
    return f"{settings.BASE_URL}/a/{badge.public_id}/image.png"


def opt_out_token(email: str, organisation: Organisation | None) -> str:
    """A signed, non-expiring token naming the address (and organisation) an unsubscribe link is for."""
    payload = {"e": email.strip().lower(), "o": organisation.public_id if organisation is not None else None}
    return signing.dumps(payload, salt=OPT_OUT_SALT, compress=True)


def opt_out_url(email: str, organisation: Organisation | None) -> str:
    return f"{settings.BASE_URL}/email/opt-out/{opt_out_token(email, organisation)}"


@dataclass(frozen=True)
class OptOutRequest:
    """What a valid unsubscribe link asks for."""

    email: str
    organisation: Organisation | None


def read_opt_out_token(token: str) -> OptOutRequest | None:
    """The request a signed unsubscribe token carries, or None if it is forged, damaged or stale."""
    if not token or len(token) > 1000:
        return None
    try:
        payload = signing.loads(token, salt=OPT_OUT_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("e"), str):
        return None
    organisation = None
    if payload.get("o"):
        organisation = Organisation.objects.filter(public_id=str(payload["o"])).first()
        if organisation is None:
            return None
    return OptOutRequest(email=payload["e"], organisation=organisation)


def mask_email(email: str) -> str:
    """``a***@example.org``: enough for the owner to recognise, too little to harvest."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


# -- opting out --------------------------------------------------------------------------------


def _clean_email(email: str) -> str:
    value = (email or "").strip().lower()
    try:
        validate_email(value)
    except ValidationError as exc:
        raise ServiceError("Enter a valid email address, like name@example.org.", field="email") from exc
    return value


def is_opted_out(email: str, organisation: Organisation) -> bool:
    """Whether ``email`` asked for no emails from ``organisation`` (or from every organisation)."""
    return EmailOptOut.objects.filter(email=(email or "").strip().lower()).filter(
        Q(organisation__isnull=True) | Q(organisation=organisation)
    ).exists()


def opt_out(email: str, organisation: Organisation | None = None, *, reason: str = "") -> EmailOptOut:
    """Stop award emails to ``email`` from ``organisation`` (None: from all). Idempotent."""
    address = _clean_email(email)
    lookup = {"email": address, "organisation": organisation}
    existing = EmailOptOut.objects.filter(**lookup).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            entry = EmailOptOut.objects.create(**lookup, reason=(reason or "")[:200])
            if organisation is not None:
                audit.record(organisation, actor="recipient", verb="email.opted_out", obj=None,
                             data={"email": address})
    except IntegrityError:  # the same request arrived twice at once
        return EmailOptOut.objects.get(**lookup)
    return entry


# -- sending -----------------------------------------------------------------------------------


@transaction.atomic
def send_award_email(*, award: Award, kind: str = NotificationKind.AWARD_ISSUED,
                     now: datetime | None = None) -> Notification | None:
    """Email the recipient a fresh claim link for ``award``, once the current transaction commits.

    Returns the recorded notification: ``queued`` (then ``sent`` or ``failed`` after delivery), or
    ``skipped_opted_out``. Returns None for recipients that are not email addresses.
    """
    if kind not in NotificationKind.values:
        raise ServiceError(f"Unknown kind of email {kind!r}.", code="notification_kind_invalid")
    if award.recipient_kind != RecipientKind.EMAIL:
        return None
    now = now or timezone.now()
    to = award.recipient_identity.strip().lower()
    if is_opted_out(to, award.organisation):
        return Notification.objects.create(award=award, kind=kind, to=to, created_at=now,
                                           status=NotificationStatus.SKIPPED_OPTED_OUT)
    token = secrets.token_urlsafe(32)
    ClaimToken.objects.create(award=award, token_hash=hash_claim_token(token), created_at=now,
                              expires_at=now + CLAIM_TOKEN_LIFETIME)
    notification = Notification.objects.create(award=award, kind=kind, to=to, created_at=now,
                                               status=NotificationStatus.QUEUED)
    transaction.on_commit(lambda: deliver(notification, token), robust=True)
    return notification


def queue_award_emails(awards: Sequence[Award], *, now: datetime | None = None) -> int:
    """Record the award email of many new awards at once (bulk issuing), inside the caller's transaction.

    One opt-out query and one insert: each email recipient gets a ``queued`` notification (or
    ``skipped_opted_out``). Nothing is sent here and no claim token exists yet: ``send_queued_award_email``
    makes the token and sends, later, from a background job. Returns how many were recorded.
    """
    now = now or timezone.now()
    targets = [(award, award.recipient_identity.strip().lower()) for award in awards
               if award.recipient_kind == RecipientKind.EMAIL]
    if not targets:
        return 0
    organisations = {award.organisation_id for award, _ in targets}
    addresses = sorted({to for _, to in targets})
    opted: set[tuple[int | None, str]] = set()
    for start in range(0, len(addresses), 500):
        opted.update(EmailOptOut.objects.filter(email__in=addresses[start:start + 500]).filter(
            Q(organisation__isnull=True) | Q(organisation_id__in=organisations)
        ).values_list("organisation_id", "email"))
    insert_values(Notification, (  # rows, not instances: nothing here needs them
        {"award_id": award.pk, "kind": NotificationKind.AWARD_ISSUED, "to": to, "created_at": now,
         "status": NotificationStatus.SKIPPED_OPTED_OUT
         if (None, to) in opted or (award.organisation_id, to) in opted else NotificationStatus.QUEUED}
        for award, to in targets))
    return len(targets)


def send_queued_award_email(notification: Notification, *, now: datetime | None = None) -> Notification | None:
    """Send one notification left ``queued`` by ``queue_award_emails``: make its claim token, then deliver.

    Claims the notification first (a conditional UPDATE of its ``message_id``), so two runners never send
    it twice; returns None when another runner has it. A crash between the claim and the send leaves it
    unsent rather than risk a second email.
    """
    now = now or timezone.now()
    domain = urlsplit(settings.BASE_URL).hostname or "localhost"
    claim = make_msgid(domain=domain)
    if not Notification.objects.filter(pk=notification.pk, status=NotificationStatus.QUEUED, message_id="").update(
            message_id=claim):
        return None
    token = secrets.token_urlsafe(32)
    ClaimToken.objects.create(award_id=notification.award_id, token_hash=hash_claim_token(token), created_at=now,
                              expires_at=now + CLAIM_TOKEN_LIFETIME)
    notification.message_id = claim
    return deliver(notification, token)


def notify_award_issued(award: Award) -> None:
    """The ``award_issued`` hook: send the award email, and never let a failure reach the issuer."""
    try:
        send_award_email(award=award)
    except Exception:
        log.exception("Could not prepare the award email for award %s", award.public_id)


def _brand(organisation: Organisation) -> str:
    colour = organisation.brand_colour or ""
    return colour.lower() if _HEX_COLOUR.match(colour) else DEFAULT_BRAND


def _one_line(text: str) -> str:
    return " ".join((text or "").split())


def _from_address(organisation: Organisation) -> str:
    _name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    if not address:
        return settings.DEFAULT_FROM_EMAIL
    return formataddr((f"{_one_line(organisation.name)} via Insignia", address))


def email_context(award: Award, token: str, *, kind: str, expires_at: datetime | None = None) -> dict[str, Any]:
    """What the award email templates show."""
    organisation = award.organisation
    brand = _brand(organisation)
    return {
        "award": award, "badge": award.badge, "issuer": award.issuer, "organisation": organisation,
        "brand": brand, "brand_ink": text_colour_on(brand), "reminder": kind == NotificationKind.REMINDER,
        "recipient_name": award.recipient_name, "image_url": badge_image_url(award),
        "claim_url": claim_url(token), "award_url": award_page_url(award),
        "opt_out_url": opt_out_url(award.recipient_identity, organisation),
        "claim_expires_at": expires_at, "base_url": settings.BASE_URL,
    }


def build_message(notification: Notification, token: str) -> EmailMultiAlternatives:
    """The award email (plain text with an HTML alternative) for one notification."""
    award = notification.award
    organisation, badge = award.organisation, award.badge
    claim = ClaimToken.objects.filter(token_hash=hash_claim_token(token)).only("expires_at").first()
    context = email_context(award, token, kind=notification.kind,
                            expires_at=claim.expires_at if claim is not None else None)
    if notification.kind == NotificationKind.REMINDER:
        subject = f"Reminder: your “{badge.name}” badge from {organisation.name} is waiting"
    else:
        subject = f"{organisation.name} awarded you “{badge.name}”"
    headers = {
        "Message-ID": notification.message_id,
        "List-Unsubscribe": f"<{context['opt_out_url']}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "Auto-Submitted": "auto-generated",
    }
    reply_to = [award.issuer.email] if getattr(award.issuer, "email", "") else []
    message = EmailMultiAlternatives(
        subject=_one_line(subject), body=render_to_string("notifications/award_issued.txt", context),
        from_email=_from_address(organisation), to=[notification.to], reply_to=reply_to, headers=headers,
    )
    message.attach_alternative(render_to_string("notifications/award_issued.html", context), "text/html")
    return message


def deliver(notification: Notification, token: str) -> Notification:
    """Send a queued notification now through Django's email backend; record ``sent`` or ``failed``."""
    domain = urlsplit(settings.BASE_URL).hostname or "localhost"
    notification.message_id = make_msgid(domain=domain)
    try:
        build_message(notification, token).send(fail_silently=False)
    except Exception as exc:
        log.warning("Award email %s to award %s failed: %s", notification.pk, notification.award.public_id, exc)
        notification.status = NotificationStatus.FAILED
        notification.error = f"{type(exc).__name__}: {exc}"[:2000]
    else:
        notification.status = NotificationStatus.SENT
        notification.sent_at = timezone.now()
        notification.error = ""
    notification.save(update_fields=["status", "error", "message_id", "sent_at"])
    return notification


# -- resending ---------------------------------------------------------------------------------


@transaction.atomic
def resend_award_email(*, actor: Actor, award: Award | str, now: datetime | None = None) -> Notification:
    """Send the recipient a reminder with a new claim link (at most once per ``RESEND_INTERVAL`` per award).

    The returned notification is ``skipped_opted_out`` when the recipient has opted out.
    """
    actor.require("issue")
    now = now or timezone.now()
    lookup = {"public_id": award} if isinstance(award, str) else {"pk": award.pk}
    found = get_scoped(Award.objects.select_for_update().select_related("badge", "issuer", "organisation"),
                       actor, **lookup)
    assert isinstance(found, Award)
    if found.recipient_kind != RecipientKind.EMAIL:
        raise ServiceError("This award's recipient is not an email address, so there is nobody to email.",
                           code="recipient_not_email")
    if found.status == AwardStatus.REVOKED:
        raise ServiceError("This badge has been revoked; its email is no longer sent.", code="award_revoked")
    last = (Notification.objects.filter(award=found, status__in=[NotificationStatus.QUEUED, NotificationStatus.SENT])
            .order_by("-created_at").first())
    if last is not None and now - last.created_at < RESEND_INTERVAL:
        retry_at = last.created_at + RESEND_INTERVAL
        wait = max(1, int((retry_at - now).total_seconds() + 59) // 60)
        raise ResendTooSoon(
            f"An email about this badge went out at {last.created_at:%H:%M} UTC. You can resend it in {wait} "
            f"minute{'s' if wait != 1 else ''} (from {retry_at:%H:%M} UTC).", retry_at=retry_at,
        )
    notification = send_award_email(award=found, kind=NotificationKind.REMINDER, now=now)
    assert notification is not None
    audit.record(actor.organisation, actor=actor.audit_actor, verb="award.email_resent", obj=found,
                 data={"status": notification.status})
    return notification

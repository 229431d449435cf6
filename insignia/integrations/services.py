"""Integration operations: API tokens, webhooks and emitting award events to webhooks."""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from insignia.core import audit
from insignia.core.errors import NotFound, ServiceError
from insignia.core.tenancy import Actor
from insignia.integrations import sealing
from insignia.integrations.models import EVENTS, SCOPES, ApiToken, Webhook, WebhookDelivery
from insignia.net.fetch import is_loopback_host

log = logging.getLogger(__name__)

#: The permission each token scope grants; every token may also ``view``.
SCOPE_PERMISSIONS: dict[str, str] = {"read": "view", "issue": "issue", "design": "design", "manage": "manage"}
TOKEN_PREFIX = "ins"  # noqa: S105 (the public marker of our tokens, not a secret)
MAX_TOKEN_NAME = 100


def hash_secret(secret: str) -> str:
    """SHA-256 (hex) of a token's secret part: what is stored and compared."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _clean_scopes(scopes: Iterable[str]) -> list[str]:
    scopes = list(scopes)
    bad = sorted(set(scopes) - set(SCOPES))
    if bad:
        raise ServiceError(f"Unknown scope(s) {', '.join(bad)}; choose from {', '.join(SCOPES)}.", field="scopes",
                           code="invalid_scope")
    if not scopes:
        raise ServiceError("Give the token at least one scope.", field="scopes", code="invalid_scope")
    return sorted(set(scopes), key=SCOPES.index)


@transaction.atomic
def create_api_token(
    *,
    actor: Actor,
    name: str,
    scopes: Iterable[str],
    expires_at: datetime | None = None,
    now: datetime | None = None,
) -> tuple[ApiToken, str]:
    """A new token for the actor's organisation; returns it and its plaintext, which is never shown again.

    The actor must be allowed to manage and must itself hold every permission the scopes grant, so a
    token can never mint a more powerful one.
    """
    actor.require("manage")
    chosen = _clean_scopes(scopes)
    for scope in chosen:
        actor.require(SCOPE_PERMISSIONS[scope])
    name = name.strip()
    if not name or len(name) > MAX_TOKEN_NAME:
        raise ServiceError(f"Give the token a name of 1 to {MAX_TOKEN_NAME} characters.", field="name")
    now = now or timezone.now()
    if expires_at is not None and expires_at <= now:
        raise ServiceError("The expiry must be in the future.", field="expires_at")
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        organisation=actor.organisation, name=name, prefix=prefix, token_hash=hash_secret(secret), scopes=chosen,
        created_by=actor.user if getattr(actor.user, "pk", None) else None, expires_at=expires_at,
    )
    audit.record(actor.organisation, actor=actor.audit_actor, verb="api_token.created", obj=token,
                 data={"name": name, "scopes": chosen, "prefix": prefix})
    return token, f"{TOKEN_PREFIX}_{prefix}_{secret}"


@transaction.atomic
def revoke_api_token(*, actor: Actor, token: ApiToken, now: datetime | None = None) -> ApiToken:
    """Revoke a token at once; revoking twice is harmless."""
    actor.require("manage")
    if token.organisation_id != actor.organisation.pk:
        raise NotFound("No such API token.")
    if token.revoked_at is None:
        token.revoked_at = now or timezone.now()
        token.save(update_fields=["revoked_at"])
        audit.record(actor.organisation, actor=actor.audit_actor, verb="api_token.revoked", obj=token,
                     data={"name": token.name, "prefix": token.prefix})
    return token


def loopback_allowed() -> bool:
    """Plain http to loopback receivers: development (DEBUG) and tests only."""
    return bool(getattr(settings, "INSIGNIA_WEBHOOKS_ALLOW_LOOPBACK", settings.DEBUG))


def check_webhook_url(url: str) -> str:
    """The URL, trimmed, if a webhook may be sent to it: https, or http to loopback in development/tests."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError for a malformed port)
    except ValueError as exc:
        raise ServiceError("The webhook URL is not a valid URL.", field="url", code="invalid_url") from exc
    host = parts.hostname or ""
    if not host or parts.scheme not in ("https", "http") or len(url) > 500 or parts.username or parts.password:
        raise ServiceError("The webhook URL must be an absolute https:// URL without credentials.", field="url",
                           code="invalid_url")
    if parts.scheme == "http" and not (loopback_allowed() and is_loopback_host(host)):
        raise ServiceError("The webhook URL must use https.", field="url", code="https_required")
    if parts.scheme == "https" and is_loopback_host(host) and not loopback_allowed():
        raise ServiceError("The webhook URL must point at a public host.", field="url", code="address_forbidden")
    return url


def _clean_events(events: Iterable[str]) -> list[str]:
    events = list(events)
    bad = sorted(set(events) - set(EVENTS))
    if bad:
        raise ServiceError(f"Unknown event(s) {', '.join(bad)}; choose from {', '.join(EVENTS)}.", field="events",
                           code="invalid_event")
    if not events:
        raise ServiceError("Subscribe the webhook to at least one event.", field="events", code="invalid_event")
    return sorted(set(events), key=EVENTS.index)


@transaction.atomic
def create_webhook(
    *, actor: Actor, url: str, events: Iterable[str], now: datetime | None = None
) -> tuple[Webhook, str]:
    """A new webhook; returns it and its signing secret, which is shown only this once."""
    actor.require("manage")
    url = check_webhook_url(url)
    chosen = _clean_events(events)
    secret = f"whsec_{secrets.token_urlsafe(32)}"
    webhook = Webhook.objects.create(
        organisation=actor.organisation, url=url, secret=sealing.seal(secret), events=chosen,
        created_by=actor.user if getattr(actor.user, "pk", None) else None,
    )
    audit.record(actor.organisation, actor=actor.audit_actor, verb="webhook.created", obj=webhook,
                 data={"url": url, "events": chosen})
    return webhook, secret


@transaction.atomic
def delete_webhook(*, actor: Actor, webhook: Webhook) -> None:
    """Delete a webhook and its delivery log; pending deliveries are dropped."""
    actor.require("manage")
    if webhook.organisation_id != actor.organisation.pk:
        raise NotFound("No such webhook.")
    audit.record(actor.organisation, actor=actor.audit_actor, verb="webhook.deleted", obj=webhook,
                 data={"url": webhook.url})
    webhook.delete()


def event_payload(event: str, award: Any, *, delivery_id: str, now: datetime) -> dict[str, Any]:
    """The JSON body of a delivery: an envelope around the award as the API shows it."""
    from insignia.awards.schemas import award_data

    body = {
        "id": delivery_id,
        "type": event,
        "created_at": now.isoformat().replace("+00:00", "Z"),
        "organisation": award.organisation.public_id,
        "data": {"award": award_data(award)},
    }
    return json.loads(json.dumps(body, cls=DjangoJSONEncoder))  # datetimes as ISO 8601 text


def emit(event: str, award: Any, *, now: datetime | None = None) -> list[WebhookDelivery]:
    """Record a delivery for each active webhook of the award's organisation subscribed to ``event``.

    Call it inside the service's transaction: the deliveries are sent by the job runner after commit,
    and vanish with the transaction if it rolls back.
    """
    from insignia.integrations import delivery
    from insignia.site import jobs

    if event not in EVENTS:
        raise ValueError(f"unknown webhook event {event!r}")
    now = now or timezone.now()
    created: list[WebhookDelivery] = []
    try:
        with transaction.atomic():  # a savepoint inside a service's transaction, its own one after commit
            hooks = [h for h in Webhook.objects.filter(organisation_id=award.organisation_id, active=True)
                     if event in (h.events or [])]
            for hook in hooks:
                item = WebhookDelivery(webhook=hook, event=event, next_attempt_at=now)
                item.payload = event_payload(event, award, delivery_id=item.public_id, now=now)
                item.save()
                created.append(item)
                jobs.enqueue(delivery.JOB_KIND, item.public_id)
    except Exception:  # webhooks must never break the operation that emitted them
        log.exception("could not record %s webhook deliveries for award %s", event, award.public_id)
        return []
    return created


def emit_many(event: str, awards: list[Any], *, now: datetime | None = None) -> list[WebhookDelivery]:
    """``emit`` for many awards of one organisation at once (bulk issuing): one webhook query, one insert.

    Call it inside the service's transaction, like ``emit``; each delivery is queued after commit.
    """
    from insignia.integrations import delivery
    from insignia.site import jobs

    if event not in EVENTS:
        raise ValueError(f"unknown webhook event {event!r}")
    if not awards:
        return []
    now = now or timezone.now()
    organisation_id = awards[0].organisation_id
    if any(award.organisation_id != organisation_id for award in awards):
        raise ValueError("emit_many() takes awards of one organisation")
    try:
        with transaction.atomic():
            hooks = [h for h in Webhook.objects.filter(organisation_id=organisation_id, active=True)
                     if event in (h.events or [])]
            items: list[WebhookDelivery] = []
            for hook in hooks:
                for award in awards:
                    item = WebhookDelivery(webhook=hook, event=event, next_attempt_at=now)
                    item.payload = event_payload(event, award, delivery_id=item.public_id, now=now)
                    items.append(item)
            created = WebhookDelivery.objects.bulk_create(items, batch_size=500)
            for item in created:
                jobs.enqueue(delivery.JOB_KIND, item.public_id)
    except Exception:  # webhooks must never break the operation that emitted them
        log.exception("could not record %s webhook deliveries for %d awards", event, len(awards))
        return []
    return created

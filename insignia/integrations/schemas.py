"""API shapes of tokens, webhooks, deliveries and audit events."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from ninja import Field, Schema

from insignia.core.models import AuditEvent
from insignia.integrations.models import ApiToken, Webhook, WebhookDelivery
from insignia.integrations.pagination import Page

ScopeName = Literal["read", "issue", "design", "manage"]
EventName = Literal["award.issued", "award.accepted", "award.revoked", "award.suspended", "award.unsuspended",
                    "award.expired"]


class TokenIn(Schema):
    name: str = Field(max_length=100)
    scopes: list[ScopeName] = Field(min_length=1, max_length=4)
    expires_at: datetime | None = None


class TokenOut(Schema):
    id: str
    name: str
    prefix: str = Field(description="The public part: tokens look like ins_<prefix>_<secret>.")
    scopes: list[str]
    created_at: datetime
    created_by: str | None
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenOut):
    token: str = Field(description="The token itself. It is shown only now; store it safely.")


class TokenPage(Page):
    items: list[TokenOut]


class WebhookIn(Schema):
    url: str = Field(max_length=500)
    events: list[EventName] = Field(min_length=1, max_length=6)


class WebhookOut(Schema):
    id: str
    url: str
    events: list[str]
    active: bool
    created_at: datetime


class WebhookCreated(WebhookOut):
    secret: str = Field(description="The signing secret. It is shown only now; store it safely.")


class WebhookPage(Page):
    items: list[WebhookOut]


class DeliveryOut(Schema):
    id: str
    event: str
    state: str
    attempt: int
    status_code: int | None
    response_excerpt: str
    error: str
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime
    attempts: list[dict[str, Any]]
    payload: dict[str, Any]


class DeliveryPage(Page):
    items: list[DeliveryOut]


class AuditEventOut(Schema):
    id: int
    verb: str
    actor: str
    object_type: str
    object_id: str
    data: dict[str, Any]
    created_at: datetime


class AuditPage(Page):
    items: list[AuditEventOut]


def token_data(token: ApiToken) -> dict[str, Any]:
    return {"id": token.public_id, "name": token.name, "prefix": token.prefix, "scopes": list(token.scopes),
            "created_at": token.created_at, "created_by": getattr(token.created_by, "email", None),
            "last_used_at": token.last_used_at, "expires_at": token.expires_at, "revoked_at": token.revoked_at}


def webhook_data(webhook: Webhook) -> dict[str, Any]:
    return {"id": webhook.public_id, "url": webhook.url, "events": list(webhook.events), "active": webhook.active,
            "created_at": webhook.created_at}


def delivery_data(item: WebhookDelivery) -> dict[str, Any]:
    return {"id": item.public_id, "event": item.event, "state": item.state, "attempt": item.attempt,
            "status_code": item.status_code, "response_excerpt": item.response_excerpt, "error": item.error,
            "next_attempt_at": item.next_attempt_at, "delivered_at": item.delivered_at,
            "created_at": item.created_at, "attempts": list(item.attempts_log or []), "payload": item.payload}


def audit_data(event: AuditEvent) -> dict[str, Any]:
    return {"id": event.pk, "verb": event.verb, "actor": event.actor_label, "object_type": event.object_type,
            "object_id": event.object_id, "data": event.data or {}, "created_at": event.created_at}

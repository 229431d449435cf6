"""Managing API tokens and webhooks over the API, the delivery log, and the audit log (all: scope manage)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from insignia.core.models import AuditEvent
from insignia.core.tenancy import Actor, get_scoped, scoped
from insignia.integrations import services
from insignia.integrations.models import ApiToken, Webhook
from insignia.integrations.pagination import PageParams, paginate
from insignia.integrations.schemas import (
    AuditPage,
    DeliveryPage,
    TokenCreated,
    TokenIn,
    TokenOut,
    TokenPage,
    WebhookCreated,
    WebhookIn,
    WebhookOut,
    WebhookPage,
    audit_data,
    delivery_data,
    token_data,
    webhook_data,
)

tokens_router = Router()
webhooks_router = Router()
audit_router = Router()


def _manager(request: HttpRequest) -> Actor:
    actor: Actor = request.auth
    actor.require("manage")
    return actor


def _token(actor: Actor, token_id: str) -> ApiToken:
    token = get_scoped(ApiToken.objects.select_related("created_by"), actor, public_id=token_id)
    assert isinstance(token, ApiToken)
    return token


def _webhook(actor: Actor, webhook_id: str) -> Webhook:
    webhook = get_scoped(Webhook.objects.all(), actor, public_id=webhook_id)
    assert isinstance(webhook, Webhook)
    return webhook


# -- tokens --------------------------------------------------------------------------------------


@tokens_router.get("", response=TokenPage, summary="List API tokens (scope: manage)")
def list_tokens(request: HttpRequest, page: Query[PageParams]) -> dict[str, Any]:
    actor = _manager(request)
    queryset = scoped(ApiToken.objects.select_related("created_by"), actor).order_by("-created_at", "-id")
    return paginate(request, queryset, page, token_data)


@tokens_router.post("", response={201: TokenCreated}, summary="Create an API token (scope: manage)",
                    description="The response carries the token once; only its hash is kept. A token can only "
                                "create tokens with scopes it holds itself.")
def create_token(request: HttpRequest, payload: TokenIn) -> Status[dict[str, Any]]:
    token, plaintext = services.create_api_token(actor=request.auth, name=payload.name, scopes=payload.scopes,
                                                 expires_at=payload.expires_at)
    return Status(201, {**token_data(token), "token": plaintext})


@tokens_router.get("/{token_id}", response=TokenOut, summary="Read an API token (scope: manage)")
def get_token(request: HttpRequest, token_id: str) -> dict[str, Any]:
    return token_data(_token(_manager(request), token_id))


@tokens_router.post("/{token_id}/revoke", response=TokenOut, summary="Revoke an API token (scope: manage)")
def revoke_token(request: HttpRequest, token_id: str) -> dict[str, Any]:
    actor = _manager(request)
    return token_data(services.revoke_api_token(actor=actor, token=_token(actor, token_id)))


# -- webhooks ------------------------------------------------------------------------------------


@webhooks_router.get("", response=WebhookPage, summary="List webhooks (scope: manage)")
def list_webhooks(request: HttpRequest, page: Query[PageParams]) -> dict[str, Any]:
    actor = _manager(request)
    return paginate(request, scoped(Webhook.objects.all(), actor).order_by("-created_at", "-id"), page, webhook_data)


@webhooks_router.post("", response={201: WebhookCreated}, summary="Create a webhook (scope: manage)",
                      description="The response carries the signing secret once. Deliveries are POSTs with "
                                  "`Insignia-Event`, `Insignia-Delivery` and `Insignia-Signature: t=<unix>,v1=<hex>` "
                                  "(HMAC-SHA256 of `<t>.<body>` with the secret).")
def create_webhook(request: HttpRequest, payload: WebhookIn) -> Status[dict[str, Any]]:
    webhook, secret = services.create_webhook(actor=request.auth, url=payload.url, events=payload.events)
    return Status(201, {**webhook_data(webhook), "secret": secret})


@webhooks_router.get("/{webhook_id}", response=WebhookOut, summary="Read a webhook (scope: manage)")
def get_webhook(request: HttpRequest, webhook_id: str) -> dict[str, Any]:
    return webhook_data(_webhook(_manager(request), webhook_id))


@webhooks_router.delete("/{webhook_id}", response={204: None}, summary="Delete a webhook (scope: manage)")
def delete_webhook(request: HttpRequest, webhook_id: str) -> Status[None]:
    actor = _manager(request)
    services.delete_webhook(actor=actor, webhook=_webhook(actor, webhook_id))
    return Status(204, None)


@webhooks_router.get("/{webhook_id}/deliveries", response=DeliveryPage,
                     summary="The delivery log of a webhook, newest first (scope: manage)")
def list_deliveries(request: HttpRequest, webhook_id: str, page: Query[PageParams]) -> dict[str, Any]:
    webhook = _webhook(_manager(request), webhook_id)
    return paginate(request, webhook.deliveries.order_by("-created_at", "-id"), page, delivery_data)


# -- audit ---------------------------------------------------------------------------------------


class AuditFilters(Schema):
    verb: str | None = Field(None, max_length=64, description="e.g. award.issued")
    object_id: str | None = Field(None, max_length=64)


@audit_router.get("", response=AuditPage, summary="The organisation's audit log, newest first (scope: manage)")
def list_audit(request: HttpRequest, page: Query[PageParams], filters: Query[AuditFilters]) -> dict[str, Any]:
    actor = _manager(request)
    queryset = scoped(AuditEvent.objects.all(), actor).order_by("-created_at", "-id")
    if filters.verb:
        queryset = queryset.filter(verb=filters.verb)
    if filters.object_id:
        queryset = queryset.filter(object_id=filters.object_id)
    return paginate(request, queryset, page, audit_data)

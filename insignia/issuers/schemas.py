"""API shapes of issuers and their signing keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from ninja import Field, Schema

from insignia.integrations.pagination import Page
from insignia.issuers.identity import (
    DID_METHOD_TRADE_OFF,
    did_document_url,
    issuer_did,
    issuer_image_url,
    issuer_url,
    key_id,
    ob2_issuer_url,
    uses_did_key,
)
from insignia.issuers.models import Issuer, SigningKey


class KeyOut(Schema):
    id: str = Field(description="The verification method id: did:web:…#fragment, or for a did:key issuer "
                               "did:key:z…#z… (Ed25519) or the OB 2.0 key URL (RSA).")
    algorithm: str
    created_at: datetime
    retired_at: datetime | None
    active: bool


class IssuerOut(Schema):
    id: str
    name: str
    url: str
    email: str
    description: str
    image_url: str | None
    did: str
    did_method: Literal["web", "key"]
    profile_url: str
    did_document_url: str | None = Field(description="The did:web document; null for a did:key issuer.")
    ob2_issuer_url: str
    keys: list[KeyOut]
    created_at: datetime
    updated_at: datetime


class IssuerPage(Page):
    items: list[IssuerOut]


class IssuerIn(Schema):
    name: str = Field(max_length=200)
    url: str = Field(max_length=500, description="The issuer's website, http(s).")
    email: str = Field(max_length=254)
    description: str = Field("", max_length=5000)
    did_method: Literal["web", "key"] = Field("web", description=f"Fixed at creation. {DID_METHOD_TRADE_OFF}")


class IssuerPatch(Schema):
    name: str | None = Field(None, max_length=200)
    url: str | None = Field(None, max_length=500)
    email: str | None = Field(None, max_length=254)
    description: str | None = Field(None, max_length=5000)


def key_data(key: SigningKey) -> dict[str, Any]:
    return {"id": key_id(key), "algorithm": key.algorithm, "created_at": key.created_at,
            "retired_at": key.retired_at, "active": key.retired_at is None}


def issuer_data(issuer: Issuer) -> dict[str, Any]:
    """The issuer as the API shows it."""
    image = issuer_image_url(issuer)
    return {
        "id": issuer.public_id,
        "name": issuer.name,
        "url": issuer.url,
        "email": issuer.email,
        "description": issuer.description,
        "image_url": image,
        "did": issuer_did(issuer),
        "did_method": issuer.did_method,
        "profile_url": issuer_url(issuer),
        "did_document_url": None if uses_did_key(issuer) else did_document_url(issuer),
        "ob2_issuer_url": ob2_issuer_url(issuer),
        "keys": [key_data(k) for k in issuer.keys.order_by("-created_at", "-id")],
        "created_at": issuer.created_at,
        "updated_at": issuer.updated_at,
    }

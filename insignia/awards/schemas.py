"""API shapes of awards, with the URL of every public form of the credential."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.conf import settings
from ninja import Field, Schema

from insignia.awards.models import Award
from insignia.integrations.pagination import Page

RecipientKindName = Literal["email", "url", "phone", "did"]
StatusFilter = Literal["active", "suspended", "revoked", "expired"]


class RecipientOut(Schema):
    kind: str
    identity: str = Field(description="Kept privately; credentials carry only its salted hash.")
    name: str


class EvidenceIn(Schema):
    url: str = Field("", max_length=2000)
    narrative: str = Field("", max_length=10_000)
    name: str = Field("", max_length=200)


class EvidenceOut(Schema):
    url: str | None = None
    narrative: str | None = None
    name: str | None = None


class AwardOut(Schema):
    id: str
    badge: str = Field(description="The badge's id.")
    badge_name: str
    issuer: str = Field(description="The issuer's id.")
    recipient: RecipientOut
    narrative: str
    evidence: list[EvidenceOut]
    issued_on: datetime
    expires_on: datetime | None
    status: str = Field(description="active, suspended or revoked (what was set).")
    state: str = Field(description="valid, expired, suspended or revoked (what a verifier sees now).")
    status_reason: str
    status_changed_at: datetime | None
    acceptance: str
    credential_id: str
    public_url: str
    credential_url: str
    jwt_url: str
    assertion_url: str
    baked_png_url: str
    baked_svg_url: str
    created_at: datetime


class AwardPage(Page):
    items: list[AwardOut]


class AwardIn(Schema):
    badge: str = Field(max_length=64, description="The id of a published badge.")
    recipient: str = Field(max_length=320, description="Email, URL, phone (+country code) or DID.")
    recipient_kind: RecipientKindName = "email"
    recipient_name: str = Field("", max_length=200)
    evidence: list[EvidenceIn] = Field(default_factory=list, max_length=20)
    narrative: str = Field("", max_length=10_000)
    issued_on: datetime | None = Field(None, description="Defaults to now; with a time zone.")


class ReasonIn(Schema):
    reason: str = Field(max_length=1000)


def award_urls(public_id: str) -> dict[str, str]:
    """Every public form of one award, under INSIGNIA_BASE_URL."""
    base = f"{settings.BASE_URL}/c/{public_id}"
    return {
        "public_url": base,
        "credential_url": f"{base}/credential.json",
        "jwt_url": f"{base}/credential.jwt",
        "assertion_url": f"{base}/assertion",
        "baked_png_url": f"{base}/badge.png",
        "baked_svg_url": f"{base}/badge.svg",
    }


def award_data(award: Award) -> dict[str, Any]:
    """The award as the API (and webhook payloads) show it."""
    from insignia.awards.queries import display_state

    return {
        "id": award.public_id,
        "badge": award.badge.public_id,
        "badge_name": award.badge.name,
        "issuer": award.issuer.public_id,
        "recipient": {"kind": award.recipient_kind, "identity": award.recipient_identity,
                      "name": award.recipient_name},
        "narrative": award.narrative,
        "evidence": list(award.evidence or []),
        "issued_on": award.issued_on,
        "expires_on": award.expires_on,
        "status": award.status,
        "state": display_state(award),
        "status_reason": award.status_reason,
        "status_changed_at": award.status_changed_at,
        "acceptance": award.acceptance,
        "credential_id": award.credential_id,
        **award_urls(award.public_id),
        "created_at": award.created_at,
    }

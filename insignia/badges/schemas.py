"""API shapes of badge classes (achievements)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from django.conf import settings
from ninja import Field, Schema

from insignia.badges import documents
from insignia.badges.models import BadgeClass
from insignia.integrations.pagination import Page

StatusName = Literal["draft", "published", "archived"]
ExpiryPolicyName = Literal["none", "fixed_date", "duration"]


class AlignmentSchema(Schema):
    framework: str = Field("", max_length=200)
    code: str = Field("", max_length=200)
    name: str = Field("", max_length=200)
    url: str = Field("", max_length=500)
    description: str = Field("", max_length=2000)


class BadgeOut(Schema):
    id: str
    issuer: str = Field(description="The issuer's id.")
    name: str
    description: str
    image_url: str | None
    image_type: str
    criteria_narrative: str
    criteria_url: str
    achievement_type: str
    level: str
    alignments: list[dict[str, Any]]
    tags: list[str]
    expiry_policy: str
    expiry_date: datetime | None
    expiry_days: int | None
    evidence_required: bool
    status: str
    published_at: datetime | None
    design: dict[str, Any]
    achievement_url: str = Field(description="The OB 3.0 Achievement (public once published).")
    created_at: datetime
    updated_at: datetime


class BadgePage(Page):
    items: list[BadgeOut]


class BadgeIn(Schema):
    issuer: str = Field(max_length=64, description="The id of one of your issuers.")
    name: str = Field(max_length=200)
    description: str = Field(max_length=5000)
    criteria_narrative: str = Field("", max_length=20_000, description="Markdown.")
    criteria_url: str = Field("", max_length=500)
    achievement_type: str = Field("Badge", max_length=64)
    level: str = Field("", max_length=64)
    alignments: list[AlignmentSchema] = Field(default_factory=list, max_length=20)
    tags: list[str] = Field(default_factory=list, max_length=20)
    expiry_policy: ExpiryPolicyName = "none"
    expiry_date: datetime | date | None = None
    expiry_days: int | None = Field(None, ge=1, le=36_500)
    evidence_required: bool = False
    design: dict[str, Any] | None = Field(None, description="Designer parameters (shape, colours, icon or "
                                                            "initials, ribbon); used when no image is given.")
    image_base64: str | None = Field(None, description="A PNG or SVG image, base64-encoded.")
    image_filename: str = Field("", max_length=200)


class BadgePatch(Schema):
    issuer: str | None = Field(None, max_length=64)
    name: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=5000)
    criteria_narrative: str | None = Field(None, max_length=20_000)
    criteria_url: str | None = Field(None, max_length=500)
    achievement_type: str | None = Field(None, max_length=64)
    level: str | None = Field(None, max_length=64)
    alignments: list[AlignmentSchema] | None = Field(None, max_length=20)
    tags: list[str] | None = Field(None, max_length=20)
    expiry_policy: ExpiryPolicyName | None = None
    expiry_date: datetime | date | None = None
    expiry_days: int | None = Field(None, ge=1, le=36_500)
    evidence_required: bool | None = None
    design: dict[str, Any] | None = None
    image_base64: str | None = None
    image_filename: str = Field("", max_length=200)


class BadgeFilters(Schema):
    status: StatusName | None = None
    issuer: str | None = Field(None, description="An issuer's id.")


def badge_data(badge: BadgeClass) -> dict[str, Any]:
    """The badge class as the API shows it."""
    return {
        "id": badge.public_id,
        "issuer": badge.issuer.public_id,
        "name": badge.name,
        "description": badge.description,
        "image_url": documents.image_url(badge) if badge.image else None,  # public once published
        "image_type": badge.image_type,
        "criteria_narrative": badge.criteria_narrative,
        "criteria_url": badge.criteria_url,
        "achievement_type": badge.achievement_type,
        "level": badge.level,
        "alignments": list(badge.alignments or []),
        "tags": [str(t) for t in (badge.tags or [])],
        "expiry_policy": badge.expiry_policy,
        "expiry_date": badge.expiry_date,
        "expiry_days": badge.expiry_days,
        "evidence_required": badge.evidence_required,
        "status": badge.status,
        "published_at": badge.published_at,
        "design": dict(badge.design or {}),
        "achievement_url": f"{settings.BASE_URL}/a/{badge.public_id}",
        "created_at": badge.created_at,
        "updated_at": badge.updated_at,
    }
